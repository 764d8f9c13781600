#!/usr/bin/env bash
# Runs the benches behind the README's benchmark table, full length, and prints the table's rows; also redraws
# docs/img/hit_latency.svg from the same hit_alt run. Run it on a quiet machine, from anywhere in the repository:
#
#     bash scripts/bench_readme.sh
#
# About 10-20 minutes on 2 cores once built. The raw outputs stay in target/bench_readme/ (read them for the
# spread, the per-round ratios and the machine's load, which each bench prints). Each bench asserts its own
# checks (every timed get hits, one load per key, LRU in lockstep with `lru`), so a failure stops the script.
# BENCH_QUICK=1 runs every bench shortened, to try the script out: those figures are not for publishing.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench_readme
mkdir -p "$out"
echo "== $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD), $(uptime)"
bench() { cargo bench -q -p cache-benches --bench "$1" 2>"$out/$1.err" | tee "$out/$1.txt"; }
bench hit_alt
HIT_RATIO_TRACES=zipf-1.0 HIT_RATIO_CSV="$PWD/$out/hit_ratio.csv" bench hit_ratio
bench memory
bench loading
bench latency
echo "== $(uptime)"
python3 scripts/plot_hit_latency.py "$out/hit_alt.txt" docs/img/hit_latency.svg
echo
echo "README rows (commit $(git rev-parse --short HEAD)):"
python3 scripts/bench_rows.py "$out"
