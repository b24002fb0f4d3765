#!/usr/bin/env bash
# Whole-process benchmark: generate an N-line REST JSON access log (default 2,000,000) and
# time `gwstat report --format json` on it next to `cat file > /dev/null`, with peak RSS.
# Usage: scripts/bench.sh [LINES] [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-2000000}
dir=${2:-target/bench}
mkdir -p "$dir"
log="$dir/rest-$lines.log"
cargo build --release --locked --quiet
bin=target/release/gwstat
[ -n "${CARGO_TARGET_DIR:-}" ] && bin="$CARGO_TARGET_DIR/release/gwstat"
if [ ! -f "$log" ]; then
  # The throttling burst adds requests on top of the baseline; cut to exactly LINES.
  "$bin" generate --format rest-json --requests "$lines" --seconds 86400 --no-malformed \
    | head -n "$lines" > "$log"
fi
bytes=$(stat -c %s "$log")
count=$(wc -l < "$log")
measure() {
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" > /dev/null
  read -r secs kb < "$dir/time.txt"
  awk -v s="$secs" -v kb="$kb" -v b="$bytes" -v n="$count" -v what="$(basename "$1")" 'BEGIN {
    if (s == 0) s = 0.001;
    printf "%-8s %7.2f s  %8.1f MB/s  %10.0f lines/s  peak RSS %7.1f MB\n",
      what, s, b / s / 1e6, n / s, kb / 1024 }'
}
echo "input: $log, $count lines, $(( bytes / 1000000 )) MB, $(nproc) cores"
cat "$log" > /dev/null  # warm the page cache
measure cat "$log"
measure "$bin" report "$log" --format json --quiet
