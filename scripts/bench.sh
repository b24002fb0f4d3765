#!/usr/bin/env bash
# Whole-process benchmark against DuckDB on the same question, at three cardinalities:
#   per route × stage: count and p50/p95/p99 of latency and integration latency; status
#   classes; the top seconds by 429s — `gwstat report --format json` answers all of it and more.
#
# Workloads (REST JSON access logs, generated deterministically by `gwstat generate`):
#   low        LINES lines (default 2,000,000) of the sample API over 24 h: 9 routes, 18
#              route × stage pairs, 6 statuses, 5 keys; also as CLF and as .gz
#   realistic  2,000,000 lines over 24 h: 120 routes × 3 stages, 14 statuses, 60 API keys
#   high       1,000,000 lines with raw paths (ids in the resource path: ≥ 150 k distinct)
# Installs DuckDB from PyPI into a local venv if missing, then per workload runs gwstat and
# DuckDB alternately (a warm-up, then PAIRS pairs, default 3) and prints each pair's times and
# gwstat/DuckDB ratio, the medians and peak RSS (/usr/bin/time); a summary table at the end.
# Before the pairs, each file is dropped from the page cache and read once from disk, so that
# every run finds it cached as a log read for the first time is (on Linux with transparent
# huge pages, mostly in 2 MiB folios); BENCH_CACHE=keep measures the page cache as it is
# instead (a file just written in small pieces is cached in small folios: see docs/engines.md).
# BENCH_ENGINES=1 also compares gwstat's own engines per workload: `--engine table` against
# `--engine stream` (PAIRS alternating pairs, medians, their ratio) and the table engine on the
# first half of the file's lines against the whole (linearity: 2× the lines, how many times
# the time).
# Usage: scripts/bench.sh [LINES] [DIR] [PAIRS] [WORKLOADS]   (WORKLOADS e.g. "realistic high")
#        GWSTAT_BIN=/path/to/gwstat scripts/bench.sh …   measures that binary instead
#        BENCH_CACHE=keep scripts/bench.sh …              leaves the page cache as it is
#        BENCH_ENGINES=1 scripts/bench.sh …               also table engine vs stream engine
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-2000000}
dir=${2:-target/bench}
pairs=${3:-3}
workloads=${4:-low realistic high}
mkdir -p "$dir"
target=${CARGO_TARGET_DIR:-target}
# GWSTAT_BIN=path measures another build (e.g. `cargo build --profile profiling`, which is the
# release build with line tables); default: the release build, built here.
if [ -n "${GWSTAT_BIN:-}" ]; then
  bin=$GWSTAT_BIN
else
  cargo build --release --locked --quiet
  bin="$target/release/gwstat"
fi
. scripts/duckdb.sh

# run CMD...: runs once, prints "seconds peak_MiB".
run() {
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" > /dev/null 2> "$dir/stderr.txt" || {
    cat "$dir/stderr.txt" >&2; exit 1; }
  awk '{ printf "%.3f %.1f\n", $1, $2 / 1024 }' "$dir/time.txt"
}
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
gw() { run "$bin" report "$1" --format json --quiet; }
engine() { run "$bin" report "$2" --format json --quiet --engine "$1"; }

# generate FILE ARGS...: the workload, written once and kept.
generate() {
  local file=$1; shift
  [ -f "$file" ] || "$bin" generate --format rest-json --seconds 86400 --no-malformed "$@" -o "$file"
}

summary="$dir/summary.txt"
: > "$summary"

