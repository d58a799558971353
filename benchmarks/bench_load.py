"""Upload-to-DataStore time through the real path, against PostgreSQL's own COPY in the same run.

    make bench            (starts the development portal if needed, then runs this)

For each file: upload it as a resource through the Action API (HTTP, multipart), wait until every
row answers ``datastore_search`` (the new table is swapped in) and until the load reports complete
(its full-text index built; ``xloader_status``, which the load keeps in step), and time both; the
full path includes the check before loading (screening and geography codes), whose own time is
reported too. Then COPY the same file, in the same database, into an all-text table, into a
table with the column types the load gave its table, and into that table in the DataStore's shape
(with its ``_id`` serial primary key and ``_full_text`` column), and time each. The
worker's resident memory (its own and that of the process running each job) is sampled
throughout; its peak is reported. The benchmark dataset is purged at the end.
Files: the real 72,615-row OEPS tract table and a generated CSV of 1,000,000 rows and 20 columns
(about 150 MB; ``--rows``); both take the same path (ckanext.cd3p.ingestion.loading).
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
from bench_indicators import rss_mb  # benchmarks/ is on the path when run as a script
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[1]


def request(
    base: str, token: str, action: str, data: dict | None = None, files: dict | None = None
) -> urllib.request.Request:
    """The HTTP request of an action: JSON body, or multipart when files are given (the file read
    into the body here, before any clock starts: a client such as curl streams it from disk)."""
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
    return urllib.request.Request(url, data=payload, headers=headers, method="POST")


def send(req: urllib.request.Request) -> dict:
    with urllib.request.urlopen(req, timeout=600) as resp:
        return json.load(resp)["result"]


def api(base: str, token: str, action: str, data: dict | None = None, files: dict | None = None) -> dict:
    """Calls an action over HTTP."""
    return send(request(base, token, action, data, files))


COLUMNS = [
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
    "adults_25_plus",
    "bachelors",
    "labor_force",
    "unemployed",
    "poverty_universe",
    "below_poverty",
    "devices_lent",
    "trainees",
    "placements",
    "program",
]


def generate_csv(path: Path, rows: int) -> None:
    """A tract-like programme table: GEOID, counts, shares, a date and labels, 20 columns."""
    rnd = random.Random(2026)
    programs = ["Device lending", "Digital literacy", "IT certification", "Internship", "Job placement"]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for i in range(rows):
            hh = rnd.randint(50, 3000)
            nc = rnd.randint(0, hh // 3)
            nb = rnd.randint(0, hh // 2)
            pop = rnd.randint(100, 8000)
            adults = pop * 2 // 3
            labor = adults * 3 // 5
            w.writerow(
                [
                    f"26163{i:06d}",
                    hh,
                    nc,
                    nb,
                    round(nc / hh, 4),
                    round(nb / hh, 4),
                    rnd.randint(9000, 150000),
                    pop,
                    f"2019-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                    f"Tract {i}",
                    adults,
                    rnd.randint(0, adults // 2),
                    labor,
                    rnd.randint(0, labor // 5),
                    pop,
                    rnd.randint(0, pop // 2),
                    rnd.randint(0, 40),
                    rnd.randint(0, 25),
                    rnd.randint(0, 10),
                    programs[i % len(programs)],
                ]
            )


class WorkerMemory:
    """Peak resident memory of the xloader worker and of the processes it forks to run jobs."""

    def __init__(self, pid_file: Path) -> None:
        self.pid = int(pid_file.read_text().split()[0])
        self.peak_worker = self.peak_job = 0.0

    def sample(self) -> None:
        self.peak_worker = max(self.peak_worker, rss_mb(self.pid))
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            children = []
        for child in children:
            self.peak_job = max(self.peak_job, rss_mb(int(child)))


def copy_baseline(
    dsn: str, path: Path, types: dict[str, str] | None = None, datastore_shape: bool = False
) -> float:
    """Seconds for CREATE TABLE + COPY of the file into a table (dropped afterwards): all text, or
    with the column ``types`` the load gave its table; ``datastore_shape``: also with the
    DataStore's ``_id`` (a serial primary key, built after the copy) and ``_full_text`` columns."""
    with path.open(newline="") as f:
        header = next(csv.reader(f))
    table = sql.Identifier(f"bench_copy_{uuid.uuid4().hex[:8]}")
    names = sql.SQL(", ").join(sql.Identifier(c) for c in header)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL((types or {}).get(c, "text"))) for c in header
    )
    if datastore_shape:
        columns = sql.SQL("_id serial, _full_text tsvector, {}").format(columns)
    conn = psycopg2.connect(dsn)
    try:
        start = time.perf_counter()
        with conn, conn.cursor() as cur, path.open("rb") as f:
            cur.execute(sql.SQL("CREATE TABLE {} ({})").format(table, columns))
            copy = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, HEADER true)").format(table, names)
            cur.copy_expert(copy, f)
            if datastore_shape:
                cur.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (_id)").format(table))
        elapsed = time.perf_counter() - start
        with conn, conn.cursor() as cur:
            cur.execute(sql.SQL("DROP TABLE {}").format(table))
    finally:
        conn.close()
    return elapsed


