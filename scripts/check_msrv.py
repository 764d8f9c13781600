#!/usr/bin/env python3
"""Offline MSRV check: every crate the published crates build with declares a rust-version no newer than ours.

    python3 scripts/check_msrv.py

Reads `cargo metadata` (offline: the lockfile and the registry cache) and walks the normal and build
dependencies of `cache-core` (all features) and `cache-macros`, on this platform; dev-dependencies are not part
of a user's build. A dependency that declares a newer `rust-version` than the workspace's fails the check; one
that declares none is listed. What this does not see: language features and std APIs our own code uses
(clippy's `incompatible_msrv` lint, on by default in `cargo clippy`, covers std APIs against the same
rust-version), and a dependency whose declared rust-version is wrong. Only a build with that toolchain proves
it; CI does one when the toolchain is installed (`.ci/run`).
"""

import json
import subprocess
import sys


def version(v):
    parts = [int(p) for p in v.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    meta = json.loads(
        subprocess.check_output(
            ["cargo", "metadata", "--format-version", "1", "--all-features", "--offline",
             "--filter-platform", subprocess.check_output(["rustc", "-vV"], text=True)
             .split("host: ")[1].split()[0]],
            text=True,
        )
    )
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    roots = [p for p in meta["packages"] if p["name"] in ("cache-core", "cache-macros") and p["source"] is None]
    msrv = version(roots[0]["rust_version"])
    seen, todo = set(), [r["id"] for r in roots]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        for dep in nodes[pid]["deps"]:
            if any(k["kind"] in (None, "build") for k in dep["dep_kinds"]):
                todo.append(dep["pkg"])
    newer, undeclared = [], []
    for pid in sorted(seen, key=lambda i: packages[i]["name"]):
        p = packages[pid]
        rv = p.get("rust_version")
        if rv is None:
            undeclared.append(f'{p["name"]} {p["version"]}')
        elif version(rv) > msrv:
            newer.append(f'{p["name"]} {p["version"]} needs {rv}')
    print(f"MSRV {'.'.join(map(str, msrv))}: {len(seen)} crates in the build of cache-core and cache-macros")
    if undeclared:
        print("  no rust-version declared:", ", ".join(undeclared))
    if newer:
        print("  NEWER than our MSRV:\n    " + "\n    ".join(newer))
        sys.exit(1)
    print("  every declared rust-version is within it")


if __name__ == "__main__":
    main()