# bench NAME FILE: paired runs of gwstat and DuckDB on FILE.
bench() {
  local name=$1 json=$2
  duckdb_setup "$target" "$dir" "$json"
  local bytes n
  bytes=$(stat -L -c %s "$json")
  n=$(wc -l < "$json")
  echo
  echo "== $name: $json, $n lines, $(( bytes / 1000000 )) MB; $(nproc) cores; $("$duck_python" -c 'import duckdb; print("duckdb", duckdb.__version__)')"
  # How the page cache holds files changes what reading them costs (gwstat's memory map most:
  # a file cached in 2 MiB folios is mapped by one page fault per folio, one in small folios
  # — just written in small pieces, or split by reclaim — by one per 64 KiB, and its pages
  # are given back one by one). A defined state: the file as read from disk the first time.
  if [ "${BENCH_CACHE:-cold-read}" != keep ]; then
    if "$duck_python" -c 'import os, sys
if not hasattr(os, "posix_fadvise"):
    sys.exit(1)
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$json"; then
      echo "page cache: dropped the file, then read it once from disk (BENCH_CACHE=keep: as it is)"
    else
      echo "page cache: as it is (this system cannot drop one file from it)"
    fi
  fi
  cat "$json" > /dev/null   # warm the page cache
  # Say how much is in 2 MiB folios (Linux, system-wide: the bench files are most of it on a
  # quiet machine).
  if grep -q '^FileHugePages:' /proc/meminfo 2>/dev/null; then
    awk '/^FileHugePages:/ {printf "page cache in 2 MiB folios (system-wide): %.0f MiB\n", $2 / 1024}' \
      /proc/meminfo
  fi
  duck() { run "$duck_python" "$dir/duckdb-run.py" "$duck_sql"; }
  gw "$json" > /dev/null; duck > /dev/null   # warm-up
  : > "$dir/gw.txt"; : > "$dir/duck.txt"
  printf '%-6s %10s %10s %8s %12s %12s\n' pair gwstat duckdb ratio "gw RSS" "duck RSS"
  local i g gm d dm
  for i in $(seq 1 "$pairs"); do
    read -r g gm < <(gw "$json")
    read -r d dm < <(duck)
    echo "$g $gm" >> "$dir/gw.txt"; echo "$d $dm" >> "$dir/duck.txt"
    printf '%-6s %9.2fs %9.2fs %8.2f %9.0f MiB %9.0f MiB\n' "$i" "$g" "$d" "$(calc "$g / $d")" "$gm" "$dm"
  done
  local gmed dmed gpeak dpeak
  gmed=$(cut -d' ' -f1 "$dir/gw.txt" | median); dmed=$(cut -d' ' -f1 "$dir/duck.txt" | median)
  gpeak=$(cut -d' ' -f2 "$dir/gw.txt" | sort -n | tail -1); dpeak=$(cut -d' ' -f2 "$dir/duck.txt" | sort -n | tail -1)
  printf 'median: gwstat %.2f s (%.0f MB/s, %.0f lines/s, peak %.0f MiB), duckdb %.2f s (peak %.0f MiB), ratio %.2f\n' \
    "$gmed" "$(calc "$bytes / $gmed / 1000000")" "$(calc "$n / $gmed")" "$gpeak" \
    "$dmed" "$dpeak" "$(calc "$gmed / $dmed")"
  printf '%-10s %9s %7s %9.2fs %7.0f %8.0f MiB %9.2fs %8.0f MiB %7.2f\n' "$name" "$n" \
    "$(( bytes / 1000000 ))" "$gmed" "$(calc "$bytes / $gmed / 1000000")" "$gpeak" "$dmed" "$dpeak" \
    "$(calc "$gmed / $dmed")" >> "$summary"
}

