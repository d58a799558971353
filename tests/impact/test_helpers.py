"""The programme form's choices come from the measure registry's file."""

from __future__ import annotations

from pathlib import Path

import yaml

from ckanext.cd3p.impact import helpers, registry

SPEC = yaml.safe_load((Path(registry.__file__).parent / "measures.yaml").read_text())


def test_the_measure_choices_are_the_measures_in_order() -> None:
    expected = [{"value": m["id"], "label": m["title"]} for m in SPEC["measures"]]
    assert helpers.cd3p_measure_choices() == expected


def test_the_service_choices_are_the_services_in_order() -> None:
    expected = [{"value": s["id"], "label": s["title"]} for s in SPEC["services"]]
    assert helpers.cd3p_programme_service_choices() == expected
    assert len(expected) == 9
