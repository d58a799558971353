"""Pages of data requests (blueprint ``cd3p_requests``).

Every page reads and writes through the data request actions (and core's), called in the name of
the logged-in user, so the auth functions apply exactly as in the API: a refused request is a 403
(visitors are sent to log in first), an unknown one a 404, and invalid input shows the form again
with its errors. Forms are protected by CKAN's CSRF protection. The Markdown of a request (its
description, purpose, reason, comments) is rendered by ``h.cd3p_markdown`` (raw HTML stripped).

Routes:

- ``/data-requests``: the list, filtered by state, kind, mine and followed, 50 a page
- ``/data-requests/queue``: the open requests waiting on the reader's organizations (every one,
  for sysadmins), oldest first, with their age
- ``/data-requests/new``: asking for new data, or (``?kind=access&dataset=<name>``) for access
- ``/data-requests/<id>``: a request, its comments, and the forms its reader may use
- ``/data-requests/<id>/edit``: the requester changes its words while it is open
- ``/data-requests/<id>/comment``, ``/follow``, ``/unfollow``, ``/assign``, ``/close``, ``/reopen``
"""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Response

from ckanext.cd3p.common import pages
from ckanext.cd3p.common.memo import remembered
from ckanext.cd3p.requests.model import KINDS, OPEN_STATES, OUTCOMES, STATES

cd3p_requests = pages.blueprint("cd3p_requests", __name__)


READ = "cd3p_requests.read"


# The most organizations listed (pages of organization_list's all_fields limit).
MAX_ORGANIZATIONS = 1000


def _organizations() -> list[dict[str, Any]]:
    """The active organizations (id, name, title), by title, read once per request."""

    def read() -> list[dict[str, Any]]:
        size = int(tk.config.get("ckan.group_and_organization_list_all_fields_max", 25))
        found: list[dict[str, Any]] = []
        while len(found) < MAX_ORGANIZATIONS:
            batch = pages.call(
                "organization_list",
                {"all_fields": True, "include_dataset_count": False, "limit": size, "offset": len(found)},
            )
            found += [{"id": o["id"], "name": o["name"], "title": o.get("title") or o["name"]} for o in batch]
            if len(batch) < size:
                break
        return sorted(found, key=lambda o: o["title"].lower())

    return remembered("requests", ("organizations", pages.user_name()), read)


def _organization_titles() -> dict[str, str]:
    return {o["id"]: o["title"] for o in _organizations()}


def _flag(name: str) -> bool:
    return tk.request.args.get(name, "") in ("1", "true", "on")


# --- the list -------------------------------------------------------------------------------------


def request_list() -> str | Response:
    filters = {
        "state": tk.request.args.get("state", ""),
        "kind": tk.request.args.get("kind", ""),
        "mine": "1" if _flag("mine") else "",
        "followed": "1" if _flag("followed") else "",
    }
    if (filters["mine"] or filters["followed"]) and not tk.current_user.is_authenticated:
        return pages.login_first()
    page_number = pages.page_number()
    query: dict[str, Any] = {k: v for k, v in filters.items() if v}
    query.update(limit=pages.PAGE_SIZE, offset=(page_number - 1) * pages.PAGE_SIZE)
    try:
        found = pages.call("cd3p_data_request_list", query)
        filter_errors: dict[str, Any] = {}
    except tk.ValidationError as e:
        found, filter_errors = {"count": 0, "results": []}, e.error_summary
    pager = pages.pager(found, "cd3p_requests.index", filters, page_number)
    extra_vars = {
        "requests": found["results"],
        "count": found["count"],
        "median_days": found.get("median_days") or {},
        "page": pager,
        "filters": filters,
        "filter_errors": filter_errors,
        "states": STATES,
        "kinds": KINDS,
        "organizations": _organization_titles(),
    }
    return tk.render("cd3p/requests/index.html", extra_vars)


