#!/usr/bin/env bash
# Serve under load: wrk (Debian package, installed if missing) against `gwstat serve` on
# loopback for a bounded time. Asserts: no errors but the configured 429s, the admitted rate
# within 1 % of the limit (rate × duration + burst), memory stable (RSS sampled each second),
# and the access log complete (one line per request wrk completed).
# The limit is kept well under what the loopback upstream can answer, so every request over it
# is the gateway's 429, and the offered load (wrk, 20 connections) is many times the limit.
# Usage: scripts/load-test.sh [SECONDS] [RATE] [BURST]   (defaults 10 100 20)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
rate=${2:-100}
burst=${3:-20}
if ! command -v wrk >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi
# The binary `cargo test` builds (same features as scripts/test.sh: no second build in CI).
cargo test --locked --no-run --quiet 2>/dev/null || cargo test --locked --no-run
bin=${CARGO_TARGET_DIR:-target}/debug/gwstat
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up_port=$(free_port)
gw_port=$(free_port)

# The upstream: a threaded loopback HTTP server answering 200.
python3 - "$up_port" <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
pids+=($!)

cat > "$work/gateway.toml" <<TOML
account = { rate = 10000, burst = 5000 }

[[stages]]
name = "prod"
throttle = { rate = $rate, burst = $burst }
TOML

"$bin" serve --gateway "$work/gateway.toml" --upstream "http://127.0.0.1:$up_port" \
  --listen "127.0.0.1:$gw_port" --access-log "$work/access.log" \
  --max-seconds $((secs + 20)) 2>"$work/serve.err" &
serve=$!
pids+=($serve)
# Wait until both listen (a TCP connect: no request, so nothing in the access log).
for _ in $(seq 100); do
  python3 -c "import socket,sys; [socket.create_connection(('127.0.0.1', p), 0.2).close() for p in map(int, sys.argv[1:])]" \
    "$up_port" "$gw_port" 2>/dev/null && break
  sleep 0.1
done

# RSS every second while wrk runs.
( while kill -0 "$serve" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$serve/status"; sleep 1; done ) > "$work/rss.txt" &
pids+=($!)
before=0
wrk -t2 -c20 -d"${secs}s" "http://127.0.0.1:$gw_port/prod/items" > "$work/wrk.txt"
sleep 1
kill -INT "$serve"; wait "$serve" || true
cat "$work/wrk.txt"

python3 - "$work" "$rate" "$burst" "$before" <<'PY'
import json, re, sys
work, rate, burst, before = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
wrk = open(f"{work}/wrk.txt").read()
completed = int(re.search(r"(\d+) requests in", wrk).group(1))
socket_errors = re.search(r"Socket errors: (.*)", wrk)
lines = [json.loads(l) for l in open(f"{work}/access.log").read().splitlines()[before:]]
statuses = {}
for l in lines:
    statuses[l["status"]] = statuses.get(l["status"], 0) + 1
times = sorted(int(l["requestTimeEpoch"]) for l in lines)
span = (times[-1] - times[0]) / 1000
admitted = statuses.get("200", 0)
expected = rate * span + burst
rss = [int(x) for x in open(f"{work}/rss.txt").read().split()]
steady = rss[3:-1] or rss
growth = (max(steady) - min(steady)) / max(min(steady), 1)
print(f"wrk completed {completed}, access log {len(lines)} lines, statuses {statuses}")
print(f"admitted {admitted} in {span:.2f} s; limit allows {expected:.0f} (rate {rate:g}/s × {span:.2f} s + burst {burst:g}); {admitted / expected * 100:.2f} %")
print(f"RSS samples (kB): min {min(steady)}, max {max(steady)}, growth {growth * 100:.1f} % after warm-up")
problems = []
if socket_errors:
    problems.append(f"socket errors: {socket_errors.group(1)}")
others = {s: n for s, n in statuses.items() if s not in ("200", "429")}
if others:
    problems.append(f"statuses other than 200/429: {others}")
if abs(admitted - expected) > 0.01 * expected:
    problems.append(f"admitted {admitted} is not within 1 % of {expected:.0f}")
if not (completed <= len(lines) <= completed + 20):
    problems.append(f"access log has {len(lines)} lines for {completed} completed requests")
if growth > 0.25:
    problems.append(f"RSS grew {growth * 100:.1f} % during the run")
if problems:
    print("FAILED: " + "; ".join(problems))
    sys.exit(1)
print("load test passed")
PY
