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
venv="$target/duckdb-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q duckdb
fi
# The same query as scripts/bench.sh.
duck_sql="$dir/duckdb-query-$lines.sql"
cat > "$duck_sql" <<SQL
SET threads TO $(nproc);
CREATE TEMP TABLE t AS SELECT
  httpMethod || ' ' || resourcePath AS route,
  TRY_CAST(status AS INTEGER) AS status,
  TRY_CAST(responseLatency AS DOUBLE) AS latency,
  TRY_CAST(integrationLatency AS DOUBLE) AS integration,
  TRY_CAST(requestTimeEpoch AS BIGINT) // 1000 AS second
FROM read_ndjson('$json', columns = {httpMethod: 'VARCHAR', resourcePath: 'VARCHAR',
  status: 'VARCHAR', responseLatency: 'VARCHAR', integrationLatency: 'VARCHAR',
  requestTimeEpoch: 'VARCHAR'});
SELECT route, count(*), quantile_cont(latency, [0.5, 0.95, 0.99]),
  quantile_cont(integration, [0.5, 0.95, 0.99]) FROM t GROUP BY route;
SELECT status // 100 AS class, count(*) FROM t GROUP BY class;
SELECT second, count(*) AS n FROM t WHERE status = 429 GROUP BY second ORDER BY n DESC LIMIT 20;
SQL
cat > "$dir/duckdb-run.py" <<'PY'
import sys, duckdb
con = duckdb.connect()
for statement in open(sys.argv[1]).read().split(";"):
    if statement.strip():
        con.execute(statement).fetchall()
PY

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
/usr/bin/time -f "%e %M" -o "$dir/large-duck.txt" "$venv/bin/python" "$dir/duckdb-run.py" "$duck_sql"
read -r d dm < "$dir/large-duck.txt"
requests=$(python3 -c "import json,sys; print(json.load(open('$dir/large-report.json'))['summary']['requests'])")
awk -v g="$g" -v gm="$gm" -v d="$d" -v dm="$dm" -v b="$bytes" -v n="$requests" 'BEGIN {
  printf "gwstat (capped): %.2f s (%.0f MB/s, %.0f lines/s), peak %.0f MiB, %d requests reported\n", g, b / g / 1e6, n / g, gm / 1024, n
  printf "duckdb:          %.2f s, peak %.0f MiB\n", d, dm / 1024
  printf "ratio gwstat/duckdb: %.2f\n", g / d }'
