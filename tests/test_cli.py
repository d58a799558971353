"""`ckan cd3p demo load` builds the Detroit catalog from ../shared/data/detroit, once."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from ckan.cli.cli import ckan
from ckan.lib import uploader
from ckan.tests.helpers import CKANCliRunner, call_action

from ckanext.cd3p import config as cd3p_config
from ckanext.cd3p.demo import DATASETS
from ckanext.cd3p.impact import demo as impact_demo
from tests import factories


def _source_rows(path: Path) -> int:
    """Data rows of a source file, counted independently of the loader."""
    if path.suffix == ".geojson":
        return len(json.loads(path.read_text())["features"])
    with path.open(newline="") as f:
        return sum(1 for _ in csv.DictReader(f))


ILLUSTRATIVE = impact_demo.NAMES


def _reported(measure: str, programmes: list[dict[str, Any]]) -> float:
    """A measure's outcomes summed from the uploaded report files themselves."""
    total = 0.0
    for programme in programmes:
        path = uploader.ResourceUpload(programme["resources"][0]).get_path(programme["resources"][0]["id"])
        with open(path, newline="") as f:
            total += sum(float(r["count"]) for r in csv.DictReader(f) if r["measure"] == measure)
    return total


@pytest.fixture
def demo_admin(clean_datastore: None, clean_index: None) -> dict[str, Any]:
    return factories.SysadminWithToken()


@pytest.fixture
def cli(demo_admin: dict[str, Any], ckan_config: Any, tmp_path: Path) -> CKANCliRunner:
    """Runs `ckan` as an operator would, with an ini naming this test's sysadmin and token.

    The command reads its configuration file afresh, so settings are given in a file, not patched.
    """
    ini = tmp_path / "demo.ini"
    ini.write_text(
        "[app:main]\n"
        f"use = config:{ckan_config['__file__']}\n"
        f"ckanext.cd3p.demo.user = {demo_admin['name']}\n"
        f"ckanext.xloader.api_token = {demo_admin['token']}\n"
        "[loggers]\nkeys = root\n[handlers]\nkeys = console\n[formatters]\nkeys = generic\n"
        "[logger_root]\nlevel = WARNING\nhandlers = console\n"
        "[handler_console]\nclass = StreamHandler\nargs = (sys.stderr,)\nformatter = generic\n"
        "[formatter_generic]\nformat = %(levelname)s %(message)s\n"
    )
    return CKANCliRunner(env={"CKAN_INI": str(ini)})


@pytest.mark.usefixtures("with_plugins")
class TestDemoLoad:
    @pytest.mark.slow
    def test_loads_everything_then_changes_nothing_the_second_time(self, cli: CKANCliRunner) -> None:
        first = cli.invoke(ckan, ["cd3p", "demo", "load", "--timeout", "300"])

        assert first.exit_code == 0, first.output
        search = call_action(
            "package_search", rows=100, fq="+dataset_type:dataset", **{"facet.field": '["organization"]'}
        )
        assert sorted(d["name"] for d in search["results"]) == sorted(d.name for d in DATASETS)
        assert search["facets"]["organization"] == {"data-driven-detroit": 4, "detroit-digital-equity": 2}
        # The demo organizations are partners: the template agreement is active and both signed it.
        assert "activated the shipped template as version template-1" in first.output
        for org in ("data-driven-detroit", "detroit-digital-equity"):
            status = call_action("cd3p_agreement_status", organization_id=org)
            assert (status["current"], status["version"]) == (True, "template-1")

        data_dir = cd3p_config.data_dir()
        tables = 0
        for spec in DATASETS:
            dataset = call_action("package_show", id=spec.name)
            assert [r["name"] for r in dataset["resources"]] == [r.name for r in spec.resources]
            for spec_res, res in zip(spec.resources, dataset["resources"], strict=False):
                assert res["url_type"] == "upload"
                if not spec_res.tabular:
                    continue
                tables += 1
                info = call_action("datastore_search", resource_id=res["id"], limit=0)
                assert info["total"] == _source_rows(data_dir / spec_res.path), spec_res.name
                types = {f["id"]: f["type"] for f in info["fields"]}
                for column, wanted in spec_res.types:
                    assert types[column] == wanted, (spec_res.name, column)
        assert tables == 4

        # Leading zeros of national tract codes survive (Alabama's FIPS start with 01).
        no_internet = call_action("package_show", id="us-tracts-no-internet-2019")["resources"][0]
        first_row = call_action("datastore_search", resource_id=no_internet["id"], sort="_id", limit=1)[
            "records"
        ][0]
        with (data_dir / "indicators/oeps_tract_2019_no_internet.csv").open(newline="") as f:
            assert first_row["FIPS"] == next(csv.DictReader(f))["FIPS"]

        # The boundaries are found by a map search over downtown Detroit; the national tables are not.
        downtown = call_action("package_search", extras={"ext_bbox": "-83.06,42.32,-83.03,42.35"}, rows=100)
        assert {d["name"] for d in downtown["results"]} == {
            "detroit-tract-broadband-acs-2015-2019",
            "detroit-neighborhoods",
            "detroit-council-districts",
        }

        # The illustrative programmes, each with its report loaded and marked illustrative.
        programmes = call_action("package_search", rows=100, fq="+dataset_type:programme")["results"]
        assert sorted(p["name"] for p in programmes) == sorted(ILLUSTRATIVE)
        for programme in programmes:
            assert programme["illustrative"] == "yes" and "(illustrative)" in programme["title"]
            (report,) = programme["resources"]
            check = call_action("cd3p_resource_check_show", id=report["id"])
            assert check["state"] == "passed", (programme["name"], check["report"])
        devices = call_action("cd3p_impact_show", {"user": ""}, measure="devices_distributed", level="city")
        assert devices["illustrative"] is True
        assert devices["city"]["outcomes"] == _reported("devices_distributed", programmes)

        everything = call_action("package_search", rows=100, include_private=True)["results"]
        before = {d["name"]: [(r["id"], r["last_modified"]) for r in d["resources"]] for d in everything}
        second = cli.invoke(ckan, ["cd3p", "demo", "load", "--timeout", "300"])

        assert second.exit_code == 0, second.output
        for verb in (
            "created",
            "uploaded",
            "updated",
            "submitted",
            "reloading",
            "activated",
            "signed agreement",
        ):
            assert verb not in second.output
        after = call_action("package_search", rows=100, include_private=True)["results"]
        assert {d["name"]: [(r["id"], r["last_modified"]) for r in d["resources"]] for d in after} == before

    def test_missing_data_folder_is_a_clear_error(self, cli: CKANCliRunner, tmp_path: Path) -> None:
        result = cli.invoke(ckan, ["cd3p", "demo", "load", "--data-dir", str(tmp_path / "nowhere")])

        assert result.exit_code == 1
        assert "Detroit data folder not found" in result.output
        assert call_action("package_search")["count"] == 0
