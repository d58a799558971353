"""The Detroit demo catalog, loaded through the real paths.

Organizations and datasets are made with the Action API, files are uploaded as resources, the
xloader worker loads the tables into the DataStore and Solr indexes everything. Loading twice changes
nothing: each object is looked up first and an upload is repeated only when its file has changed
(compared by SHA-256, kept on the resource as ``source_sha256``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ckan.plugins import toolkit as tk
from werkzeug.datastructures import FileStorage

from ckanext.cd3p import config as cd3p_config
from ckanext.cd3p.agreements.defaults import ensure_default_agreement
from ckanext.cd3p.common import geography
from ckanext.cd3p.impact import demo as impact_demo
from ckanext.cd3p.impact import reports
from ckanext.cd3p.indicators import registry as indicator_registry

log = logging.getLogger(__name__)

# Properties of the tract indicator GeoJSON that are left over from a join with the city boundary and
# carry no tract data (see SOURCES.md); they are left out of the derived CSV.
_BOUNDARY_LEFTOVERS = {
    "index_right",
    "FID",
    "acres",
    "cnty_code",
    "fipscode",
    "fipsnum",
    "label",
    "layout",
    "link",
    "name",
    "objectid",
    "peninsula",
    "shape_area",
    "shape_leng",
    "sqkm",
    "sqmiles",
    "type",
    "ver",
    "Shape__Are",
    "Shape__Len",
    "GlobalID",
    "CreationDa",
    "Creator",
    "EditDate",
    "Editor",
}


@dataclass(frozen=True)
class DemoResource:
    name: str
    path: str  # relative to the data folder
    format: str
    description: str
    # Builds the uploaded bytes from the source file; None uploads the file as it is.
    derive: Callable[[Path], bytes] | None = None
    # Data dictionary: DataStore type of each column that must not be left to xloader's guess
    # (identifiers such as GEOIDs and ZIP codes stay text so that leading zeros survive).
    types: tuple[tuple[str, str], ...] = ()

    @property
    def tabular(self) -> bool:
        return self.format in ("CSV", "TSV", "XLS", "XLSX")


@dataclass(frozen=True)
class DemoDataset:
    name: str
    title: str
    organization: str
    notes: str
    tags: tuple[str, ...]
    source_citation: str
    resources: tuple[DemoResource, ...]
    # Schema fields beyond the basics: topics, geography, period, method, access (schemas/dataset.yaml).
    metadata: dict[str, Any]
    license_id: str = "other-open"


def tract_indicators_csv(source: Path) -> bytes:
    """The tract indicator GeoJSON's attribute table as CSV, without the boundary-join leftovers."""
    features = json.loads(source.read_text())["features"]
    columns = [k for k in features[0]["properties"] if k not in _BOUNDARY_LEFTOVERS]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for feature in features:
        writer.writerow({k: "" if v is None else v for k, v in feature["properties"].items()})
    return out.getvalue().encode()


# The functions a resource's ``derive`` may name in demo_catalog.yaml.
_DERIVED: dict[str, Callable[[Path], bytes]] = {"tract_indicators_csv": tract_indicators_csv}


def _resource(spec: dict[str, Any]) -> DemoResource:
    derive = spec.pop("derive", None)
    types = spec.pop("types", {})
    return DemoResource(**spec, derive=_DERIVED[derive] if derive else None, types=tuple(types.items()))


def _catalog() -> tuple[tuple[dict[str, Any], ...], tuple[DemoDataset, ...]]:
    spec = yaml.safe_load((Path(__file__).with_name("demo_catalog.yaml")).read_text())
    datasets = tuple(
        DemoDataset(
            **{k: v for k, v in d.items() if k not in ("tags", "resources")},
            tags=tuple(d["tags"]),
            resources=tuple(_resource(r) for r in d["resources"]),
        )
        for d in spec["datasets"]
    )
    return tuple(spec["organizations"]), datasets


ORGANIZATIONS, DATASETS = _catalog()


# --- helpers ----------------------------------------------------------------------------------------


def _differs(current: Any, wanted: Any) -> bool:
    """Multiple choices come back in the schema's order, so lists of them compare as sets; repeating
    fields (lists of objects) keep their order."""
    if (
        isinstance(wanted, list)
        and isinstance(current, list)
        and not any(isinstance(v, dict) for v in wanted)
    ):
        return sorted(current) != sorted(wanted)
    return current != wanted


def _file_name(resource: DemoResource) -> str:
    stem = Path(resource.path).stem
    return f"{stem}.{resource.format.lower()}"


def _payload(data_dir: Path, resource: DemoResource) -> bytes:
    source = data_dir / resource.path
    return resource.derive(source) if resource.derive else source.read_bytes()


