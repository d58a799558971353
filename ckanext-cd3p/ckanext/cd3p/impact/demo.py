"""Illustrative programmes and their outcome reports, for the demo portal and for trying the pages.

Every number here is made up, and every programme says so (``illustrative: True``): they look like
what Detroit's device, internet, training and workforce programmes report, at plausible sizes, but
describe no real programme. The same seed and inputs always give the same programmes, byte for
byte, so a demo page or a test can rely on them.

Programmes serve tracts drawn with a weight that grows with the tract's need (its Digital Equity
Index), plus a floor, so that higher-need tracts are served more often but not only they: real
programmes follow their partners' locations as much as need. Most rows are at tract level; a few
are at ZIP or council district level (addresses that were not matched to a tract, pop-up events),
and programme-wide targets stand on city rows.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ckanext.cd3p.impact.reports import COLUMNS, quarter_key, quarters_between

QUARTERS = tuple(quarters_between("2024-Q1", "2025-Q4"))

# One template per programme (demo_programmes.yaml says what each key is).
_TEMPLATES: tuple[dict[str, Any], ...] = tuple(
    yaml.safe_load((Path(__file__).parent / "demo_programmes.yaml").read_text())["programmes"]
)


DEFAULT_COUNT = 5  # programmes the demo portal loads
NAMES = tuple(t["name"] for t in _TEMPLATES[:DEFAULT_COUNT])  # theirs, in order


def _row(period: str, level: str, code: str, measure: str, count: float, **extra: Any) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(period=period, geo_level=level, geo_id=code, measure=measure, count=str(count))
    row.update({k: str(v) for k, v in extra.items() if v is not None})
    return row


def _money(amount: float) -> str:
    return f"{amount:.2f}"


def _weights(
    rng: random.Random, tracts: Sequence[str], need_index: Mapping[str, float] | None
) -> dict[str, float]:
    """How likely a tract is to be served: a floor plus its need (0-100), so that need tilts the
    draw without deciding it. Without an index, a random weight per tract."""
    if need_index is None:
        return {t: rng.uniform(0.5, 1.5) for t in tracts}
    return {t: 0.4 + (max(need_index.get(t, 50.0), 0.0) / 100.0) ** 1.5 for t in tracts}


def _draw(rng: random.Random, weights: Mapping[str, float], k: int) -> list[str]:
    """``k`` tracts without replacement, each with probability by weight (Efraimidis-Spirakis)."""
    keyed = sorted(((rng.random() ** (1.0 / weights[t]), t) for t in sorted(weights)), reverse=True)
    return sorted(t for _, t in keyed[:k])


def _tract_rows(
    rng: random.Random, spec: dict[str, Any], weights: Mapping[str, float], quarters: Sequence[str]
) -> list[dict[str, str]]:
    measure, mean = spec["measure"]
    rows = []
    for step, quarter in enumerate(quarters):
        ramp = 0.6 + 0.6 * step / max(len(quarters) - 1, 1)  # programmes grow over their first years
        for tract in _draw(rng, weights, min(spec["tracts"], len(weights))):
            count = max(0, round(mean * ramp * rng.uniform(0.3, 1.7)))
            cost = (
                None
                if spec["unit_cost"] is None
                else _money(count * spec["unit_cost"] * rng.uniform(0.85, 1.15))
            )
            rows.append(_row(quarter, "tract", tract, measure, count, cost=cost))
            for follower, share in spec["follows"]:
                count = round(count * share * rng.uniform(0.8, 1.2))
                rows.append(_row(quarter, "tract", tract, follower, count, cost=cost))
    return rows


def _extra_rows(
    rng: random.Random,
    spec: dict[str, Any],
    zips: Sequence[str],
    districts: Sequence[str],
    quarters: Sequence[str],
) -> list[dict[str, str]]:
    """Rows not matched to a tract (ZIP), pop-up events (council district), and the employment
    outcomes a workforce programme reports for its exit cohort citywide."""
    measure, mean = spec["measure"]
    rows = []
    for quarter in quarters:
        if spec.get("zip_rows") and zips:
            for code in sorted(rng.sample(sorted(zips), min(2, len(zips)))):
                count = round(mean * rng.uniform(0.5, 2.0))
                cost = _money(count * spec["unit_cost"] * rng.uniform(0.85, 1.15))
                rows.append(_row(quarter, "zip", code, measure, count, cost=cost))
        if spec.get("district_rows") and districts:
            code = rng.choice(sorted(districts))
            rows.append(_row(quarter, "council_district", code, measure, round(mean * rng.uniform(2.0, 4.0))))
        if spec.get("employment"):
            employed = round(rng.uniform(12, 30))
            cost = _money(employed * 900 * rng.uniform(0.85, 1.15))
            rows.append(_row(quarter, "city", "city", "employed_q2_after_exit", employed, cost=cost))
            rows.append(_row(quarter, "city", "city", "median_earnings_q2", _money(rng.uniform(7200, 11800))))
    return rows


def _targets(
    spec: dict[str, Any], rows: list[dict[str, str]], quarters: Sequence[str]
) -> list[dict[str, Any]]:
    """Quarterly programme-wide targets on city rows (count 0: every outcome is reported at a
    smaller place), near what the programme reached; returns the target for the whole period."""
    measure = spec["measure"][0]
    reached = {
        q: sum(int(r["count"]) for r in rows if r["period"] == q and r["measure"] == measure)
        for q in quarters
    }
    total = 0
    for quarter in quarters:
        target = max(5, round(reached[quarter] * 1.1 / 5) * 5)  # a round number, a little above reach
        rows.append(_row(quarter, "city", "city", measure, 0, target=target))
        total += target
    return [{"measure": measure, "target": total}]


def _dates(quarters: Sequence[str]) -> dict[str, str]:
    """The first day of the first quarter and the last day of the last, as ISO dates."""
    (first_year, first_q), (last_year, last_q) = quarter_key(quarters[0]), quarter_key(quarters[-1])
    end = dt.date(last_year + (last_q == 4), 1 if last_q == 4 else 3 * last_q + 1, 1) - dt.timedelta(days=1)
    return {"start": dt.date(first_year, 3 * first_q - 2, 1).isoformat(), "end": end.isoformat()}


def programmes(
    organizations: Sequence[str],
    tracts: Sequence[str],
    *,
    seed: int = 2024,
    need_index: Mapping[str, float] | None = None,
    zips: Sequence[str] = (),
    districts: Sequence[str] = (),
    count: int = DEFAULT_COUNT,
    quarters: Sequence[str] = QUARTERS,
) -> list[dict[str, Any]]:
    """``count`` (4 to 6) illustrative programmes run by the given organizations in turn, each with
    its outcome report as ``rows`` (the report format of reports.py, as text, ready for
    :func:`reports.check_rows`).

    Each programme has the shapes of the programme schema's fields: ``name``, ``title``,
    ``organization``, ``services`` (service ids), ``populations`` (its choice values), ``funding``
    (``source``, ``kind``, ``amount`` in dollars), ``period`` (``start`` and ``end``, ISO dates),
    ``targets`` (``measure``, ``target`` for the whole period), ``contact`` (``name``, ``email``),
    ``illustrative: True`` and ``rows``.
    """
    if not 4 <= count <= len(_TEMPLATES):
        raise ValueError(f"count must be from 4 to {len(_TEMPLATES)}")
    if not organizations or not tracts:
        raise ValueError("give at least one organization and one tract")
    rng = random.Random(seed)
    weights = _weights(rng, sorted(tracts), need_index)
    found = []
    for number, spec in enumerate(_TEMPLATES[:count]):
        rows = _tract_rows(rng, spec, weights, quarters)
        rows += _extra_rows(rng, spec, zips, districts, quarters)
        targets = _targets(spec, rows, quarters)
        spent = sum(float(r["cost"]) for r in rows if r["cost"] and r["measure"] == spec["measure"][0])
        budget = round(spent * rng.uniform(1.05, 1.2), -3) if spent else round(rng.uniform(80, 200)) * 1000.0
        funding = [
            {"source": source, "kind": kind, "amount": round(budget * share, 2)}
            for source, kind, share in spec["funding"]
        ]
        found.append(
            {
                "name": spec["name"],
                "title": spec["title"],
                "organization": organizations[number % len(organizations)],
                "services": list(spec["services"]),
                "populations": list(spec["populations"]),
                "funding": funding,
                "period": _dates(quarters),
                "targets": targets,
                "contact": {"name": "Programme manager", "email": f"{spec['name']}@example.org"},
                "illustrative": True,
                "rows": rows,
            }
        )
    return found


REPORT_NAME = "Outcome report 2024-2025 (illustrative)"
REPORT_DESCRIPTION = (
    "Illustrative: generated for the demonstration with a fixed seed, in the outcome report format. "
    "No real programme reported these numbers."
)


def dataset_fields(spec: dict[str, Any]) -> dict[str, Any]:
    """One generated programme as ``package_create`` takes it: a ``programme`` dataset, public,
    marked illustrative in its own field and in its title and description."""
    return {
        "type": "programme",
        "name": spec["name"],
        "title": f"{spec['title']} (illustrative)",
        "owner_org": spec["organization"],
        "notes": (
            "**Illustrative programme**, generated for the demonstration of this portal with a fixed "
            "seed: it describes no real programme, and its outcome report is made up. It shows what "
            "a partner's programme looks like here, and feeds no need indicator."
        ),
        "services": spec["services"],
        "populations": spec["populations"],
        "temporal_start": spec["period"]["start"],
        "temporal_end": spec["period"]["end"],
        "funding": [{**f, "amount": f"{f['amount']:.2f}"} for f in spec["funding"]],
        "targets": spec["targets"],
        "contact_name": spec["contact"]["name"],
        "contact_email": spec["contact"]["email"],
        "access_level": "public",
        "contains_personal_data": "no",
        "illustrative": "yes",
    }