# engines NAME FILE: the table engine against the stream engine on FILE, and on its first
# half against the whole (BENCH_ENGINES=1).
engines() {
  [ "${BENCH_ENGINES:-0}" = 1 ] || return 0
  local name=$1 json=$2 half="$2.half" n
  n=$(wc -l < "$json")
  [ -f "$half" ] || head -n "$(( n / 2 ))" "$json" > "$half"
  cat "$json" "$half" > /dev/null
  : > "$dir/stream.txt"; : > "$dir/table.txt"; : > "$dir/half.txt"
  local i s sm t tm h hm
  for i in $(seq 1 "$pairs"); do
    read -r s sm < <(engine stream "$json"); echo "$s $sm" >> "$dir/stream.txt"
    read -r t tm < <(engine table "$json"); echo "$t $tm" >> "$dir/table.txt"
    read -r h hm < <(engine table "$half"); echo "$h $hm" >> "$dir/half.txt"
  done
  local smed tmed hmed tpeak
  smed=$(cut -d' ' -f1 "$dir/stream.txt" | median); tmed=$(cut -d' ' -f1 "$dir/table.txt" | median)
  hmed=$(cut -d' ' -f1 "$dir/half.txt" | median); tpeak=$(cut -d' ' -f2 "$dir/table.txt" | sort -n | tail -1)
  printf 'engines (%s, medians of %s): stream %.2f s, table %.2f s (peak %.0f MiB): table / stream %.2f; table on half the lines %.2f s: 2x the lines took %.2fx the time\n' \
    "$name" "$pairs" "$smed" "$tmed" "$tpeak" "$(calc "$tmed / $smed")" "$hmed" "$(calc "$tmed / $hmed")"
  printf '%-10s %9.2fs %9.2fs %8.0f MiB %7.2f %9.2fs %7.2f\n' "$name" "$smed" "$tmed" "$tpeak" \
    "$(calc "$tmed / $smed")" "$hmed" "$(calc "$tmed / $hmed")" >> "$dir/engines.txt"
}
: > "$dir/engines.txt"

for workload in $workloads; do
  case $workload in
    low)
      json="$dir/rest-$lines.log"
      clf="$dir/rest-clf-$lines.log"
      gz="$json.gz"
      # The sample API's traffic (through the gateway core); the throttling burst adds
      # requests on top of the baseline: cut to exactly LINES.
      [ -f "$json" ] || "$bin" generate --format rest-json --requests "$lines" --seconds 86400 \
        --no-malformed | head -n "$lines" > "$json"
      [ -f "$clf" ] || "$bin" generate --format rest-clf --requests "$lines" --seconds 86400 \
        --no-malformed | head -n "$lines" > "$clf"
      [ -f "$gz" ] || gzip -1 -c "$json" > "$gz"
      cat "$json" "$clf" "$gz" > /dev/null
      read -r cat_s _ < <(run cat "$json")
      read -r zcat_s _ < <(run zcat "$gz")
      printf 'floors: cat %.2f s (%.0f MB/s), zcat %.2f s\n' "$cat_s" \
        "$(calc "$(stat -c %s "$json") / $cat_s / 1000000")" "$zcat_s"
      bench low "$json"
      engines low "$json"
      read -r c cm < <(gw "$clf")
      printf 'gwstat on CLF: %.2f s, peak %.0f MiB\n' "$c" "$cm"
      read -r z zm < <(gw "$gz")
      printf 'gwstat on .gz: %.2f s, peak %.0f MiB; %.2f× the zcat floor\n' "$z" "$zm" "$(calc "$z / $zcat_s")"
      ;;
    realistic)
      json="$dir/realistic-2000000.log"
      generate "$json" --requests 2000000 --routes 120 --stages 3 --api-keys 60 --statuses 14
      bench realistic "$json"
      engines realistic "$json"
      ;;
    high)
      json="$dir/raw-paths-1000000.log"
      generate "$json" --requests 1000000 --routes 60 --stages 2 --api-keys 60 --statuses 14 --raw-paths
      bench high "$json"
      engines high "$json"
      ;;
    *) echo "scripts/bench.sh: unknown workload $workload (low, realistic, high)" >&2; exit 2 ;;
  esac
done

echo
echo "summary (medians of $pairs pairs; targets: ratio <= 0.35 realistic, <= 0.8 high; RSS <= 150 MiB realistic, below DuckDB's at high)"
printf '%-10s %9s %7s %10s %7s %12s %10s %12s %7s\n' workload lines MB gwstat MB/s "gw peak" duckdb "duck peak" ratio
cat "$summary"
if [ -s "$dir/engines.txt" ]; then
  echo
  echo "engines (medians of $pairs; target: table within 2x of stream, 2x the lines <= 2.2x the time)"
  printf '%-10s %10s %10s %12s %7s %10s %7s\n' workload stream table "table peak" ratio "half" "2x"
  cat "$dir/engines.txt"
fi
