# Sourced by scripts/bench.sh and scripts/bench-large.sh: DuckDB in a local venv and the
# question both benchmarks ask it — per route × stage: count and p50/p95/p99 of latency and
# integration latency, status classes, and the top seconds by 429s.

# duckdb_setup TARGET DIR JSON: installs DuckDB from PyPI into TARGET/duckdb-venv if missing,
# writes the query on JSON to DIR/duckdb-query-<name>.sql and the runner to
# DIR/duckdb-run.py; sets duck_python and duck_sql.
duckdb_setup() {
  local target=$1 dir=$2 json=$3
  local venv="$target/duckdb-venv"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
    echo "installing duckdb into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q duckdb
  fi
  duck_python="$venv/bin/python"
  duck_sql="$dir/duckdb-query-$(basename "$json" .log).sql"
  cat > "$duck_sql" <<SQL
SET threads TO $(nproc);
CREATE TEMP TABLE t AS SELECT
  httpMethod || ' ' || resourcePath AS route, stage,
  TRY_CAST(status AS INTEGER) AS status,
  TRY_CAST(responseLatency AS DOUBLE) AS latency,
  TRY_CAST(integrationLatency AS DOUBLE) AS integration,
  TRY_CAST(requestTimeEpoch AS BIGINT) // 1000 AS second
FROM read_ndjson('$json', columns = {httpMethod: 'VARCHAR', resourcePath: 'VARCHAR', stage: 'VARCHAR',
  status: 'VARCHAR', responseLatency: 'VARCHAR', integrationLatency: 'VARCHAR',
  requestTimeEpoch: 'VARCHAR'});
SELECT route, count(*), quantile_cont(latency, [0.5, 0.95, 0.99]),
  quantile_cont(integration, [0.5, 0.95, 0.99]) FROM t GROUP BY route, stage;
SELECT status // 100 AS class, count(*) FROM t GROUP BY class;
SELECT second, count(*) AS n FROM t WHERE status = 429 GROUP BY second ORDER BY n DESC LIMIT 20;
SQL
  cat > "$dir/duckdb-run.py" <<'PY'
import sys, duckdb
con = duckdb.connect()
# No progress bar drawn on stdout for queries over 2 s.
con.execute("SET enable_progress_bar = false")
for statement in open(sys.argv[1]).read().split(";"):
    if statement.strip():
        con.execute(statement).fetchall()
PY
}
