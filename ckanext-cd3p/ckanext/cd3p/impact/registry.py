"""The outcome measures and services of programme impact: ``measures.yaml``, read and checked once,
when this module is imported.

A mistake in the file (an unknown key, a repeated id, a unit or kind outside the lists below) is a
ValueError naming the file and the entry, raised at import: a measure list that does not hold
together is a bug to fix before anything runs, not a page to half-render.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ckanext.cd3p.common.i18n import Text
from ckanext.cd3p.indicators import registry as indicators_registry

MEASURES_FILE = Path(__file__).parent / "measures.yaml"

# Where the indicator registry lives once this package sits beside ``indicators`` in ckanext.cd3p.
# When the file is there, every ``need`` is checked to name one of its indicators that has a count.

UNITS = ("people", "households", "devices", "sessions", "usd")
# Each unit in words, in the reader's language (map labels).
UNIT_LABELS = {
    "people": Text("people"),
    "households": Text("households"),
    "devices": Text("devices"),
    "sessions": Text("sessions"),
    "usd": Text("dollars"),
}

KINDS = ("count", "median")

NEED_COUNTS = ("numerator", "complement")

# Indicator kinds with a count behind them (weight x share); an ``amount`` (income, speed) has none.
COUNTED_KINDS = ("share", "percent", "count")

_MEASURE_KEYS = {"id", "title", "unit", "kind", "of", "definition", "source", "people", "need", "need_note"}
_REQUIRED_KEYS = _MEASURE_KEYS - {"of", "need_note"}
_NEED_KEYS = {"indicator", "count", "label"}
_SERVICE_KEYS = {"id", "title"}


@dataclass(frozen=True)
class Need:
    """The count of residents or households in need that a measure answers, per tract."""

    indicator: str  # an indicator id of indicators.yaml
    count: str  # "numerator" (weight x share) or "complement" (weight - numerator)
    label: str

    def count_from(self, numerator: float | None, denominator: float | None) -> float | None:
        """The need count of one tract from its indicator's numerator and denominator (as
        ``indicators.computation.tract_parts`` gives them); None for no data."""
        if numerator is None:
            return None
        if self.count == "numerator":
            return numerator
        return None if denominator is None else max(denominator - numerator, 0.0)


@dataclass(frozen=True)
class Measure:
    id: str
    title: str
    unit: str
    kind: str
    definition: str
    source: str
    people: bool
    need: Need | None = None
    need_note: str = ""
    of: str = ""  # a median's count measure

    @property
    def summable(self) -> bool:
        """Whether values add up over places and quarters (a count does, a median does not)."""
        return self.kind == "count"


@dataclass(frozen=True)
class Service:
    id: str
    title: str


def _fail(path: Path, what: str, problem: str) -> ValueError:
    return ValueError(f"{path}: {what}: {problem}")


def _text(spec: Mapping[str, Any], key: str, path: Path, what: str) -> str:
    value = spec.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _fail(path, what, f"{key} must be text")
    return value.strip()


def _need(spec: Any, path: Path, what: str) -> Need | None:
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise _fail(path, what, "need must be a mapping or null")
    unknown = sorted(set(spec) - _NEED_KEYS)
    missing = sorted(_NEED_KEYS - set(spec))
    if unknown or missing:
        raise _fail(path, what, f"need: unknown keys {unknown}, missing keys {missing}")
    need = Need(**{key: _text(spec, key, path, what) for key in ("indicator", "count", "label")})
    need = dataclasses.replace(need, label=Text(need.label))
    if need.count not in NEED_COUNTS:
        raise _fail(path, what, f"need count must be one of {', '.join(NEED_COUNTS)}")
    if not need.indicator or not need.label:
        raise _fail(path, what, "need must name an indicator and a label")
    return need


def measure_from(spec: Any, path: Path = MEASURES_FILE) -> Measure:
    """One measure from its entry, checked on its own (references to other entries are checked by
    :func:`load`)."""
    if not isinstance(spec, dict):
        raise _fail(path, "measures", f"an entry is not a mapping: {spec!r}")
    what = f"measure {spec.get('id')!r}"
    unknown = sorted(set(spec) - _MEASURE_KEYS)
    if unknown:
        raise _fail(path, what, f"unknown keys {unknown}")
    missing = sorted(_REQUIRED_KEYS - set(spec))
    if missing:
        raise _fail(path, what, f"missing keys {missing}")
    if not isinstance(spec["people"], bool):
        raise _fail(path, what, "people must be true or false")
    texts = {key: _text(spec, key, path, what) for key in ("id", "title", "unit", "kind", "definition")}
    measure = Measure(
        **{key: Text(value) if key in ("title", "definition") else value for key, value in texts.items()},
        source=_text(spec, "source", path, what),
        people=spec["people"],
        need=_need(spec["need"], path, what),
        need_note=Text(_text(spec, "need_note", path, what)),
        of=_text(spec, "of", path, what),
    )
    problems = []
    if not measure.id or not measure.title or not measure.definition or not measure.source:
        problems.append("id, title, definition and source must not be empty")
    if measure.unit not in UNITS:
        problems.append(f"unit {measure.unit!r} is not one of {', '.join(UNITS)}")
    if measure.kind not in KINDS:
        problems.append(f"kind {measure.kind!r} is not one of {', '.join(KINDS)}")
    if (measure.kind == "median") != bool(measure.of):
        problems.append("a median, and only a median, names the count it is the median of (of)")
    if measure.kind == "median" and measure.people:
        problems.append("a median is not a count of people (people: false); it is hidden with its count")
    if measure.need is None and not measure.need_note:
        problems.append("a measure without a need says why in need_note")
    if problems:
        raise _fail(path, what, "; ".join(problems))
    return measure


def _service(spec: Any, path: Path) -> Service:
    if not isinstance(spec, dict):
        raise _fail(path, "services", f"an entry is not a mapping: {spec!r}")
    what = f"service {spec.get('id')!r}"
    unknown, missing = sorted(set(spec) - _SERVICE_KEYS), sorted(_SERVICE_KEYS - set(spec))
    if unknown or missing:
        raise _fail(path, what, f"unknown keys {unknown}, missing keys {missing}")
    service = Service(**{key: _text(spec, key, path, what) for key in _SERVICE_KEYS})
    service = dataclasses.replace(service, title=Text(service.title))
    if not service.id or not service.title:
        raise _fail(path, f"service {service.id!r}", "id and title must not be empty")
    return service


def _unique(items: list[Any], path: Path, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in items:
        if item.id in found:
            raise _fail(path, f"{kind} {item.id!r}", "duplicate id")
        found[item.id] = item
    return found


def indicator_kinds() -> dict[str, str]:
    """Indicator id -> kind, of the indicator registry shipped with the portal."""
    return {i.id: i.kind for i in indicators_registry.shipped().indicators.values()}


def load(
    path: Path = MEASURES_FILE, indicators: Mapping[str, str] | None = None
) -> tuple[dict[str, Measure], dict[str, Service]]:
    """The measures and services of a measures file, in file order, checked.

    ``indicators`` (id -> kind, :func:`indicator_kinds`) checks that each ``need`` names an
    indicator with a count behind it; without it, needs are checked for their form only.

    :raises ValueError: naming the file and the entry at fault
    """
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise _fail(path, "file", "must be a mapping with measures and services")
    unknown = sorted(set(raw) - {"measures", "services"})
    if unknown:
        raise _fail(path, "file", f"unknown keys {unknown}")
    if not isinstance(raw.get("measures"), list) or not isinstance(raw.get("services"), list):
        raise _fail(path, "file", "measures and services must be lists")
    measures = _unique([measure_from(spec, path) for spec in raw["measures"]], path, "measure")
    services = _unique([_service(spec, path) for spec in raw["services"]], path, "service")
    for m in measures.values():
        if m.of and (m.of not in measures or measures[m.of].kind != "count"):
            raise _fail(path, f"measure {m.id!r}", f"of: {m.of!r} is not a count measure of this file")
        if m.need is not None and indicators is not None:
            kind = indicators.get(m.need.indicator)
            if kind not in COUNTED_KINDS:
                problem = "no such indicator" if kind is None else f"a {kind} indicator has no count"
                raise _fail(path, f"measure {m.id!r}", f"need {m.need.indicator!r}: {problem}")
    return measures, services


MEASURES, SERVICES = load(indicators=indicator_kinds())


def measure(measure_id: str) -> Measure:
    """The measure of an id.

    :raises KeyError: no such measure
    """
    return MEASURES[measure_id]
