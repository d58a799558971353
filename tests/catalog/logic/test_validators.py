"""The dataset schema validates the API exactly like the form: one clear message per bad field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from tests import factories


@pytest.fixture
def org(clean_db: None, clean_index: None) -> dict[str, Any]:
    return factories.Organization()


def _create(org: dict[str, Any], **fields: Any) -> dict[str, Any]:
    data = {
        "name": "households-without-computer",
        "title": "Households without a computer",
        "owner_org": org["id"],
        "geography_level": "tract",
        "contains_personal_data": "no",
        **fields,
    }
    return call_action("package_create", {"user": factories.Sysadmin()["name"]}, **data)


def _errors(org: dict[str, Any], **fields: Any) -> dict[str, Any]:
    with pytest.raises(tk.ValidationError) as err:
        _create(org, **fields)
    # Nothing is saved when validation fails.
    assert (
        call_action("package_search", q="name:households-without-computer", include_private=True)["count"]
        == 0
    )
    return err.value.error_dict


@pytest.mark.usefixtures("with_plugins")
class TestDatasetValidation:
    def test_a_complete_dataset_is_saved_with_every_field(self, org: dict[str, Any]) -> None:
        dataset = _create(
            org,
            equity_topics=["telehealth", "device-access"],
            demographic_dimensions=["age"],
            temporal_start="2019-01-01",
            temporal_end="2019-12-31",
            collection_method="survey",
            update_frequency="annual",
            universe="Detroit households",
            access_level="public",
            small_cell_threshold=20,
            steward_name="Ada Lovelace",
            steward_email="ada@example.org",
        )

        shown = call_action("package_show", id=dataset["id"])
        assert shown["equity_topics"] == ["device-access", "telehealth"]  # in the schema's order
        assert shown["temporal_end"] == "2019-12-31"
        assert shown["small_cell_threshold"] == 20
        assert shown["private"] is False

    def test_threshold_defaults_to_11(self, org: dict[str, Any]) -> None:
        assert _create(org)["small_cell_threshold"] == 11

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("equity_topics", ["telehealth", "astrology"]),
            ("geography_level", "galaxy"),
            ("demographic_dimensions", ["shoe-size"]),
            ("access_level", "everyone"),
            ("collection_method", "guess"),
        ],
    )
    def test_unknown_choice_is_refused_on_its_field(
        self, org: dict[str, Any], field: str, value: Any
    ) -> None:
        errors = _errors(org, **{field: value})

        assert list(errors) == [field]
        message = errors[field][0].lower()
        assert "must be one of" in message or "unexpected choice" in message

    def test_required_fields(self, org: dict[str, Any]) -> None:
        errors = _errors(org, geography_level="", contains_personal_data="")

        assert set(errors) == {"geography_level", "contains_personal_data"}
        assert errors["geography_level"] == ["Missing value"]

    def test_end_before_start(self, org: dict[str, Any]) -> None:
        errors = _errors(org, temporal_start="2020-06-01", temporal_end="2019-12-31")

        assert errors == {"temporal_end": ["The end of the period must not be before its start (2020-06-01)"]}

    @pytest.mark.parametrize("threshold", [0, -5, "many"])
    def test_threshold_below_1_or_not_a_number(self, org: dict[str, Any], threshold: Any) -> None:
        errors = _errors(org, small_cell_threshold=threshold)

        assert list(errors) == ["small_cell_threshold"]

    def test_steward_email_must_be_an_email(self, org: dict[str, Any]) -> None:
        errors = _errors(org, steward_email="ada at example dot org")

        assert list(errors) == ["steward_email"]
        assert "email" in errors["steward_email"][0].lower()

    @pytest.mark.parametrize(
        ("spatial", "message"),
        [
            ("{not json", "Not valid JSON"),
            (json.dumps({"type": "Circle", "coordinates": [0, 0]}), "Must be a GeoJSON geometry"),
            (json.dumps({"type": "Point", "coordinates": [-283.0, 42.3]}), "WGS84"),
            (
                json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
                "invalid",
            ),
        ],
    )
    def test_bad_geojson(self, org: dict[str, Any], spatial: str, message: str) -> None:
        errors = _errors(org, geographic_coverage="custom", spatial=spatial)

        assert list(errors) == ["spatial"]
        assert message in errors["spatial"][0]

    def test_unknown_place(self, org: dict[str, Any]) -> None:
        errors = _errors(org, geographic_coverage="district-9")

        assert list(errors) == ["geographic_coverage"]

    @pytest.mark.parametrize("coverage", [["district-1"], {"code": "district-1"}, 7])
    def test_a_place_that_is_not_a_code(self, org: dict[str, Any], coverage: Any) -> None:
        errors = _errors(org, geographic_coverage=coverage)

        assert list(errors) == ["geographic_coverage"]

    @pytest.mark.parametrize("field", ["temporal_start", "temporal_end"])
    def test_a_date_of_twenty_digits(self, org: dict[str, Any], field: str) -> None:
        """CKAN's ``isodate`` raised OverflowError (a 500) on it."""
        errors = _errors(org, **{field: "99999999999999999999"})

        assert list(errors) == [field]
        assert "ISO 8601" in errors[field][0]

    def test_a_geometry_nested_too_deeply_for_the_json_parser(self, org: dict[str, Any]) -> None:
        errors = _errors(org, geographic_coverage="custom", spatial="[" * 100_000)

        assert list(errors) == ["spatial"]


@pytest.mark.usefixtures("with_plugins")
class TestAccessLevel:
    @pytest.mark.parametrize(
        ("level", "private"), [("public", False), ("partners", True), ("organization", True)]
    )
    def test_access_level_sets_private(self, org: dict[str, Any], level: str, private: bool) -> None:
        dataset = _create(org, access_level=level)

        assert dataset["private"] is private
        assert dataset["access_level"] == level

    def test_without_access_level_the_private_flag_decides(self, org: dict[str, Any]) -> None:
        assert _create(org, private=True)["access_level"] == "organization"


@pytest.mark.usefixtures("with_plugins")
class TestGeographyPicker:
    def test_picking_a_district_fills_the_extent_and_spatial_search_finds_it(
        self, org: dict[str, Any]
    ) -> None:
        dataset = _create(org, geographic_coverage="district-6")

        geometry = json.loads(dataset["spatial"])
        assert geometry["type"] in ("Polygon", "MultiPolygon")
        # District 6 is Southwest Detroit and downtown's riverfront: a box in Southwest finds it...
        found = call_action("package_search", extras={"ext_bbox": "-83.12,42.30,-83.08,42.33"})
        assert [d["name"] for d in found["results"]] == [dataset["name"]]
        # ...and a box over the far east side (District 4) does not.
        assert call_action("package_search", extras={"ext_bbox": "-82.94,42.40,-82.92,42.42"})["count"] == 0

    def test_custom_extent_is_kept(self, org: dict[str, Any]) -> None:
        box = {
            "type": "Polygon",
            "coordinates": [[[-83.1, 42.3], [-83.0, 42.3], [-83.0, 42.4], [-83.1, 42.3]]],
        }
        dataset = _create(org, geographic_coverage="custom", spatial=json.dumps(box))

        assert json.loads(dataset["spatial"]) == box
