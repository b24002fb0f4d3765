#!/usr/bin/env python3
"""Cross-check gwstat's JSON report against an independent computation.

Parses a JSON access log with the Python standard library only, computes request and status
counts and latency percentiles with statistics.quantiles(method='inclusive') (linear
interpolation, numpy's default), runs `gwstat report FILE --format json --top 0`, and prints
both side by side. Exits 1 on any mismatch.

Usage: scripts/crosscheck.py LOG [GWSTAT_BINARY]
"""

import json
import math
import statistics
import subprocess
import sys
from collections import Counter, defaultdict

KEYS = {
    "latency_ms": ("responseLatency",),
    "integration_latency_ms": ("integrationLatency", "integration.latency"),
}


def number(record, names):
    for name in names:
        value = record.get(name)
        if value in (None, "-", ""):
            continue
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return None


def percentiles(values):
    if len(values) < 2:
        return {k: (values[0] if values else None) for k in ("p50", "p90", "p95", "p99")}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": q[49], "p90": q[89], "p95": q[94], "p99": q[98]}


def main():
    log = sys.argv[1]
    binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/gwstat"
    values = defaultdict(list)
    by_route = defaultdict(list)
    statuses = Counter()
    requests = 0
    with open(log, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if not isinstance(r, dict) or "status" not in r:
                continue
            try:
                status = int(r["status"])
            except (TypeError, ValueError):
                continue
            epoch = r.get("requestTimeEpoch")
            if epoch is not None and not str(epoch).isdigit():
                continue
            requests += 1
            statuses[status] += 1
            lat = number(r, KEYS["latency_ms"])
            integ = number(r, KEYS["integration_latency_ms"])
            if lat is not None:
                values["latency_ms"].append(lat)
                route = f'{r.get("httpMethod")} {r.get("resourcePath")}'
                by_route[(route, r.get("stage"))].append(lat)
            if integ is not None:
                values["integration_latency_ms"].append(integ)
            if lat is not None and integ is not None:
                values["overhead_ms"].append(lat - integ)

    report = json.loads(
        subprocess.run(
            [binary, "report", log, "--format", "json", "--top", "0", "--quiet"],
            check=False,
            capture_output=True,
        ).stdout
    )
    failures = 0

    def compare(what, ours, theirs):
        nonlocal failures
        same = (ours is None and theirs is None) or (
            ours is not None and theirs is not None and math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9)
        )
        failures += not same
        print(f"{'ok ' if same else 'BAD'} {what:<48} gwstat {ours!s:>14}  python {theirs!s:>14}")

    compare("requests", report["summary"]["requests"], requests)
    for s in report["errors"]["by_status"]:
        compare(f"status {s['status']}", s["count"], statuses[s["status"]])
    for key in ("latency_ms", "integration_latency_ms", "overhead_ms"):
        ours = report["latency"]["overall"][key]
        theirs = percentiles(sorted(values[key]))
        compare(f"{key}.count", ours["count"], len(values[key]))
        compare(f"{key}.mean", ours["mean"], statistics.fmean(values[key]) if values[key] else None)
        for p in ("p50", "p90", "p95", "p99"):
            compare(f"{key}.{p}", ours[p], theirs[p])
    for row in report["latency"]["by_route"]:
        theirs = percentiles(sorted(by_route[(row["route"], row["stage"])]))
        for p in ("p50", "p99"):
            compare(f"{row['route']} [{row['stage']}] latency {p}", row["latency_ms"][p], theirs[p])
    print(f"{failures} mismatches")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
