"""The portal under load, served as production serves it, against plain CKAN in the same run.

    make bench-http       (also part of make bench)
    .venv/bin/python benchmarks/bench_http.py --target cd3p=http://127.0.0.1:5003 \\
        --target plain=http://127.0.0.1:5004 [--users 20] [--seconds 120] [--json var/bench/http.json]

Each target is a web server started by scripts/portal.sh: uWSGI with the processes and options of
the CKAN image docker/ builds on (config/uwsgi/cd3p.ini). Locust (benchmarks/locustfile.py) runs
headless from this machine against 127.0.0.1 only: ``--users`` visitors, each waiting 1 to 3 s
between requests, for ``--seconds``; the run stops by itself (Locust's own time limit, and a
``timeout`` over it). Targets run one after the other, never at the same time.

Prints, per target and endpoint, requests per second, the 50th, 95th and 99th percentiles (ms) and
the errors, then the catalog endpoints of both targets side by side with the ratio cd3p / plain.
Locust lives in its own virtualenv (``--locust``; make bench-http makes it): it pins versions of
requests and gevent that CKAN's environment must not take.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_P95_MS = 1000


def run_locust(locust: Path, name: str, url: str, users: int, seconds: int, out: Path) -> dict[str, Any]:
    """One headless Locust run against ``url``; its per-endpoint statistics."""
    prefix = out / f"http-{name}"
    command = [
        str(locust),
        "-f",
        str(ROOT / "benchmarks/locustfile.py"),
        "--headless",
        "--host",
        url,
        "--users",
        str(users),
        "--spawn-rate",
        str(max(1, users // 5)),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    print(f"bench_http: {name}: {users} users for {seconds} s against {url}", flush=True)
    with (out / f"http-{name}.log").open("w") as log:
        subprocess.run(command, check=False, timeout=seconds + 120, stdout=log, stderr=subprocess.STDOUT)
    rows = list(csv.DictReader((prefix.parent / f"{prefix.name}_stats.csv").open()))
    failures = list(csv.DictReader((prefix.parent / f"{prefix.name}_failures.csv").open()))
    endpoints = {}
    for row in rows:
        endpoints[row["Name"]] = {
            "requests": int(row["Request Count"]),
            "errors": int(row["Failure Count"]),
            "rps": float(row["Requests/s"]),
            "p50": float(row["50%"] or 0),
            "p95": float(row["95%"] or 0),
            "p99": float(row["99%"] or 0),
        }
    return {
        "url": url,
        "users": users,
        "seconds": seconds,
        "endpoints": endpoints,
        "failures": [{k: f[k] for k in ("Method", "Name", "Error", "Occurrences")} for f in failures],
    }


def report(results: dict[str, dict[str, Any]]) -> bool:
    """Prints the tables; whether every target had no errors and every endpoint a p95 under 1 s."""
    met = True
    for name, result in results.items():
        print(f"\n{name} ({result['url']}, {result['users']} users, {result['seconds']} s)")
        print(
            f"{'endpoint':32} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
            f"{'p99 ms':>7} {'errors':>6}"
        )
        for endpoint, s in sorted(result["endpoints"].items(), key=lambda item: item[0] == "Aggregated"):
            print(
                f"{endpoint:32} {s['requests']:8d} {s['rps']:7.2f} {s['p50']:7.0f} {s['p95']:7.0f} "
                f"{s['p99']:7.0f} {s['errors']:6d}"
            )
            if endpoint != "Aggregated" and (s["errors"] or s["p95"] >= TARGET_P95_MS):
                met = False
        for failure in result["failures"]:
            print(
                f"  error: {failure['Method']} {failure['Name']}: {failure['Error']} "
                f"x{failure['Occurrences']}"
            )
    if len(results) == 2:
        (ours, ours_r), (base, base_r) = results.items()
        shared = [e for e in ours_r["endpoints"] if e in base_r["endpoints"] and e != "Aggregated"]
        print(
            f"\n{'endpoint':32} {ours + ' p50':>10} {base + ' p50':>10} {'ratio':>6} "
            f"{ours + ' p95':>10} {base + ' p95':>10} {'ratio':>6}"
        )
        for endpoint in sorted(shared):
            a, b = ours_r["endpoints"][endpoint], base_r["endpoints"][endpoint]
            print(
                f"{endpoint:32} {a['p50']:10.0f} {b['p50']:10.0f} {a['p50'] / max(b['p50'], 1):5.2f}x "
                f"{a['p95']:10.0f} {b['p95']:10.0f} {a['p95'] / max(b['p95'], 1):5.2f}x"
            )
    print(
        f"\ntarget: no errors and p95 under {TARGET_P95_MS} ms on every endpoint: "
        f"{'met' if met else 'NOT met'}"
    )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--target", action="append", required=True, help="name=url (127.0.0.1 only)")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--locust", type=Path, default=ROOT / "var/locust/bin/locust")
    parser.add_argument("--json", type=Path, default=ROOT / "var/bench/http.json")
    args = parser.parse_args()
    targets = dict(t.split("=", 1) for t in args.target)
    for url in targets.values():
        if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
            parser.error(f"{url}: the load runs against this machine's loopback only")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    results = {
        name: run_locust(args.locust, name, url, args.users, args.seconds, args.json.parent)
        for name, url in targets.items()
    }
    met = report(results)
    args.json.write_text(json.dumps({"results": results, "target_met": met}, indent=2))
    print(f"bench_http: results in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
