"""Bad input gets a clear error and changes nothing: a generated test of every action the plugin
registers and of every page and POST route of its blueprints.

Nothing here is listed by hand. The actions are the plugin's own (``get_actions``: ours and the
core ones we chain); their parameters are read from their docstrings (``:param name:``; for a
chained core action, core's docstring) and their required ones from the error an empty call gets.
The routes are the plugin's blueprints' URL rules; the query and form fields they read are found in
the views' source. Each is called with no parameters, each required one missing in turn, and each
parameter given every value of :data:`BAD` (wrong types, 100 KB strings, NUL and control
characters, a lone surrogate, markup, numbers past PostgreSQL's bigint, ids that do not exist), as
an anonymous visitor, a registered user and a sysadmin.

An action's answer must be a success or one of the errors the Action API answers with a 4xx
(``ValidationError`` naming a field, and the field left out when one was; ``NotAuthorized``,
``ObjectNotFound``, a search query error); a page's must be below 500. A refused call must change
nothing (:class:`Fingerprint`). A bad value may be refused for another field, or taken: text with
markup is text, and a call that succeeded changes the world the next calls meet.
"""

from __future__ import annotations

import inspect
import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.lib.search.common import SearchError, SearchQueryError
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action
from ckanext.datastore.backend.postgres import get_write_engine

from ckanext.cd3p.common import model as cd3p_model
from ckanext.cd3p.common import pages
from ckanext.cd3p.plugin import Cd3pPlugin
from tests import factories, partners
from tests.helpers import tract_table, worker_idle
from tests.web import PASSWORD, Browser, person

pytestmark = pytest.mark.usefixtures("with_plugins")

ROLES = ["anonymous", "registered", "sysadmin"]
MISSING_ID = "no-such-" + uuid.UUID(int=7).hex

# Every value each parameter is given in turn.
BAD: list[Any] = [
    None,
    -1,
    2**63,
    1.5,
    True,
    [],
    ["x"],
    {"a": "b"},
    "",
    "   ",
    "x" * 100_000,
    "[" * 100_000,  # JSON nested past what Python's parser takes (RecursionError)
    "a\x00b",
    "\ud800",
    "\x01\x02\x1b[31m\x7f",
    "<script>alert(1)</script>",
    "javascript:alert(5)",
    "99999999999999999999999",
    MISSING_ID,
]