def request_queue() -> str | Response:
    """The open requests waiting on the reader's organizations (every one, for sysadmins), oldest
    first, with their age."""
    if not tk.current_user.is_authenticated:
        return pages.login_first()
    organization = tk.request.args.get("organization", "")
    page_number = pages.page_number()
    query: dict[str, Any] = {"limit": pages.PAGE_SIZE, "offset": (page_number - 1) * pages.PAGE_SIZE}
    if organization:
        query["organization_id"] = organization
    try:
        found = pages.call("cd3p_data_request_queue", query)
    except tk.ValidationError as e:
        pages.bad_request(e)
    except tk.NotAuthorized as e:
        return pages.refuse(e)
    except tk.ObjectNotFound as e:
        return pages.not_found(e)
    pager = pages.pager(found, "cd3p_requests.queue", {"organization": organization}, page_number)
    extra_vars = {
        "requests": found["results"],
        "count": found["count"],
        "unassigned": found["unassigned"],
        "page": pager,
        "organization": organization,
        "organizations": _organization_titles(),
    }
    return tk.render("cd3p/requests/queue.html", extra_vars)


# --- asking ----------------------------------------------------------------------------------------


def request_new() -> str | Response:
    if not tk.current_user.is_authenticated:
        return pages.login_first()
    kind = "access" if tk.request.args.get("kind") == "access" else "new_data"
    dataset = tk.request.args.get("dataset", "")
    data: dict[str, Any] = {}
    if kind == "new_data":
        # A partner's profile links here with the partner to ask (``?addressed_to=<name or id>``).
        asked = tk.request.args.get("addressed_to", "")
        data["addressed_to"] = next((o["id"] for o in _organizations() if asked in (o["name"], o["id"])), "")
    errors: dict[str, Any] = {}
    error_summary: dict[str, Any] = {}
    if tk.request.method == "POST":
        if kind == "access":
            data = {"kind": "access", **pages.form("title", "description", "purpose", "dataset_id")}
            if dataset:
                data["dataset_id"] = dataset
        else:
            data = {"kind": "new_data", **pages.form("title", "description", "places", "addressed_to")}
        try:
            created = pages.call("cd3p_data_request_create", data)
        except tk.ValidationError as e:
            errors, error_summary = e.error_dict, e.error_summary
        else:
            tk.h.flash_success(tk._("Your data request was made. Follow it here."))
            return tk.redirect_to(READ, id=created["id"])
    extra_vars = {
        "kind": kind,
        "dataset": dataset,
        "data": data,
        "errors": errors,
        "error_summary": error_summary,
        "organizations": _organizations() if kind == "new_data" else [],
    }
    return tk.render("cd3p/requests/new.html", extra_vars)


# --- a request ------------------------------------------------------------------------------------


def _dataset(ref: str | None) -> dict[str, Any] | None:
    """The dataset (id, name, title) if the reader may see it, else None."""
    if not ref:
        return None
    try:
        pkg = pages.call("package_show", {"id": ref})
    except (tk.NotAuthorized, tk.ObjectNotFound, tk.ValidationError):
        return None
    return {"id": pkg["id"], "name": pkg["name"], "title": pkg.get("title") or pkg["name"]}


