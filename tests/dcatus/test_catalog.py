"""The DCAT-US 3 catalog: every demo dataset's description passes SHACL validation, our fields are
mapped where harvesters look for them, and partner-tier, organization-only and held datasets appear
in no catalog output, whoever asks.

The world: the demo catalog's organizations and datasets (``demo_catalog.yaml``, as ``make run``
loads them, with link resources instead of uploaded files) and one DataStore table, published by
signed partner organizations; then datasets that must stay out. The shapes are pinned in
``shapes/cd3p-dcat-us-3.ttl``; ``CD3P_DCAT_US_SHAPES`` may name another shapes file (the DOI-DO
repository's, say) to validate against as well.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyshacl
import pytest
import rdflib
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action
from rdflib.namespace import DCAT, DCTERMS, RDF, SKOS

from ckanext.cd3p.dcatus import profiles
from ckanext.cd3p.demo import DATASETS, ORGANIZATIONS
from tests import factories, partners
from tests.helpers import kept_world, wait_for_check

pytestmark = pytest.mark.usefixtures("with_plugins")

VCARD = rdflib.Namespace("http://www.w3.org/2006/vcard/ns#")

SHAPES = [Path(__file__).with_name("shapes") / "cd3p-dcat-us-3.ttl"]
if os.environ.get("CD3P_DCAT_US_SHAPES"):
    SHAPES.append(Path(os.environ["CD3P_DCAT_US_SHAPES"]))
FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "xml": "xml", "rdf": "xml"}
DCATUS = rdflib.Namespace("http://resources.data.gov/ontology/dcat-us#")
STEWARD = "steward.private@example.org"


def _build() -> dict[str, Any]:
    partners.active_agreement()
    admin = factories.User()
    orgs = {o["name"]: partners.organization(admin, **o) for o in ORGANIZATIONS}
    made = {}
    for spec in DATASETS:
        made[spec.name] = call_action(
            "package_create",
            {"user": admin["name"]},
            name=spec.name,
            title=spec.title,
            owner_org=orgs[spec.organization]["id"],
            notes=spec.notes,
            tags=[{"name": t} for t in spec.tags],
            license_id=spec.license_id,
            source_citation=spec.source_citation,
            steward_name="Pat Steward",
            steward_email=STEWARD,
            **spec.metadata,
            resources=[
                {
                    "name": r.name,
                    "description": r.description,
                    "format": r.format,
                    "url": f"https://data.example.org/{r.path}",
                }
                for r in spec.resources
            ],
        )
    first = made[DATASETS[0].name]
    table = call_action(
        "datastore_create",
        {"user": admin["name"]},
        resource={"package_id": first["id"], "name": "Households by tract (table)", "format": "CSV"},
        fields=[{"id": "geoid", "type": "text"}, {"id": "households", "type": "int"}],
        records=[{"geoid": "26163500100", "households": 1200}],
        force=True,
    )
    org = orgs[DATASETS[0].organization]
    hidden = {
        access: call_action(
            "package_create",
            {"user": admin["name"]},
            **{
                **_fields(DATASETS[0]),
                "name": f"hidden-{access}",
                "owner_org": org["id"],
                "access_level": access,
            },
        )
        for access in ("partners", "organization")
    }
    return {"orgs": orgs, "admin": admin, "datasets": made, "table": table["resource_id"], "hidden": hidden}


def _fields(spec: Any) -> dict[str, Any]:
    return {"title": spec.title, "notes": spec.notes, "license_id": spec.license_id, **spec.metadata}


def _fingerprint(world: dict[str, Any]) -> Any:
    """The datasets as the database has them (the index may outlive a test that resets it)."""
    rows = model.Session.query(model.Package.id, model.Package.metadata_modified).all()
    return sorted((i, m.isoformat()) for i, m in rows)


@pytest.fixture
def world(request: pytest.FixtureRequest) -> dict[str, Any]:
    return kept_world(request, "dcat demo catalog", _build, _fingerprint)


def get(app: Any, path: str, user: dict[str, Any] | None = None) -> Any:
    return app.get(path, headers={"Authorization": user["token"]} if user else {})


def graph(app: Any, path: str, user: dict[str, Any] | None = None) -> rdflib.Graph:
    response = get(app, path, user)
    assert response.status_code == 200, (path, response.status_code)
    fmt = FORMATS[path.rsplit(".", 1)[1].split("?")[0]]
    return rdflib.Graph().parse(data=response.get_data(as_text=True), format=fmt)


def dataset_ref(name: str) -> rdflib.URIRef:
    return rdflib.URIRef(f"{tk.config['ckan.site_url'].rstrip('/')}/dataset/{name}")


def validate(g: rdflib.Graph) -> list[str]:
    """Every SHACL violation of the graph against each shapes file, in words."""
    problems = []
    for shapes in SHAPES:
        conforms, _report, text = pyshacl.validate(g, shacl_graph=str(shapes), inference="none")
        if not conforms:
            problems.append(f"{shapes.name}:\n{text}")
    return problems


# --- validation ---------------------------------------------------------------------------------


def test_the_whole_catalog_passes_the_shapes_and_lists_every_public_dataset(
    app: Any, world: dict[str, Any]
) -> None:
    g = graph(app, "/catalog.ttl")

    assert validate(g) == []
    listed = set(g.objects(None, DCAT.dataset))
    assert listed == {dataset_ref(d["id"]) for d in world["datasets"].values()}


@pytest.mark.parametrize("name", [d.name for d in DATASETS])
@pytest.mark.parametrize("fmt", ["ttl", "jsonld", "rdf"])
def test_each_demo_dataset_passes_the_shapes_in_each_format(
    app: Any, world: dict[str, Any], name: str, fmt: str
) -> None:
    g = graph(app, f"/dataset/{name}.{fmt}")

    assert validate(g) == []
    assert len(set(g.subjects(RDF.type, DCAT.Dataset))) == 1


def test_the_shapes_catch_what_they_are_for() -> None:
    g = rdflib.Graph()
    ds = rdflib.URIRef("https://example.org/dataset/x")
    g.add((ds, RDF.type, DCAT.Dataset))
    g.add((ds, DCTERMS.title, rdflib.Literal("No description, publisher or contact")))
    conforms, _report, text = pyshacl.validate(g, shacl_graph=str(SHAPES[0]), inference="none")
    assert not conforms
    for path in ("description", "publisher", "contactPoint", "distribution", "keyword"):
        assert path in text, path


# --- what our fields become ---------------------------------------------------------------------


def test_our_fields_are_mapped_where_harvesters_look(app: Any, world: dict[str, Any]) -> None:
    spec = DATASETS[0]
    made = world["datasets"][spec.name]
    g = graph(app, f"/dataset/{spec.name}.ttl")
    (ds,) = g.subjects(RDF.type, DCAT.Dataset)
    site = tk.config["ckan.site_url"].rstrip("/")

    assert str(g.value(ds, DCTERMS.title)) == spec.title
    # Topics and dimensions as keywords (their labels), besides the tags; topics as themes.
    keywords = {str(k) for k in g.objects(ds, DCAT.keyword)}
    schema = tk.h.scheming_get_dataset_schema("dataset")
    choices = {
        f["field_name"]: {c["value"]: c["label"] for c in f.get("choices", [])}
        for f in schema["dataset_fields"]
    }
    topics = [choices["equity_topics"][t] for t in made["equity_topics"]]
    dimensions = [choices["demographic_dimensions"][d] for d in made["demographic_dimensions"]]
    assert keywords == set(spec.tags) | set(topics) | set(dimensions)
    themes = {str(g.value(t, SKOS.prefLabel)) for t in g.objects(ds, DCAT.theme)}
    assert themes == set(topics)
    # Update frequency, period covered, place.
    frequency = g.value(ds, DCTERMS.accrualPeriodicity)
    known = profiles.FREQUENCIES.get(made["update_frequency"])  # "never" has no frequency
    assert (str(frequency) if frequency else None) == (profiles.FREQ + known if known else None)
    period = g.value(ds, DCTERMS.temporal)
    dates = {str(v)[:10] for p in (DCAT.startDate, DCAT.endDate) for v in g.objects(period, p)}
    assert dates == {made["temporal_start"][:10], made["temporal_end"][:10]}
    box = g.value(ds, DCATUS.geographicBoundingBox)
    points = re.findall(r"\[\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\]", json.dumps(json.loads(made["spatial"])))
    assert float(g.value(box, DCATUS.westBoundingLongitude)) == min(float(x) for x, _ in points)
    assert float(g.value(box, DCATUS.northBoundingLatitude)) == max(float(y) for _, y in points)
    # The organization publishes it; the contact is the portal's public one (the demo organizations
    # publish no e-mail), never the steward.
    org = world["orgs"][spec.organization]
    publisher = g.value(ds, DCTERMS.publisher)
    assert str(publisher) == f"{site}/organization/{org['name']}"
    assert str(g.value(publisher, SKOS.prefLabel)) == org["title"]
    contact = g.value(ds, DCAT.contactPoint)
    assert str(g.value(contact, VCARD.hasEmail)) == "mailto:" + tk.config["ckanext.cd3p.dcat.contact_email"]
    text = get(app, f"/dataset/{spec.name}.ttl").get_data(as_text=True)
    assert STEWARD not in text and "Pat Steward" not in text
    # Licence, landing page, each distribution with its format and its link.
    licence = g.value(ds, DCTERMS.license)  # "Other (Open)" has no address: a document named by it
    assert str(g.value(licence, rdflib.RDFS.label)) == made["license_title"]
    assert str(g.value(ds, DCAT.landingPage)) == f"{site}/dataset/{spec.name}"
    distributions = {str(g.value(d, DCTERMS.title)): d for d in g.objects(ds, DCAT.distribution)}
    for resource in spec.resources:
        d = distributions[resource.name]
        assert str(g.value(d, DCAT.downloadURL)) == f"https://data.example.org/{resource.path}"
        assert g.value(d, DCTERMS.format) is not None
    # The DataStore table's API, as the access URL.
    table = distributions["Households by tract (table)"]
    assert str(g.value(table, DCAT.accessURL)) == (
        f"{site}/api/3/action/datastore_search?resource_id={world['table']}"
    )


def test_an_organizations_public_contact_is_the_contact_point(app: Any, world: dict[str, Any]) -> None:
    spec = DATASETS[0]
    org = world["orgs"][spec.organization]
    site = {"user": partners.site_user()}
    call_action("organization_patch", site, id=org["id"], contact_email="hello@d3.example.org")
    try:
        g = graph(app, f"/dataset/{spec.name}.ttl")
        (ds,) = g.subjects(RDF.type, DCAT.Dataset)
        contact = g.value(ds, DCAT.contactPoint)
        assert str(g.value(contact, VCARD.hasEmail)) == "mailto:hello@d3.example.org"
        assert str(g.value(contact, VCARD.fn)) == org["title"]
    finally:
        call_action("organization_patch", site, id=org["id"], contact_email="")


# --- what never appears -------------------------------------------------------------------------


@pytest.fixture
def member(world: dict[str, Any]) -> dict[str, Any]:
    user = factories.UserWithToken()
    partners.join(world["orgs"][DATASETS[0].organization], user, "admin")
    return user


@pytest.mark.parametrize("who", ["anonymous", "member", "sysadmin"])
def test_partner_tier_and_organization_only_datasets_appear_in_no_output(
    app: Any, world: dict[str, Any], member: dict[str, Any], who: str
) -> None:
    user = {"anonymous": None, "member": member, "sysadmin": factories.SysadminWithToken()}[who]
    hidden = world["hidden"]
    # The member may read them on the portal...
    for dataset in hidden.values():
        assert get(app, f"/dataset/{dataset['name']}", member).status_code == 200

    # ...but no catalog output lists or describes them.
    for fmt in ("ttl", "jsonld", "xml"):
        text = get(app, f"/catalog.{fmt}", user).get_data(as_text=True)
        for dataset in hidden.values():
            assert dataset["id"] not in text and dataset["name"] not in text, (fmt, dataset["name"])
    for dataset in hidden.values():
        for fmt in ("ttl", "jsonld", "rdf"):
            assert get(app, f"/dataset/{dataset['name']}.{fmt}", user).status_code == 404
    assert get(app, "/dataset/no-such-dataset.ttl", user).status_code == 404


@pytest.mark.usefixtures("clean_datastore", "clean_index")
def test_a_held_dataset_leaves_the_catalog(
    app: Any, partner: dict[str, Any], put: Callable[..., Any]
) -> None:
    dataset = factories.Dataset(owner_org=partner["org"]["id"], access_level="public")
    assert dataset["name"] in get(app, "/catalog.ttl").get_data(as_text=True)
    personal = "participant,email,households\nMaria Johnson,maria.johnson@example.org,3\n"

    resource = put(personal.encode(), "participants.csv", dataset)

    assert wait_for_check(resource["id"])["state"] == "held"
    assert dataset["name"] not in get(app, "/catalog.ttl").get_data(as_text=True)
    assert get(app, f"/dataset/{dataset['name']}.ttl", partner["admin"]).status_code == 404


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("page=0", "Must be a whole number from 1 to 20000000"),
        ("page=abc", "Must be a whole number from 1 to 20000000"),
        ("page=%20%20", "Must be a whole number from 1 to 20000000"),
        ("page=99999999999999999999", "Must be a whole number from 1 to 20000000"),
        ("modified_since=yesterday-ish", "Date format incorrect"),
        ("profiles=euro_dcat_ap_3", "The only profile is cd3p_dcat_us_3"),
        ("q=a%00b", "q"),
        ("fq=" + "x" * 1001, "Must be at most 1000 characters"),
        ("fq=)", "The search could not be run"),
        ("q=title:(", "The search could not be run"),
        ("q=%7B!join%20from=id%20to=id%7Dx", "The search could not be run"),
    ],
)
def test_bad_catalog_parameters_are_refused_with_a_reason(
    app: Any, world: dict[str, Any], query: str, reason: str
) -> None:
    response = get(app, f"/catalog.ttl?{query}")
    assert response.status_code == 409
    assert reason in response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["a%00b", "x" * 101])
def test_a_bad_dataset_name_is_refused_with_a_reason(app: Any, world: dict[str, Any], name: str) -> None:
    response = get(app, f"/dataset/{name}.ttl")
    assert response.status_code == 409
    assert "id" in response.get_data(as_text=True)
