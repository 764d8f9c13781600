#!/usr/bin/env python3
"""Print the README's benchmark table from the outputs `scripts/bench_readme.sh` saved.

Usage: python3 scripts/bench_rows.py [DIR]   (default target/bench_readme)

DIR holds hit_alt.txt, hit_ratio.csv, memory.txt, loading.txt and latency.txt: the stdout of those benches (and
the hit-ratio CSV). Every figure printed is copied from one of them, none is computed here except the choice of
cell (the median over the bench's rounds, as the bench prints it). A cell the output lacks prints as `?`.
"""

import csv
import os
import re
import sys

SUBJECTS = ["cache-core", "quick_cache", "lru + Mutex", "moka (sync)"]


def tables(path):
    """{section title: {first cell: [cells]}} from a bench's markdown tables (`### title` starts a section)."""
    out, title = {}, ""
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("### "):
                title = line[4:].strip()
            elif line.startswith("|") and not re.match(r"^\|[\s-]+\|", line):
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                out.setdefault(title, {}).setdefault(cells[0], cells)
    return out


def lead(cell):
    """The leading number of a cell such as `34.0 (29.2)`, `811 [631–1,893]` or `9.14 ms`."""
    m = re.match(r"[\d,]+(\.\d+)?", cell or "")
    return m.group().replace(",", "") if m else "?"


def cell(tabs, section, row, col):
    for title, rows in tabs.items():
        if section in title and row in rows and len(rows[row]) > col:
            return lead(rows[row][col])
    return "?"


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "target/bench_readme"
    hit = tables(os.path.join(d, "hit_alt.txt"))
    names = ["cache-core LRU", "quick_cache::sync::Cache", "lru::LruCache + Mutex", "moka::sync::Cache"]
    rows = []
    cmd = "`cargo bench -p cache-benches --bench hit_alt`"
    for label, section, col in [
        ("hit, 100k u64 keys, 1 thread: ns/get", "u64 keys, 100,000 entries", 1),
        ("hit, 1,000 hot u64 keys, 1 thread: ns/get", "1,000 entries (hot set)", 1),
        ("hits on 2 threads, 100k u64 keys: M gets/s ↑", "u64 keys, 100,000 entries", 3),
        ("hits on 2 threads, 1,000 hot keys: M gets/s ↑", "1,000 entries (hot set)", 3),
    ]:
        rows.append([label] + [cell(hit, section, n, col) for n in names] + [cmd])
        cmd = "same"

    ratio = {}
    path = os.path.join(d, "hit_ratio.csv")
    if os.path.exists(path):
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                if r["trace"] == "zipf-1.0" and float(r["capacity_pct"]) == 1.0:
                    ratio[r["subject"]] = f'{float(r["hit_ratio_pct"]):.1f} %'
    rows.append(
        ["hit ratio, Zipf 1.0, capacity 1 % ↑",
         f'{ratio.get("cache-core LRU", "?")} (TinyLFU {ratio.get("cache-core TinyLFU", "?")})']
        + [ratio.get(n, "?") for n in ["quick_cache", "lru", "moka"]]
        + ["`cargo bench -p cache-benches --bench hit_ratio`"]
    )

    mem = tables(os.path.join(d, "memory.txt"))
    rows.append(
        ["memory beyond key + value, 1M u64 entries: B/entry"]
        + [cell(mem, "", n, 3) for n in ["cache-core AsyncCache (LRU, default shards)", "quick_cache::sync::Cache",
                                         "lru::LruCache (in a Mutex)", "moka::sync::Cache"]]
        + ["`cargo bench -p cache-benches --bench memory`"]
    )

    # loading's table has the scenario in the first column and the subject in the second.
    load = {}
    lpath = os.path.join(d, "loading.txt")
    if os.path.exists(lpath):
        with open(lpath) as f:
            for line in f:
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if len(cells) >= 6 and cells[0].startswith("1 key"):
                    load[cells[1]] = lead(cells[5])
    rows.append(
        ["10,000 callers on 1 cold key: ms"]
        + [load.get(n, "?") for n in ["cache-core get_or_load", "quick_cache get_or_insert_async"]]
        + ["–", load.get("moka future get_with", "?"), "`cargo bench -p cache-benches --bench loading`"]
    )

    lat = tables(os.path.join(d, "latency.txt"))
    rows.append(
        ["p99.9 latency, 2 threads, 90 % get / 10 % insert: ns"]
        + [cell(lat, "`get`", n, 3) for n in ["cache-core get", "quick_cache get"]]
        + ["–", cell(lat, "`get`", "moka sync get", 3), "`cargo bench -p cache-benches --bench latency`"]
    )

    print("| measure (lower is better unless ↑) | " + " | ".join(SUBJECTS) + " | command |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