class DemoLoader:
    """Creates what is missing of the demo catalog, as the given sysadmin."""

    def __init__(self, data_dir: Path, user: str, echo: Callable[[str], None] = log.info) -> None:
        if not (data_dir / "boundaries").is_dir() or not (data_dir / "indicators").is_dir():
            raise tk.ObjectNotFound(
                f"Detroit data folder not found or incomplete: {data_dir} "
                "(set ckanext.cd3p.data_dir or CD3P_DATA_DIR)"
            )
        self.data_dir = data_dir
        self.user = user
        self.echo = echo

    def _call(self, action: str, **data_dict: Any) -> Any:
        context = {"user": self.user, "ignore_auth": False}
        return tk.get_action(action)(context, data_dict)

    def _show(self, action: str, id_: str) -> dict[str, Any] | None:
        try:
            return self._call(action, id=id_)
        except tk.ObjectNotFound:
            return None

    def load(self) -> dict[str, dict[str, str]]:
        """Makes sure every organization, dataset and resource exists.

        Returns each tabular resource's id with the column types its specification declares.
        """
        agreement = ensure_default_agreement(self.echo)
        for org in ORGANIZATIONS:
            existing = self._show("organization_show", org["name"])
            if existing is None or existing.get("state") != "active":
                self._call("organization_create", **org)
                self.echo(f"created organization {org['name']}")
            self._sign(org["name"], agreement)
        tabular: dict[str, dict[str, str]] = {}
        for dataset in DATASETS:
            tabular.update(self._load_dataset(dataset))
        return tabular

    def _sign(self, org_name: str, agreement: dict[str, Any]) -> None:
        """The demo organizations are partners: their admin (the demo sysadmin, who created them)
        signs the active agreement for them, as a partner's admin would on the signing page."""
        if self._call("cd3p_agreement_status", organization_id=org_name)["current"]:
            return
        self._call(
            "cd3p_agreement_sign",
            organization_id=org_name,
            agreement_id=agreement["id"],
            signatory_name="Demo Signatory",
            signatory_title="Portal administrator (demo data)",
            confirm_authority=True,
            text_sha256=agreement["text_sha256"],
        )
        self.echo(f"signed agreement {agreement['version']} for {org_name}")

    def _ensure_dataset(self, fields: dict[str, Any], fixed: tuple[str, ...] = ("tags", "owner_org")) -> Any:
        """The dataset named in ``fields``: created, brought back if deleted, or patched where an
        earlier load's metadata differ (``fixed`` fields are set on creation only)."""
        name = fields["name"]
        pkg = self._show("package_show", name)
        if pkg is None:
            pkg = self._call("package_create", **fields)
            self.echo(f"created dataset {name}")
        elif pkg.get("state") != "active":  # a deleted dataset keeps its name; bring it back
            pkg = self._call("package_update", **fields, id=pkg["id"], state="active")
            self.echo(f"created dataset {name}")
        else:
            changed = {k: v for k, v in fields.items() if k not in fixed and _differs(pkg.get(k), v)}
            if changed:
                pkg = self._call("package_patch", id=pkg["id"], **changed)
                self.echo(f"updated {', '.join(sorted(changed))} of dataset {name}")
        return pkg

    def _ensure_file(self, pkg: dict[str, Any], payload: bytes, **fields: Any) -> Any:
        """The resource of ``pkg`` named ``fields["name"]`` holding ``payload``: uploaded when
        missing, uploaded again when its file changed (by SHA-256), else left alone."""
        digest = hashlib.sha256(payload).hexdigest()
        current = next((r for r in pkg.get("resources", []) if r["name"] == fields["name"]), None)
        if current is not None and current.get("source_sha256") == digest:
            return current
        upload = FileStorage(io.BytesIO(payload), filename=fields["url"])
        res_fields = {**fields, "package_id": pkg["id"], "upload": upload, "source_sha256": digest}
        if current is None:
            self.echo(f"uploading {fields['name']} to {pkg['name']}")
            return self._call("resource_create", **res_fields)
        self.echo(f"re-uploading changed file {fields['name']} to {pkg['name']}")
        return self._call("resource_update", id=current["id"], **res_fields)

    def _load_dataset(self, spec: DemoDataset) -> Iterable[tuple[str, dict[str, str]]]:
        pkg = self._ensure_dataset(
            {
                "name": spec.name,
                "title": spec.title,
                "owner_org": spec.organization,
                "notes": spec.notes,
                "tags": [{"name": t} for t in spec.tags],
                "license_id": spec.license_id,
                "source_citation": spec.source_citation,
                **spec.metadata,
            }
        )
        for spec_res in spec.resources:
            resource = self._ensure_file(
                pkg,
                _payload(self.data_dir, spec_res),
                name=spec_res.name,
                description=spec_res.description,
                format=spec_res.format,
                url=_file_name(spec_res),
            )
            if spec_res.tabular:
                yield resource["id"], dict(spec_res.types)

    # --- the illustrative programmes (impact) ------------------------------------------------------

    def _need_index(self) -> dict[str, float] | None:
        """The Digital Equity Index per tract, which tilts where the illustrative programmes serve
        (None while its sources are not loaded)."""
        index = indicator_registry.registry().index
        if index is None:
            return None
        try:
            shown = self._call("cd3p_indicator_show", id=index.id, level="tract")
        except (tk.ObjectNotFound, tk.NotAuthorized, tk.ValidationError):
            return None
        return {v["id"]: v["value"] for v in shown["values"] if isinstance(v.get("value"), int | float)}

    def load_programmes(self) -> list[str]:
        """Creates the illustrative programmes of ``impact/demo.py`` (fixed seed) with their outcome
        reports, each marked illustrative; returns the reports' resource ids, to wait for.

        They are generated after the indicator tables have loaded, since the Digital Equity Index
        tilts where they serve: the same data and seed give the same reports, byte for byte, so a
        second load uploads nothing."""
        generated = impact_demo.programmes(
            [org["name"] for org in ORGANIZATIONS],
            sorted(geography.tracts()),
            need_index=self._need_index(),
            zips=cd3p_config.detroit_zip_codes(),
            districts=[p.code for p in geography.council_districts()],
        )
        ids = []
        for spec in generated:
            pkg = self._ensure_dataset(impact_demo.dataset_fields(spec), fixed=("owner_org", "type"))
            resource = self._ensure_file(
                pkg,
                reports.rows_csv(spec["rows"]),
                name=impact_demo.REPORT_NAME,
                description=impact_demo.REPORT_DESCRIPTION,
                format="CSV",
                url=f"{spec['name']}-outcomes.csv",
            )
            ids.append(resource["id"])
        return ids

    def wait_for_datastore(
        self, resource_ids: list[str], timeout: float = 600, submitted: bool = False
    ) -> dict[str, str]:
        """Waits until xloader has loaded each resource; resubmits ones whose load failed or was lost.

        ``submitted``: the resources were just submitted, so wait for those jobs even where an
        earlier table is already active. Returns each resource's final xloader status ("complete",
        "error", or "pending" on timeout).
        """
        states: dict[str, str] = {}
        for rid in resource_ids:
            # datastore_active is no sign of a finished load: xloader sets it with the first rows.
            status = None if submitted else self._xloader_status(rid)
            if submitted or status in ("submitting", "pending", "running"):
                states[rid] = "pending"
            elif status == "complete" or (
                status is None and self._call("resource_show", id=rid).get("datastore_active")
            ):
                states[rid] = "complete"  # loaded by xloader, or a table made with the DataStore API
            else:
                # Never submitted, or failed: submit (again).
                self._call("xloader_submit", resource_id=rid, ignore_hash=True)
                self.echo(f"submitted resource {rid} to the DataStore loader")
                states[rid] = "pending"
        deadline = time.monotonic() + timeout
        while any(s == "pending" for s in states.values()) and time.monotonic() < deadline:
            time.sleep(1)
            for rid, state in states.items():
                if state != "pending":
                    continue
                status = self._xloader_status(rid)
                if status in ("complete", "error"):
                    states[rid] = status
                    name = self._call("resource_show", id=rid)["name"]
                    self.echo(f"DataStore load of {name}: {status}")
        return states

    def apply_types(self, types: dict[str, dict[str, str]]) -> list[str]:
        """Sets the declared column types in each loaded table's data dictionary.

        A table whose columns already have those types is left alone; the others are re-submitted
        to xloader, which recreates them with the dictionary's types. Returns the re-submitted ids.
        """
        reload = []
        for rid, wanted in types.items():
            if not wanted:
                continue
            fields = self._call("datastore_info", id=rid)["fields"]
            if all(f["type"] == wanted.get(f["id"], f["type"]) for f in fields):
                continue
            self._call(
                "datastore_create",
                resource_id=rid,
                force=True,
                fields=[
                    {
                        "id": f["id"],
                        "type": f["type"],
                        "info": {**f.get("info", {}), "type_override": wanted.get(f["id"], f["type"])},
                    }
                    for f in fields
                ],
            )
            self._call("xloader_submit", resource_id=rid, ignore_hash=True)
            reload.append(rid)
        return reload

    def run(self, wait: bool = True, timeout: float = 600) -> dict[str, str]:
        """Loads the catalog and, with ``wait``, every table with its declared column types.

        Returns the final xloader status of each tabular resource (empty without ``wait``).
        """
        types = self.load()
        if not wait:
            return {}
        states = self.wait_for_datastore(list(types), timeout=timeout)
        retyped = self.apply_types({rid: types[rid] for rid, s in states.items() if s == "complete"})
        if retyped:
            self.echo(f"reloading {len(retyped)} table(s) with their data dictionary types")
            states.update(self.wait_for_datastore(retyped, timeout=timeout, submitted=True))
        reports_ = self.load_programmes()
        states.update(self.wait_for_datastore(reports_, timeout=timeout))
        return states

    def _xloader_status(self, resource_id: str) -> str | None:
        try:
            return self._call("xloader_status", resource_id=resource_id).get("status")
        except tk.ObjectNotFound:
            return None
