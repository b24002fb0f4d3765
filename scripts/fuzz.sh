#!/usr/bin/env bash
# Fuzzes every cargo-fuzz target under fuzz/ for SECONDS each (default 60), starting from the
# committed seed corpus (fuzz/corpus/TARGET). New inputs go to target/fuzz-corpus/TARGET,
# crashes to fuzz/artifacts/TARGET (and fail the script). Needs the nightly toolchain (as
# cargo-fuzz does); installs cargo-fuzz if missing.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "scripts/fuzz.sh: the nightly Rust toolchain is needed (rustup toolchain install nightly)" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
cd fuzz
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
cargo +nightly fuzz build -O
status=0
printf '%-18s %12s %10s %8s\n' target runs "exec/s" result
for t in "${targets[@]}"; do
  work="../target/fuzz-corpus/$t"
  mkdir -p "$work"
  log=$(mktemp)
  if cargo +nightly fuzz run -O "$t" "$work" "corpus/$t" -- \
      -max_total_time="$secs" -max_len=65536 -rss_limit_mb=4096 -timeout=20 >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
    tail -n 40 "$log" >&2
  fi
  runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  rate=$(awk -v r="$runs" -v s="$secs" 'BEGIN { if (r ~ /^[0-9]+$/ && s > 0) printf "%d", r / s; else print "?" }')
  printf '%-18s %12s %10s %8s\n' "$t" "$runs" "$rate" "$result"
  rm -f "$log"
done
exit $status
