#!/usr/bin/env bash
# Serve under load, on loopback, for a bounded time. Load generator: wrk 4.1.0 (Debian
# bookworm package 4.1.0-3+b2, installed if missing; the script stops if another version is
# installed, unless LOAD_TEST_ANY_WRK=1). Upstream: nginx-light (Debian) answering a fixed
# `200 {"ok":true}`, so the upstream is never the bottleneck.
#
# 1. Limit: a stage limit well under what serve can answer, offered many times over; asserts
#    the admitted count within 1 % of rate × duration + burst, no status but 200/429, an
#    access-log line for every request wrk completed, RSS stable.
# 2. Throughput: limits far above the offered load; wrk -t2 -c64 with --latency, once with
#    the access log and once without; reports requests/s and p99 for proxied requests
#    (all 200, one log line per request when the log is on), and the CPU time serve used
#    per request (user + system), which other load on the machine disturbs far less than
#    requests/s.
# 3. Ceiling: the same wrk straight against the upstream, no serve in between. wrk and nginx
#    share the machine's cores with serve in 2., so this bounds what 2. can reach here.
#
# Usage: scripts/load-test.sh [SECONDS] [RATE] [BURST]   (defaults 10 100 20)
# GWSTAT_BIN=target/release/gwstat measures another build (default: the debug binary
# `cargo test` builds, which is many times slower than a release build).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
rate=${2:-100}
burst=${3:-20}
WRK_VERSION=4.1.0-3+b2
SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
need=()
command -v wrk >/dev/null 2>&1 || need+=("wrk=$WRK_VERSION")
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
wrk_installed=$(dpkg-query -W -f='${Version}' wrk 2>/dev/null || echo unknown)
if [ "$wrk_installed" != "$WRK_VERSION" ] && [ "${LOAD_TEST_ANY_WRK:-0}" != 1 ]; then
  echo "wrk $wrk_installed installed; this script is calibrated with $WRK_VERSION (LOAD_TEST_ANY_WRK=1 to go on)" >&2
  exit 1
fi
if [ -z "${GWSTAT_BIN:-}" ]; then
  # The binary `cargo test` builds (same features as scripts/test.sh: no second build in CI).
  cargo test --locked --no-run --quiet 2>/dev/null || cargo test --locked --no-run
  GWSTAT_BIN=${CARGO_TARGET_DIR:-target}/debug/gwstat
fi
bin=$GWSTAT_BIN
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_listening() {
  for _ in $(seq 100); do
    python3 -c "import socket,sys; [socket.create_connection(('127.0.0.1', p), 0.2).close() for p in map(int, sys.argv[1:])]" \
      "$@" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listening on $*" >&2; return 1
}
up_port=$(free_port)

# The upstream: nginx, one worker, keep-alive, a fixed answer.
mkdir -p "$work/nginx/logs"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
error_log $work/nginx/logs/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$up_port;
    location / { default_type application/json; return 200 '{"ok":true}'; }
  }
}
CONF
/usr/sbin/nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx.err" &
pids+=($!)
wait_listening "$up_port"

# Starts serve with config $1 and extra args; sets $serve and $gw_port.
start_serve() {
  gw_port=$(free_port)
  "$bin" serve --gateway "$1" --upstream "http://127.0.0.1:$up_port" \
    --listen "127.0.0.1:$gw_port" --max-seconds $((secs + 30)) "${@:2}" 2>>"$work/serve.err" &
  serve=$!
  pids+=($serve)
  # A TCP connect only: no request, so nothing in the access log.
  wait_listening "$gw_port"
}
# Stops serve; with a name, first saves the CPU time it used (user + system, in clock ticks).
stop_serve() {
  [ -n "${1:-}" ] && awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$serve/stat" > "$work/$1.cpu"
  kill -TERM "$serve"; wait "$serve" || true
}

echo "== load generator: wrk $wrk_installed; upstream: nginx $(dpkg-query -W -f='${Version}' nginx-light 2>/dev/null || echo '?'); gwstat: $bin"

# --- 1. The limit under load ---
cat > "$work/limit.toml" <<TOML
account = { rate = 10000, burst = 5000 }

[[apis]]
id = "l0adtest01"

