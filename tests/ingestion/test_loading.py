"""Loading a checked file into the DataStore, end to end through the real worker and PostgreSQL:
guessed and editor-set column types, messy numbers, progress and log, a type that does not fit, and a
worker killed half-way through a load.

Expected values are computed here from the file the test wrote, not read back from the loader.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import signal
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.tests.helpers import call_action
from ckanext.datastore.backend.postgres import get_write_engine

from ckanext.cd3p import config as cd3p_config
from ckanext.cd3p.common import geography
from ckanext.cd3p.ingestion import loading, screening
from tests import factories
from tests.helpers import poll, wait_for_load, wait_for_xloader
from tests.web import soup

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_datastore", "clean_index")

TRACTS = sorted(geography.tracts())

MESSY = (
    "geoid,zip,households,share,amount,surveyed,note\n"
    f'{TRACTS[0]},48201,"1,234",45%,"-1,234.50",2024-03-01,first\n'
    f"{TRACTS[1]},48202,-5,12.5%,0.75,3/4/2024,\n"
    f'{TRACTS[2]},48203,,,,,"quoted, with comma"\n'
    f"{TRACTS[3]},48204,0,0%,-3,2024-12-31,last\n"
)


def _int(text: str) -> int | None:
    return int(text.replace(",", "")) if text.strip() else None


def _dec(text: str) -> Decimal | None:
    return Decimal(text.replace(",", "").rstrip("%")) if text.strip() else None


def _date(text: str) -> dt.date | None:
    if not text.strip():
        return None
    if "/" in text:
        month, day, year = (int(p) for p in text.split("/"))
        return dt.date(year, month, day)
    return dt.date.fromisoformat(text)


def records(resource_id: str) -> list[dict[str, Any]]:
    return call_action("datastore_search", resource_id=resource_id, sort="_id", limit=10000)["records"]


def types(resource_id: str) -> dict[str, str]:
    fields = call_action("datastore_info", id=resource_id)["fields"]
    return {f["id"]: f["type"] for f in fields}


def public_dataset(partner: dict[str, Any]) -> dict[str, Any]:
    return factories.Dataset(owner_org=partner["org"]["id"], access_level="public")


def test_guessed_types_and_messy_numbers(partner: dict[str, Any], put: Callable[..., Any]) -> None:
    resource = put(MESSY.encode(), "messy.csv", public_dataset(partner))
    check = wait_for_load(resource["id"])
    load = check["report"]["load"]
    assert load["state"] == "complete", load

    # Codes stay text (a ZIP or GEOID is not an amount); the rest get the narrowest type that fits.
    assert load["types"] == {
        "geoid": "text",
        "zip": "text",
        "households": "integer",
        "share": "numeric",
        "amount": "numeric",
        "surveyed": "date",
        "note": "text",
    }
    assert {k: v for k, v in types(resource["id"]).items() if k != "_id"} == {
        "geoid": "text",
        "zip": "text",
        "households": "int8",
        "share": "numeric",
        "amount": "numeric",
        "surveyed": "date",
        "note": "text",
    }
    rows = list(csv.DictReader(io.StringIO(MESSY)))
    got = records(resource["id"])
    assert [r["geoid"] for r in got] == [r["geoid"] for r in rows]
    assert [r["households"] for r in got] == [_int(r["households"]) for r in rows]
    assert [None if r["share"] is None else Decimal(str(r["share"])) for r in got] == [
        _dec(r["share"]) for r in rows
    ]
    assert [None if r["amount"] is None else Decimal(str(r["amount"])) for r in got] == [
        _dec(r["amount"]) for r in rows
    ]
    assert [r["surveyed"] and dt.date.fromisoformat(r["surveyed"][:10]) for r in got] == [
        _date(r["surveyed"]) for r in rows
    ]
    assert [r["note"] for r in got] == [r["note"] or None for r in rows]  # an empty cell is no data


def test_progress_and_log_in_the_api_and_on_the_page(
    app: Any, partner: dict[str, Any], put: Callable[..., Any]
) -> None:
    data = "geoid,households\n" + "".join(f"{g},{i}\n" for i, g in enumerate(TRACTS))
    resource = put(
        data.encode(), "tracts.csv", public_dataset(partner), geo_key_column="geoid", geo_key_level="tract"
    )
    check = wait_for_load(resource["id"])
    load = check["report"]["load"]

    assert load["state"] == "complete"
    assert load["rows"] == load["total_rows"] == len(TRACTS)
    assert load["elapsed"] > 0
    messages = [line["message"] for line in load["log"]]
    assert f"Copied {len(TRACTS)} rows" in messages
    # A CSV file is copied while its check reads it, and kept once the check has passed.
    assert messages[0] == "Copying the file into a new table while it is checked"
    assert messages.index("The check passed; the copy made meanwhile can be kept") < len(messages) - 1
    assert messages[-1].startswith(f"Loaded {len(TRACTS)} rows in ")
    # xloader's status API, and its DataStore tab, say the same.
    status = wait_for_xloader(resource["id"])
    assert (status["status"], status["job_id"]) == ("complete", check["id"])
    # The full text is filled after the swap: a search finds a row by its GEOID.
    found = call_action("datastore_search", resource_id=resource["id"], q=TRACTS[5])["records"]
    assert [(r["geoid"], r["households"]) for r in found] == [(TRACTS[5], 5)]

    page = soup(
        app.get(
            f"/dataset/{resource['package_id']}/resource/{resource['id']}",
            headers={"Authorization": partner["editor"]["token"]},
        )
    )
    box = page.select_one(".cd3p-load")
    assert box is not None and box["data-state"] == "complete"
    assert f"{len(TRACTS)} rows in" in box.get_text(" ", strip=True)
    assert "Copied" in box.select_one(".cd3p-load-log").get_text()


def test_a_guessed_type_contradicted_after_the_sample_falls_back_to_text(
    partner: dict[str, Any], put: Callable[..., Any], tmp_path: Any
) -> None:
    def write(values: list[str]) -> bytes:
        return ("households,label\n" + "".join(f"{v},r{i}\n" for i, v in enumerate(values))).encode()

    values = [str(i) for i in range(20_000)]
    # The check samples rows with a fixed seed: find a row it does not sample, as the worker will.
    (tmp_path / "probe.csv").write_bytes(write(values))
    sampled = set(screening.read_tables(tmp_path / "probe.csv", "CSV")[0].row_numbers)
    row = next(n for n in range(10_000, 20_002) if n not in sampled)
    values[row - 2] = "n/a"  # row 1 is the header
    resource = put(write(values), "late.csv", public_dataset(partner))
    load = wait_for_load(resource["id"])["report"]["load"]

    assert load["state"] == "complete", load
    assert load["types"] == {"households": "text", "label": "text"}
    assert any(f'row {row} holds "n/a"' in line["message"] for line in load["log"]), load["log"]
    result = call_action(
        "datastore_search", resource_id=resource["id"], filters={"_id": [row - 1, 11]}, sort="_id"
    )
    assert result["total"] == 2 and [r["households"] for r in result["records"]] == ["10", "n/a"]
    assert call_action("datastore_search", resource_id=resource["id"], limit=0)["total"] == 20_000


def test_a_file_copy_cannot_read_as_it_is_is_loaded_from_the_checks_copy(
    partner: dict[str, Any], put: Callable[..., Any]
) -> None:
    # A blank line, a short row and a title-less leading blank line: the check reads them (blank rows
    # skipped, short rows padded); PostgreSQL's COPY does not, so the load reads the check's copy.
    data = "\nname,households,share\nA,1,0.5\n\nB,2\nC,3,0.25\n"
    resource = put(data.encode(), "gaps.csv", public_dataset(partner))
    load = wait_for_load(resource["id"])["report"]["load"]

    assert load["state"] == "complete", load
    assert any("trying another" in line["message"] for line in load["log"])
    assert [(r["name"], r["households"], r["share"]) for r in records(resource["id"])] == [
        ("A", 1, 0.5),
        ("B", 2, None),
        ("C", 3, 0.25),
    ]


def test_json_records_and_a_workbook_are_loaded_from_the_checks_copy(
    partner: dict[str, Any], put: Callable[..., Any]
) -> None:
    import json

    import openpyxl

    rows = [
        {"area": "Alder", "households": 120, "share": 0.25},
        {"area": "Birch", "households": 45, "share": None},
    ]
    resource = put(json.dumps(rows).encode(), "areas.json", public_dataset(partner), format="JSON")
    load = wait_for_load(resource["id"])["report"]["load"]
    assert load["state"] == "complete", load
    assert [(r["area"], r["households"], r["share"]) for r in records(resource["id"])] == [
        (r["area"], r["households"], r["share"]) for r in rows
    ]

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Programme reach, 2024"])  # a title row above the header
    sheet.append(["area", "trained", "started"])
    sheet.append(["Alder", 12, dt.date(2024, 3, 1)])
    sheet.append(["Birch", 7, dt.date(2024, 4, 15)])
    data = io.BytesIO()
    book.save(data)
    resource = put(data.getvalue(), "reach.xlsx", public_dataset(partner), format="XLSX")
    check = wait_for_load(resource["id"])
    assert check["state"] == "passed", check["report"]
    load = check["report"]["load"]
    assert load["state"] == "complete", load
    assert load["types"] == {"area": "text", "trained": "integer", "started": "date"}
    assert [(r["area"], r["trained"], r["started"][:10]) for r in records(resource["id"])] == [
        ("Alder", 12, "2024-03-01"),
        ("Birch", 7, "2024-04-15"),
    ]


def test_a_type_set_in_the_data_dictionary_is_applied_and_a_misfit_keeps_the_old_table(
    partner: dict[str, Any], put: Callable[..., Any]
) -> None:
    dataset = public_dataset(partner)
    resource = put(b"rank,value\n7,1.5\n8,2.5\n", "ranks.csv", dataset)
    first = wait_for_load(resource["id"])
    assert types(resource["id"])["rank"] == "int8"

    # The editor reviews the guess and sets the types the next load must use.
    fields = call_action("datastore_info", id=resource["id"])["fields"]
    wanted = {"rank": "text", "value": "integer"}
    call_action(
        "datastore_create",
        {"user": partner["editor"]["name"]},
        resource_id=resource["id"],
        force=True,
        fields=[
            {"id": f["id"], "type": f["type"], "info": {"type_override": wanted[f["id"]]}}
            for f in fields
            if f["id"] in wanted
        ],
    )
    second = call_action("cd3p_resource_check_run", {"user": partner["editor"]["name"]}, id=resource["id"])
    load = wait_for_load(resource["id"], after=first["id"])["report"]["load"]
    assert load["state"] == "failed"
    assert load["error"] == (
        'Column "value" is set to integer in the data dictionary, but row 2 holds "1.5". '
        "Correct the file, or change the column's type in the data dictionary."
    )
    assert [(r["rank"], float(r["value"])) for r in records(resource["id"])] == [(7, 1.5), (8, 2.5)]

    put(b"rank,value\n007,15\n008,25\n", "ranks-2.csv", id=resource["id"])
    load = wait_for_load(resource["id"], after=second["id"])["report"]["load"]
    assert load["state"] == "complete", load
    assert [(r["rank"], r["value"]) for r in records(resource["id"])] == [("007", 15), ("008", 25)]
    assert types(resource["id"])["value"] == "int8"


def _write_big(path: str, rows: int, email: bool = False) -> None:
    with open(path, "w") as out:
        out.write("geoid,households,share,label" + (",contact\n" if email else "\n"))
        for i in range(rows):
            out.write(f"{TRACTS[i % len(TRACTS)]},{i},{i % 100}.5,row {i}")
            out.write(f",resident{i}@example.org\n" if email else "\n")


def _datastore_quiet() -> bool:
    """No other session of the DataStore database is working on a statement: a stopped worker's
    session has finished whatever it had sent, and waits for it (idle, or a COPY waiting for rows)."""
    with get_write_engine().connect() as conn:
        busy = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state = 'active' AND wait_event_type IS DISTINCT FROM 'Client'"
                " AND pid <> pg_backend_pid()"
            )
        ).scalar()
    return busy == 0


def _rows_shown(resource_id: str) -> int | None:
    """How many rows readers of the resource's table see now; None while a load holds the table
    locked to swap its new rows in (a stopped worker would hold it for ever)."""
    with get_write_engine().connect() as conn:
        conn.execute(sa.text("SET lock_timeout = '2s'"))
        table = conn.dialect.identifier_preparer.quote(resource_id)
        try:
            return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
        except sa.exc.OperationalError:  # lock_not_available
            return None


def _staging_tables(resource_id: str) -> list[str]:
    with get_write_engine().connect() as conn:
        return (
            conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE tablename LIKE :p"), {"p": resource_id + "%"}
            )
            .scalars()
            .all()
        )


def test_rows_copied_while_a_file_is_checked_are_dropped_when_it_is_held(
    app: Any, partner: dict[str, Any], put: Callable[..., Any], tmp_path: Any
) -> None:
    dataset = public_dataset(partner)
    resource = put(b"geoid,households,share,label\n" + f"{TRACTS[0]},1,2.5,old\n".encode(), "t.csv", dataset)
    first = wait_for_load(resource["id"])
    before = records(resource["id"])

    big = tmp_path / "contacts.csv"
    _write_big(str(big), 1_000_000, email=True)
    # (Its geography is checked too, row by row, which gives the page below time to be seen.)
    put(big.read_bytes(), "contacts.csv", id=resource["id"], geo_key_column="geoid", geo_key_level="tract")

    # The copy starts with the check: rows go into an uncommitted table while it reads the file.
    deadline = time.monotonic() + 120
    copied_while_checking = 0
    page_said = ""
    while time.monotonic() < deadline:
        model.Session.expire_all()
        check = call_action("cd3p_resource_check_show", {"ignore_auth": True}, id=resource["id"])
        if check["id"] != first["id"]:
            if check["state"] != "pending":
                break
            load = check["report"].get("load") or {}
            copied_while_checking = max(copied_while_checking, load.get("rows") or 0)
            assert records(resource["id"]) == before  # nothing of it shows meanwhile
            if load.get("rows") and not page_said:  # what the editor's page says meanwhile
                page = app.get(
                    f"/dataset/{resource['package_id']}/resource/{resource['id']}",
                    headers={"Authorization": partner["editor"]["token"]},
                )
                box = soup(page).select_one(".cd3p-load[data-state=running]")
                page_said = box.get_text(" ", strip=True) if box is not None else "(no progress shown)"
        time.sleep(0.05)
    assert copied_while_checking > 0
    assert "while the check reads the file; they are kept only if it passes" in page_said, page_said

    # The e-mail addresses hold the file: what was copied is rolled back, unseen and untraced.
    assert check["state"] == "held"
    assert [f["column"] for f in check["report"]["findings"]] == ["contact"]
    assert "load" not in check["report"]
    assert records(resource["id"]) == before
    assert _staging_tables(resource["id"]) == [resource["id"]]
    assert wait_for_xloader(resource["id"], after=first["id"])["status"] == "error"


# Rows of the file whose load is killed: enough for the load's once-a-second heartbeat to report
# rows copied before the copy ends, few enough that the retry loads it all quickly.
KILLED_ROWS = 250_000


@pytest.mark.slow
def test_a_killed_worker_leaves_the_old_table_and_a_retry_succeeds(
    partner: dict[str, Any], put: Callable[..., Any], tmp_path: Any
) -> None:
    dataset = public_dataset(partner)
    resource = put(b"geoid,households,share,label\n" + f"{TRACTS[0]},1,2.5,old\n".encode(), "t.csv", dataset)
    first = wait_for_load(resource["id"])
    before = records(resource["id"])
    assert len(before) == 1

    # Watch the load until it is copying into its staging table, then stop the worker's work horse
    # (SIGSTOP: it can commit nothing more) and, once its database session is idle, kill it if the
    # old rows are still what readers see. A machine fast enough to copy the whole file before the
    # stop gets a file four times as large.
    old_total = len(before)
    for rows in (KILLED_ROWS, 4 * KILLED_ROWS):
        big = tmp_path / f"big-{rows}.csv"
        _write_big(str(big), rows)
        put(big.read_bytes(), "big.csv", id=resource["id"])
        deadline = time.monotonic() + 120
        load: dict[str, Any] = {}
        seen_rows = []
        while time.monotonic() < deadline:
            model.Session.expire_all()
            check = call_action("cd3p_resource_check_show", {"ignore_auth": True}, id=resource["id"])
            load = check["report"].get("load") or {}
            if check["id"] != first["id"] and load.get("phase") in ("copying", "converting"):
                seen_rows.append(load["rows"])
                if load["rows"] > 0:  # written by the load's heartbeat, once a second
                    break
            time.sleep(0.05)
        assert load.get("pid"), load
        # Progress: rows copied, while the check still reads the file (its total not counted yet)
        # or after it passed.
        assert 0 < seen_rows[-1] <= rows
        assert load["total_rows"] in (None, rows)
        os.kill(load["pid"], signal.SIGSTOP)
        poll(_datastore_quiet, 30, "the stopped load's session idle")
        if _rows_shown(resource["id"]) in (None, old_total):  # the old table, or the swap under way
            os.kill(load["pid"], signal.SIGKILL)
            break
        os.kill(load["pid"], signal.SIGCONT)  # too late: the copy had committed
        first = wait_for_load(resource["id"], after=first["id"])
        before, old_total = records(resource["id"]), rows
    else:
        pytest.fail("every copy committed before its worker could be stopped")

    # No half table: the old rows are all there is, and no staging table is left behind once
    # PostgreSQL has rolled back the killed process's transaction.
    poll(lambda: _staging_tables(resource["id"]) == [resource["id"]], 30, "the staging table rolled back")
    assert records(resource["id"]) == before

    # Once the heartbeat is older than the setting says, the load is reported failed.
    stale_after = cd3p_config.load_stale_after()

    def failed() -> dict[str, Any] | None:
        check = call_action("cd3p_resource_check_show", {"ignore_auth": True}, id=resource["id"])
        return check if check["report"]["load"]["state"] == "failed" else None

    dead = poll(
        failed,
        stale_after + loading.HEARTBEAT_SECONDS + 30,
        f"the load reported failed (stale after {stale_after} s)",
        every=0.5,
    )
    assert "its worker ended" in dead["report"]["load"]["error"]

    # A retry loads the whole file.
    call_action("cd3p_resource_check_run", {"user": partner["editor"]["name"]}, id=resource["id"])
    done = wait_for_load(resource["id"], after=dead["id"], timeout=240)["report"]["load"]
    assert done["state"] == "complete", done
    assert done["rows"] == rows
    result = call_action("datastore_search", resource_id=resource["id"], limit=1, sort="_id desc")
    assert result["total"] == rows
    assert result["records"][0]["label"] == f"row {rows - 1}"