def _label(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 40 else text[:37] + "..."


# --- actions --------------------------------------------------------------------------------------


def _core_function(name: str) -> Any:
    """The core action a chained one wraps (its docstring lists the parameters)."""
    import importlib

    modules = [f"ckan.logic.action.{m}" for m in ("get", "create", "update", "delete", "patch")]
    extensions = ("ckanext.datastore.logic.action", "ckanext.activity.logic.action", "ckanext.dcat.logic")
    for module in (*modules, *extensions):
        found = getattr(importlib.import_module(module), name, None)
        if found is not None:
            return found
    raise LookupError(f"no core action {name} for the chained one")


def _actions() -> dict[str, Any]:
    """The plugin's actions, each with the function whose docstring documents it."""
    found = {}
    for name, func in Cd3pPlugin().get_actions().items():
        found[name] = _core_function(name) if getattr(func, "chained_action", False) else func
    return found


ACTIONS = _actions()
_PARAM = re.compile(r"^\s*:param\s+(?:[\w\[\]]+\s+)?(\w+):", re.MULTILINE)


_SCHEMA = re.compile(r"\bschema\.(\w+)\(\)")
# ckanext-dcat's actions document no parameters: the ones its views pass.
_DCAT = ["page", "modified_since", "q", "fq", "format", "profiles"]
UNDOCUMENTED = {"dcat_dataset_show": ["id", "format", "profiles"], "dcat_catalog_show": _DCAT}
UNDOCUMENTED["dcat_catalog_search"] = _DCAT


def _params(name: str) -> list[str]:
    """The documented parameters; for an update, its create's too (core documents them there); for
    ours, the keys of the schemas the action validates with."""
    func = ACTIONS[name]
    found = set(_PARAM.findall(inspect.getdoc(func) or "")) | set(UNDOCUMENTED.get(name, ()))
    if name.endswith("_update") and name.replace("_update", "_create") in ACTIONS:
        found |= set(_PARAM.findall(inspect.getdoc(ACTIONS[name.replace("_update", "_create")]) or ""))
    if name.startswith("cd3p_"):
        for schema_name in _SCHEMA.findall(inspect.getsource(func)):
            found |= set(getattr(inspect.getmodule(func).schema, schema_name)())
    return sorted(found)


def _call(name: str, user: str, data: dict[str, Any]) -> tuple[str, Any]:
    """Calls the action as the user: ``("ok", result)``, ``("refused", error)`` or ``("crash", error)``."""
    try:
        return "ok", tk.get_action(name)({"user": user, "ignore_auth": False}, dict(data))
    except tk.ValidationError as e:
        return "refused", e
    except (tk.NotAuthorized, tk.ObjectNotFound, SearchQueryError, SearchError) as e:
        return "refused", e
    except Exception as e:  # every other exception is the Action API's 500
        return "crash", e
    finally:
        model.Session.rollback()


class Fingerprint:
    """What a refused call must not change: the rows of CKAN's tables and ours, and the DataStore's
    tables, read on connections of the test's own (autocommit: each read sees what is committed)."""

    COUNTED = ("package", "resource", '"group"', "member", '"user"', "activity", "package_extra")
    STATES = (
        "(SELECT max(metadata_modified) FROM package)",
        "(SELECT max(metadata_modified) FROM resource)",
        "(SELECT string_agg(state, ',' ORDER BY id) FROM cd3p_agreement)",
        "(SELECT string_agg(state, ',' ORDER BY id) FROM cd3p_partner_application)",
        "(SELECT string_agg(state, ',' ORDER BY id) FROM cd3p_membership_request)",
        "(SELECT string_agg(state, ',' ORDER BY id) FROM cd3p_resource_check)",
        "(SELECT string_agg(state || updated, ',' ORDER BY id) FROM cd3p_data_request)",
    )

    def __init__(self) -> None:
        tables = [*self.COUNTED, *(t.name for t in cd3p_model.tables())]
        self.names = [*(f"rows of {t}" for t in tables), *self.STATES]
        self.query = sa.text(
            "SELECT " + ", ".join([*(f"(SELECT count(*) FROM {t})" for t in tables), *self.STATES])
        )
        self.ckan = model.meta.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.datastore = get_write_engine().connect().execution_options(isolation_level="AUTOCOMMIT")

    def __call__(self) -> dict[str, Any]:
        row = self.ckan.execute(self.query).one()
        tables = self.datastore.execute(
            sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        ).scalar()
        return {**dict(zip(self.names, row, strict=True)), "DataStore tables": tables}

    @staticmethod
    def changed(before: dict[str, Any], after: dict[str, Any]) -> str:
        """What differs, by name: a failure says which table a refused call touched."""
        return ", ".join(f"{k}: {before[k]!r} -> {after[k]!r}" for k in before if before[k] != after[k])

    def close(self) -> None:
        self.ckan.close()
        self.datastore.close()


def _world() -> dict[str, Any]:
    """One of everything an action acts on; ``ids`` gives a real value for each parameter name."""
    site = {"user": partners.site_user()}
    w: dict[str, Any] = {"sysadmin": factories.Sysadmin(password=PASSWORD), "registered": person()}
    agreement = partners.active_agreement()
    draft = call_action("cd3p_agreement_create", site, version="2099-1", title="Next", body="Next text")
    admin = person()
    org = partners.organization(admin, name="fuzz-partner")
    dataset = factories.Dataset(owner_org=org["id"], name="fuzz-data")
    resource = tract_table(dataset)
    applicant = person()
    application = partners.apply(
        applicant, "Eastside Tech Circle", contact_name="Applicant", contact_email="applicant@example.org"
    )
    asker = person()
    request_ = call_action(
        "cd3p_membership_request_create",
        {"user": asker["name"]},
        organization_id=org["id"],
        acknowledge=True,
    )
    entry = call_action("cd3p_signature_list", site, organization_id=org["id"])["results"][0]
    data_request = call_action(
        "cd3p_data_request_create",
        {"user": w["registered"]["name"]},
        title="Broadband by block",
        description="For Osborn",
    )
    saved_query = call_action(
        "cd3p_saved_query_create",
        {"user": w["registered"]["name"]},
        name="Fuzz",
        spec={"resource_id": resource["id"]},
    )
    w.update(
        saved_query=saved_query,
        org=org,
        admin=admin,
        dataset=dataset,
        resource=resource,
        draft=draft,
        application=application,
        request=request_,
        entry=entry,
        agreement=agreement,
        data_request=data_request,
    )
    return w


def _real(w: dict[str, Any], action: str, param: str) -> Any:
    """A value of the world for the parameter, so that a call reaches past its first look-up."""
    if param == "id":
        for prefix, value in (
            ("cd3p_agreement", w["draft"]["id"]),
            ("cd3p_partner_application", w["application"]["id"]),
            ("cd3p_membership_request", w["request"]["id"]),
            ("cd3p_resource", w["resource"]["id"]),
            ("cd3p_signature", w["entry"]["id"]),
            ("cd3p_data_request", w["data_request"]["id"]),
            ("cd3p_partner_show", w["org"]["name"]),
            ("cd3p_saved_query", w["saved_query"]["id"]),
            ("cd3p_freshness", w["dataset"]["id"]),
            ("cd3p_feed", w["resource"]["id"]),
            ("cd3p_indicator_show", "households-without-broadband"),
            ("cd3p_place_show", "city"),
            ("cd3p_impact_place_show", "26163500100"),
            ("package", w["dataset"]["id"]),
            ("resource", w["resource"]["id"]),
            ("organization", w["org"]["id"]),
            ("member", w["org"]["id"]),
        ):
            if action.startswith(prefix):
                return value
        return MISSING_ID
    return {
        "organization_id": w["org"]["id"],
        "agreement_id": w["agreement"]["id"],
        "resource_id": w["resource"]["id"],
        "package_id": w["dataset"]["id"],
        "dataset_id": w["dataset"]["id"],
        "duplicate_of": w["data_request"]["id"],
        "owner_org": w["org"]["id"],
        "group_id": w["org"]["id"],
        "user_id": w["registered"]["id"],
        "object": w["registered"]["name"],
        "username": w["registered"]["name"],
        "object_type": "user",
        "capacity": "member",
        "role": "member",
        "level": "tract",
        "name": "fuzz-name",
        "title": "Fuzz",
        "sql": f'SELECT * FROM "{w["resource"]["id"]}"',
        "acknowledge": True,
        "confirm_authority": True,
        "sector": "nonprofit",
        # the partner directory's filters and gaps: real values, so that the other fields are reached
        "service": "device_distribution",
        "district": "district-3",
        # the analysis workspace: a query of a real table, so that the other fields are reached
        "spec": json.dumps({"resource_id": w["resource"]["id"]}),
        "contact_email": "fuzz@example.org",
        "email": "fuzz@example.org",
    }.get(param, "x")


def _required(name: str) -> set[str]:
    """The parameters an empty call by a sysadmin is told are missing."""
    outcome, error = _call(name, partners.site_user(), {})
    if outcome == "refused" and isinstance(error, tk.ValidationError):
        return {k for k in error.error_dict if k in _params(name) or k in ("id", "resource_id")}
    return set()


def _cases(name: str, w: dict[str, Any]) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    """(what, the field at fault, data): no parameters; each required one missing; each bad value."""
    params = _params(name)
    required = _required(name)
    base = {p: _real(w, name, p) for p in sorted(required)}
    yield "no parameters", None, {}
    for p in sorted(required):
        yield f"{p} missing", p, {k: v for k, v in base.items() if k != p}
    for p in params:
        for value in BAD:
            yield f"{p}={_label(value)}", p, {**base, p: value}


def _names(error: tk.ValidationError, params: list[str]) -> set[str]:
    """The fields an error names: its keys, but for core's ``message`` (unless a field is so named)."""
    return {k for k in (error.error_dict or {}) if k != "message" or k in params}


def _names_field(error: tk.ValidationError, field: str, params: list[str]) -> bool:
    """The error names the field: as its key, or in the message of core's unknown keys."""
    return field in _names(error, params) or field in str((error.error_dict or {}).get("__extras", ""))


# A call that succeeds may reindex a dataset; nothing here searches for what it wrote, so Solr is
# not asked to commit each time (it commits on its own schedule).
@pytest.mark.ckan_config("ckan.search.solr_commit", "false")
@pytest.mark.slow
@pytest.mark.usefixtures("clean_db", "clean_index")
@pytest.mark.parametrize("part", ["resource_update", "the others"])
@pytest.mark.parametrize("role", ROLES)
def test_every_action_answers_bad_input_with_a_clear_error(role: str, part: str) -> None:
    """In two parts, so that the parallel processes share the work: a sysadmin's successful
    resource_update reindexes the dataset each time and takes as long as all the others."""
    w = _world()
    user = {"anonymous": "", "registered": w["registered"]["name"], "sysadmin": w["sysadmin"]["name"]}[role]
    wrong: list[str] = []
    calls = 0
    took: dict[str, float] = {}
    fingerprint = Fingerprint()
    for name in sorted(n for n in ACTIONS if (n == "resource_update") == (part == "resource_update")):
        started = time.perf_counter()
        params = _params(name)
        for what, field, data in _cases(name, w):
            before = fingerprint()
            outcome, result = _call(name, user, data)
            calls += 1
            if outcome == "ok" and name == "resource_create":
                # Taken, and taken away again: a dataset that grew by a resource per accepted value
                # would make each later call slower than the one before.
                _call("resource_delete", partners.site_user(), {"id": result["id"]})
            if outcome == "ok":
                # What an accepted call queued (a check and load, a derived resource's refresh) runs
                # on the worker; the next call's "nothing changed" must not see it happen.
                worker_idle()
            if outcome == "crash":
                wrong.append(f"{name} {what}: {type(result).__name__}: {str(result)[:160]}")
            elif outcome == "refused":
                if isinstance(result, tk.ValidationError) and not _names(result, params):
                    wrong.append(f"{name} {what}: a ValidationError that names no field: {result}")
                elif (
                    isinstance(result, tk.ValidationError)
                    and what.endswith(" missing")
                    and not _names_field(result, str(field), params)
                ):
                    wrong.append(
                        f"{name} {what}: the error names {sorted(_names(result, params))}, not {field}"
                    )
                elif (after := fingerprint()) != before:
                    wrong.append(
                        f"{name} {what}: refused ({type(result).__name__}) but changed the database: "
                        + Fingerprint.changed(before, after)
                    )
        took[name] = time.perf_counter() - started
    fingerprint.close()
    slowest = ", ".join(f"{n} {t:.1f} s" for n, t in sorted(took.items(), key=lambda x: -x[1])[:5])
    print(f"{role}: {calls} action calls, {len(wrong)} wrong; slowest: {slowest}")
    assert not wrong, f"{role}: {len(wrong)} of {calls} calls wrong:\n" + "\n".join(wrong[:2000])


# --- pages and POST routes ------------------------------------------------------------------------

# The query and form fields a view reads: .get("name"), .getlist("name"), _form("a", "b"), in its
# own source and that of the module's functions it calls.
_FIELD = re.compile(r"""\.(?:get|getlist)\(\s*["'](\w+)["']""")
_FORM = re.compile(r"""form\w*\(([^)]*)\)""")
# The module's own helpers (``_name(``) and the shared page helpers (``pages.name(``).
_CALLEE = re.compile(r"(?<![\w.])(_\w+)\(|\bpages\.(\w+)\(")


def _view_fields(func: Any, seen: set[Any] | None = None) -> set[str]:
    seen = seen if seen is not None else set()
    func = inspect.unwrap(func)
    seen.add(func)
    source = inspect.getsource(func)
    found = set(_FIELD.findall(source))
    for args in _FORM.findall(source):
        found.update(re.findall(r"""["'](\w+)["']""", args))
    module = inspect.getmodule(func)
    for own, shared in _CALLEE.findall(source):
        target = getattr(module, own, None) if own else getattr(pages, shared, None)
        if inspect.isfunction(target) and target not in seen:
            found |= _view_fields(target, seen)
    return found - {"_csrf_token"}


URL_VALUES = ["%00", "a%00b", "%ED%A0%80", "%FF", "x" * 2000, MISSING_ID, "..", "%3Cscript%3E", "-1"]
FIELD_VALUES = ["\x00", "a\x00b", "x" * 100_000, "99999999999999999999999", "-1", " ", "<b>x</b>", MISSING_ID]


def _rules(app: Any) -> list[Any]:
    blueprints = {bp.name for bp in Cd3pPlugin().get_blueprint()}
    return sorted(
        (r for r in app.flask_app.url_map.iter_rules() if r.endpoint.partition(".")[0] in blueprints),
        key=lambda r: r.rule,
    )


def _fill(rule: Any, w: dict[str, Any], value: str | None = None, bad: str | None = None) -> str:
    """The rule's path with each variable a real value, except ``bad`` given ``value``."""
    real = {
        "id": w["org"]["name"] if rule.rule.startswith("/organization") else w["draft"]["id"],
        "resource_id": w["resource"]["id"],
        "request_id": w["request"]["id"],
        "entry_id": w["entry"]["id"],
        "level": "tract",
        "fmt": "csv",
    }
    if rule.rule.startswith("/dataset"):
        real["id"] = w["dataset"]["id"]
    if rule.rule.startswith("/equity/indicator"):
        real["id"] = "households-without-broadband"  # a real indicator: its page renders
    if rule.rule.startswith("/equity/place"):
        real["id"] = "26163500100"
    if rule.rule.startswith("/data-requests"):
        real["id"] = w["data_request"]["id"]  # a real request: its page and forms are reached
    if rule.rule.startswith("/partners/"):
        real["id"] = w["org"]["name"]  # a real partner: its profile's map is reached
    if rule.rule.startswith("/analysis/saved"):
        real["id"] = w["saved_query"]["id"]  # a real saved query: its page and forms are reached
    path = rule.rule
    for name in rule.arguments:
        filled = value if name == bad and value is not None else str(real.get(name, MISSING_ID))
        path = re.sub(rf"<(?:\w+:)?{name}>", filled, path)
    return path


def _requests(rule: Any, w: dict[str, Any], fields: set[str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, data) for one rule: each path variable bad; each field bad; all fields bad."""
    methods = [m for m in ("GET", "POST") if m in (rule.methods or ())]
    for name in rule.arguments:
        for value in URL_VALUES:
            for method in methods:
                yield method, _fill(rule, w, value, name), {}
    good = _fill(rule, w)
    for field in sorted(fields):
        for value in FIELD_VALUES:
            for method in methods:
                yield method, good, {field: value}
    for method in methods:
        yield method, good, {f: [v for v in FIELD_VALUES[:2]] for f in fields}


@pytest.mark.slow
@pytest.mark.usefixtures("clean_db", "clean_index")
@pytest.mark.parametrize("half", [0, 1])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_and_form_answers_bad_input_below_500(app: Any, role: str, half: int) -> None:
    """Every other route in each half, so that the parallel processes share the work."""
    w = _world()
    browser = Browser(
        app, {"anonymous": None, "registered": w["registered"], "sysadmin": w["sysadmin"]}[role]
    )
    token = browser.csrf_token()
    wrong: list[str] = []
    calls = 0
    for rule in _rules(app)[half::2]:
        fields = _view_fields(app.flask_app.view_functions[rule.endpoint])
        for method, path, data in _requests(rule, w, fields):
            calls += 1
            if method == "GET":
                response = browser.get(path, query_string=data)
            else:
                response = browser.client.post(
                    path, data={**data, "_csrf_token": token}, follow_redirects=False
                )
            if response.status_code >= 500:
                shown = {k: _label(v) for k, v in data.items()}
                wrong.append(f"{method} {path[:120]} {shown}: {response.status_code}")
    print(f"{role}: {calls} page requests, {len(wrong)} wrong")
    assert not wrong, f"{role}: {len(wrong)} of {calls} requests wrong:\n" + "\n".join(wrong[:2000])


@pytest.mark.usefixtures("clean_db")
@pytest.mark.parametrize("bad", ["%00", "a%00b", "x" * 300])
def test_the_download_guard_answers_a_bad_resource_id_with_404(app: Any, bad: str) -> None:
    """The file download is core's route, guarded by ours before it runs (views_checks)."""
    dataset = factories.Dataset(owner_org=factories.Organization()["id"])
    response = app.get(f"/dataset/{dataset['id']}/resource/{bad}/download", follow_redirects=False)
    assert response.status_code == 404
