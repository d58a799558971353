"""Small-cell suppression of public DataStore tables (:mod:`ckanext.cd3p.ingestion.suppression`).

A public dataset's resource names its count columns; everyone outside the partner tier and the
dataset's organization reads the table's public view, where counts from 1 to below the dataset's
threshold are empty: through ``datastore_search`` (filters and full-text search included), the
DataStore dump, ``datastore_search_sql`` and the file's download. Expected values are computed
here from the rows the test wrote, never read back from the code under test.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action
from ckanext.datastore.backend import DatastoreBackend
from ckanext.datastore.backend.postgres import get_write_engine, identifier

from ckanext.cd3p.common import privacy
from ckanext.cd3p.ingestion import suppression
from tests import factories, partners
from tests.helpers import wait_for_xloader
from tests.web import Browser, person, soup

THRESHOLD = 11
ANONYMOUS: dict[str, Any] = {"user": "", "ignore_auth": False}


def as_user(user: dict[str, Any]) -> dict[str, Any]:
    return {"user": user["name"], "ignore_auth": False}


def public(value: Any, threshold: int = THRESHOLD) -> Any:
    """What the public reads for a count: nothing from 1 to below the threshold."""
    return None if value is not None and 0 < value < threshold else value


def public_dataset(owner_org: str, **fields: Any) -> dict[str, Any]:
    return factories.Dataset(
        owner_org=owner_org, access_level="public", small_cell_threshold=THRESHOLD, **fields
    )


def datastore_table(
    dataset: dict[str, Any], fields: list[dict[str, Any]], records: list[dict[str, Any]], **resource: Any
) -> str:
    """A DataStore-only resource of the dataset with a table made by datastore_create (no file, so
    no check and no load)."""
    result = call_action(
        "datastore_create",
        {"user": partners.site_user()},
        resource={"package_id": dataset["id"], "name": "table", **resource},
        fields=fields,
        records=records,
        force=True,
    )
    return result["resource_id"]


def search(context: dict[str, Any], resource_id: str, **params: Any) -> dict[str, Any]:
    return call_action("datastore_search", dict(context), resource_id=resource_id, sort="_id", **params)


# --- the settings (no database) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("households,people", ["households", "people"]),
        (" households , people ", ["households", "people"]),
        ("people,,households,", ["people", "households"]),
        ("households, households ,people, households", ["households", "people"]),
        ("hh: total", ["hh: total"]),
        ("", []),
        (" , ", []),
        (None, []),
        (["people", " households", "people"], ["people", "households"]),
        # What the API stored for a JSON list before the schema made one form (issue 13).
        ('["small", "households"]', ["small", "households"]),
        ("['small', 'households']", ["small", "households"]),
        ('["small"', ["small"]),
    ],
)
def test_count_columns_are_parsed(value: Any, expected: list[str]) -> None:
    assert suppression.count_columns({"count_columns": value}) == expected


def test_count_columns_of_a_resource_without_them() -> None:
    assert suppression.count_columns({}) == []


@pytest.mark.parametrize("value", [5, {"a": "b"}, ["households", 3]])
def test_count_columns_that_cannot_be_read_match_no_column(value: Any) -> None:
    """Fails closed: an unreadable value names no column, so the table's view treats every column
    as a count (TestCreateView.test_a_count_column_the_table_lacks_suppresses_every_column)."""
    assert suppression.count_columns({"count_columns": value}) == [suppression.UNREADABLE]


@pytest.mark.parametrize(
    ("access_level", "counts", "expected"),
    [
        ("public", "households", True),
        ("public", " , ", False),
        ("public", None, False),
        ("partners", "households", False),
        ("organization", "households", False),
        (None, "households", False),
    ],
)
def test_suppression_applies_to_public_datasets_with_count_columns(
    access_level: str | None, counts: str | None, expected: bool
) -> None:
    dataset = {"access_level": access_level, "small_cell_threshold": 11}
    assert suppression.applies(dataset, {"count_columns": counts}) is expected


@pytest.mark.parametrize(
    ("value", "expected"), [(20, 20), ("5", 5), (None, 11), ("", 11), ("many", 11), (0, 11), (-3, 11)]
)
def test_threshold(value: Any, expected: int) -> None:
    assert privacy.threshold({"small_cell_threshold": value}) == expected


def test_view_name_fits_postgresql() -> None:
    resource_id = "0b3c6a5e-1b7e-4a3c-9f0e-123456789abc"
    assert suppression.view_name(resource_id) == f"{resource_id}_public"
    assert len(suppression.view_name(resource_id)) <= 63
    with pytest.raises(ValueError):
        suppression.view_name("x" * 60)


# --- the view, against the DataStore database ---------------------------------------------------

FIELDS = [
    {"id": "area", "type": "text"},
    {"id": "households", "type": "int", "info": {"label": "Households"}},
    {"id": "persons", "type": "numeric"},
    {"id": "hh: total", "type": "text"},  # a count held as text, with a colon in its name
    {"id": "share %", "type": "numeric"},
]
# (households, persons, "hh: total" as text, what the public reads in "hh: total")
COUNTS: list[tuple[int | None, Decimal | None, str | None, str | None]] = [
    (0, Decimal("0"), "0", "0"),
    (1, Decimal("0.5"), "3", None),
    (3, Decimal("10.99"), " 7 ", None),
    (10, Decimal("11"), "10.0", None),
    (11, Decimal("11.5"), "+4", None),
    (12, Decimal("250"), "11", "11"),
    (None, None, "n/a", "n/a"),  # text that is not a number is shown as it is
    (640, Decimal("-2"), "<5", "<5"),
    (2, Decimal("1"), "", ""),
    (5000, Decimal("5000"), None, None),
    (4, Decimal("4"), "-2", "-2"),
    (7, Decimal("7"), "1,234", "1,234"),
]
AREAS = [
    "Alder",
    "Birch",
    "Cedar",
    "Dogwood",
    "Elm",
    "Fir",
    "Gum",
    "Hazel",
    "Ivy",
    "Juniper",
    "Kapok",
    "Larch",
]
RECORDS = [
    {"area": area, "households": hh, "persons": persons, "hh: total": text, "share %": Decimal("0.25")}
    for area, (hh, persons, text, _public) in zip(AREAS, COUNTS, strict=True)
]


def rows(relation: str) -> list[dict[str, Any]]:
    with get_write_engine().connect() as conn:
        found = conn.execute(sa.text(f"SELECT * FROM {identifier(relation)} ORDER BY _id")).mappings()
        return [dict(row) for row in found]


def matching(relation: str, words: str) -> list[str]:
    """Areas of the rows whose ``_full_text`` matches the words, as datastore_search's ``q`` asks."""
    with get_write_engine().connect() as conn:
        found = conn.execute(
            sa.text(
                f"SELECT area FROM {identifier(relation)} "
                "WHERE _full_text @@ plainto_tsquery('english', :q) ORDER BY _id"
            ),
            {"q": words},
        )
        return [area for (area,) in found]


