"""Upload-to-DataStore time through the real path, against PostgreSQL's own COPY in the same run.

    make bench            (starts the development portal if needed, then runs this)

For each file: upload it as a resource through the Action API (HTTP, multipart), wait until the
xloader worker reports the load complete, and time it; then COPY the same file into an equivalent
all-text table in the DataStore database and time that. The benchmark dataset is purged at the end.
Files: the real 72,615-row OEPS tract table (type-guessing path, files <= 20 MB) and a generated
CSV big enough to take xloader's COPY path.
"""

from __future__ import annotations

import argparse
import configparser
import csv
import io
import json
import random
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg2
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[1]


def api(base: str, token: str, action: str, data: dict | None = None, files: dict | None = None) -> dict:
    """Calls an action over HTTP; JSON body, or multipart when files are given."""
    url = f"{base}/api/3/action/{action}"
    headers = {"Authorization": token}
    if files:
        boundary = uuid.uuid4().hex
        body = io.BytesIO()
        for key, value in (data or {}).items():
            disposition = f'Content-Disposition: form-data; name="{key}"'
            body.write(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
        for key, path in files.items():
            body.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{path.name}"\r\n'
                "Content-Type: text/csv\r\n\r\n".encode()
            )
            body.write(path.read_bytes())
            body.write(b"\r\n")
        body.write(f"--{boundary}--\r\n".encode())
        payload = body.getvalue()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    else:
        payload = json.dumps(data or {}).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=payload, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=600) as resp:
        return json.load(resp)["result"]


def generate_csv(path: Path, rows: int) -> None:
    """A tract-like table: GEOID, counts, shares, a date and a label, 10 columns."""
    rnd = random.Random(2026)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "geoid",
                "households",
                "no_computer",
                "no_broadband",
                "share_no_computer",
                "share_no_broadband",
                "median_income",
                "population",
                "survey_date",
                "label",
            ]
        )
        for i in range(rows):
            hh = rnd.randint(50, 3000)
            nc = rnd.randint(0, hh // 3)
            nb = rnd.randint(0, hh // 2)
            w.writerow(
                [
                    f"26163{i:06d}",
                    hh,
                    nc,
                    nb,
                    round(nc / hh, 4),
                    round(nb / hh, 4),
                    rnd.randint(9000, 150000),
                    rnd.randint(100, 8000),
                    f"2019-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                    f"Tract {i}",
                ]
            )


def copy_baseline(dsn: str, path: Path) -> float:
    """Seconds for CREATE TABLE + COPY of the file into an all-text table (dropped afterwards)."""
    with path.open(newline="") as f:
        header = next(csv.reader(f))
    table = sql.Identifier(f"bench_copy_{uuid.uuid4().hex[:8]}")
    columns = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in header)
    conn = psycopg2.connect(dsn)
    try:
        start = time.perf_counter()
        with conn, conn.cursor() as cur, path.open("rb") as f:
            cur.execute(sql.SQL("CREATE TABLE {} ({})").format(table, columns))
            cur.copy_expert(sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv, HEADER true)").format(table), f)
        elapsed = time.perf_counter() - start
        with conn, conn.cursor() as cur:
            cur.execute(sql.SQL("DROP TABLE {}").format(table))
    finally:
        conn.close()
    return elapsed


def xloader_run(
    base: str, token: str, package_id: str, path: Path, rows: int, timeout: float
) -> tuple[float, float, str]:
    """Seconds until every row answers datastore_search, and until xloader reports the job done.

    The difference is mostly xloader indexing every column after the rows are in.
    """
    start = time.perf_counter()
    res = api(
        base,
        token,
        "resource_create",
        {"package_id": package_id, "name": path.name, "format": "CSV"},
        files={"upload": path},
    )
    queryable = float("nan")
    while time.perf_counter() - start < timeout:
        if queryable != queryable:  # not yet: are all rows there?
            try:
                total = api(base, token, "datastore_search", {"resource_id": res["id"], "limit": 0})["total"]
            except urllib.error.HTTPError:
                total = -1  # the table does not exist yet
            if total == rows:
                queryable = time.perf_counter() - start
        status = api(base, token, "xloader_status", {"resource_id": res["id"]}).get("status")
        if status in ("complete", "error"):
            return queryable, time.perf_counter() - start, status
        time.sleep(0.2)
    return queryable, time.perf_counter() - start, "timeout"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ini", default=str(ROOT / "var/etc/development.ini"))
    parser.add_argument("--rows", type=int, default=300_000, help="rows of the generated CSV")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()

    ini = configparser.ConfigParser(interpolation=None, strict=False)
    ini.read(args.ini)
    app = ini["app:main"]
    base = app["ckan.site_url"].rstrip("/")
    token = (ROOT / "var/etc/xloader-token").read_text().strip()
    dsn = app["ckan.datastore.write_url"]
    data_dir = Path(app["ckanext.cd3p.data_dir"])

    with tempfile.TemporaryDirectory() as tmp:
        generated = Path(tmp) / f"generated_{args.rows}_rows.csv"
        generate_csv(generated, args.rows)
        files = [data_dir / "indicators/oeps_tract_2019_no_internet.csv", generated]

        name = f"cd3p-benchmark-{uuid.uuid4().hex[:8]}"
        pkg = api(
            base,
            token,
            "package_create",
            {
                "name": name,
                "title": "Benchmark (temporary)",
                "owner_org": "data-driven-detroit",
                "private": True,
            },
        )
        rows_out = []
        try:
            for path in files:
                with path.open(newline="") as f:
                    n = sum(1 for _ in f) - 1
                copy_s = copy_baseline(dsn, path)
                ready_s, xl_s, status = xloader_run(base, token, pkg["id"], path, n, args.timeout)
                rows_out.append((path.name, n, path.stat().st_size / 1e6, ready_s, xl_s, status, copy_s))
        finally:
            api(base, token, "dataset_purge", {"id": pkg["id"]})

    print(
        f"\n{'file':34} {'rows':>9} {'MB':>5} {'all rows s':>11} {'done s':>7} {'COPY s':>7} "
        f"{'rows/COPY':>12} {'done/COPY':>15} {'rows/s':>11} {'rows/s COPY':>11}"
    )
    for fname, n, mb, ready_s, xl_s, status, copy_s in rows_out:
        print(
            f"{fname:34} {n:>9,} {mb:>5.1f} {ready_s:>11.2f} {xl_s:>7.2f} {copy_s:>7.2f} "
            f"{ready_s / copy_s:>11.1f}x {xl_s / copy_s:>14.1f}x {n / ready_s:>11,.0f} {n / copy_s:>11,.0f}"
            + ("" if status == "complete" else f"  [{status}]")
        )


if __name__ == "__main__":
    main()
