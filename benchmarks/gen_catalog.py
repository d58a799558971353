"""A generated city-scale catalog for the scale benchmark: 10,000 datasets in 100 organizations.

    .venv/bin/python benchmarks/gen_catalog.py generate --ini var/etc/scale.ini --site ours
    .venv/bin/python benchmarks/gen_catalog.py generate --ini var/etc/plain.ini --site plain
    .venv/bin/python benchmarks/gen_catalog.py plain-schemas var/bench-scale/plain

The catalog is made from a fixed seed (``--seed``, 2026) and is the same in both sites:

- 100 organizations (``scale-org-000`` ...), each with an admin (``scale-admin-000`` ...), of the
  sectors of the organization schema (nonprofits and grassroots groups most, a few federal
  agencies), a service area of council districts and the services they declare;
- in CD3P (``--site ours``) their standing in the Data Sharing Agreement ledger: 60 signed the active
  version (``scale-2``), 15 signed only the version before it (``scale-1``: a stale signature, still
  inside its grace period since ``scale-2`` was activated when the catalog was made) and 25 never
  signed. Each signer is the organization's admin, through ``cd3p_agreement_sign``;
- 10,000 datasets (``scale-00000`` ...) following the dataset schema, with 1 to 3 linked resources
  each: 60% public, 25% partner-tier (``access_level`` ``partners``), 15% organization-only; equity
  topics, demographic dimensions, tags, geography level, geographic coverage (a council district, a
  neighbourhood, the whole city or none), years covered, collection method, update frequency,
  licence, steward. Big publishers hold hundreds of datasets, unsigned organizations a few each;
- ``scale-member``: an editor of the first signed organization, who acknowledged ``scale-2``
  (``cd3p_agreement_acknowledge``), so in the partner tier; ``scale-sysadmin``: a sysadmin.

Everything is created through the Action API, in the process, as the site user (the sysadmin flag
as ``ckan sysadmin add`` sets it), with indexing deferred: the search index is rebuilt once at the
end (``ckan search-index rebuild``, one Solr commit) rather than a dataset at a time, each with its
commit. On this 2-core machine, shared with a test run, that took 13 minutes for ours (9 for the
datasets, 3.5 for the index) and 10 for plain CKAN, in the background (nice 10).
A run that stops part-way leaves what it made, and the next run makes only what is missing. A
site that holds the whole catalog (and as many datasets in its search index) is only checked.

**The same catalog in plain CKAN** (``--site plain``: CKAN with ckanext-scheming alone, no cd3p
plugin). Our dataset and organization schemas use cd3p validators and choice helpers, which plain
CKAN cannot load, so ``plain-schemas`` writes copies of them with the same field names, the same
presets and choices, and scheming's or CKAN's own validators in place of ours (``cd3p_date`` becomes
``isodate``; the geographic coverage, districts and services get the choices our helpers would give,
read from the same boundary files and registry; checks with no plain counterpart, such as the URL
scheme or the end of the period not before its start, are dropped; every generated value passes
them anyway). Core fields plus free extras would have lost the choices, the multi-valued fields'
handling and the required fields, so the copied schemas are the closest plain CKAN gets to the
same catalog. Every field gets the same value in both sites, with these differences:

- ``access_level``: ours derives CKAN's ``private`` flag from it; plain is given the same ``private``
  flag, and the partner tier does not exist there (a partner-tier dataset is simply private);
- ``spatial``: a dataset's extent. A district or a neighbourhood is picked by its place code and ours
  fills the extent from the City's boundary (up to 20 KB of GeoJSON); plain is given that same
  GeoJSON. A city-wide dataset has the city's bounding box as its extent (``geographic_coverage``
  ``custom``) rather than the city's 33.5 KB outline, because plain CKAN would index an extent as one
  Solr string term, and Solr refuses a term over 32,766 bytes (ours hands extents to ckanext-spatial,
  which indexes a bounding box instead);
- the ledger, the signatures and the acknowledgement exist only in ours.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ckanext.cd3p.common.geography import Place, places_in

ROOT = Path(__file__).resolve().parents[1]
FORMAT = 1  # bump when the generated catalog changes shape
PREFIX = "scale"
DATASETS = 10_000
ORGANIZATIONS = 100
SIGNED, STALE = 60, 15  # the other organizations never signed
AGREEMENTS = ("scale-1", "scale-2")  # the stale signatures are of the first, the current ones of the second
MEMBER = f"{PREFIX}-member"
SYSADMIN = f"{PREFIX}-sysadmin"
BATCH = 100  # datasets per request context and session
SCHEMAS = ROOT / "ckanext-cd3p/ckanext/cd3p/catalog/schemas"

# --- the spec: what the catalog holds, made from the seed --------------------------------------------

SECTORS = {
    "nonprofit": 30,
    "grassroots": 25,
    "corporation": 12,
    "local-government": 10,
    "academic": 8,
    "state-agency": 6,
    "philanthropy": 6,
    "federal-agency": 3,
}
_ORG_WORDS = (
    ("Eastside", "Westside", "Southwest", "North End", "Midtown", "Corktown", "Brightmoor", "Delray",
     "Jefferson", "Gratiot", "Livernois", "Dexter", "Grand River", "Riverfront", "Motor City", "Detroit"),
    ("Digital", "Tech", "Community", "Neighborhood", "Youth", "Family", "Connect", "Learning", "Works",
     "Futures", "Equity", "Bridge"),
    ("Alliance", "Coalition", "Network", "Collaborative", "Center", "Foundation", "Partners", "Project",
     "Institute", "Initiative", "Council", "Hub"),
)  # fmt: skip
TOPICS = {
    "internet-access": 18, "device-access": 14, "digital-literacy": 12, "demographics": 12,
    "job-placement": 7, "it-certification": 6, "educational-attainment": 6, "telehealth": 5,
    "it-internships": 4, "fintech": 4, "web-search": 3, "office-software": 3, "it-work-experience": 3,
    "it-employers": 3,
}  # fmt: skip
DIMENSIONS = {
    "age": 14, "race-ethnicity": 14, "household-income": 12, "sex-gender": 9, "poverty-status": 9,
    "educational-attainment": 8, "employment-status": 8, "language": 6, "disability": 5,
    "household-type": 5, "veteran-status": 2,
}  # fmt: skip
GEOGRAPHY_LEVELS = {
    "tract": 35, "neighborhood": 15, "city": 13, "zip": 10, "council-district": 10, "block-group": 6,
    "point": 6, "county": 3, "state": 2,
}  # fmt: skip
COVERAGE = {"district": 25, "neighborhood": 30, "city": 35, "none": 10}
COLLECTION = {"survey": 30, "administrative": 35, "census": 20, "sensor": 5, "other": 10}
FREQUENCY = {
    "annual": 30, "quarterly": 15, "monthly": 15, "irregular": 15, "never": 12, "weekly": 5,
    "semiannual": 5, "daily": 2, "continuous": 1,
}  # fmt: skip
ACCESS = {"public": 60, "partners": 25, "organization": 15}
LICENSES = {"cc-by": 40, "odc-odbl": 15, "cc-zero": 15, "other-open": 10, "notspecified": 20}
FORMATS = {"CSV": 55, "XLSX": 15, "GeoJSON": 12, "PDF": 10, "JSON": 8}
_ROLE = {"CSV": "data", "XLSX": "data", "JSON": "data", "GeoJSON": "map-layer", "PDF": "report"}
_MEASURES = (
    ("Households without a broadband subscription", "internet-access"),
    ("Households without a computer", "device-access"),
    ("Laptops and tablets distributed", "device-access"),
    ("Refurbished devices repaired", "device-access"),
    ("Home internet enrolments in affordability programmes", "internet-access"),
    ("Public Wi-Fi sessions", "internet-access"),
    ("Internet speed tests", "internet-access"),
    ("Digital literacy class completions", "digital-literacy"),
    ("Digital navigator appointments", "digital-literacy"),
    ("Telehealth visits", "telehealth"),
    ("Online banking workshop attendance", "fintech"),
    ("Office software course completions", "office-software"),
    ("Web search skills assessments", "web-search"),
    ("IT certification enrolments and passes", "it-certification"),
    ("IT internship placements", "it-internships"),
    ("Job placements after IT training", "job-placement"),
    ("IT employers and open positions", "it-employers"),
    ("Residents with IT work experience", "it-work-experience"),
    ("Educational attainment of adults", "educational-attainment"),
    ("Population and households", "demographics"),
    ("Language spoken at home", "demographics"),
    ("Income and poverty", "demographics"),
)
_LEVEL_WORDS = {
    "tract": "census tract", "neighborhood": "neighborhood", "city": "city", "zip": "ZIP code",
    "council-district": "council district", "block-group": "block group", "point": "site",
    "county": "county", "state": "state",
}  # fmt: skip
TAGS = (
    "broadband", "devices", "laptops", "hotspots", "wifi", "fiber", "affordability", "acp", "seniors",
    "youth", "students", "workforce", "training", "certification", "internships", "jobs", "telehealth",
    "libraries", "schools", "survey", "census", "acs", "speed-test", "digital-navigators", "refurbished",
    "literacy", "esl", "arabic", "spanish", "bangla", "disability", "veterans", "income", "poverty",
    "housing", "renters", "small-business", "nonprofits", "outreach", "enrollment",
)  # fmt: skip
_SENTENCES = (
    "Counts come from the programme's intake records and are updated when a cohort closes.",
    "Figures are estimates with margins of error; small areas are less reliable.",
    "Rows with fewer than eleven people are suppressed before publication.",
    "The data covers Detroit residents who took part during the period.",
    "Addresses were geocoded to census tracts using the City's address points.",
    "Survey responses were weighted to the tract's household counts.",
    "Participants self-reported their race and ethnicity; some left it blank.",
    "The same household may appear in more than one programme.",
    "Speed tests are taken by volunteers and over-represent connected households.",
    "Partners submit their figures quarterly through the portal.",
)


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _sample(rng: random.Random, weights: dict[str, int], low: int, high: int) -> list[str]:
    """Between ``low`` and ``high`` distinct keys, drawn by weight, in the schema's order."""
    count = rng.randint(low, high)
    found: set[str] = set()
    while len(found) < count:
        found.add(_pick(rng, weights))
    return [k for k in weights if k in found]