@pytest.mark.usefixtures("with_plugins", "clean_datastore", "clean_index")
class TestCreateView:
    def test_small_counts_are_empty_and_everything_else_is_as_loaded(
        self, organization: dict[str, Any]
    ) -> None:
        dataset = public_dataset(organization["id"])
        resource_id = datastore_table(dataset, FIELDS, RECORDS)  # no count columns: no view yet

        with get_write_engine().begin() as conn:
            applied = suppression.create_view(
                conn, resource_id, FIELDS, ["households", "Persons", "hh: total"], THRESHOLD
            )

        assert applied == ["households", "persons", "hh: total"]  # a name's case does not matter
        view = suppression.view_name(resource_id)
        got = rows(view)
        assert list(got[0]) == ["_id", "_full_text", "area", "households", "persons", "hh: total", "share %"]
        assert [r["area"] for r in got] == AREAS
        assert [r["households"] for r in got] == [public(hh) for hh, _p, _t, _pt in COUNTS]
        assert [r["persons"] for r in got] == [public(p) for _h, p, _t, _pt in COUNTS]
        assert [r["hh: total"] for r in got] == [expected for _h, _p, _t, expected in COUNTS]
        assert [r["share %"] for r in got] == [Decimal("0.25")] * len(COUNTS)
        raw = rows(resource_id)
        assert [r["households"] for r in raw] == [hh for hh, _p, _t, _pt in COUNTS]  # the table is untouched
        assert suppression.view_state(resource_id) == {
            "threshold": THRESHOLD,
            "columns": ["households", "persons", "hh: total"],
            "count_columns": ["households", "Persons", "hh: total"],
            "unresolved": [],
        }

    def test_a_count_column_the_table_lacks_suppresses_every_column(
        self, organization: dict[str, Any]
    ) -> None:
        """A name that matches no column (a typo, a column renamed in a new file) cannot say which
        columns count people: the view fails closed and treats every column as a count."""
        dataset = public_dataset(organization["id"])
        resource_id = datastore_table(dataset, FIELDS, RECORDS)
        with get_write_engine().begin() as conn:
            applied = suppression.create_view(conn, resource_id, FIELDS, ["housholds"], THRESHOLD)

        assert applied == ["area", "households", "persons", "hh: total", "share %"]
        got = rows(suppression.view_name(resource_id))
        assert [r["households"] for r in got] == [public(hh) for hh, _p, _t, _pt in COUNTS]
        assert [r["persons"] for r in got] == [public(p) for _h, p, _t, _pt in COUNTS]
        assert [r["share %"] for r in got] == [None] * len(COUNTS)  # 0.25 is between 0 and 11
        assert [r["area"] for r in got] == AREAS  # text that is not a number is shown
        assert matching(suppression.view_name(resource_id), "Birch") == []  # no full text at all
        assert suppression.view_state(resource_id)["unresolved"] == ["housholds"]

    def test_full_text_of_the_view_leaves_out_the_counts(self, organization: dict[str, Any]) -> None:
        dataset = public_dataset(organization["id"])
        resource_id = datastore_table(dataset, FIELDS, RECORDS)
        with get_write_engine().begin() as conn:
            suppression.create_view(
                conn, resource_id, FIELDS, ["households", "persons", "hh: total"], THRESHOLD
            )
        view = suppression.view_name(resource_id)

        # Birch's text count is "3" and Cedar's households are 3: the raw table's full text finds
        # both, the view's neither, nor a count it shows (Hazel's 640).
        assert matching(resource_id, "3") == ["Birch", "Cedar"]
        assert matching(view, "3") == []
        assert matching(resource_id, "640") == ["Hazel"]
        assert matching(view, "640") == []
        assert matching(view, "Birch") == ["Birch"]

    def test_the_datastore_takes_the_view_for_an_alias_of_the_table(
        self, organization: dict[str, Any]
    ) -> None:
        """Why datastore_search cannot simply be asked for the view by name (see suppression.py)."""
        dataset = public_dataset(organization["id"])
        resource_id = datastore_table(dataset, FIELDS, RECORDS)
        with get_write_engine().begin() as conn:
            suppression.create_view(conn, resource_id, FIELDS, ["households"], THRESHOLD)

        backend = DatastoreBackend.get_active_backend()
        assert backend.resource_id_from_alias(suppression.view_name(resource_id)) == (True, resource_id)

    def test_the_data_dictionary_is_copied_to_the_view(self, organization: dict[str, Any]) -> None:
        dataset = public_dataset(organization["id"])
        resource_id = datastore_table(dataset, FIELDS, RECORDS, count_columns="households")
        owner = {"user": partners.site_user(), "ignore_auth": False}

        shown = search(ANONYMOUS, resource_id, limit=0)["fields"]
        raw = search(owner, resource_id, limit=0)["fields"]

        assert shown == raw
        assert next(f for f in shown if f["id"] == "households")["info"] == {"label": "Households"}

    @pytest.mark.parametrize("threshold", [0, -1, "11", True, 10.5])
    def test_the_threshold_must_be_a_positive_integer(
        self, organization: dict[str, Any], threshold: Any
    ) -> None:
        dataset = public_dataset(organization["id"])
        resource_id = datastore_table(dataset, FIELDS, RECORDS)
        with pytest.raises(ValueError), get_write_engine().begin() as conn:
            suppression.create_view(conn, resource_id, FIELDS, ["households"], threshold)
        assert suppression.view_state(resource_id) is None

    def test_drop_view(self, organization: dict[str, Any]) -> None:
        dataset = public_dataset(organization["id"])
        resource_id = datastore_table(dataset, FIELDS, RECORDS)
        with get_write_engine().begin() as conn:
            suppression.create_view(conn, resource_id, FIELDS, ["households"], THRESHOLD)
        with get_write_engine().begin() as conn:
            suppression.drop_view(conn, resource_id)
            suppression.drop_view(conn, resource_id)  # no view: nothing to do
        assert suppression.view_state(resource_id) is None


