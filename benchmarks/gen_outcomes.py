"""Generated programmes and their checked outcome rows, for the impact benchmark (bench_impact.py).

Pure and deterministic: the same arguments give the same programmes and the same rows, byte for
byte. Every number is random but plausible, and every programme says it is illustrative.

The default shape is issue 15's: 1,000,000 rows over 5,000 tracts, 12 quarters, 10 measures and 100
programmes. Each programme reports two measures (each measure is reported by a fifth of the
programmes, so each has about a tenth of the rows) in every quarter, for a share of the tracts of
its own part of the city (a band of the grid, as a partner works near its sites), plus per quarter
one council-district row (a pop-up event), one ZIP row (addresses not matched to a tract) and a
programme-wide target on a city row for each of its measures. A fifth of the programmes report no
cost. The rows are the columns of ``cd3p_outcome`` (``impact/model.py``) without ``id``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MEASURES_YAML = ROOT / "ckanext-cd3p" / "ckanext" / "cd3p" / "impact" / "measures.yaml"

FORMAT = 1  # bump when the rows change shape: the benchmark then replaces the stored ones
FIRST_YEAR = 2023
DISTRICTS = 7
ZIP_CODES = tuple(str(z) for z in range(48201, 48240))  # plausible Detroit ZIP codes
ORGANIZATIONS = 5  # partner organizations running the programmes, in turn

# Each measure's mean count per tract and quarter, and cost per outcome in dollars.
SIZES = {
    "devices_distributed": (9, 260.0),
    "households_connected": (7, 180.0),
    "training_enrolled": (12, 150.0),
    "training_completed": (9, 200.0),
    "certifications_earned": (3, 900.0),
    "navigator_sessions": (15, 40.0),
    "internships_started": (2, 2500.0),
    "internships_completed": (2, 3000.0),
    "job_placements": (2, 1800.0),
    "employed_q2_after_exit": (2, 1500.0),
}
SERVICES = {
    "devices_distributed": "device_distribution",
    "households_connected": "home_internet",
    "training_enrolled": "digital_skills",
    "training_completed": "digital_skills",
    "certifications_earned": "it_certification",
    "navigator_sessions": "digital_navigators",
    "internships_started": "it_internships",
    "internships_completed": "it_internships",
    "job_placements": "job_placement",
    "employed_q2_after_exit": "job_placement",
}

COLUMNS = (
    "resource_id", "package_id", "organization", "row", "quarter", "quarter_index", "month",
    "geo_level", "geo_id", "measure", "count", "cost", "target", "loaded",
)  # fmt: skip
LOADED = "2026-01-01 00:00:00+00"


def count_measures(limit: int) -> list[str]:
    """The first ``limit`` count measures of ``impact/measures.yaml``, in order."""
    listed = yaml.safe_load(MEASURES_YAML.read_text(encoding="utf-8"))["measures"]
    found = [m["id"] for m in listed if m.get("kind") == "count"]
    if limit > len(found):
        raise ValueError(f"only {len(found)} count measures are defined")
    return found[:limit]


def quarters(count: int) -> list[str]:
    return [f"{FIRST_YEAR + i // 4}-Q{i % 4 + 1}" for i in range(count)]


def quarter_index(quarter: str) -> int:
    year, q = quarter.split("-Q")
    return int(year) * 4 + int(q) - 1


@dataclass(frozen=True)
class Programme:
    number: int  # 1-based
    name: str
    title: str
    organization: int  # 0-based index of the partner organization
    measures: tuple[str, ...]
    costed: bool

    def payload(self, owner_org: str, quarter_list: Sequence[str]) -> dict:
        """A ``package_create`` body (see tests/impact/test_programme.py)."""
        first, last = quarter_list[0], quarter_list[-1]
        end_year, end_q = int(last[:4]), int(last[-1])
        end = f"{end_year}-{3 * end_q:02d}-{30 if end_q in (2, 3) else 31}"
        return {
            "type": "programme",
            "name": self.name,
            "title": self.title,
            "notes": "Generated for the impact benchmark (benchmarks/bench_impact.py): made-up numbers.",
            "owner_org": owner_org,
            "services": sorted({SERVICES.get(m, "digital_skills") for m in self.measures}),
            "populations": ["all-residents"],
            "temporal_start": f"{first[:4]}-{3 * int(first[-1]) - 2:02d}-01",
            "temporal_end": end,
            "funding": [{"source": "Generated grant", "kind": "philanthropy", "amount": "250000"}],
            "targets": [{"measure": m, "target": "1000"} for m in self.measures],
            "contact_name": "Programme desk",
            "contact_email": f"{self.name}@example.org",
            "access_level": "public",
            "contains_personal_data": "no",
            "illustrative": "yes",
        }


def programmes(count: int, measures: Sequence[str]) -> list[Programme]:
    """``count`` programmes, each reporting two measures; every measure by as many programmes."""
    n = len(measures)
    found = []
    for i in range(count):
        first = i % n
        second = (first + 1 + (i // n) % (n - 1)) % n if n > 1 else first
        chosen = (measures[first],) if second == first else (measures[first], measures[second])
        found.append(
            Programme(
                number=i + 1,
                name=f"bench-programme-{i + 1:03d}",
                title=f"Benchmark programme {i + 1:03d}",
                organization=i % ORGANIZATIONS,
                measures=chosen,
                costed=i % 5 != 4,
            )
        )
    return found


def split(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` nearly equal whole numbers."""
    return [total // parts + (1 if k < total % parts else 0) for k in range(parts)]


def rows(
    programme: Programme,
    package_id: str,
    organization_id: str,
    resource_id: str,
    tracts: Sequence[str],
    quarter_list: Sequence[str],
    total: int,
    seed: int,
) -> Iterator[tuple]:
    """Exactly ``total`` rows of one programme, in ``COLUMNS`` order (None for NULL)."""
    rng = random.Random(f"{seed}:{programme.number}")
    band = max(1, min(len(tracts), len(tracts) * 3 // 10))  # the part of the city it works in
    start = rng.randrange(len(tracts))
    territory = [tracts[(start + k) % len(tracts)] for k in range(band)]
    main = programme.measures[0]
    extras = len(quarter_list) * (2 + len(programme.measures))  # district, ZIP, a target per measure
    blocks = [(q, m) for q in quarter_list for m in programme.measures]
    sizes = split(total - extras, len(blocks))
    if min(sizes) < 0 or max(sizes) > len(territory):
        raise ValueError("too many or too few rows for this many tracts, quarters and measures")
    number = 0

    def row(quarter: str, level: str, code: str, measure: str, count: float, cost, target) -> tuple:
        nonlocal number
        number += 1
        return (
            resource_id, package_id, organization_id, number, quarter, quarter_index(quarter), None,
            level, code, measure, count, cost, target, LOADED,
        )  # fmt: skip

    for (quarter, measure), size in zip(blocks, sizes, strict=True):
        mean, unit_cost = SIZES.get(measure, (5, 100.0))
        step = quarter_list.index(quarter)
        ramp = 0.6 + 0.6 * step / max(len(quarter_list) - 1, 1)  # programmes grow
        for tract in sorted(rng.sample(territory, size)):
            count = max(0, round(mean * ramp * rng.uniform(0.2, 1.8)))
            cost = round(count * unit_cost * rng.uniform(0.85, 1.15), 2) if programme.costed else None
            yield row(quarter, "tract", tract, measure, count, cost, None)
    for quarter in quarter_list:
        mean, unit_cost = SIZES.get(main, (5, 100.0))
        district = f"district-{rng.randint(1, DISTRICTS)}"
        yield row(quarter, "council_district", district, main, round(mean * rng.uniform(2, 6)), None, None)
        count = round(mean * rng.uniform(1, 3))
        cost = round(count * unit_cost, 2) if programme.costed else None
        yield row(quarter, "zip", rng.choice(ZIP_CODES), main, count, cost, None)
        for measure in programme.measures:
            target = round(SIZES.get(measure, (5, 0))[0] * band / 2 / 5) * 5
            yield row(quarter, "city", "city", measure, 0, None, target)
