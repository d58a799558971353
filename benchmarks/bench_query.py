"""The analysis workspace (issue 17): a group-by-tract over a 1,000,000-row DataStore table through
``cd3p_query_run`` against the same query hand-written in SQL, run directly in the same run.

    make bench-query                              (also part of make bench)
    .venv/bin/python benchmarks/bench_query.py [--repeat 20] [--rows 1000000] [--tracts 5000]
        [--seed 2026] [--base URL] [--ini PATH] [--token-file PATH] [--json PATH]

Runs against the ``bench`` environment (``scripts/portal.sh setup bench``, port 5002).

Set-up, not timed, idempotent: one organization, signed as the demo's are, with a public dataset
whose resource is a DataStore table made by ``datastore_create`` (geoid, households, devices),
then its rows, copied straight into the table with ``COPY`` through the DataStore's write URL
(``--tracts`` GEOIDs, seeded), then ``ANALYZE``. A second run finds the table full and copies
nothing.

Timed, ``--repeat`` times each after one untimed call, medians and 95th percentiles:

- ``cd3p_query_run`` over HTTP with the bench sysadmin's API token (raw rows: no suppressed view),
  the spec ``group_by: [geoid]`` with ``sum(households)`` and ``sum(devices)``, every group
  (``limit`` 10,000), with its ``total``;
- the floor: ``SELECT geoid, sum(households), sum(devices) FROM <table> GROUP BY geoid ORDER BY
  geoid LIMIT 10000``, with psycopg2 against the same database as the DataStore's read-only role,
  rows fetched.

The action's sums are compared with the floor's, group by group. Target (issue 17): the action at
most 1.2x the floor (medians).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import time
import urllib.error
from contextlib import closing
from pathlib import Path

import psycopg2
from bench_impact import Api, ini_settings  # benchmarks/ is on the path when run as a script
from bench_indicators import timed, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
ORG = "bench-analysis"
DATASET = "bench-analysis-rows"
TARGET = 1.2
FLOOR_SQL = (
    'SELECT geoid, sum(households), sum(devices) FROM "{table}" GROUP BY geoid ORDER BY geoid LIMIT 10000'
)


def ensure_table(api: Api) -> str:
    """The benchmark's DataStore table (its resource id), made once."""
    try:
        dataset = api("package_show", id=DATASET)
    except LookupError:
        dataset = None
    if dataset and dataset.get("resources"):
        return dataset["resources"][0]["id"]
    try:
        org = api("organization_show", id=ORG)
    except LookupError:
        org = api("organization_create", name=ORG, title="Bench analysis", sector="nonprofit")
    agreement = api("cd3p_agreement_show", id="current")
    status = api("cd3p_agreement_status", organization_id=org["id"])
    if not status.get("current"):
        api(
            "cd3p_agreement_sign",
            organization_id=org["id"],
            agreement_id=agreement["id"],
            text_sha256=agreement["text_sha256"],
            signatory_name="Bench",
            signatory_title="Benchmark",
            confirm_authority=True,
        )
    if dataset is None:
        dataset = api(
            "package_create",
            name=DATASET,
            title="Bench analysis rows",
            owner_org=org["id"],
            access_level="public",
            contains_personal_data="no",
            geography_level="tract",
            notes="Generated rows for bench_query.py",
        )
    created = api(
        "datastore_create",
        resource={"package_id": dataset["id"], "name": "rows"},
        fields=[
            {"id": "geoid", "type": "text"},
            {"id": "households", "type": "int4"},
            {"id": "devices", "type": "int4"},
        ],
        records=[],
        force=True,
    )
    return created["resource_id"]