# --- who reads what, on a table made through the API ---------------------------------------------

TABLE_FIELDS = [{"id": "area", "type": "text"}, {"id": "households", "type": "int"}]
HOUSEHOLDS = [0, 1, 5, 10, 11, 12, 19, 20, 400, None]
TABLE = [{"area": area, "households": hh} for area, hh in zip(AREAS, HOUSEHOLDS, strict=False)]


@pytest.fixture
def table(agreement: dict[str, Any]) -> dict[str, Any]:
    """A public table with a count column, owned by an organization that has not signed, whose admin
    is therefore outside the partner tier but inside the dataset's organization."""
    owner = person()
    org = partners.organization(owner, signed=False)
    dataset = public_dataset(org["id"])
    resource_id = datastore_table(dataset, TABLE_FIELDS, TABLE, count_columns="households")
    return {"owner": owner, "org": org, "dataset": dataset, "resource_id": resource_id}


@pytest.mark.usefixtures("with_plugins", "clean_datastore", "clean_index")
class TestWhoReadsWhat:
    def test_the_public_reads_the_view_and_the_organization_the_table(self, table: dict[str, Any]) -> None:
        resource_id = table["resource_id"]
        shown = search(ANONYMOUS, resource_id)
        assert shown["resource_id"] == resource_id
        assert shown["suppressed"] == {"columns": ["households"], "threshold": THRESHOLD, "unresolved": []}
        assert [r["households"] for r in shown["records"]] == [public(hh) for hh in HOUSEHOLDS]
        registered = search(as_user(person()), resource_id)
        assert [r["households"] for r in registered["records"]] == [public(hh) for hh in HOUSEHOLDS]

        raw = search(as_user(table["owner"]), resource_id)
        assert "suppressed" not in raw
        assert [r["households"] for r in raw["records"]] == HOUSEHOLDS
        site = search({"user": partners.site_user(), "ignore_auth": False}, resource_id)
        assert [r["households"] for r in site["records"]] == HOUSEHOLDS

    @pytest.mark.parametrize("other", ["_table_metadata", "no-such-table"])
    def test_a_table_named_twice_is_read_as_core_reads_it(self, table: dict[str, Any], other: str) -> None:
        """Core's schema renames ``id`` to ``resource_id``, so ``id`` wins: a check that looked at
        ``resource_id`` first let the public read the raw table named by ``id``."""
        resource_id = table["resource_id"]
        shown = call_action(
            "datastore_search", dict(ANONYMOUS), resource_id=other, id=resource_id, sort="_id"
        )
        assert shown["resource_id"] == resource_id
        assert shown["suppressed"]["columns"] == ["households"]
        assert [r["households"] for r in shown["records"]] == [public(hh) for hh in HOUSEHOLDS]

    def test_asking_for_the_view_by_name_reads_the_view(self, table: dict[str, Any]) -> None:
        resource_id = table["resource_id"]
        view = suppression.view_name(resource_id)
        for context in (ANONYMOUS, as_user(table["owner"])):
            shown = search(context, view)
            assert shown["resource_id"] == resource_id
            assert [r["households"] for r in shown["records"]] == [public(hh) for hh in HOUSEHOLDS]

    def test_without_its_view_the_table_is_not_served_to_the_public(self, table: dict[str, Any]) -> None:
        resource_id = table["resource_id"]
        with get_write_engine().begin() as conn:
            suppression.drop_view(conn, resource_id)

        with pytest.raises(tk.ValidationError) as error:
            search(ANONYMOUS, resource_id)
        assert "not ready yet" in str(error.value.error_dict["resource_id"])
        assert [
            r["households"] for r in search(as_user(table["owner"]), resource_id)["records"]
        ] == HOUSEHOLDS

    def test_a_view_made_with_a_lower_threshold_is_not_served(self, table: dict[str, Any]) -> None:
        resource_id = table["resource_id"]
        with get_write_engine().begin() as conn:
            suppression.create_view(conn, resource_id, TABLE_FIELDS, ["households"], 5)

        with pytest.raises(tk.ValidationError):
            search(ANONYMOUS, resource_id)

    def test_a_new_threshold_remakes_the_view(self, table: dict[str, Any]) -> None:
        resource_id = table["resource_id"]
        call_action(
            "package_patch",
            {"user": partners.site_user()},
            id=table["dataset"]["id"],
            small_cell_threshold=20,
        )

        shown = search(ANONYMOUS, resource_id)
        assert shown["suppressed"] == {"columns": ["households"], "threshold": 20, "unresolved": []}
        assert [r["households"] for r in shown["records"]] == [public(hh, 20) for hh in HOUSEHOLDS]

    def test_the_view_follows_changes_of_the_table_through_the_api(self, table: dict[str, Any]) -> None:
        """datastore_create sets the view aside while it changes the table (PostgreSQL will not drop
        a column a view reads) and makes it again, with the table's columns, after."""
        resource_id = table["resource_id"]
        call_action(
            "datastore_create",
            resource_id=resource_id,
            force=True,
            fields=[*TABLE_FIELDS, {"id": "note", "type": "text"}],
        )
        shown = search(ANONYMOUS, resource_id)
        assert [f["id"] for f in shown["fields"]] == ["_id", "area", "households", "note"]
        assert [r["households"] for r in shown["records"]] == [public(hh) for hh in HOUSEHOLDS]

        call_action(
            "datastore_create",
            resource_id=resource_id,
            force=True,
            fields=[TABLE_FIELDS[0]],
            delete_fields=True,
        )
        shown = search(ANONYMOUS, resource_id)
        assert [f["id"] for f in shown["fields"]] == ["_id", "area"]
        # The count column named is gone: the view cannot tell what counts people, so every column
        # is treated as one (fail closed); the area names are text, and shown.
        assert shown["suppressed"] == {
            "columns": ["area"],
            "threshold": THRESHOLD,
            "unresolved": ["households"],
        }
        assert [r["area"] for r in shown["records"]] == AREAS[: len(TABLE)]

    def test_the_dataset_can_still_be_changed_after_a_table_drops_its_count_column(
        self, table: dict[str, Any]
    ) -> None:
        """The count columns are checked against the table when they are given, not at every later
        change of the dataset: the check job's own patch of a held file's dataset failed on it."""
        resource_id = table["resource_id"]
        call_action(
            "datastore_create",
            resource_id=resource_id,
            force=True,
            fields=[TABLE_FIELDS[0]],
            delete_fields=True,
        )
        patched = call_action(
            "package_patch",
            {"user": partners.site_user()},
            id=table["dataset"]["id"],
            notes="Still editable.",
        )
        assert patched["notes"] == "Still editable."
        assert search(ANONYMOUS, resource_id)["suppressed"]["unresolved"] == ["households"]


