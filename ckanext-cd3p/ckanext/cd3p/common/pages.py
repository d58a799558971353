"""What every blueprint's views share: calling an action as the logged-in user, refusals (403, the
login page for visitors, 404), posted forms and their errors, paging, CSV cells, and the check
of a page's path values."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any, NoReturn

from ckan.lib.pagination import Page
from ckan.plugins import toolkit as tk
from ckan.types import Context, Response
from flask import Blueprint, current_app, make_response
from werkzeug.exceptions import Forbidden, NotFound

from ckanext.cd3p.common import inputs

PAGE_SIZE = 50


# Cells that a spreadsheet would read as a formula get a leading apostrophe (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- request helpers ----------------------------------------------------------------------------


def user_name() -> str:
    return tk.current_user.name if tk.current_user.is_authenticated else ""


def context() -> Context:
    return {"user": user_name()}


def action(name: str) -> Callable[[Context, dict[str, Any]], Any]:
    return tk.get_action(name)


def call(name: str, data: dict[str, Any] | None = None) -> Any:
    """Calls an action in the name of the logged-in user (a fresh context per call)."""
    return action(name)(context(), data or {})


def here() -> str:
    query = tk.request.query_string.decode()
    return tk.request.path + (f"?{query}" if query else "")


def login_first() -> Response:
    """Anonymous visitors are sent to log in, and brought back here afterwards."""
    target = here() if tk.request.method == "GET" else tk.request.referrer or tk.request.path
    if not tk.h.url_is_local(target):
        target = tk.request.path
    tk.h.flash_notice(tk._("Please log in to continue."))
    return tk.redirect_to("user.login", next=target)


# A refusal or a missing object raised by an action, anywhere in a view of these blueprints, becomes
# the page CKAN shows for a 403 or 404 (anonymous visitors are sent to log in first): the views only
# handle what they have something to say about, such as validation errors.
def refuse(error: tk.NotAuthorized) -> Any:
    if not tk.current_user.is_authenticated:
        return login_first()
    return current_app.handle_http_exception(Forbidden(str(error) or tk._("Not authorized to see this page")))


def bad_request(error: tk.ValidationError) -> NoReturn:
    """A refused input as a 400 that says which field and why."""
    tk.abort(400, "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in error.error_dict.items()))
    raise AssertionError("tk.abort raises")


def not_found(error: tk.ObjectNotFound) -> Any:
    return current_app.handle_http_exception(NotFound(str(error) or tk._("Not found")))


def check_path() -> None:
    """A page's path values (ids, names) are checked before its view looks anything up with them
    (each blueprint's ``before_request``, after CKAN's own): one that no id or name can be (a NUL or
    other control character, over :data:`inputs.MAX_ID_LENGTH` characters) is a 404."""
    for value in (tk.request.view_args or {}).values():
        if isinstance(value, str) and inputs.text_id(value) is None:
            raise tk.ObjectNotFound(tk._("Not found"))


def allowed(auth_name: str, data: dict[str, Any] | None = None) -> bool:
    try:
        tk.check_access(auth_name, context(), data or {})
    except tk.NotAuthorized:
        return False
    return True


def form(*names: str) -> dict[str, Any]:
    """The named fields of the posted form (only those: actions get no stray keys)."""
    posted = tk.request.form
    return {name: posted.get(name, "") for name in names if name in posted}


def submit(
    name: str, data: dict[str, Any], done: str, endpoint: str, **values: Any
) -> Response | tk.ValidationError:
    """A form's POST: the action called with the form's data. Done, the message ``done`` (its
    ``{placeholders}`` filled from the action's result) is flashed and ``endpoint`` shown; refused
    for its input, the ValidationError is returned, for the form to show again with its errors."""
    try:
        result = call(name, data)
    except tk.ValidationError as e:
        return e
    tk.h.flash_success(done.format(**result))
    return tk.redirect_to(endpoint, **values)


def flash_errors(error: tk.ValidationError) -> None:
    """A refused POST's reasons, flashed for the page it redirects to."""
    tk.h.flash_error(" ".join(str(m) for m in error.error_summary.values()))


def errors(error: tk.ValidationError) -> dict[str, Any]:
    return {"errors": error.error_dict, "error_summary": error.error_summary}


# The last page number a list accepts: past it, the list is empty, as it is past its last page.
MAX_PAGE = 1_000_000


def page_number() -> int:
    try:
        return min(max(int(tk.request.args.get("page", 1)), 1), MAX_PAGE)
    except ValueError:
        return 1


def pager(found: dict[str, Any], endpoint: str, params: dict[str, Any], page: int) -> Page:
    """The pager of one page of a list action's ``results`` (of ``count`` in all), whose links keep
    the list's filters (``params``)."""
    paged = Page(
        collection=found["results"],
        page=page,
        url=partial(pager_url, endpoint, params),
        item_count=found["count"],
        items_per_page=PAGE_SIZE,
    )
    paged.items = found["results"]
    return paged


def pager_url(endpoint: str, params: dict[str, Any], page: int | None = None, **_ignored: Any) -> str:
    """URL of a page of a paged list (the pager's url generator), keeping its filters."""
    return tk.h.url_for(endpoint, **{k: v for k, v in params.items() if v not in (None, "")}, page=page)


# --- the ledger ---------------------------------------------------------------------------------


def csv_cell(value: Any) -> str:
    """A value as a CSV cell: numbers as Python writes them (they round-trip exactly, a negative
    one too); text guarded against spreadsheet formulas (a leading apostrophe); None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


# --- downloads ----------------------------------------------------------------------------------

CSV = "text/csv; charset=utf-8"
GEOJSON = "application/geo+json"


def download(body: str | bytes, media_type: str, filename: str | None = None, **headers: str) -> Response:
    """A file in the response: its media type and, given a ``filename``, saved under that name
    (``headers``: more, e.g. ``Cache_Control="..."``, underscores for hyphens)."""
    response = make_response(body)
    response.headers["Content-Type"] = media_type
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def geojson(collection: dict[str, Any], **headers: str) -> Response:
    """A GeoJSON collection, compact."""
    return download(json.dumps(collection, separators=(",", ":")), GEOJSON, **headers)


# --- routes -------------------------------------------------------------------------------------

GET_POST = ["GET", "POST"]


POST = ["POST"]


# --- blueprints -----------------------------------------------------------------------------------


def blueprint(name: str, import_name: str) -> Blueprint:
    """A feature's blueprint, with what every one has: the check of the path's values before a view
    runs, and an action's refusal or missing object shown as CKAN's 403 (or the login page) and 404."""
    bp = Blueprint(name, import_name)
    bp.before_request(check_path)
    bp.register_error_handler(tk.NotAuthorized, refuse)
    bp.register_error_handler(tk.ObjectNotFound, not_found)
    return bp