def data_dir() -> Path:
    """The boundary files' folder: ``CD3P_DATA_DIR`` (scripts/portal.sh exports it), else the
    Detroit reference data beside the project."""
    import os

    return Path(os.environ.get("CD3P_DATA_DIR") or ROOT.parent / "shared/data/detroit").expanduser()


def places(folder: Path) -> dict[str, Place]:
    """The places our geographic coverage offers, read from the folder's boundary files by the
    plugin's own reader (ckanext.cd3p.common.geography)."""
    return places_in(folder)


def _bbox(geometry: dict[str, Any]) -> dict[str, Any]:
    def points(coords: Any) -> Iterator[tuple[float, float]]:
        if coords and isinstance(coords[0], int | float):
            yield coords[0], coords[1]
        else:
            for c in coords:
                yield from points(c)

    xs, ys = zip(*points(geometry["coordinates"]), strict=True)
    x0, y0, x1, y1 = (round(v, 6) for v in (min(xs), min(ys), max(xs), max(ys)))
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@dataclass
class Org:
    name: str
    title: str
    sector: str
    standing: str  # "signed", "stale" or "unsigned"
    admin: str
    service_area: list[str]
    services: list[str]
    weight: float  # relative number of datasets


@dataclass
class Dataset:
    name: str
    owner: str
    fields: dict[str, Any]
    coverage: str | None  # a place code, "custom-city" (the city's bounding box) or None
    resources: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Catalog:
    seed: int
    organizations: list[Org]
    datasets: list[Dataset]
    member_org: str

    def fingerprint(self) -> str:
        text = json.dumps(
            {
                "format": FORMAT,
                "organizations": [asdict(o) for o in self.organizations],
                "datasets": [asdict(d) for d in self.datasets],
            },
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def first(self, owner: str, access: str, skip: int = 0) -> str:
        """The name of the ``skip``-th dataset of ``owner`` with this access level."""
        found = [d.name for d in self.datasets if d.owner == owner and d.fields["access_level"] == access]
        return found[skip]


def _services() -> list[str]:
    from ckanext.cd3p.impact import registry

    return list(registry.SERVICES)


def catalog(seed: int = 2026, folder: Path | None = None) -> Catalog:
    """The whole catalog, deterministic for a seed (and the boundary files)."""
    rng = random.Random(seed)
    every_place = places(folder or data_dir())
    districts = [c for c in every_place if c.startswith("district-")]
    hoods = [c for c in every_place if c.startswith("neighborhood-")]
    services = _services()
    standings = ["signed"] * SIGNED + ["stale"] * STALE + ["unsigned"] * (ORGANIZATIONS - SIGNED - STALE)
    rng.shuffle(standings)
    standings[0] = "signed"  # the member's organization
    orgs, titles = [], set()
    for i, standing in enumerate(standings):
        while True:
            title = " ".join(rng.choice(words) for words in _ORG_WORDS)
            if title not in titles:
                titles.add(title)
                break
        orgs.append(
            Org(
                name=f"{PREFIX}-org-{i:03d}",
                title=title,
                sector=_pick(rng, SECTORS),
                standing=standing,
                admin=f"{PREFIX}-admin-{i:03d}",
                service_area=sorted(rng.sample(districts, rng.randint(1, 4)), key=lambda c: int(c[9:])),
                services=sorted(rng.sample(services, rng.randint(1, 3)), key=services.index),
                # A few big publishers, a long tail; unsigned organizations publish little
                weight=rng.lognormvariate(0, 1.0) * (0.15 if standing == "unsigned" else 1.0),
            )
        )
    orgs[0].weight = max(o.weight for o in orgs)  # the member's: a big publisher
    datasets = []
    for i in range(DATASETS):
        org = rng.choices(orgs, weights=[o.weight for o in orgs])[0]
        measure, topic = rng.choice(_MEASURES)
        level = _pick(rng, GEOGRAPHY_LEVELS)
        start = rng.randint(2010, 2025)
        end = min(2025, start + rng.choice((0, 0, 0, 1, 2, 4)))
        topics = sorted({topic, *_sample(rng, TOPICS, 0, 2)}, key=list(TOPICS).index)
        scope = _pick(rng, COVERAGE)
        coverage = {
            "district": lambda: rng.choice(districts),
            "neighborhood": lambda: rng.choice(hoods),
            "city": lambda: "custom-city",
            "none": lambda: None,
        }[scope]()
        place = {None: "", "custom-city": ", Detroit"}.get(coverage)
        if place is None:
            place = ", " + every_place[coverage].label.removeprefix("Neighborhood: ")
        years = f"{start}" if start == end else f"{start}-{end}"
        name = f"{PREFIX}-{i:05d}"
        steward = rng.choice(("Alex", "Jordan", "Sam", "Taylor", "Morgan", "Casey", "Jamie", "Robin"))
        fields = {
            "title": f"{measure} by {_LEVEL_WORDS[level]}{place} ({years})",
            "notes": " ".join(rng.sample(_SENTENCES, rng.randint(2, 5))),
            "equity_topics": topics,
            "demographic_dimensions": _sample(rng, DIMENSIONS, 0, 4),
            "tag_string": ",".join(sorted(rng.sample(TAGS, rng.randint(1, 5)))),
            "geography_level": level,
            "temporal_start": f"{start}-01-01",
            "temporal_end": f"{end}-12-31",
            "collection_method": _pick(rng, COLLECTION),
            "update_frequency": _pick(rng, FREQUENCY),
            "universe": rng.choice(("Detroit households", "Programme participants", "Detroit residents 18+")),
            "methodology": rng.choice(_SENTENCES),
            "limitations": rng.choice(_SENTENCES),
            "source_citation": f"{org.title}, {years}",
            "url": f"https://data.example.org/{org.name}/{name}",
            "license_id": _pick(rng, LICENSES),
            "version": rng.choice(("1.0", "1.1", "2.0", "2024.1")),
            "access_level": _pick(rng, ACCESS),
            "contains_personal_data": "yes" if rng.random() < 0.15 else "no",
            "small_cell_threshold": rng.choice((11, 11, 11, 5, 20)),
            "steward_name": f"{steward} {rng.choice(('Lee', 'Garcia', 'Hassan', 'Brown', 'Nguyen'))}",
            "steward_email": f"{steward.lower()}.{i}@{org.name}.example.org",
        }
        resources = []
        for k in range(rng.choice((1, 1, 2, 2, 2, 3))):
            fmt = _pick(rng, FORMATS)
            res: dict[str, Any] = {
                "name": f"{measure} ({fmt}, part {k + 1})",
                "url": f"https://data.example.org/{org.name}/{name}/{k}.{fmt.lower()}",
                "format": fmt,
                "resource_role": _ROLE[fmt],
                "period_covered": years,
                "refresh_frequency": "",  # no feed (ours stores the empty value; plain is given it)
            }
            if _ROLE[fmt] == "data":
                res["geo_key_column"] = (
                    "geoid" if level in ("tract", "block-group") else level.replace("-", "_")
                )
                res["geo_key_level"] = level
                res["has_moe"] = rng.choice(("yes", "no"))
                if rng.random() < 0.4:
                    res["count_columns"] = "households, people"
            resources.append(res)
        datasets.append(Dataset(name, org.name, fields, coverage, resources))
    return Catalog(seed, orgs, datasets, member_org=orgs[0].name)


def dataset_dict(spec: Dataset, every_place: dict[str, Place], site: str) -> dict[str, Any]:
    """What ``package_create`` is given: the same for both sites, but ``private`` (plain has no
    access level rule to derive it) and the extent (ours fills it from a place code itself)."""
    data = {"name": spec.name, "owner_org": spec.owner, **spec.fields, "resources": spec.resources}
    data["private"] = spec.fields["access_level"] != "public"
    if spec.coverage == "custom-city":
        data["geographic_coverage"] = "custom"
        data["spatial"] = json.dumps(_bbox(every_place["city"].geometry))
    elif spec.coverage:
        data["geographic_coverage"] = spec.coverage
        if site == "plain":
            data["spatial"] = json.dumps(every_place[spec.coverage].geometry)  # what ours writes
    return data


# --- plain CKAN's copies of our schemas --------------------------------------------------------------

# Each cd3p validator: what plain CKAN runs in its place ("" for nothing: a check plain CKAN lacks).
PLAIN_VALIDATORS = {
    "cd3p_date": "isodate",
    "cd3p_end_not_before_start": "",
    "cd3p_geographic_coverage": "",
    "cd3p_geojson_geometry": "",
    "cd3p_http_url": "",
    "cd3p_access_level_to_private": "",
    "cd3p_count_columns": "unicode_safe",
    "cd3p_refresh_frequency": "ignore_missing unicode_safe",
}


def _choice_helpers(folder: Path) -> dict[str, Callable[[], list[dict[str, str]]]]:
    """Each cd3p choices helper of our schemas: the choices it gives, computed without CKAN."""

    def coverage() -> list[dict[str, str]]:
        found = [{"value": p.code, "label": p.label} for p in places(folder).values()]
        return [*found, {"value": "custom", "label": "Other area (enter GeoJSON below)"}]

    def districts() -> list[dict[str, str]]:
        return [
            {"value": p.code, "label": p.label}
            for p in places(folder).values()
            if p.code.startswith("district-")
        ]

    def services() -> list[dict[str, str]]:
        from ckanext.cd3p.impact import registry

        return [{"value": s.id, "label": str(s.title)} for s in registry.SERVICES.values()]

    return {
        "cd3p_geographic_coverage_choices": coverage,
        "cd3p_district_options": districts,
        "cd3p_programme_service_choices": services,
    }


def plain_field(
    spec: dict[str, Any], helpers: dict[str, Callable[[], list[dict[str, str]]]]
) -> dict[str, Any]:
    """One schema field with plain CKAN's validators and static choices in place of ours."""
    out = dict(spec)
    if "validators" in out:
        tokens = []
        for token in out["validators"].split():
            if token.startswith("cd3p_"):
                if token not in PLAIN_VALIDATORS:
                    raise SystemExit(f"plain-schemas: no plain counterpart for validator {token}; add one")
                tokens += PLAIN_VALIDATORS[token].split()
            else:
                tokens.append(token)
        out["validators"] = " ".join(dict.fromkeys(tokens)) or "ignore_missing"
    helper = out.pop("choices_helper", None)
    if helper:
        if helper not in helpers:
            raise SystemExit(f"plain-schemas: no plain counterpart for choices helper {helper}; add one")
        out["choices"] = helpers[helper]()
    left = [k for k, v in out.items() if isinstance(v, str) and v.startswith("cd3p_")]
    if left:
        raise SystemExit(f"plain-schemas: field {out.get('field_name')} still names cd3p in {left}")
    return out


def write_plain_schemas(outdir: Path, folder: Path | None = None) -> list[Path]:
    """Writes ``dataset.yaml`` and ``organization.yaml``: our schemas for plain CKAN."""
    import yaml

    helpers = _choice_helpers(folder or data_dir())
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, lists in (
        ("dataset.yaml", ("dataset_fields", "resource_fields")),
        ("organization.yaml", ("fields",)),
    ):
        schema = yaml.safe_load((SCHEMAS / name).read_text(encoding="utf-8"))
        for key in lists:
            schema[key] = [plain_field(f, helpers) for f in schema[key]]
        schema["about"] = f"{schema.get('about', '')} (plain CKAN copy for the scale benchmark)"
        target = outdir / name
        tmp = target.with_suffix(".tmp")
        header = "# Written by benchmarks/gen_catalog.py plain-schemas from our schema; do not edit.\n"
        tmp.write_text(header + yaml.safe_dump(schema, sort_keys=False, allow_unicode=True), encoding="utf-8")
        tmp.replace(target)
        written.append(target)
    return written


# --- generating into a site ---------------------------------------------------------------------------


def manifest_path(site: str) -> Path:
    return ROOT / "var/bench-scale" / f"{site}.json"


class Generator:
    """Makes what is missing of the catalog in one site, through the Action API."""

    def __init__(self, app: Any, site: str, spec: Catalog, folder: Path, echo: Callable[[str], None]) -> None:
        self.flask_app = app._wsgi_app
        self.site = site
        self.spec = spec
        self.places = places(folder)
        self.echo = echo

    def act(self, action: str, user: str | None = None, **data: Any) -> Any:
        from ckan.plugins import toolkit as tk

        return tk.get_action(action)({"user": user or self.site_user}, data)

    @property
    def site_user(self) -> str:
        from ckan.plugins import toolkit as tk

        return tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]

    def existing(self, prefix: str, organizations: bool = False) -> set[str]:
        """The names of the active datasets (or organizations) that start with ``prefix-``."""
        from ckan import model

        table = model.Group if organizations else model.Package
        rows = model.Session.query(table.name).filter(table.name.like(f"{prefix}-%"), table.state == "active")
        return {name for (name,) in rows}

    def user(self, name: str, sysadmin: bool = False) -> None:
        from ckan import model

        found = model.User.get(name)
        if found is None:
            self.act("user_create", name=name, email=f"{name}@example.org", password=uuid.uuid4().hex + "A1!")
            found = model.User.get(name)
        if sysadmin and not found.sysadmin:
            found.sysadmin = True  # what `ckan sysadmin add` does
            model.Session.commit()

    def organizations(self) -> None:
        from ckan import model

        for org in self.spec.organizations:
            self.user(org.admin)
            if model.Group.get(org.name) is None:
                self.act(
                    "organization_create",
                    name=org.name,
                    title=org.title,
                    sector=org.sector,
                    service_area=org.service_area,
                    services=org.services,
                    mission=f"{org.title} works for digital equity in Detroit.",
                    website=f"https://{org.name}.example.org",
                    contact_email=f"info@{org.name}.example.org",
                )
            members = self.act("member_list", id=org.name, object_type="user")
            admin_id = model.User.get(org.admin).id
            if not any(m[0] == admin_id for m in members):
                self.act("organization_member_create", id=org.name, username=org.admin, role="admin")

    def agreements(self) -> None:
        """The ledger: 60 current signatures, 15 stale ones, and the member's acknowledgement."""
        from ckan import model

        from ckanext.cd3p.agreements import ledger
        from ckanext.cd3p.agreements.model import Agreement

        def version(label: str) -> Agreement:
            found = Agreement.get(label)
            if found is None:
                self.act(
                    "cd3p_agreement_create", version=label, title=f"Agreement {label}", body=f"Text {label}."
                )
                self.act("cd3p_agreement_activate", id=label)
                found = Agreement.get(label)
            return found

        def sign(org: Org, agreement: Agreement) -> None:
            org_id = model.Group.get(org.name).id
            if ledger.signed_version(org_id, agreement.id) is None:
                if agreement.state != "active":
                    raise SystemExit(
                        f"gen_catalog: {org.name} has not signed {agreement.version}, which is no longer "
                        "active: the catalog was made part-way by another version; start the site again"
                    )
                self.act(
                    "cd3p_agreement_sign",
                    org.admin,
                    organization_id=org.name,
                    agreement_id=agreement.id,
                    signatory_name=org.admin,
                    signatory_title="Director",
                    confirm_authority=True,
                )

        first = version(AGREEMENTS[0])
        signers = [o for o in self.spec.organizations if o.standing in ("signed", "stale")]
        if first.state == "active":
            for org in signers:
                sign(org, first)
        second = version(AGREEMENTS[1])
        for org in signers:
            if org.standing == "signed":
                sign(org, second)
        member = model.User.get(MEMBER)
        if not ledger.has_acknowledged(member.id, second.id):
            self.act("cd3p_agreement_acknowledge", MEMBER, agreement_id=second.id)

    def member(self) -> None:
        """The member: an editor of the first signed organization (in ours, once acknowledged)."""
        from ckan import model

        editors = self.act("member_list", id=self.spec.member_org, object_type="user", capacity="editor")
        if not any(m[0] == model.User.get(MEMBER).id for m in editors):
            self.act("organization_member_create", id=self.spec.member_org, username=MEMBER, role="editor")

    def datasets(self, deadline: float) -> int:
        """Creates the missing datasets, in batches of BATCH per request context; returns how many."""
        from ckan import model
        from ckan import plugins as p

        have = self.existing(PREFIX)
        missing = [d for d in self.spec.datasets if d.name not in have]
        if not missing:
            return 0
        self.echo(f"gen_catalog[{self.site}]: creating {len(missing)} datasets ({len(have)} already there)")
        # Indexing deferred: the index is rebuilt once at the end.
        p.unload("synchronous_search")
        made, start = 0, time.perf_counter()
        try:
            for i in range(0, len(missing), BATCH):
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"gen_catalog[{self.site}]: stopped after {made} datasets (--timeout); "
                        "run again to go on"
                    )
                with self.flask_app.test_request_context():
                    for spec in missing[i : i + BATCH]:
                        self.act("package_create", **dataset_dict(spec, self.places, self.site))
                        made += 1
                model.Session.remove()
                if made % 1000 < BATCH:
                    rate = made / (time.perf_counter() - start)
                    self.echo(f"gen_catalog[{self.site}]: {made}/{len(missing)} datasets ({rate:.1f}/s)")
        finally:
            p.load("synchronous_search")
        return made

    def indexed(self) -> int:
        from ckan.plugins import toolkit as tk

        found = tk.get_action("package_search")(
            {"user": self.site_user},
            {"q": "", "fq": f"+name:{PREFIX}-*", "rows": 0, "include_private": True},
        )
        return found["count"]