def _claimable(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The organizations the reader may assign the request to (a sysadmin: any; an admin: their own,
    where the request may go to it)."""
    if not tk.current_user.is_authenticated or request["state"] not in OPEN_STATES:
        return []
    if tk.current_user.sysadmin:
        orgs = _organizations()
    else:
        mine = pages.call("organization_list_for_user", {"id": pages.user_name(), "permission": "admin"})
        orgs = [{"id": o["id"], "name": o["name"], "title": o.get("title") or o["name"]} for o in mine]
    if request["kind"] == "access":
        orgs = [o for o in orgs if o["id"] == request["addressed_to"]]
    return [
        o
        for o in orgs
        if o["id"] != request["organization_id"]
        and pages.allowed("cd3p_data_request_assign", {"id": request["id"], "organization_id": o["id"]})
    ]


def _render_read(id: str, **extra: Any) -> str:
    request = pages.call("cd3p_data_request_show", {"id": id})
    ref = {"id": request["id"]}
    logged_in = tk.current_user.is_authenticated
    state = request["state"]
    can = {
        "comment": logged_in and pages.allowed("cd3p_data_request_comment", ref),
        "follow": logged_in and not request["following"] and pages.allowed("cd3p_data_request_follow", ref),
        "unfollow": logged_in and request["following"],
        "edit": logged_in and state == "open" and pages.allowed("cd3p_data_request_update", ref),
        "close": logged_in and state in OPEN_STATES and pages.allowed("cd3p_data_request_close", ref),
        "reopen": logged_in and state in OUTCOMES and pages.allowed("cd3p_data_request_reopen", ref),
    }
    extra_vars = {
        "request_": request,
        "can": can,
        "claimable": _claimable(request),
        "organizations": _organization_titles(),
        "dataset": _dataset(request.get("dataset_id")),
        "fulfilled_by": _dataset(request.get("fulfilled_dataset_id")),
        "outcomes": OUTCOMES,
        "form": "",
        "posted": {},
        "errors": {},
        "error_summary": {},
        **extra,
    }
    return tk.render("cd3p/requests/read.html", extra_vars)


def request_read(id: str) -> str:
    return _render_read(id)


def _post(id: str, action: str, data: dict[str, Any], done: str, name: str) -> str | Response:
    """A form of the request's page: the action called with the form's ``data``; done, the page
    again with ``done`` flashed; refused for its input, the page with the form's errors."""
    data = {**data, "id": id}
    outcome = pages.submit(action, data, done, READ, id=id)
    if isinstance(outcome, tk.ValidationError):
        return _render_read(id, form=name, posted=data, **pages.errors(outcome))
    return outcome


def request_comment(id: str) -> str | Response:
    done = tk._("Your comment was added.")
    return _post(id, "cd3p_data_request_comment", pages.form("text"), done, "comment")


def request_follow(id: str) -> str | Response:
    done = tk._("You follow this request: you will hear of its progress.")
    return _post(id, "cd3p_data_request_follow", {}, done, "follow")


def request_unfollow(id: str) -> str | Response:
    done = tk._("You no longer follow this request.")
    return _post(id, "cd3p_data_request_unfollow", {}, done, "follow")


def request_assign(id: str) -> str | Response:
    done = tk._("The request is assigned.")
    return _post(id, "cd3p_data_request_assign", pages.form("organization_id"), done, "assign")


def request_close(id: str) -> str | Response:
    data = pages.form("outcome", "dataset_id", "reason", "duplicate_of")
    return _post(id, "cd3p_data_request_close", data, tk._("The request is closed ({state})."), "close")


def request_reopen(id: str) -> str | Response:
    done = tk._("The request is open again ({state}).")
    return _post(id, "cd3p_data_request_reopen", {}, done, "reopen")


def request_edit(id: str) -> str | Response:
    request = pages.call("cd3p_data_request_show", {"id": id})
    if not pages.allowed("cd3p_data_request_update", {"id": request["id"]}):
        return pages.refuse(tk.NotAuthorized(tk._("Only the requester can change a data request")))
    if request["state"] != "open":
        tk.h.flash_error(tk._("Only an open request, not yet assigned, can be changed."))
        return tk.redirect_to(READ, id=request["id"])
    data: dict[str, Any] = dict(request)
    errors: dict[str, Any] = {}
    error_summary: dict[str, Any] = {}
    if tk.request.method == "POST":
        data = {**pages.form("title", "description", "places", "purpose"), "id": request["id"]}
        if request["kind"] != "access":
            data.pop("purpose", None)  # a new-data request has none
        outcome = pages.submit(
            "cd3p_data_request_update", data, tk._("Your request was saved."), READ, id=request["id"]
        )
        if not isinstance(outcome, tk.ValidationError):
            return outcome
        errors, error_summary = outcome.error_dict, outcome.error_summary
    extra_vars = {"request_": request, "data": data, "errors": errors, "error_summary": error_summary}
    return tk.render("cd3p/requests/edit.html", extra_vars)


cd3p_requests.add_url_rule("/data-requests", endpoint="index", view_func=request_list)


cd3p_requests.add_url_rule("/data-requests/queue", endpoint="queue", view_func=request_queue)


cd3p_requests.add_url_rule(
    "/data-requests/new", endpoint="new", view_func=request_new, methods=pages.GET_POST
)


cd3p_requests.add_url_rule("/data-requests/<id>", endpoint="read", view_func=request_read)


cd3p_requests.add_url_rule(
    "/data-requests/<id>/edit", endpoint="edit", view_func=request_edit, methods=pages.GET_POST
)


for _name in ("comment", "follow", "unfollow", "assign", "close", "reopen"):
    cd3p_requests.add_url_rule(
        f"/data-requests/<id>/{_name}",
        endpoint=_name,
        view_func=globals()[f"request_{_name}"],
        methods=pages.POST,
    )


blueprints = [cd3p_requests]
