"""Indicator API and pages against CKAN's own, on one portal: the Detroit demo data or a generated city.

    make bench                                   (both: the demo portal, then the 5,000-tract city)
    .venv/bin/python benchmarks/bench_indicators.py [--env development|bench] [--repeat 30]
        [--base URL] [--token-file PATH] [--pid-file PATH] [--label TEXT] [--json PATH]
    .venv/bin/python benchmarks/bench_indicators.py --report A.json B.json   (results side by side)

Over HTTP, in one run:

- ``cd3p_indicator_show`` (tract level) cold (right after ``cd3p_indicator_refresh``, which is not
  timed) and warm, against a bare ``datastore_search`` returning the same rows (same table, columns
  and tracts);
- ``/equity`` against CKAN's own ``/dataset`` page;
- the web process's resident memory before and after.

``--env development`` (the default) measures the development portal (port 5000, demo data);
``--env bench`` the generated city of ``scripts/portal.sh setup bench`` (port 5002, see
``benchmarks/gen_city.py``). The other options override what ``--env`` picks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CODE = ROOT / "ckanext-cd3p" / "ckanext" / "cd3p"
REGISTRY = CODE / "indicators" / "indicators.yaml"

# What --env picks: web port (and the variable that moves it), token file, label.
ENVS: dict[str, tuple[str, str, str, str]] = {
    "development": ("CD3P_WEB_PORT", "5000", "xloader-token", "Detroit demo data"),
    "bench": ("CD3P_BENCH_WEB_PORT", "5002", "bench-token", "generated city"),
}

ROWS: tuple[tuple[str, str], ...] = (
    ("cold", "cd3p_indicator_show, cold"),
    ("warm", "cd3p_indicator_show, warm"),
    ("bare", "bare datastore_search, same rows"),
    ("equity", "/equity"),
    ("dataset", "/dataset (CKAN)"),
)


@dataclass
class Result:
    label: str
    base: str
    tracts: int
    repeat: int
    rows: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> (p50, p95) ms
    first_ms: float = math.nan  # the first cd3p_indicator_show of this run (loads the geography once)
    rss_before_mb: float = math.nan
    rss_after_mb: float = math.nan
    web_restarted: bool = False
    stale_code: list[str] = field(default_factory=list)  # extension files changed since the web started
    seconds: float = 0.0
    date: str = ""

    @property
    def title(self) -> str:
        return f"{self.label} ({self.tracts:,} tracts)"

    def ratio(self, top: str, bottom: str) -> float:
        return self.rows[top][0] / self.rows[bottom][0]


def get(url: str, token: str | None = None, data: dict | None = None) -> bytes:
    headers = {"Authorization": token} if token else {}
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=body, headers=headers)
    with urllib.request.urlopen(req, timeout=300) as resp:
        return resp.read()


def wait_until_up(base: str, timeout: float = 120) -> None:
    """The portal may be restarting (another engineer, or just started): wait for status_show."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            get(f"{base}/api/3/action/status_show")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"bench_indicators: {base} is not answering (waited {timeout:.0f} s)"
                ) from None
            time.sleep(1)


