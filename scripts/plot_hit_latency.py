#!/usr/bin/env python3
"""Plot the time of a cache hit at 1 and 2 threads from the hit bench's output, as hand-written SVG (stdlib only).

Regenerate the committed plot (from the repository root):

    cargo bench -p cache-benches --bench hit_alt | tee target/hit_alt.txt
    python3 scripts/plot_hit_latency.py

Arguments: [HIT_ALT_OUTPUT] [SVG], by default target/hit_alt.txt and docs/img/hit_latency.svg.

One panel per scenario of the bench (key set and cache size), one pair of bars per subject: the median time of a
`get` on 1 thread, and on 2 threads the time per `get` of each thread (2 / the median aggregate rate), on a log
scale. Lower is better; a 2-thread bar as short as the 1-thread one means the hits scale perfectly over two cores.
The caption repeats the bench's own header line (rounds, load average), so a plot says how it was made. The
output depends only on the input, so regenerating from the same run gives the same file.
"""

import math
import re
import sys
from xml.sax.saxutils import escape

# Subjects drawn, in this order (the others in the bench's table are left out to keep the plot readable).
SUBJECTS = [
    ("cache-core LRU", "cache-core LRU"),
    ("cache-core TinyLFU", "cache-core TinyLFU"),
    ("quick_cache::sync::Cache", "quick_cache"),
    ("lru::LruCache + Mutex", "lru + Mutex"),
    ("moka::sync::Cache", "moka (sync)"),
]
ONE, TWO = "#1f77b4", "#ff7f0e"
WIDTH = 760
LEFT, RIGHT = 150, 30
BAR, GAP, PANEL_TOP, PANEL_BOTTOM = 9, 8, 34, 30


def parse(path):
    """(header line, [(scenario title, {subject: (ns/get 1t, ns/get per thread 2t)})]) from hit_alt's stdout."""
    header, scenarios, title = "", [], None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("hit_alt:"):
                header = line
            elif line.startswith("### "):
                title = line[4:].strip()
                scenarios.append((title, {}))
            elif title and line.startswith("|") and not line.startswith("| subject") and "---" not in line:
                cells = [c.strip() for c in line.strip("|").split("|")]
                if len(cells) < 4:
                    continue
                one = float(re.match(r"[\d.]+", cells[1]).group())
                two_rate = float(re.match(r"[\d.]+", cells[3]).group())  # aggregate M gets/s on 2 threads
                scenarios[-1][1][cells[0]] = (one, 2 * 1e3 / two_rate)
    return header, [(t, rows) for t, rows in scenarios if rows]


def render(header, scenarios):
    shown = [(t, [(label, rows[name]) for name, label in SUBJECTS if name in rows]) for t, rows in scenarios]
    values = [v for _, subjects in shown for _, pair in subjects for v in pair]
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    plot_w = WIDTH - LEFT - RIGHT

    def x(v):
        return LEFT + plot_w * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    out, y = [], 46
    for title, subjects in shown:
        height = PANEL_TOP + len(subjects) * (2 * BAR + GAP) + PANEL_BOTTOM
        out.append(f'<text x="{LEFT}" y="{y + 20}" font-size="13" font-weight="bold">{escape(title)}</text>')
        top = y + PANEL_TOP
        bottom = top + len(subjects) * (2 * BAR + GAP)
        decade = lo
        while decade <= hi:
            for m in range(1, 10):
                v = decade * m
                if v > hi:
                    break
                colour, dash = ("#bbbbbb", "") if m == 1 else ("#eeeeee", "")
                out.append(f'<line x1="{x(v):.1f}" y1="{top - 4}" x2="{x(v):.1f}" y2="{bottom}" stroke="{colour}"{dash}/>')
            out.append(f'<text x="{x(decade):.1f}" y="{bottom + 14}" font-size="11" text-anchor="middle">{decade:g}</text>')
            decade *= 10
        for i, (label, (one, two)) in enumerate(subjects):
            by = top + i * (2 * BAR + GAP)
            out.append(f'<text x="{LEFT - 8}" y="{by + BAR + 4}" font-size="12" text-anchor="end">{escape(label)}</text>')
            for j, (v, colour) in enumerate([(one, ONE), (two, TWO)]):
                yy = by + j * BAR
                out.append(f'<rect x="{LEFT}" y="{yy}" width="{x(v) - LEFT:.1f}" height="{BAR - 1}" fill="{colour}"/>')
                out.append(f'<text x="{x(v) + 4:.1f}" y="{yy + BAR - 1}" font-size="10">{v:.3g}</text>')
        y += height
    caption = "ns per get, log scale (lower is better); medians of the rounds. " + header.replace("hit_alt: ", "")
    total = y + 30
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total}" font-family="sans-serif">',
        f'<rect width="{WIDTH}" height="{total}" fill="white"/>',
        '<text x="12" y="22" font-size="15" font-weight="bold">Time of a cache hit: 1 thread and 2 threads</text>',
        f'<rect x="{WIDTH - 330}" y="12" width="12" height="10" fill="{ONE}"/>',
        f'<text x="{WIDTH - 314}" y="21" font-size="12">1 thread</text>',
        f'<rect x="{WIDTH - 250}" y="12" width="12" height="10" fill="{TWO}"/>',
        f'<text x="{WIDTH - 234}" y="21" font-size="12">2 threads (per thread)</text>',
    ]
    foot = [f'<text x="12" y="{total - 12}" font-size="10">{escape(caption[:150])}</text>', "</svg>"]
    return "\n".join(head + out + foot) + "\n"


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "target/hit_alt.txt"
    dst = sys.argv[2] if len(sys.argv) > 2 else "docs/img/hit_latency.svg"
    header, scenarios = parse(src)
    if not scenarios:
        sys.exit(f"{src}: no hit_alt tables found")
    with open(dst, "w") as f:
        f.write(render(header, scenarios))
    print(f"wrote {dst} ({len(scenarios)} scenarios)")


if __name__ == "__main__":
    main()
