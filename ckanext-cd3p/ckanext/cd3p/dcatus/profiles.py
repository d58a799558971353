"""The ``cd3p_dcat_us_3`` RDF profile: ckanext-dcat's DCAT-US 3 profile, fed with our schema.

ckanext-dcat's profile reads CKAN's core fields and a few names of its own (``frequency``,
``contact_*``, ``publisher_*``, ``temporal_start``...). :meth:`CD3PDCATUS3Profile.graph_from_dataset`
hands it a copy of the dataset with ours put under those names, then adds what it has no field for:

- keywords: the tags, and the labels of the equity topics and demographic dimensions;
- themes: each equity topic as a ``skos:Concept`` (its address is the catalog search on that topic)
  in the scheme "CD3P equity topics";
- ``accrualPeriodicity``: the update frequency, as a Dublin Core frequency (``freq:monthly``...);
- publisher: the organization (its page, name, website); ``contactPoint``: the organization's
  *public* contact e-mail, else the portal's (``ckanext.cd3p.dcat.contact_email``), never the data
  steward, whose fields are dropped before anything is written;
- each distribution's file as ``downloadURL`` and, for a table in the DataStore, its
  ``datastore_search`` API as ``accessURL``; a file that has not passed its check before loading
  is left out, as it is from a visitor's downloads;
- the dataset's bounding box (``dcat-us:geographicBoundingBox``) from its GeoJSON extent.

What a catalog may describe at all is decided in ``logic/action.py`` (what a visitor may see).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

from ckan.plugins import toolkit as tk
from rdflib import BNode, Literal, URIRef

from ckanext.cd3p import config as cd3p_config
from ckanext.cd3p.common.memo import remembered
from ckanext.cd3p.dcatus.logic.action import as_visitor
from ckanext.cd3p.ingestion import checks
from ckanext.dcat.profiles.base import DCAT, DCT, RDF, RDFS, SKOS, VCARD, CleanedURIRef
from ckanext.dcat.profiles.dcat_us_3 import DCATUS, DCATUS3Profile

# Our update frequencies as the Dublin Core Collection Description Frequency vocabulary
# (http://purl.org/cld/freq/), which DCAT-US names for accrualPeriodicity. "Never" has none.
FREQ = "http://purl.org/cld/freq/"
FREQUENCIES = {
    "continuous": "continuous",
    "daily": "daily",
    "weekly": "weekly",
    "monthly": "monthly",
    "quarterly": "quarterly",
    "semiannual": "semiannual",
    "annual": "annual",
    "irregular": "irregular",
}
# Formats as the EU file-type authority names them (dct:format), which DCAT-US takes as IRIs;
# media types as IANA's registry pages (dcat:mediaType).
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
FILE_TYPES = {"CSV": "CSV", "GEOJSON": "GEOJSON", "JSON": "JSON", "XLSX": "XLSX", "XLS": "XLS", "PDF": "PDF"}
FILE_TYPES |= {"ZIP": "ZIP", "TSV": "TSV", "TXT": "TXT", "SHP": "SHP", "XML": "XML"}
MEDIA_TYPE = "https://www.iana.org/assignments/media-types/"
# The catalog's language, as the Library of Congress's ISO 639-1 list names it.
LANGUAGE = "http://id.loc.gov/vocabulary/iso639-1/"
FOAF_AGENT = URIRef("http://xmlns.com/foaf/0.1/Agent")
FOAF_NAME = URIRef("http://xmlns.com/foaf/0.1/name")
ORG = URIRef("http://www.w3.org/ns/org#Organization")
# Fields of ours that no catalog output may carry.
PRIVATE_FIELDS = ("steward_name", "steward_email")


def _site() -> str:
    return tk.config["ckan.site_url"].rstrip("/")


def _choices(field_name: str) -> dict[str, str]:
    """The dataset schema's labels of a field's choices (English: the catalog's language)."""
    schema = tk.h.scheming_get_dataset_schema("dataset") or {}
    for field in schema.get("dataset_fields", []):
        if field.get("field_name") == field_name:
            return {c["value"]: str.__str__(c["label"]) for c in tk.h.scheming_field_choices(field) or []}
    return {}


def _values(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str) and value.startswith("["):
        try:
            return [str(v) for v in json.loads(value)]
        except ValueError:
            return []
    return [value] if isinstance(value, str) and value else []


def _organization(org_id: str) -> dict[str, Any]:
    """The organization as a visitor sees it, once per request."""
    return remembered(
        "dcatus",
        ("organization", org_id),
        lambda: tk.get_action("organization_show")(
            as_visitor({}), {"id": org_id, "include_datasets": False, "include_users": False}
        ),
    )


def _coordinates(geometry: Any) -> Iterator[tuple[float, float]]:
    if isinstance(geometry, dict):
        if geometry.get("type") == "Feature":
            yield from _coordinates(geometry.get("geometry"))
        elif geometry.get("type") == "FeatureCollection":
            for feature in geometry.get("features") or []:
                yield from _coordinates(feature)
        elif geometry.get("type") == "GeometryCollection":
            for part in geometry.get("geometries") or []:
                yield from _coordinates(part)
        else:
            yield from _coordinates(geometry.get("coordinates"))
    elif isinstance(geometry, list | tuple):
        if len(geometry) >= 2 and all(isinstance(c, int | float) for c in geometry[:2]):
            yield float(geometry[0]), float(geometry[1])
        else:
            for part in geometry:
                yield from _coordinates(part)


def bounding_box(spatial: Any) -> dict[str, float] | None:
    """West, east, south and north of a GeoJSON geometry (text or parsed); None without one."""
    try:
        geometry = json.loads(spatial) if isinstance(spatial, str) else spatial
    except ValueError:
        return None
    points = list(_coordinates(geometry))
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return {"west": min(xs), "east": max(xs), "south": min(ys), "north": max(ys)}


def _published(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The resources a visitor may download (a checked file that has not passed stays out), each
    with its file as ``download_url`` and, when its table is in the DataStore, the API as
    ``access_url``. One query for the dataset's checks."""
    latest = checks.latest_of([r["id"] for r in resources])
    out = []
    for resource in resources:
        check = latest.get(resource["id"])
        if check is not None and check.state != "passed":
            continue
        shown = {k: v for k, v in resource.items() if k not in ("access_url", "download_url")}
        if resource.get("url") and resource.get("url_type") != "datastore":
            shown["download_url"] = resource["url"]
        if resource.get("datastore_active"):
            api = f"{_site()}/api/3/action/datastore_search?{urlencode({'resource_id': resource['id']})}"
            shown["access_url"] = api
            shown.setdefault("url", api)
        out.append(shown)
    return out


class CD3PDCATUS3Profile(DCATUS3Profile):
    """DCAT-US 3 for CD3P's dataset schema (see the module's description)."""

    def _mapped(self, dataset_dict: dict[str, Any]) -> dict[str, Any]:
        """A copy of the dataset with our fields under the names ckanext-dcat's profile reads."""
        out = {k: v for k, v in dataset_dict.items() if k not in PRIVATE_FIELDS}
        out["extras"] = [e for e in out.get("extras") or [] if e.get("key") not in PRIVATE_FIELDS]
        site = _site()
        out["url"] = f"{site}/dataset/{dataset_dict['name']}"  # the landing page: the dataset's
        frequency = FREQUENCIES.get(dataset_dict.get("update_frequency") or "")
        if frequency:
            out["frequency"] = FREQ + frequency
        labels = [
            *(_choices("equity_topics").get(v, v) for v in _values(dataset_dict.get("equity_topics"))),
            *(
                _choices("demographic_dimensions").get(v, v)
                for v in _values(dataset_dict.get("demographic_dimensions"))
            ),
        ]
        known = {t["name"] for t in out.get("tags") or []}
        out["tags"] = [*(out.get("tags") or []), *({"name": x} for x in labels if x not in known)]
        out["access_rights"] = "public"
        org_id = dataset_dict.get("owner_org")
        if org_id:
            org = _organization(org_id)
            out["publisher_uri"] = f"{site}/organization/{org['name']}"
            out["publisher_name"] = org.get("title") or org["name"]
            if org.get("website"):
                out["publisher_url"] = org["website"]
            email = org.get("contact_email") or cd3p_config.dcat_contact_email()
            if email:
                out["contact_name"] = org.get("title") or org["name"]
                out["contact_email"] = email
                out["contact_uri"] = f"{site}/organization/{org['name']}#contact"
        box = bounding_box(dataset_dict.get("spatial"))
        if box:
            out["bbox"] = [box]
        out["resources"] = _published(out.get("resources") or [])
        return out

    def graph_from_dataset(self, dataset_dict: dict[str, Any], dataset_ref: Any) -> None:
        mapped = self._mapped(dataset_dict)
        super().graph_from_dataset(mapped, dataset_ref)
        self._themes(mapped, dataset_ref)
        g = self.g
        for contact in g.objects(dataset_ref, DCAT.contactPoint):
            g.set((contact, RDF.type, VCARD.Kind))
        for box in g.objects(dataset_ref, DCATUS.geographicBoundingBox):
            g.set((box, RDF.type, DCATUS.GeographicBoundingBox))  # the class, capitalised
        for distribution in g.objects(dataset_ref, DCAT.distribution):
            self._as_iris(distribution)
        if g.value(dataset_ref, DCT.license) is None and mapped.get("license_title"):
            # A licence without an address ("Other (Open)"): a licence document named by its title.
            licence = BNode()
            g.add((dataset_ref, DCT.license, licence))
            g.add((licence, RDF.type, DCT.LicenseDocument))
            g.add((licence, RDFS.label, Literal(mapped["license_title"])))

    def _as_iris(self, distribution: Any) -> None:
        """A distribution's format and media type as the IRIs DCAT-US asks for."""
        g = self.g
        for fmt in list(g.objects(distribution, DCT["format"])):
            known = FILE_TYPES.get(str(fmt).upper()) if isinstance(fmt, Literal) else None
            if known:
                g.remove((distribution, DCT["format"], fmt))
                g.add((distribution, DCT["format"], URIRef(FILE_TYPE + known)))
        for media in list(g.objects(distribution, DCAT.mediaType)):
            if isinstance(media, Literal) and re.fullmatch(r"[\w.+-]+/[\w.+-]+", str(media)):
                g.remove((distribution, DCAT.mediaType, media))
                g.add((distribution, DCAT.mediaType, URIRef(MEDIA_TYPE + str(media))))

    def _themes(self, dataset_dict: dict[str, Any], dataset_ref: Any) -> None:
        """Each equity topic as a theme: a concept of the scheme "CD3P equity topics"."""
        site = _site()
        scheme = URIRef(f"{site}/dataset/#equity-topics")
        labels = _choices("equity_topics")
        topics = _values(dataset_dict.get("equity_topics"))
        if topics:
            self.g.add((scheme, RDF.type, SKOS.ConceptScheme))
            self.g.add((scheme, DCT.title, Literal("CD3P equity topics")))
        for topic in topics:
            concept = CleanedURIRef(f"{site}/dataset/?equity_topics={quote(topic)}")
            self.g.add((dataset_ref, DCAT.theme, concept))
            self.g.add((concept, RDF.type, SKOS.Concept))
            self.g.add((concept, SKOS.prefLabel, Literal(labels.get(topic, topic))))
            self.g.add((concept, SKOS.inScheme, scheme))

    def graph_from_catalog(self, catalog_dict: dict[str, Any] | None, catalog_ref: Any) -> None:
        super().graph_from_catalog(catalog_dict, catalog_ref)
        g = self.g
        g.set((catalog_ref, DCT.language, URIRef(LANGUAGE + (tk.config.get("ckan.locale_default") or "en"))))
        publisher = BNode()
        g.add((catalog_ref, DCT.publisher, publisher))
        g.add((publisher, RDF.type, ORG))
        g.add((publisher, RDF.type, FOAF_AGENT))
        name = cd3p_config.dcat_publisher()
        g.add((publisher, FOAF_NAME, Literal(name)))
        g.add((publisher, SKOS.prefLabel, Literal(name)))
        email = cd3p_config.dcat_contact_email()
        if email:
            contact = URIRef(f"{_site()}/#contact")
            g.add((catalog_ref, DCAT.contactPoint, contact))
            g.add((contact, RDF.type, VCARD.Kind))
            g.add((contact, VCARD.fn, Literal(tk.config.get("ckan.site_title") or name)))
            g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{email}")))

    def _last_catalog_modification(self) -> str | None:
        """The newest change of a dataset a visitor may see (ckanext-dcat's looks at every one)."""
        result = tk.get_action("package_search")(
            as_visitor({}), {"sort": "metadata_modified desc", "rows": 1, "fl": "metadata_modified"}
        )
        results = result.get("results") or []
        return results[0]["metadata_modified"] if results else None
