#!/usr/bin/env python3
"""Plot hit ratio against capacity from the hit-ratio bench's sweep CSV, as hand-written SVG (stdlib only).

Regenerate the committed plots (from the repository root):

    HIT_RATIO_SWEEP=1 HIT_RATIO_HASHER_SEED=1 HIT_RATIO_SUBJECTS="cache-core,lru,quick_cache,moka" \
        cargo bench -p cache-benches --bench hit_ratio
    python3 scripts/plot_hit_ratio.py

Arguments: [CSV] [OUTPUT_DIR], by default target/hit_ratio_sweep.csv and docs/img. Writes one file per trace,
hit_ratio_<trace>.svg. Rows for `.shards(1)` variants are left out (the plot shows what users get by default).
The output depends only on the CSV, so regenerating from the same run gives the same files.
"""

import csv
import math
import os
import sys
from collections import OrderedDict
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 720, 420
LEFT, RIGHT, TOP, BOTTOM = 60, 190, 40, 50

# Fixed colours, so a subject keeps its colour across plots. cache-core policies are drawn thick.
STYLE = {
    "Belady (MIN)": ("#555555", 1.5, "6 4"),
    "cache-core LRU": ("#1f77b4", 2.5, None),
    "cache-core LFU": ("#2ca02c", 2.5, None),
    "cache-core TinyLFU": ("#d62728", 3.0, None),
    "lru": ("#9ecae1", 1.5, "2 3"),
    "quick_cache": ("#ff7f0e", 1.5, None),
    "moka": ("#9467bd", 1.5, None),
    "mini-moka": ("#8c564b", 1.5, "5 3"),
}
FALLBACK = ["#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]


def read(path):
    """{trace: {subject: [(capacity, hit_pct)]}}, traces in file order."""
    data = OrderedDict()
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if "shards(1)" in row["subject"]:
                continue
            series = data.setdefault(row["trace"], OrderedDict()).setdefault(row["subject"], [])
            series.append((int(row["capacity"]), float(row["hit_ratio_pct"])))
    # Known subjects in STYLE's order (cache-core first), others after them.
    order = list(STYLE)
    for trace, series in data.items():
        data[trace] = OrderedDict(
            sorted(series.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
        )
    return data


def fmt_entries(x):
    if x >= 1000:
        return f"{x / 1000:g}k"
    return str(x)


def plot(trace, series):
    xs = sorted({x for pts in series.values() for x, _ in pts})
    ys = [y for pts in series.values() for _, y in pts]
    y_lo = max(0.0, math.floor(min(ys) / 10) * 10)
    y_hi = min(100.0, math.ceil(max(ys) / 10) * 10)
    if y_hi <= y_lo:
        y_hi = y_lo + 10
    lx_lo, lx_hi = math.log(xs[0]), math.log(xs[-1])
    if lx_hi == lx_lo:
        lx_hi = lx_lo + 1
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x):
        return LEFT + (math.log(x) - lx_lo) / (lx_hi - lx_lo) * pw

    def py(y):
        return TOP + (y_hi - y) / (y_hi - y_lo) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT + pw / 2:.1f}" y="22" text-anchor="middle" font-size="15">'
        f"{escape(trace)}: hit ratio by cache size</text>",
    ]
    # Grid and axes.
    step = 10 if y_hi - y_lo > 30 else 5
    y = y_lo
    while y <= y_hi + 1e-9:
        out.append(f'<line x1="{LEFT}" y1="{py(y):.1f}" x2="{LEFT + pw}" y2="{py(y):.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
        y += step
    for x in xs:
        out.append(f'<line x1="{px(x):.1f}" y1="{TOP}" x2="{px(x):.1f}" y2="{TOP + ph}" stroke="#f0f0f0"/>')
        out.append(f'<text x="{px(x):.1f}" y="{TOP + ph + 16}" text-anchor="middle">{escape(fmt_entries(x))}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#999999"/>')
    out.append(
        f'<text x="{LEFT + pw / 2:.1f}" y="{HEIGHT - 12}" text-anchor="middle">'
        "cache size, entries (log scale)</text>"
    )
    out.append(
        f'<text transform="translate(16 {TOP + ph / 2:.1f}) rotate(-90)" text-anchor="middle">hit ratio %</text>'
    )
    # Series and legend.
    spare = iter(FALLBACK)
    for i, (name, pts) in enumerate(series.items()):
        colour, width, dash = STYLE.get(name) or (next(spare, "#000000"), 1.5, None)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        pts = sorted(pts)
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{width}"{dash_attr}>'
            f"<title>{escape(name)}</title></polyline>"
        )
        for x, y in pts:
            out.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{colour}">'
                f"<title>{escape(name)}: {y:.2f} % at {x} entries</title></circle>"
            )
        ly = TOP + 10 + i * 20
        lx = LEFT + pw + 14
        out.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="{width}"{dash_attr}/>'
        )
        out.append(f'<text x="{lx + 30}" y="{ly + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    csv_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join("target", "hit_ratio_sweep.csv")
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join("docs", "img")
    data = read(csv_path)
    if not data:
        sys.exit(f"{csv_path}: no rows")
    os.makedirs(out_dir, exist_ok=True)
    for trace, series in data.items():
        path = os.path.join(out_dir, f"hit_ratio_{trace}.svg")
        with open(path, "w") as f:
            f.write(plot(trace, series))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