def generate(ini: Path, site: str, seed: int, timeout: float) -> dict[str, Any]:
    """Makes (or checks) the catalog in the site of ``ini``; returns its manifest
    (``var/bench-scale/<site>.json``: the seed, the catalog's fingerprint, the time it took)."""
    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    from ckan.plugins import toolkit as tk

    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    folder = data_dir()
    spec = catalog(seed, folder)
    fingerprint = spec.fingerprint()
    app = make_app(load_config(str(ini)))
    echo = print
    gen = Generator(app, site, spec, folder, echo)
    path = manifest_path(site)
    old = json.loads(path.read_text()) if path.is_file() else {}
    with gen.flask_app.test_request_context():
        have = len(gen.existing(PREFIX))
        orgs = len(gen.existing(f"{PREFIX}-org", organizations=True))
        indexed = gen.indexed()
    if (have or orgs) and old.get("fingerprint") != fingerprint:
        raise SystemExit(
            f"gen_catalog[{site}]: the site holds a catalog made by another version or seed "
            f"({old.get('fingerprint')} != {fingerprint}); "
            "drop its databases and empty its search core to make it again"
        )
    if old.get("complete") and (have, orgs, indexed) == (DATASETS, ORGANIZATIONS, DATASETS):
        echo(
            f"gen_catalog[{site}]: already holds the catalog ({DATASETS} datasets in the database and the "
            f"search index, {ORGANIZATIONS} organizations, seed {seed}; made in {old['generation_s']:.0f} s)"
        )
        return old
    before = old.get("generation_s", 0.0) if old.get("fingerprint") == fingerprint else 0.0
    manifest = {
        "format": FORMAT,
        "seed": seed,
        "fingerprint": fingerprint,
        "site": site,
        "datasets": DATASETS,
        "organizations": ORGANIZATIONS,
        "member_org": spec.member_org,
        "complete": False,
        "generation_s": before,
    }

    def save() -> None:
        manifest["generation_s"] = round(before + time.perf_counter() - started, 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(manifest, indent=2) + "\n")

    save()  # before anything is made: a later run knows which catalog a part-made site holds
    try:
        with gen.flask_app.test_request_context():
            gen.user(SYSADMIN, sysadmin=True)
            gen.user(MEMBER)
            gen.organizations()
            if site == "ours":
                gen.agreements()
            gen.member()
        setup_s = time.perf_counter() - started
        made = gen.datasets(deadline)
        create_s = time.perf_counter() - started - setup_s
        with gen.flask_app.test_request_context():
            if site == "ours":
                # The checks our plugin queued for each linked file: no worker runs in this environment
                tk.get_action("job_clear")({"user": gen.site_user}, {})
            indexed = gen.indexed()
        rebuild_s = 0.0
        if made or indexed != DATASETS:
            echo(f"gen_catalog[{site}]: rebuilding the search index ({indexed} of {DATASETS} indexed)")
            t0 = time.perf_counter()
            subprocess.run(
                [str(ROOT / ".venv/bin/ckan"), "-c", str(ini), "search-index", "rebuild", "-q"],
                check=True,
                timeout=max(60.0, deadline - time.monotonic()),
            )
            rebuild_s = time.perf_counter() - t0
        with gen.flask_app.test_request_context():
            indexed = gen.indexed()
        if indexed != DATASETS:
            raise SystemExit(f"gen_catalog[{site}]: {indexed} of {DATASETS} datasets in the search index")
        manifest.update(
            complete=True,
            setup_s=round(setup_s, 1),
            create_s=round(create_s, 1),
            created=made,
            rebuild_s=round(rebuild_s, 1),
        )
    finally:
        save()
    echo(
        f"gen_catalog[{site}]: {made} datasets created in {create_s:.0f} s, index rebuilt in "
        f"{rebuild_s:.0f} s; generation took {manifest['generation_s']:.0f} s in all"
    )
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="make or check the catalog in one site")
    gen.add_argument("--ini", type=Path, required=True)
    gen.add_argument("--site", choices=("ours", "plain"), required=True)
    gen.add_argument("--seed", type=int, default=2026)
    gen.add_argument("--timeout", type=float, default=3000, help="seconds; a run stopped part-way resumes")
    schemas = sub.add_parser("plain-schemas", help="write our schemas for plain CKAN")
    schemas.add_argument("outdir", type=Path)
    args = parser.parse_args()
    if args.command == "plain-schemas":
        for path in write_plain_schemas(args.outdir):
            print(f"gen_catalog: wrote {path}")
        return
    generate(args.ini, args.site, args.seed, args.timeout)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