def xloader_run(
    base: str, token: str, package_id: str, path: Path, rows: int, timeout: float, memory: WorkerMemory
) -> tuple[float, float, str, float, dict[str, str]]:
    """Seconds until every row answers datastore_search, until the load reports done, the load's
    status, the check's own seconds and the loaded table's column types.

    The difference between the first two is the full-text column filled and indexed after the swap.
    """
    upload = request(
        base,
        token,
        "resource_create",
        {"package_id": package_id, "name": path.name, "format": "CSV"},
        files={"upload": path},
    )
    start = time.perf_counter()
    res = send(upload)
    print(
        f"{path.name}: resource_create (upload stored, check queued) answered in "
        f"{time.perf_counter() - start:.2f} s"
    )
    queryable = float("nan")
    polls = 0
    while time.perf_counter() - start < timeout:
        if queryable != queryable:  # not yet: are all rows there?
            try:
                total = api(base, token, "datastore_search", {"resource_id": res["id"], "limit": 0})["total"]
            except urllib.error.HTTPError:
                total = -1  # the table does not exist yet
            if total == rows:
                queryable = time.perf_counter() - start
        memory.sample()
        polls += 1
        if queryable != queryable and polls % 10:
            # One request per poll until then (the machine's processors are the load's); the status
            # only now and then, in case the load failed.
            time.sleep(0.1)
            continue
        try:
            status = api(base, token, "xloader_status", {"resource_id": res["id"]}).get("status")
        except urllib.error.HTTPError:
            status = None  # not submitted yet: the check runs first
        if status in ("complete", "error"):
            done = time.perf_counter() - start
            return (
                queryable,
                done,
                status,
                _check_seconds(base, token, res["id"]),
                _types(base, token, res["id"]),
            )
        time.sleep(0.2)
    done = time.perf_counter() - start
    return queryable, done, "timeout", _check_seconds(base, token, res["id"]), _types(base, token, res["id"])


def _types(base: str, token: str, resource_id: str) -> dict[str, str]:
    """The PostgreSQL types of the loaded table's columns."""
    try:
        fields = api(base, token, "datastore_info", {"id": resource_id})["fields"]
    except urllib.error.HTTPError:
        return {}
    return {f["id"]: f["type"] for f in fields if not f["id"].startswith("_")}


def _check_seconds(base: str, token: str, resource_id: str) -> float:
    """The check's own seconds; prints the load's log (seconds since the load began, what it did)."""
    try:
        check = api(base, token, "cd3p_resource_check_show", {"id": resource_id})
    except urllib.error.HTTPError:
        return float("nan")
    for line in (check["report"].get("load") or {}).get("log", []):
        print(f"  load {line['seconds']:>7.2f} s  {line['message']}")
    return float(check["report"].get("seconds", float("nan")))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ini", default=str(ROOT / "var/etc/development.ini"))
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the generated CSV (20 columns)")
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
                "access_level": "organization",
                "contains_personal_data": "no",
                "geography_level": "tract",
            },
        )
        rows_out = []
        try:
            for path in files:
                with path.open(newline="") as f:
                    n = sum(1 for _ in f) - 1
                copy_s = copy_baseline(dsn, path)
                memory = WorkerMemory(ROOT / "var/run/worker-development.pid")
                ready_s, xl_s, status, check_s, types = xloader_run(
                    base, token, pkg["id"], path, n, args.timeout, memory
                )
                typed_s = copy_baseline(dsn, path, types)
                shaped_s = copy_baseline(dsn, path, types, datastore_shape=True)
                rows_out.append(
                    (
                        path.name,
                        n,
                        path.stat().st_size / 1e6,
                        ready_s,
                        xl_s,
                        status,
                        copy_s,
                        typed_s,
                        shaped_s,
                        check_s,
                        memory,
                    )
                )
        finally:
            api(base, token, "dataset_purge", {"id": pkg["id"]})

    print(
        f"\n{'file':34} {'rows':>9} {'MB':>5} {'check s':>8} {'all rows s':>11} {'done s':>7} "
        f"{'COPY text s':>12} {'COPY typed s':>13} {'COPY DS s':>10} {'rows/text':>10} {'rows/typed':>11} "
        f"{'rows/DS':>8} {'rows/s':>9} {'rows/s COPY':>11} {'worker MB':>10} {'job MB':>7}"
    )
    for fname, n, mb, ready_s, xl_s, status, copy_s, typed_s, shaped_s, check_s, memory in rows_out:
        print(
            f"{fname:34} {n:>9,} {mb:>5.1f} {check_s:>8.2f} {ready_s:>11.2f} {xl_s:>7.2f} "
            f"{copy_s:>12.2f} {typed_s:>13.2f} {shaped_s:>10.2f} {ready_s / copy_s:>9.1f}x "
            f"{ready_s / typed_s:>10.1f}x {ready_s / shaped_s:>7.1f}x {n / ready_s:>9,.0f} "
            f"{n / copy_s:>11,.0f} {memory.peak_worker:>10.0f} {memory.peak_job:>7.0f}"
            + ("" if status == "complete" else f"  [{status}]")
        )


if __name__ == "__main__":
    main()