def timed(
    fn: Callable[[], object], repeat: int, before: Callable[[], object] | None = None
) -> tuple[float, float]:
    """p50 and p95 (nearest rank) of ``repeat`` calls in milliseconds; ``before`` runs untimed."""
    samples = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    n = len(samples)
    p50 = (samples[(n - 1) // 2] + samples[n // 2]) / 2
    return p50, samples[max(0, math.ceil(0.95 * n) - 1)]


def web_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return math.nan
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def changed_since_start(pid: int | None) -> list[str]:
    """Extension files modified after the web process started: it serves older code than the tree."""
    if pid is None:
        return []
    try:  # start time: clock ticks after boot (field 22 of stat, counted after the command's ")")
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
    except (OSError, ValueError, IndexError, StopIteration):
        return []
    started = boot + ticks / os.sysconf("SC_CLK_TCK")
    return sorted(
        str(p.relative_to(CODE))
        for p in CODE.rglob("*")
        if p.suffix in (".py", ".yaml", ".html") and p.stat().st_mtime > started
    )


def source_key(indicator: dict[str, Any]) -> str:
    """The place-code column of the indicator's source table, from the registry."""
    registry = yaml.safe_load(REGISTRY.read_text(encoding="utf-8"))
    return registry["sources"][indicator["source"]]["key"]


def measure(base: str, token: str, pid_file: Path, label: str, repeat: int, indicator: str) -> Result:
    """Runs every measurement against one portal."""
    started = time.perf_counter()
    wait_until_up(base)
    api = f"{base}/api/3/action"
    show_url = f"{api}/cd3p_indicator_show?id={indicator}&level=tract"
    pid = web_pid(pid_file)
    before = rss_mb(pid)

    first = time.perf_counter()
    shown = json.loads(get(show_url))["result"]
    first_ms = (time.perf_counter() - first) * 1000
    source = shown["sources"][0]
    ind = shown["indicator"]
    geoids = [v["id"] for v in shown["values"]]
    key = source_key(ind)
    bare = {
        "resource_id": source["resource_id"],
        "fields": sorted({key, ind["column"], ind["weight"]["column"]}),
        "filters": {key: geoids},
        "limit": len(geoids) + 1,
    }
    returned = json.loads(get(f"{api}/datastore_search", None, bare))["result"]["records"]
    if len(returned) != len(geoids):
        print(
            f"bench_indicators: note: the bare search returns {len(returned)} rows for {len(geoids)} tracts"
        )

    def refresh() -> None:
        get(f"{api}/cd3p_indicator_refresh", token, {})

    calls: dict[str, tuple[Callable[[], object], Callable[[], object] | None]] = {
        "cold": (lambda: get(show_url), refresh),
        "warm": (lambda: get(show_url), None),
        "bare": (lambda: get(f"{api}/datastore_search", None, bare), None),
        "equity": (lambda: get(f"{base}/equity"), None),
        "dataset": (lambda: get(f"{base}/dataset/"), None),
    }
    for fn, _before in calls.values():  # warm connections and caches once
        fn()
    result = Result(label, base, len(geoids), repeat, first_ms=first_ms, rss_before_mb=before)
    for name, (fn, untimed) in calls.items():
        result.rows[name] = timed(fn, repeat, untimed)
    result.rss_after_mb = rss_mb(pid)
    result.web_restarted = web_pid(pid_file) != pid
    result.stale_code = changed_since_start(web_pid(pid_file))
    result.seconds = time.perf_counter() - started
    result.date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return result


def _ms(pair: tuple[float, float]) -> str:
    return f"{pair[0]:.1f} / {pair[1]:.1f}"


def table(results: list[Result]) -> str:
    """The results side by side: p50 / p95 ms per request, the two ratios, memory."""
    width = max(22, *(len(r.title) for r in results))
    head = f"{'p50 / p95 ms':40}" + "".join(f"  {r.title:>{width}}" for r in results)
    lines = [head, "-" * len(head)]
    for key, label in ROWS:
        lines.append(f"{label:40}" + "".join(f"  {_ms(r.rows[key]):>{width}}" for r in results))
    ratios = (
        ("warm API / bare datastore_search (p50)", "warm", "bare"),
        ("/equity / /dataset (p50)", "equity", "dataset"),
    )
    for label, top, bottom in ratios:
        lines.append(f"{label:40}" + "".join(f"  {r.ratio(top, bottom):>{width - 1}.2f}x" for r in results))
    first = "first cd3p_indicator_show of the run, ms"
    lines.append(f"{first:40}" + "".join(f"  {r.first_ms:>{width}.1f}" for r in results))
    memory = [f"{r.rss_before_mb:.0f} -> {r.rss_after_mb:.0f}" for r in results]
    lines.append(f"{'web process RSS before -> after, MB':40}" + "".join(f"  {m:>{width}}" for m in memory))
    seconds = "measurement time, s"
    lines.append(f"{seconds:40}" + "".join(f"  {r.seconds:>{width}.0f}" for r in results))
    repeats = "/".join(str(n) for n in sorted({r.repeat for r in results}))
    dates = ", ".join(sorted({r.date for r in results}))
    lines.append(f"{repeats} requests each; {dates}")
    for r in results:
        if r.web_restarted:
            lines.append(
                f"note: the web process of {r.base} was restarted during the run (memory unreliable)"
            )
        if r.stale_code:
            more = ", ..." if len(r.stale_code) > 4 else ""
            lines.append(
                f"note: {r.base} serves code older than the work tree ({len(r.stale_code)} file(s) "
                f"changed since it started: {', '.join(r.stale_code[:4])}{more})"
            )
    return "\n".join(lines)


def load(path: Path, kind: Any = None) -> Any:
    """A result written with ``--json``: a :class:`Result` (or ``kind``, another benchmark's)."""
    raw = json.loads(path.read_text())
    raw["rows"] = {k: tuple(v) for k, v in raw["rows"].items()}
    return (kind or Result)(**raw)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", choices=sorted(ENVS), default="development")
    parser.add_argument("--base", help="portal URL (default: the environment's port on 127.0.0.1)")
    parser.add_argument("--var", default=os.environ.get("CD3P_VAR", str(ROOT / "var")))
    parser.add_argument("--token-file", type=Path, help="sysadmin API token (for cd3p_indicator_refresh)")
    parser.add_argument("--pid-file", type=Path, help="the web process's pid file (for its memory)")
    parser.add_argument("--label", help="name of the data in the table")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--indicator", default="households-without-broadband")
    parser.add_argument("--json", type=Path, help="also write the results here (for --report)")
    parser.add_argument(
        "--report", type=Path, nargs="+", help="print saved results side by side, measure nothing"
    )
    args = parser.parse_args()
    if args.report:
        print(table([load(p) for p in args.report]))
        return
    port_var, port, token_name, label = ENVS[args.env]
    var = Path(args.var)
    base = (args.base or f"http://127.0.0.1:{os.environ.get(port_var, port)}").rstrip("/")
    token = (args.token_file or var / "etc" / token_name).read_text().strip()
    pid_file = args.pid_file or var / "run" / f"web-{args.env}.pid"
    result = measure(base, token, pid_file, args.label or label, args.repeat, args.indicator)
    print(f"\n{result.title}, {base}")
    print(table([result]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(asdict(result), indent=1) + "\n")


if __name__ == "__main__":
    main()
