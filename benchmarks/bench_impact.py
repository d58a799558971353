"""Programme impact (issue 15): ``cd3p_impact_show`` over 1,000,000 outcome rows against one hand-written
SQL ``GROUP BY`` over the same rows, and ``/impact`` against ``/dataset``, on the generated city.

    make bench-impact                            (also part of make bench)
    .venv/bin/python benchmarks/bench_impact.py [--repeat 20] [--measure devices_distributed]
        [--rows 1000000] [--programmes 100] [--quarters 12] [--measures 10] [--seed 2026]
        [--base URL] [--ini PATH] [--token-file PATH] [--city DIR] [--json PATH]
    .venv/bin/python benchmarks/bench_impact.py --report A.json     (print saved results)

Runs against the ``bench`` environment (``scripts/portal.sh setup bench``, port 5002) after
``ckan cd3p demo load`` has loaded the generated city of ``benchmarks/gen_city.py`` (5,000 tracts),
whose indicators give the need and the Digital Equity Index.

Set-up, not timed: 5 partner organizations (created and signed through the Action API, as
``DemoLoader`` does) and 100 programmes (``package_create``), then their rows
(``benchmarks/gen_outcomes.py``: 12 quarters, 10 measures, two per programme) copied straight into
``cd3p_outcome`` with ``COPY``, then ``ANALYZE``. Idempotent: a second run finds the organizations,
programmes and rows (each programme's rows carry a resource id naming the generator's format, the
seed and the programme's id, and are counted) and copies nothing.

Timed over HTTP, with the bench sysadmin's API token (raw counts: the same sums the floor returns),
``--repeat`` times each, after one untimed call:

- ``cd3p_impact_show`` (one measure, tract level) cold after a report changed: before each call
  (untimed) the impact cache's version is bumped with ``cache.invalidate(outcomes.CACHE_KEY)``, the
  call the loader makes when a report's rows are replaced (no action forgets only the impact cache);
  the need and the index stay cached, as they do when a report loads;
- cold after ``cd3p_indicator_refresh`` (the API's way, which also forgets the need and the index);
- warm (cached);
- the floor: one hand-written ``SELECT ... GROUP BY geo_level, geo_id`` over the same rows (the
  measure, the programmes the action counted), with psycopg2 against the same database, rows fetched;
- ``/impact`` and CKAN's ``/dataset``, without a login (``/impact`` is skipped if it answers 404).

The action's tract sums are compared with the floor's. The targets (issue 15): cold at most 1.5x
the floor, warm at most 0.5x, ``/impact`` at most ``/dataset`` (medians).
"""

from __future__ import annotations

import argparse
import configparser
import csv
import datetime as dt
import io
import json
import math
import os
import time
import urllib.error
import urllib.parse
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gen_outcomes  # benchmarks/ is on the path when run as a script
import psycopg2
from bench_indicators import (  # the same HTTP, percentiles, memory and staleness checks
    changed_since_start,
    get,
    load,
    rss_mb,
    timed,
    wait_until_up,
    web_pid,
)
from gen_city import MANIFEST, cells

ROOT = Path(__file__).resolve().parents[1]
RESOURCE_PREFIX = (
    "bench-impact-"  # resource_id of every generated row: bench-impact-<format>-<seed>-<package id>
)

ROWS: tuple[tuple[str, str], ...] = (
    ("cold", "cd3p_impact_show, cold (rows changed)"),
    ("cold_all", "cd3p_impact_show, cold (indicator refresh)"),
    ("warm", "cd3p_impact_show, warm"),
    ("floor", "floor: SQL GROUP BY, same rows"),
    ("impact", "/impact"),
    ("dataset", "/dataset (CKAN)"),
)
# (label, top, bottom, at most): the targets, on medians.
TARGETS: tuple[tuple[str, str, str, float], ...] = (
    ("cold (rows changed) / floor", "cold", "floor", 1.5),
    ("warm / floor", "warm", "floor", 0.5),
    ("/impact / /dataset", "impact", "dataset", 1.0),
)
FLOOR_SQL = (
    "SELECT geo_level, geo_id, sum(count), sum(cost), sum(target) FROM cd3p_outcome"
    " WHERE measure = %s AND package_id = ANY(%s) GROUP BY geo_level, geo_id"
)