# --- count columns as the API takes them (issue 13: a JSON list was stored as text and matched
# nothing, so the public read every small count) ---------------------------------------------------


@pytest.mark.usefixtures("with_plugins", "clean_datastore", "clean_index")
class TestCountColumnsThroughTheApi:
    def test_a_list_is_stored_as_comma_separated_text_and_suppresses(
        self, organization: dict[str, Any]
    ) -> None:
        dataset = public_dataset(organization["id"])
        resource_id = datastore_table(
            dataset, TABLE_FIELDS, TABLE, count_columns=["households", " Households"]
        )

        assert call_action("resource_show", id=resource_id)["count_columns"] == "households, Households"
        shown = search(ANONYMOUS, resource_id)
        assert shown["suppressed"] == {"columns": ["households"], "threshold": THRESHOLD, "unresolved": []}
        assert [r["households"] for r in shown["records"]] == [public(hh) for hh in HOUSEHOLDS]

    def test_comma_separated_text_is_stored_in_the_same_form(self, organization: dict[str, Any]) -> None:
        dataset = public_dataset(organization["id"])
        resource_id = datastore_table(dataset, TABLE_FIELDS, TABLE, count_columns=" households ,, area ")
        assert call_action("resource_show", id=resource_id)["count_columns"] == "households, area"

    @pytest.mark.parametrize("value", [["households", 3], {"a": "b"}, 7, ["house\x00holds"]])
    def test_a_value_that_is_not_names_is_refused(self, organization: dict[str, Any], value: Any) -> None:
        dataset = public_dataset(organization["id"])
        resource_id = datastore_table(dataset, TABLE_FIELDS, TABLE, count_columns="households")
        with pytest.raises(tk.ValidationError) as refused:
            call_action("resource_patch", id=resource_id, count_columns=value)
        assert "count_columns" in refused.value.error_dict
        assert call_action("resource_show", id=resource_id)["count_columns"] == "households"

    def test_a_column_the_table_lacks_is_refused(self, organization: dict[str, Any]) -> None:
        dataset = public_dataset(organization["id"])
        resource_id = datastore_table(dataset, TABLE_FIELDS, TABLE, count_columns="households")

        with pytest.raises(tk.ValidationError) as refused:
            call_action("resource_patch", id=resource_id, count_columns=["households", "small"])

        assert refused.value.error_dict["count_columns"] == [
            "The table has no column small (its columns: area, households)"
        ]
        assert call_action("resource_show", id=resource_id)["count_columns"] == "households"
        shown = search(ANONYMOUS, resource_id)
        assert [r["households"] for r in shown["records"]] == [public(hh) for hh in HOUSEHOLDS]

    def test_a_name_given_before_the_table_exists_and_not_in_it_hides_every_column(
        self, organization: dict[str, Any]
    ) -> None:
        """No table to check the names against yet: the view made with the table fails closed."""
        dataset = public_dataset(organization["id"])
        resource_id = datastore_table(dataset, TABLE_FIELDS, TABLE, count_columns=["housholds"])

        shown = search(ANONYMOUS, resource_id)

        assert shown["suppressed"] == {
            "columns": ["area", "households"],
            "threshold": THRESHOLD,
            "unresolved": ["housholds"],
        }
        assert [r["households"] for r in shown["records"]] == [public(hh) for hh in HOUSEHOLDS]
        raw = search({"user": partners.site_user(), "ignore_auth": False}, resource_id)
        assert [r["households"] for r in raw["records"]] == HOUSEHOLDS


