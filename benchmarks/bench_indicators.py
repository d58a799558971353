"""Indicator API and pages against CKAN's own, on the development portal with the demo data.

    make run && .venv/bin/python benchmarks/bench_indicators.py [--repeat 30]

Over HTTP, in one run:

- ``cd3p_indicator_show`` (tract level) cold (right after ``cd3p_indicator_refresh``) and warm,
  against a bare ``datastore_search`` returning the same rows (same table, columns and tracts);
- ``/equity`` against CKAN's own ``/dataset`` page;
- the web process's resident memory before and after.

Not yet: the generated 5,000-tract city (it needs a generated boundaries folder).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def get(url: str, token: str | None = None, data: dict | None = None) -> bytes:
    headers = {"Authorization": token} if token else {}
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=body, headers=headers)
    with urllib.request.urlopen(req, timeout=120) as resp:
        return resp.read()


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def rss_mb(var: Path) -> float:
    pid = (var / "run" / "web-development.pid").read_text().split()[0]
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--var", default=str(ROOT / "var"))
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--indicator", default="households-without-broadband")
    args = parser.parse_args()
    var = Path(args.var)
    token = (var / "etc" / "xloader-token").read_text().strip()
    api = f"{args.base}/api/3/action"

    before = rss_mb(var)
    shown = json.loads(get(f"{api}/cd3p_indicator_show?id={args.indicator}&level=tract"))["result"]
    source = shown["sources"][0]
    ind = shown["indicator"]
    geoids = [v["id"] for v in shown["values"]]
    key = "geoid"
    bare = {
        "resource_id": source["resource_id"],
        "fields": sorted({key, ind["column"], ind["weight"]["column"]}),
        "filters": {key: geoids},
        "limit": len(geoids) + 1,
    }

    def cold() -> None:
        get(f"{api}/cd3p_indicator_refresh", token, {})
        get(f"{api}/cd3p_indicator_show?id={args.indicator}&level=tract")

    rows = [
        ("cd3p_indicator_show, cold", lambda: cold()),
        (
            "cd3p_indicator_show, warm",
            lambda: get(f"{api}/cd3p_indicator_show?id={args.indicator}&level=tract"),
        ),
        ("bare datastore_search, same rows", lambda: get(f"{api}/datastore_search", None, bare)),
        ("/equity", lambda: get(f"{args.base}/equity")),
        ("/dataset (CKAN)", lambda: get(f"{args.base}/dataset/")),
    ]
    for _label, fn in rows:  # warm connections and caches once
        fn()
    print(f"{'what':36} {'p50 ms':>9} {'p95 ms':>9}")
    for label, fn in rows:
        p50, p95 = timed(fn, args.repeat)
        print(f"{label:36} {p50:9.1f} {p95:9.1f}")
    print(f"web process memory: {before:.0f} MB before, {rss_mb(var):.0f} MB after")


if __name__ == "__main__":
    main()
