#!/usr/bin/env bash
# Beyond one machine's memory (issue 9): the report on a generated input ten times the
# bench.sh size (default 20,000,000 REST JSON lines, ~11 GB) under a memory cap, and DuckDB
# on the same file and query for the ratio.
#
# The cap is a virtual-memory limit (`ulimit -v`, default 500 MiB — less than the file, and
# less than DuckDB's peak): the streaming engine folds the report's aggregates while reading,
# so its memory follows the data's cardinality (routes, stages, statuses, seconds spanned,
# distinct latencies), not its size. `systemd-run --scope -p MemoryMax=…` is used instead
# when SYSTEMD_CAP=1 and systemd is running.
#
# Usage: scripts/bench-large.sh [LINES] [DIR] [CAP_KIB]
# Needs ~2× the input size free on DIR's disk the first time (the file is kept).
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-20000000}
dir=${2:-target/bench}
cap=${3:-512000}
mkdir -p "$dir"
target=${CARGO_TARGET_DIR:-target}
cargo build --release --locked --quiet
bin="$target/release/gwstat"
json="$dir/rest-$lines.log"
if [ ! -f "$json" ]; then
  echo "scripts/bench-large.sh: generating $lines lines into $json" >&2
  "$bin" generate --format rest-json --requests "$lines" --seconds 86400 --no-malformed \
    | head -n "$lines" > "$json"
fi
. scripts/duckdb.sh
duckdb_setup "$target" "$dir" "$json"

bytes=$(stat -c %s "$json")
echo "input: $json, $lines lines, $(( bytes / 1000000 )) MB; $(nproc) cores; cap $(( cap / 1024 )) MiB"
cat "$json" > /dev/null   # as warm as the page cache allows
if [ "${SYSTEMD_CAP:-0}" = 1 ]; then
  limit=(systemd-run --scope --quiet -p "MemoryMax=${cap}K" -p MemorySwapMax=0)
else
  limit=(bash -c "ulimit -v $cap && exec \"\$@\"" capped)
fi
/usr/bin/time -f "%e %M" -o "$dir/large-gw.txt" \
  "${limit[@]}" "$bin" report "$json" --format json --quiet > "$dir/large-report.json"
read -r g gm < "$dir/large-gw.txt"
/usr/bin/time -f "%e %M" -o "$dir/large-duck.txt" "$duck_python" "$dir/duckdb-run.py" "$duck_sql"
read -r d dm < "$dir/large-duck.txt"
requests=$(python3 -c "import json,sys; print(json.load(open('$dir/large-report.json'))['summary']['requests'])")
awk -v g="$g" -v gm="$gm" -v d="$d" -v dm="$dm" -v b="$bytes" -v n="$requests" 'BEGIN {
  printf "gwstat (capped): %.2f s (%.0f MB/s, %.0f lines/s), peak %.0f MiB, %d requests reported\n", g, b / g / 1e6, n / g, gm / 1024, n
  printf "duckdb:          %.2f s, peak %.0f MiB\n", d, dm / 1024
  printf "ratio gwstat/duckdb: %.2f\n", g / d }'