@dataclass
class Result:
    base: str
    measure: str
    rows_total: int  # rows of cd3p_outcome counted by this reading (every measure)
    rows_measure: int  # of them, the measure's
    programmes: int
    tracts: int
    repeat: int
    rows: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> (p50, p95) ms
    first_ms: float = math.nan
    sums_checked: int = 0  # tract sums compared with the floor
    sums_differ: int = 0
    setup: dict[str, float] = field(default_factory=dict)  # what the set-up did and how long it took
    notes: list[str] = field(default_factory=list)
    rss_before_mb: float = math.nan
    rss_after_mb: float = math.nan
    seconds: float = 0.0
    date: str = ""

    def ratio(self, top: str, bottom: str) -> float:
        if top not in self.rows or bottom not in self.rows:
            return math.nan
        return self.rows[top][0] / self.rows[bottom][0]


# --- the portal and the database ------------------------------------------------------------------


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.url = f"{base}/api/3/action"
        self.token = token

    def __call__(self, action: str, **data: Any) -> Any:
        try:
            return json.loads(get(f"{self.url}/{action}", self.token, data))["result"]
        except urllib.error.HTTPError as e:
            body = e.read().decode("utf-8", "replace")
            if e.code == 404:
                raise LookupError(body) from None
            raise SystemExit(f"bench_impact: {action} failed ({e.code}): {body[:500]}") from None


def ini_settings(path: Path) -> dict[str, str]:
    ini = configparser.ConfigParser(interpolation=None, strict=False)
    if not ini.read(path):
        raise SystemExit(f"bench_impact: {path} not found (run: scripts/portal.sh setup bench)")
    return dict(ini["app:main"])


def city_tracts(city: Path, tracts: int) -> list[str]:
    """The generated city's tract GEOIDs (inside the city), as gen_city wrote them."""
    try:
        made = json.loads((city / MANIFEST).read_text())
    except (OSError, ValueError):
        raise SystemExit(f"bench_impact: no generated city in {city} (run benchmarks/gen_city.py)") from None
    if made.get("tracts") != tracts:
        raise SystemExit(f"bench_impact: {city} holds a city of {made.get('tracts')} tracts, not {tracts}")
    return [c.geoid for c in cells(tracts) if c.inside]


def bump_outcomes(redis_url: str) -> Callable[[], None]:
    """What the loader does once a report's rows are replaced (``outcomes.store``): the impact cache's
    version key is bumped. Called in this process against the portal's Redis."""
    from ckan.common import config

    config["ckan.redis.url"] = redis_url
    from ckanext.cd3p.impact.outcomes import CACHE_KEY
    from ckanext.cd3p.indicators import cache

    return lambda: cache.invalidate(CACHE_KEY)


# --- set-up: organizations, programmes, rows (not timed) ------------------------------------------


def ensure_organizations(api: Api) -> list[str]:
    """The partner organizations (ids), created and signed like DemoLoader's."""
    agreement = api("cd3p_agreement_show", id="current")
    ids = []
    for k in range(gen_outcomes.ORGANIZATIONS):
        name = f"bench-partner-{k + 1}"
        try:
            org = api("organization_show", id=name)
        except LookupError:
            org = None
        if org is None or org.get("state") != "active":
            org = api(
                "organization_create",
                name=name,
                title=f"Benchmark partner {k + 1}",
                sector="nonprofit",
                description="Generated for the impact benchmark (benchmarks/bench_impact.py).",
            )
        if not api("cd3p_agreement_status", organization_id=name)["current"]:
            api(
                "cd3p_agreement_sign",
                organization_id=name,
                agreement_id=agreement["id"],
                signatory_name="Benchmark Signatory",
                signatory_title="Portal administrator (benchmark data)",
                confirm_authority=True,
                text_sha256=agreement["text_sha256"],
            )
        ids.append(org["id"])
    return ids


def ensure_programmes(
    api: Api, specs: list[gen_outcomes.Programme], orgs: list[str], quarters: list[str]
) -> tuple[dict[str, str], int]:
    """name -> package id of every generated programme; creates the missing ones."""
    found = api(
        "package_search",
        fq="+dataset_type:programme +name:bench-programme-*",
        include_private=True,
        rows=1000,
        fl="id,name",
    )
    ids = {d["name"]: d["id"] for d in found["results"]}
    created = 0
    for spec in specs:
        if spec.name not in ids:
            made = api("package_create", **spec.payload(orgs[spec.organization], quarters))
            ids[spec.name] = made["id"]
            created += 1
    return ids, created