# --- end to end: an uploaded file, loaded by the worker ------------------------------------------

CSV = "area,households,people\nAlder,0,0\nBirch,3,8\nCedar,10,11\nDogwood,11,1\nElm,250,640\nFir,,12\n"
COUNT_COLUMNS = ("households", "people")


def _number(text: str) -> int | None:
    return int(text) if text.strip() else None


def expected(suppressed: bool) -> list[dict[str, Any]]:
    """The file's rows as the DataStore serves them, suppressed for the public or not."""
    out = []
    for row in csv.DictReader(io.StringIO(CSV)):
        record: dict[str, Any] = {"area": row["area"]}
        for column in COUNT_COLUMNS:
            value = _number(row[column])
            record[column] = public(value) if suppressed else value
        out.append(record)
    return out


def picked(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: r[k] for k in ("area", *COUNT_COLUMNS)} for r in records]


@pytest.fixture
def readers(agreement: dict[str, Any]) -> dict[str, Any]:
    """Who reads a partner's public table: a member of another signed partner (with a token), a
    registered user, and the admin of an organization that has not signed."""
    partner_admin, partner_member = person(token=True), person(token=True)
    org = partners.organization(partner_admin)
    partners.join(org, partner_member, "member")
    unsigned_admin = person(token=True)
    partners.organization(unsigned_admin, signed=False)
    return {"partner": partner_member, "registered": person(token=True), "unsigned": unsigned_admin}