[[apis.stages]]
name = "prod"
throttle = { rate = $rate, burst = $burst }
TOML
start_serve "$work/limit.toml" --access-log "$work/limit.log"
( while kill -0 "$serve" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$serve/status"; sleep 1; done ) > "$work/rss.txt" &
pids+=($!)
wrk -t2 -c20 -d"${secs}s" "http://127.0.0.1:$gw_port/prod/items" > "$work/limit.wrk"
sleep 1
stop_serve

# --- 2. Throughput, with and without the access log ---
cat > "$work/open.toml" <<TOML
account = { rate = 10000000, burst = 10000000 }

[[apis]]
id = "l0adtest01"

[[apis.stages]]
name = "prod"
TOML
start_serve "$work/open.toml" --access-log "$work/open.log"
wrk -t2 -c64 -d"${secs}s" --latency "http://127.0.0.1:$gw_port/prod/items" > "$work/log-on.wrk"
stop_serve log-on
start_serve "$work/open.toml"
wrk -t2 -c64 -d"${secs}s" --latency "http://127.0.0.1:$gw_port/prod/items" > "$work/log-off.wrk"
stop_serve log-off

# --- 3. The ceiling: wrk against the upstream alone ---
wrk -t2 -c64 -d"${secs}s" --latency "http://127.0.0.1:$up_port/prod/items" > "$work/ceiling.wrk"

python3 - "$work" "$rate" "$burst" <<'PY'
import json, re, sys
work, rate, burst = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
problems = []

def wrk(name):
    text = open(f"{work}/{name}.wrk").read()
    completed = int(re.search(r"(\d+) requests in", text).group(1))
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", text).group(1))
    p99 = re.search(r"99%\s+([\d.]+\w+)", text)
    errors = re.search(r"Socket errors: (.*)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return completed, rps, p99.group(1) if p99 else "?", errors, int(non2xx.group(1)) if non2xx else 0

def statuses(path):
    lines = [json.loads(l) for l in open(path).read().splitlines()]
    counts = {}
    for l in lines:
        counts[l["status"]] = counts.get(l["status"], 0) + 1
    return lines, counts

# 1. The limit.
completed, _, _, errors, _ = wrk("limit")
lines, counts = statuses(f"{work}/limit.log")
times = sorted(int(l["requestTimeEpoch"]) for l in lines)
span = (times[-1] - times[0]) / 1000
admitted = counts.get("200", 0)
expected = rate * span + burst
rss = [int(x) for x in open(f"{work}/rss.txt").read().split()]
steady = rss[3:-1] or rss
growth = (max(steady) - min(steady)) / max(min(steady), 1)
print(f"limit: wrk completed {completed}, access log {len(lines)} lines, statuses {counts}")
print(f"limit: admitted {admitted} in {span:.2f} s; the limit allows {expected:.0f} (rate {rate:g}/s × {span:.2f} s + burst {burst:g}); {admitted / expected * 100:.2f} %")
print(f"limit: RSS (kB) min {min(steady)}, max {max(steady)}, growth {growth * 100:.1f} % after warm-up")
if errors:
    problems.append(f"limit run socket errors: {errors.group(1)}")
others = {s: n for s, n in counts.items() if s not in ("200", "429")}
if others:
    problems.append(f"statuses other than 200/429: {others}")
if abs(admitted - expected) > 0.01 * expected:
    problems.append(f"admitted {admitted} is not within 1 % of {expected:.0f}")
if not (completed <= len(lines) <= completed + 20):
    problems.append(f"access log has {len(lines)} lines for {completed} completed requests")
if growth > 0.25:
    problems.append(f"RSS grew {growth * 100:.1f} % during the run")

# 2. Throughput.
for name, log in (("log-on", f"{work}/open.log"), ("log-off", None)):
    completed, rps, p99, errors, non2xx = wrk(name)
    cpu = float(open(f"{work}/{name}.cpu").read())
    print(f"throughput, access log {'on ' if log else 'off'}: {rps:,.0f} requests/s, p99 {p99} (wrk -t2 -c64, {completed} requests; serve used {cpu * 1e6 / max(completed, 1):.1f} µs CPU per request)")
    if errors:
        problems.append(f"{name}: socket errors: {errors.group(1)}")
    if non2xx:
        problems.append(f"{name}: {non2xx} responses other than 2xx/3xx")
    if log:
        lines, counts = statuses(log)
        if not (completed <= len(lines) <= completed + 64):
            problems.append(f"{name}: access log has {len(lines)} lines for {completed} completed requests")
        if set(counts) != {"200"}:
            problems.append(f"{name}: statuses {counts}")
completed, rps, p99, _, _ = wrk("ceiling")
print(f"ceiling, wrk against nginx alone (no serve): {rps:,.0f} requests/s, p99 {p99} (wrk -t2 -c64, {completed} requests)")
if problems:
    print("FAILED: " + "; ".join(problems))
    sys.exit(1)
print("load test passed")
PY