def ensure_rows(
    dsn: str,
    specs: list[gen_outcomes.Programme],
    ids: dict[str, str],
    orgs: list[str],
    tracts: list[str],
    quarters: list[str],
    total: int,
    seed: int,
) -> int:
    """Copies the programmes' rows into cd3p_outcome unless exactly they are there; returns the number
    of rows copied (0 when nothing was to do)."""
    per = gen_outcomes.split(total, len(specs))
    resource = {s.name: f"{RESOURCE_PREFIX}{gen_outcomes.FORMAT}-{seed}-{ids[s.name]}" for s in specs}
    wanted = {resource[s.name]: n for s, n in zip(specs, per, strict=True)}
    with closing(psycopg2.connect(dsn)) as conn, conn, conn.cursor() as cur:  # one transaction
        cur.execute(
            "SELECT resource_id, count(*) FROM cd3p_outcome WHERE resource_id LIKE %s GROUP BY resource_id",
            (RESOURCE_PREFIX + "%",),
        )
        if dict(cur.fetchall()) == wanted:
            return 0
        cur.execute("DELETE FROM cd3p_outcome WHERE resource_id LIKE %s", (RESOURCE_PREFIX + "%",))
        columns = ", ".join(f'"{c}"' for c in gen_outcomes.COLUMNS)
        for spec, n in zip(specs, per, strict=True):
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerows(
                gen_outcomes.rows(
                    spec,
                    ids[spec.name],
                    orgs[spec.organization],
                    resource[spec.name],
                    tracts,
                    quarters,
                    n,
                    seed,
                )
            )
            buf.seek(0)
            cur.copy_expert(f"COPY cd3p_outcome ({columns}) FROM STDIN WITH (FORMAT csv)", buf)
    with closing(psycopg2.connect(dsn)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("ANALYZE cd3p_outcome")
    return sum(per)


# --- measurement ------------------------------------------------------------------------------------


def page_exists(url: str) -> bool:
    try:
        get(url)
        return True
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return False
        raise


def measure(args: argparse.Namespace) -> Result:
    started = time.perf_counter()
    var = Path(args.var)
    base = (args.base or f"http://127.0.0.1:{os.environ.get('CD3P_BENCH_WEB_PORT', '5002')}").rstrip("/")
    settings = ini_settings(Path(args.ini or var / "etc" / "bench.ini"))
    token = (args.token_file or var / "etc" / "bench-token").read_text().strip()
    pid_file = var / "run" / "web-bench.pid"
    dsn = settings["sqlalchemy.url"]
    wait_until_up(base)
    api = Api(base, token)

    setup: dict[str, float] = {}
    t = time.perf_counter()
    tracts = city_tracts(Path(args.city), args.tracts)
    quarters = gen_outcomes.quarters(args.quarters)
    measures = gen_outcomes.count_measures(args.measures)
    if args.measure not in measures:
        raise SystemExit(
            f"bench_impact: --measure must be one of the generated measures: {', '.join(measures)}"
        )
    specs = gen_outcomes.programmes(args.programmes, measures)
    orgs = ensure_organizations(api)
    ids, setup["programmes_created"] = ensure_programmes(api, specs, orgs, quarters)
    setup["api_s"] = time.perf_counter() - t
    t = time.perf_counter()
    setup["rows_copied"] = ensure_rows(dsn, specs, ids, orgs, tracts, quarters, args.rows, args.seed)
    setup["copy_s"] = time.perf_counter() - t
    outcomes_changed = bump_outcomes(settings["ckan.redis.url"])
    if setup["rows_copied"]:
        outcomes_changed()  # as the loader does after replacing rows
    print(
        f"bench_impact: set-up: {int(setup['programmes_created'])} programme(s) created, "
        f"{int(setup['rows_copied']):,} rows copied "
        f"({setup['api_s']:.0f} s API, {setup['copy_s']:.0f} s COPY)"
    )

    api_url = f"{base}/api/3/action"
    query = urllib.parse.urlencode({"measure": args.measure, "level": "tract"})
    show_url = f"{api_url}/cd3p_impact_show?{query}"
    pid = web_pid(pid_file)
    before = rss_mb(pid)
    t = time.perf_counter()
    shown = json.loads(get(show_url, token))["result"]
    first_ms = (time.perf_counter() - t) * 1000
    counted = [p["id"] for p in shown["programmes"]]

    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()

    def floor() -> list[tuple]:
        cur.execute(FLOOR_SQL, (args.measure, counted))
        return cur.fetchall()

    floor_rows = floor()
    cur.execute(
        "SELECT count(*), count(*) FILTER (WHERE measure = %s) FROM cd3p_outcome WHERE package_id = ANY(%s)",
        (args.measure, counted),
    )
    rows_total, rows_measure = cur.fetchone()
    tract_sums = {code: total for level, code, total, _, _ in floor_rows if level == "tract"}
    differ = sum(
        1
        for v in shown["values"]
        if v["id"] in tract_sums and not math.isclose(v["outcomes"] or 0, tract_sums[v["id"]], abs_tol=1e-6)
    )
    differ += len(set(tract_sums) - {v["id"] for v in shown["values"]})
    result = Result(
        base,
        args.measure,
        rows_total,
        rows_measure,
        len(counted),
        len(shown["values"]),
        args.repeat,
        first_ms=first_ms,
        sums_checked=len(tract_sums),
        sums_differ=differ,
        setup=setup,
        rss_before_mb=before,
    )
    if differ:
        result.notes.append(f"{differ} tract sum(s) of the action differ from the floor's")

    def refresh() -> None:
        get(f"{api_url}/cd3p_indicator_refresh", token, {})

    calls: dict[str, tuple[Callable[[], object], Callable[[], object] | None]] = {
        "cold": (lambda: get(show_url, token), outcomes_changed),
        "cold_all": (lambda: get(show_url, token), refresh),
        "warm": (lambda: get(show_url, token), None),
        "floor": (floor, None),
        "impact": (lambda: get(f"{base}/impact"), None),
        "dataset": (lambda: get(f"{base}/dataset/"), None),
    }
    if not page_exists(f"{base}/impact"):
        del calls["impact"]
        result.notes.append(f"{base}/impact answered 404 (no page yet): not measured")
    for fn, _before in calls.values():  # warm connections and caches once
        fn()
    for name, (fn, untimed) in calls.items():
        result.rows[name] = timed(fn, args.repeat, untimed)
    conn.close()
    result.rss_after_mb = rss_mb(pid)
    if web_pid(pid_file) != pid:
        result.notes.append("the web process was restarted during the run (memory unreliable)")
    stale = changed_since_start(web_pid(pid_file))
    if stale:
        result.notes.append(
            f"the web process serves code older than the work tree ({len(stale)} file(s) changed)"
        )
    result.seconds = time.perf_counter() - started
    result.date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return result


def table(r: Result) -> str:
    lines = [
        f"{r.rows_total:,} outcome rows counted ({r.rows_measure:,} of {r.measure}), "
        f"{r.programmes} programmes, "
        f"{r.tracts:,} tracts; {r.base}",
        f"{'p50 / p95 ms':46}{'':>20}",
    ]
    lines.append("-" * 66)
    for key, label in ROWS:
        value = f"{r.rows[key][0]:.1f} / {r.rows[key][1]:.1f}" if key in r.rows else "not measured"
        lines.append(f"{label:46}{value:>20}")
    lines.append("-" * 66)
    for label, top, bottom, most in TARGETS:
        ratio = r.ratio(top, bottom)
        verdict = "n/a" if math.isnan(ratio) else ("met" if ratio <= most else "NOT met")
        lines.append(f"{label + ' (p50)':46}{f'{ratio:.2f}x':>10}  target <= {most:g}x: {verdict}")
    extra = r.ratio("cold_all", "floor")
    lines.append(f"{'cold (indicator refresh) / floor (p50)':46}{f'{extra:.2f}x':>10}")
    lines.append(f"{'first cd3p_impact_show of the run, ms':46}{r.first_ms:>20.1f}")
    equal = f"{r.sums_checked - r.sums_differ:,} of {r.sums_checked:,}"
    lines.append(f"{'tract sums equal to the floor':46}{equal:>20}")
    lines.append(
        f"{'web process RSS before -> after, MB':46}{f'{r.rss_before_mb:.0f} -> {r.rss_after_mb:.0f}':>20}"
    )
    lines.append(f"{'measurement time, s':46}{r.seconds:>20.0f}")
    lines.append(f"{r.repeat} requests each; {r.date}")
    lines.extend(f"note: {n}" for n in r.notes)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", help="portal URL (default: the bench environment's port on 127.0.0.1)")
    parser.add_argument("--var", default=os.environ.get("CD3P_VAR", str(ROOT / "var")))
    parser.add_argument(
        "--ini", help="the bench environment's ini (database and Redis; default var/etc/bench.ini)"
    )
    parser.add_argument("--token-file", type=Path, help="sysadmin API token (default var/etc/bench-token)")
    parser.add_argument(
        "--city", default=os.environ.get("CD3P_BENCH_DATA_DIR", str(ROOT / "var" / "bench-city"))
    )
    parser.add_argument("--tracts", type=int, default=5000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--programmes", type=int, default=100)
    parser.add_argument("--quarters", type=int, default=12)
    parser.add_argument("--measures", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--measure", default="devices_distributed", help="the measure shown")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the results here (for --report)")
    parser.add_argument("--report", type=Path, help="print saved results, measure nothing")
    args = parser.parse_args()
    if args.report:
        print(table(load(args.report, Result)))
        return
    result = measure(args)
    print()
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(asdict(result), indent=1) + "\n")


if __name__ == "__main__":
    main()
