#!/usr/bin/env bash
# Whole-process benchmark against DuckDB on the same question (issue 9):
#   per-route count and p50/p95/p99 of latency and integration latency, status classes, and
#   the top seconds by 429s — `gwstat report --format json` answers all of it and more.
# Generates the workload with gwstat's own deterministic generator (LINES REST JSON lines,
# default 2,000,000; the same requests as CLF; and the JSON as .gz), installs DuckDB from
# PyPI into a local venv if missing, then runs gwstat and DuckDB alternately (a warm-up, then
# PAIRS pairs, default 3) and prints each pair's times and gwstat/DuckDB ratio, the median
# times, peak RSS (/usr/bin/time), and the `cat` and `zcat` floors.
# Usage: scripts/bench.sh [LINES] [DIR] [PAIRS]
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-2000000}
dir=${2:-target/bench}
pairs=${3:-3}
mkdir -p "$dir"
target=${CARGO_TARGET_DIR:-target}
cargo build --release --locked --quiet
bin="$target/release/gwstat"

json="$dir/rest-$lines.log"
clf="$dir/rest-clf-$lines.log"
gz="$json.gz"
if [ ! -f "$json" ]; then
  # The throttling burst adds requests on top of the baseline; cut to exactly LINES.
  "$bin" generate --format rest-json --requests "$lines" --seconds 86400 --no-malformed \
    | head -n "$lines" > "$json"
fi
if [ ! -f "$clf" ]; then
  "$bin" generate --format rest-clf --requests "$lines" --seconds 86400 --no-malformed \
    | head -n "$lines" > "$clf"
fi
[ -f "$gz" ] || gzip -1 -c "$json" > "$gz"

. scripts/duckdb.sh
duckdb_setup "$target" "$dir" "$json"

# run NAME CMD...: runs once, prints "seconds peak_MiB".
run() {
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" > /dev/null 2> "$dir/stderr.txt" || {
    cat "$dir/stderr.txt" >&2; exit 1; }
  awk '{ printf "%.3f %.1f\n", $1, $2 / 1024 }' "$dir/time.txt"
}
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

bytes=$(stat -c %s "$json")
echo "input: $json, $lines lines, $(( bytes / 1000000 )) MB; $(nproc) cores; $("$duck_python" -c 'import duckdb; print("duckdb", duckdb.__version__)')"
cat "$json" "$clf" "$gz" > /dev/null   # warm the page cache
read -r cat_s _ < <(run cat "$json")
read -r zcat_s _ < <(run zcat "$gz")
printf 'floors: cat %.2f s (%.0f MB/s), zcat %.2f s\n' "$cat_s" "$(calc "$bytes / $cat_s / 1000000")" "$zcat_s"

gw() { run "$bin" report "$1" --format json --quiet; }
duck() { run "$duck_python" "$dir/duckdb-run.py" "$duck_sql"; }
gw "$json" > /dev/null; duck > /dev/null   # warm-up
: > "$dir/gw.txt"; : > "$dir/duck.txt"
printf '%-6s %10s %10s %8s %12s %12s\n' pair gwstat duckdb ratio "gw RSS" "duck RSS"
for i in $(seq 1 "$pairs"); do
  read -r g gm < <(gw "$json")
  read -r d dm < <(duck)
  echo "$g $gm" >> "$dir/gw.txt"; echo "$d $dm" >> "$dir/duck.txt"
  printf '%-6s %9.2fs %9.2fs %8.2f %9.0f MiB %9.0f MiB\n' "$i" "$g" "$d" "$(calc "$g / $d")" "$gm" "$dm"
done
gmed=$(cut -d' ' -f1 "$dir/gw.txt" | median); dmed=$(cut -d' ' -f1 "$dir/duck.txt" | median)
gpeak=$(cut -d' ' -f2 "$dir/gw.txt" | sort -n | tail -1); dpeak=$(cut -d' ' -f2 "$dir/duck.txt" | sort -n | tail -1)
printf 'median: gwstat %.2f s (%.0f MB/s, %.0f lines/s, peak %.0f MiB), duckdb %.2f s (peak %.0f MiB), ratio %.2f\n' \
  "$gmed" "$(calc "$bytes / $gmed / 1000000")" "$(calc "$lines / $gmed")" "$gpeak" \
  "$dmed" "$dpeak" "$(calc "$gmed / $dmed")"
read -r c cm < <(gw "$clf")
printf 'gwstat on CLF: %.2f s, peak %.0f MiB\n' "$c" "$cm"
read -r z zm < <(gw "$gz")
printf 'gwstat on .gz: %.2f s, peak %.0f MiB; %.2f× the zcat floor\n' "$z" "$zm" "$(calc "$z / $zcat_s")"
