"""Spatial extents are indexed in Solr and a bounding-box search returns only what intersects it."""

from __future__ import annotations

import json

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from tests import factories


def _box(minx: float, miny: float, maxx: float, maxy: float) -> str:
    ring = [[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


# Approximate extents: downtown Detroit, the east side, and Grand Rapids (150 km west).
DOWNTOWN = _box(-83.06, 42.32, -83.03, 42.35)
EAST_SIDE = _box(-82.98, 42.36, -82.92, 42.42)
GRAND_RAPIDS = _box(-85.75, 42.88, -85.57, 43.03)


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestBboxSearch:
    def test_bbox_returns_only_intersecting_datasets(self) -> None:
        org = factories.Organization()
        factories.Dataset(name="downtown", owner_org=org["id"], spatial=DOWNTOWN)
        factories.Dataset(name="east-side", owner_org=org["id"], spatial=EAST_SIDE)
        factories.Dataset(name="grand-rapids", owner_org=org["id"], spatial=GRAND_RAPIDS)
        factories.Dataset(name="no-extent", owner_org=org["id"])

        # A box around downtown and a corner of the east side, nowhere near Grand Rapids.
        result = call_action("package_search", extras={"ext_bbox": "-83.10,42.30,-82.97,42.37"})

        assert sorted(d["name"] for d in result["results"]) == ["downtown", "east-side"]

    def test_bbox_that_misses_everything_returns_nothing(self) -> None:
        org = factories.Organization()
        factories.Dataset(owner_org=org["id"], spatial=DOWNTOWN)

        result = call_action("package_search", extras={"ext_bbox": "-90,30,-89,31"})

        assert result["count"] == 0

    def test_spatial_extent_is_kept_on_the_dataset(self) -> None:
        dataset = factories.Dataset(owner_org=factories.Organization()["id"], spatial=DOWNTOWN)

        shown = call_action("package_show", id=dataset["id"])

        assert json.loads(shown["spatial"]) == json.loads(DOWNTOWN)

    def test_invalid_geojson_is_rejected_with_a_field_error(self) -> None:
        org = factories.Organization()
        with pytest.raises(tk.ValidationError) as err:
            call_action("package_create", name="bad-extent", owner_org=org["id"], spatial="{not json")
        assert "spatial" in err.value.error_dict
        assert call_action("package_search", q="name:bad-extent")["count"] == 0