@pytest.fixture
def loaded(
    organization: dict[str, Any], upload: Callable[..., dict[str, Any]], xloader_token: str
) -> dict[str, Any]:
    """A public dataset with small-cell threshold 11 and an uploaded CSV with two count columns,
    loaded by the worker (which makes the public view in the load's transaction)."""
    dataset = public_dataset(organization["id"])
    resource = upload(
        dataset["id"], CSV.encode(), "counts.csv", format="CSV", count_columns="households, people"
    )
    status = wait_for_xloader(resource["id"])
    assert status["status"] == "complete", status
    return {"dataset": dataset, "resource_id": resource["id"]}


@pytest.mark.usefixtures("with_plugins", "clean_datastore", "clean_index")
class TestPublicTable:
    def test_the_public_reads_small_counts_as_empty_and_partners_read_them(
        self, loaded: dict[str, Any], readers: dict[str, Any]
    ) -> None:
        resource_id = loaded["resource_id"]
        for context in (ANONYMOUS, as_user(readers["registered"]), as_user(readers["unsigned"])):
            shown = search(context, resource_id)
            assert picked(shown["records"]) == expected(suppressed=True), context
            assert shown["suppressed"] == {
                "columns": list(COUNT_COLUMNS),
                "threshold": THRESHOLD,
                "unresolved": [],
            }
            assert shown["total"] == len(expected(suppressed=True))

        raw = search(as_user(readers["partner"]), resource_id)
        assert picked(raw["records"]) == expected(suppressed=False)
        assert "suppressed" not in raw

    def test_filters_and_full_text_search_do_not_find_a_suppressed_count(
        self, loaded: dict[str, Any], readers: dict[str, Any]
    ) -> None:
        resource_id = loaded["resource_id"]
        birch = next(r for r in expected(suppressed=False) if r["area"] == "Birch")
        small = birch["households"]
        assert 0 < small < THRESHOLD
        partner = as_user(readers["partner"])

        assert search(ANONYMOUS, resource_id, filters={"households": small})["records"] == []
        assert search(ANONYMOUS, resource_id, q=str(small))["records"] == []
        assert search(ANONYMOUS, resource_id, q={"households": str(small)})["records"] == []
        # The same searches find the row in the raw table, and the public finds it by its name.
        assert [
            r["area"] for r in search(partner, resource_id, filters={"households": small})["records"]
        ] == ["Birch"]
        assert [r["area"] for r in search(partner, resource_id, q=str(small))["records"]] == ["Birch"]
        assert [r["area"] for r in search(ANONYMOUS, resource_id, q="Birch")["records"]] == ["Birch"]

    def test_sql_reads_the_view_not_the_table(self, loaded: dict[str, Any], readers: dict[str, Any]) -> None:
        resource_id = loaded["resource_id"]
        view = suppression.view_name(resource_id)
        columns = ", ".join(f'"{c}"' for c in ("area", *COUNT_COLUMNS))

        for sql in (
            f'SELECT {columns} FROM "{resource_id}"',
            f'SELECT v.area FROM "{view}" v JOIN "{resource_id}" r USING (_id) WHERE r.households = 3',
            f'SELECT {columns} FROM public."{view}"',  # only the unqualified name is the view's
        ):
            with pytest.raises(tk.NotAuthorized) as refused:
                call_action("datastore_search_sql", dict(ANONYMOUS), sql=sql)
            assert view in str(refused.value), sql

        shown = call_action(
            "datastore_search_sql", dict(ANONYMOUS), sql=f'SELECT {columns} FROM "{view}" ORDER BY _id'
        )
        assert picked(shown["records"]) == expected(suppressed=True)
        raw = call_action(
            "datastore_search_sql",
            as_user(readers["partner"]),
            sql=f'SELECT {columns} FROM "{resource_id}" ORDER BY _id',
        )
        assert picked(raw["records"]) == expected(suppressed=False)

    def test_the_public_downloads_the_suppressed_table(
        self, app: Any, loaded: dict[str, Any], readers: dict[str, Any]
    ) -> None:
        resource_id = loaded["resource_id"]
        download = f"/dataset/{loaded['dataset']['id']}/resource/{resource_id}/download/counts.csv"
        dump = f"/datastore/dump/{resource_id}"

        for path in (download, download.rsplit("/", 1)[0]):
            response = Browser(app).get(path)
            assert response.status_code == 302, path
            assert response.headers["Location"].endswith(dump), response.headers["Location"]

        response = Browser(app).get(dump)
        assert response.status_code == 200
        dumped = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert [{k: r[k] for k in ("area", *COUNT_COLUMNS)} for r in dumped] == [
            {k: "" if v is None else str(v) for k, v in r.items()} for r in expected(suppressed=True)
        ]

        got = app.get(download, headers={"Authorization": readers["partner"]["token"]})
        assert got.status_code == 200 and got.body == CSV

    def test_the_resource_page_says_what_is_suppressed(
        self, app: Any, loaded: dict[str, Any], readers: dict[str, Any]
    ) -> None:
        page = f"/dataset/{loaded['dataset']['id']}/resource/{loaded['resource_id']}"

        notice = Browser(app).page(page).select_one(".cd3p-suppression")
        assert notice is not None
        assert " ".join(notice.get_text().split()) == (
            "Counts below 11 in columns households, people are suppressed in this public table. "
            "Signed partners see the exact values."
        )
        partner_page = soup(app.get(page, headers={"Authorization": readers["partner"]["token"]}))
        assert partner_page.select_one(".cd3p-suppression") is None
