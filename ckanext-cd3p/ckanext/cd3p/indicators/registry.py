"""The indicator registry: the shipped ``indicators.yaml`` plus the sources and indicators sysadmins
registered (``cd3p_indicator_source``), read once per request."""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ckan import model

from ckanext.cd3p.common.i18n import text_or_none
from ckanext.cd3p.common.memo import request_memo
from ckanext.cd3p.indicators.model import IndicatorSource

log = logging.getLogger(__name__)

REGISTRY = Path(__file__).parent / "indicators.yaml"


LEVELS = ("tract", "council_district", "neighborhood", "city")


SOURCE_LEVELS = ("tract",)


KINDS = ("share", "percent", "amount", "count")


DIRECTIONS = ("higher", "lower")


TOPICS = ("devices", "connectivity", "education", "workforce", "income", "programmes")


@dataclass(frozen=True)
class Source:
    id: str
    dataset: str
    resource: str
    key: str
    level: str
    vintage: str
    citation: str
    registered: bool = False  # by a sysadmin (cd3p_indicator_source_create), not shipped


# A registered source's fields, as its row (model.IndicatorSource) keeps them.
_SOURCE_COLUMNS = tuple(f.name for f in dataclasses.fields(Source) if f.name != "registered")


@dataclass(frozen=True)
class Weight:
    """The count an indicator's shares are of (its denominator): households, residents..."""

    source: str
    column: str
    label: str
    moe: str = ""


@dataclass(frozen=True)
class Indicator:
    id: str
    title: str
    description: str
    topic: str
    unit: str
    direction: str
    weight: Weight
    source: str = ""
    column: str = ""
    kind: str = ""
    complement: bool = False
    moe: str = ""
    caveat: str = ""
    registered: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Index(Indicator):
    """A composite score of indicators (the Digital Equity Index)."""

    components: dict[str, list[str]] = field(default_factory=dict)
    kind: str = "index"

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        for unused in ("source", "column", "complement", "moe", "registered"):
            del out[unused]
        return out


@dataclass(frozen=True)
class Registry:
    sources: dict[str, Source] = field(default_factory=dict)
    indicators: dict[str, Indicator] = field(default_factory=dict)
    index: Index | None = None

    def ids(self) -> list[str]:
        """Every indicator id, the index last."""
        return [*self.indicators, *([self.index.id] if self.index else [])]

    def describe(self, indicator_id: str) -> dict[str, Any]:
        if self.index is not None and indicator_id == self.index.id:
            return self.index.as_dict()
        return self.indicators[indicator_id].as_dict()

    def columns(self, source_id: str) -> list[str]:
        """Every column the registry reads from a source: its key, values, margins and weights."""
        source = self.sources[source_id]
        found = {source.key}
        for ind in self.indicators.values():
            if ind.source == source_id:
                found.update(c for c in (ind.column, ind.moe) if c)
            if ind.weight.source == source_id:
                found.update(c for c in (ind.weight.column, ind.weight.moe) if c)
        return sorted(found)


def _shown(spec: dict[str, Any]) -> dict[str, Any]:
    """An entry's texts as :class:`~ckanext.cd3p.common.i18n.Text` (shown in the reader's language)."""
    texts = {key: text_or_none(spec[key]) for key in ("title", "description", "caveat") if key in spec}
    weight = {key: text_or_none(v) if key == "label" else v for key, v in spec["weight"].items()}
    return {**spec, **texts, "weight": Weight(**weight)}


def indicator_from(spec: dict[str, Any], registered: bool = False) -> Indicator:
    """An indicator from its registry entry (``weight`` a mapping)."""
    return Indicator(**{**_shown(spec), "registered": registered})


def problems(ind: Indicator, sources: dict[str, Source]) -> list[str]:
    """What is wrong with an indicator's definition, in words (empty: nothing)."""
    found = []
    if ind.source not in sources:
        found.append(f"unknown source {ind.source!r}")
    if ind.weight.source not in sources:
        found.append(f"unknown weight source {ind.weight.source!r}")
    if ind.kind not in KINDS:
        found.append(f"kind must be one of {', '.join(KINDS)}")
    if ind.direction not in DIRECTIONS:
        found.append("direction must be higher or lower")
    if not ind.column:
        found.append("no column")
    return found


@functools.lru_cache(maxsize=1)
def shipped() -> Registry:
    """The registry shipped with the extension, checked once per process."""
    raw = yaml.safe_load(REGISTRY.read_text(encoding="utf-8"))
    sources = {sid: Source(id=sid, **spec) for sid, spec in raw["sources"].items()}
    indicators: dict[str, Indicator] = {}
    for spec in raw["indicators"]:
        ind = indicator_from(spec)
        wrong = problems(ind, sources)
        if wrong:
            raise ValueError(f"indicator {ind.id}: {'; '.join(wrong)}")
        indicators[ind.id] = ind
    index = None
    if raw.get("index"):
        spec = raw["index"]
        index = Index(**_shown(spec))
        unknown = [i for ids in index.components.values() for i in ids if i not in indicators]
        if unknown or index.weight.source not in sources:
            raise ValueError(f"index {index.id}: unknown components or source {unknown}")
    return Registry(sources, indicators, index)


def registry() -> Registry:
    """The shipped registry and the sources sysadmins registered, read once per request.

    A registered indicator that no longer fits (its weight source was removed, say) is left out
    with a warning in the log rather than breaking every page.
    """
    memo = request_memo("indicators")
    if memo is not None and "registry" in memo:
        return memo["registry"]
    base = shipped()
    rows = model.Session.query(IndicatorSource).order_by(IndicatorSource.created).all()
    reg = base
    if rows:
        sources = dict(base.sources)
        for row in rows:
            sources[row.id] = Source(**{f: getattr(row, f) for f in _SOURCE_COLUMNS}, registered=True)
        found = dict(base.indicators)
        for row in rows:
            for spec in row.indicators:
                try:
                    ind = indicator_from(spec, registered=True)
                except TypeError:
                    log.warning("cd3p: indicator source %s holds a malformed indicator %r", row.id, spec)
                    continue
                wrong = problems(ind, sources) + (["id taken"] if ind.id in found else [])
                if wrong:
                    log.warning("cd3p: registered indicator %s left out: %s", ind.id, "; ".join(wrong))
                    continue
                found[ind.id] = ind
        reg = Registry(sources, found, base.index)
    if memo is not None:
        memo["registry"] = reg
    return reg