def ensure_rows(write_url: str, table: str, rows: int, tracts: int, seed: int) -> int:
    """Copies the rows into the table unless it holds them already; returns how many were copied."""
    with closing(psycopg2.connect(write_url)) as conn, conn.cursor() as cur:
        cur.execute(f'SELECT count(*), count(DISTINCT geoid) FROM "{table}"')
        if cur.fetchone() == (rows, tracts):
            return 0
        cur.execute(f'TRUNCATE "{table}"')
        rng = random.Random(seed)  # every tract gets rows: --rows is far more than --tracts
        geoids = [f"26163{500000 + i:06d}" for i in range(tracts)]
        out = io.StringIO()
        for _ in range(rows):
            out.write(f"{rng.choice(geoids)}\t{rng.randint(0, 400)}\t{rng.randint(0, 30)}\n")
        out.seek(0)
        cur.copy_expert(f'COPY "{table}" (geoid, households, devices) FROM STDIN', out)
        cur.execute(f'ANALYZE "{table}"')
        conn.commit()
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tracts", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--base")
    parser.add_argument("--ini")
    parser.add_argument("--token-file", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    var = Path(os.environ.get("CD3P_VAR", ROOT / "var"))
    base = (args.base or f"http://127.0.0.1:{os.environ.get('CD3P_BENCH_WEB_PORT', '5002')}").rstrip("/")
    settings = ini_settings(Path(args.ini or var / "etc" / "bench.ini"))
    token = (args.token_file or var / "etc" / "bench-token").read_text().strip()
    wait_until_up(base)
    api = Api(base, token)

    t = time.perf_counter()
    table = ensure_table(api)
    copied = ensure_rows(settings["ckan.datastore.write_url"], table, args.rows, args.tracts, args.seed)
    print(f"bench_query: set-up: {copied:,} rows copied in {time.perf_counter() - t:.0f} s (table {table})")

    spec = {
        "resource_id": table,
        "group_by": ["geoid"],
        "aggregates": [
            {"fn": "sum", "column": "households", "as": "households"},
            {"fn": "sum", "column": "devices", "as": "devices"},
        ],
        "limit": 10000,
    }
    try:
        result = api("cd3p_query_run", spec=spec)
    except urllib.error.URLError as e:
        raise SystemExit(f"bench_query: cd3p_query_run failed: {e}") from None
    with closing(psycopg2.connect(settings["ckan.datastore.read_url"])) as conn, conn.cursor() as cur:
        statement = FLOOR_SQL.format(table=table)
        cur.execute(statement)
        floor_rows = cur.fetchall()
        differ = sum(
            1
            for got, (geoid, households, devices) in zip(result["records"], floor_rows, strict=False)
            if (got["geoid"], got["households"], got["devices"]) != (geoid, int(households), int(devices))
        ) + abs(len(result["records"]) - len(floor_rows))

        def floor() -> None:
            cur.execute(statement)
            cur.fetchall()

        floor_ms = timed(floor, args.repeat)
    action_ms = timed(lambda: api("cd3p_query_run", spec=spec), args.repeat)
    ratio = action_ms[0] / floor_ms[0]
    out = {
        "rows": args.rows,
        "groups": len(floor_rows),
        "total": result["total"],
        "repeat": args.repeat,
        "action_ms": action_ms,
        "floor_ms": floor_ms,
        "ratio": ratio,
        "target": TARGET,
        "groups_differ": differ,
        "seconds": time.perf_counter() - started,
    }
    print(
        f"bench_query: {args.rows:,} rows, {len(floor_rows):,} groups, {args.repeat} runs each"
        " (ms, p50 / p95)"
    )
    print(f"  cd3p_query_run (HTTP, with total)  {action_ms[0]:8.1f} / {action_ms[1]:8.1f}")
    print(f"  floor: the same GROUP BY in SQL     {floor_ms[0]:8.1f} / {floor_ms[1]:8.1f}")
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(
        f"  ratio {ratio:.2f}x (target at most {TARGET}x: {verdict});"
        f" groups differing from the floor: {differ}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
    if differ:
        raise SystemExit("bench_query: the action's sums differ from the floor's")


if __name__ == "__main__":
    main()
