"""Pages of the Data Sharing Agreement (blueprint ``cd3p``).

Every page reads and writes through the cd3p actions (and core's), called in the name of the
logged-in user, so the auth functions apply exactly as in the API. Forms are protected by CKAN's
CSRF protection; a refused request is a 403 (anonymous visitors are sent to log in first), an
unknown object a 404, and invalid input re-renders the form with the errors next to the fields.

Routes:

- ``/agreement``, ``/agreement/<id>``, ``/agreement/acknowledge``: the text, personal acknowledgement
- ``/ckan-admin/agreements[...]``: versions (sysadmins)
- ``/organization/<id>/agreement``: an organization's standing, and signing (its admins)
- ``/organization/<id>/ledger[.csv]``, ``/ckan-admin/ledger[.csv]``: the ledger, revocation
- ``/partner/apply``, ``/partner/status``, ``/ckan-admin/partners[...]``: becoming a partner
- ``/organization/<id>/join``, ``/organization/<id>/requests[...]``: joining a partner
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Response

from ckanext.cd3p.catalog import search
from ckanext.cd3p.common import pages

cd3p = pages.blueprint("cd3p", __name__)


CSV_PAGE_SIZE = 1000  # the most cd3p_signature_list returns at once


# Ledger columns of the CSV export, in order (keys of cd3p_signature_list's results).
CSV_FIELDS = (
    "seq",
    "id",
    "created",
    "kind",
    "agreement_id",
    "agreement_version",
    "text_sha256",
    "organization_id",
    "organization_name",
    "user_id",
    "user_name",
    "signatory_name",
    "signatory_title",
    "client_ip",
    "revokes",
    "reason",
    "revoked",
    "prev_hash",
    "entry_hash",
)


# Ledger filters of the sysadmin page: query parameter -> cd3p_signature_list parameter.
LEDGER_FILTERS = {
    "organization": "organization_id",
    "user": "user_id",
    "version": "agreement_id",
    "kind": "kind",
    "since": "since",
    "until": "until",
}


def _organization(id: str) -> dict[str, Any]:
    """The organization, for the organization pages' layout (raises ObjectNotFound)."""
    org = pages.call("organization_show", {"id": id, "include_datasets": False, "include_users": False})
    if not org.get("is_organization"):
        raise tk.ObjectNotFound(tk._("Organization not found"))
    return org


def _org_vars(org: dict[str, Any]) -> dict[str, Any]:
    return {"group_dict": org, "group_type": org.get("type") or "organization", "organization": org}


def _current_agreement() -> dict[str, Any] | None:
    try:
        return pages.call("cd3p_agreement_show", {"id": "current"})
    except tk.ObjectNotFound:
        return None


# --- the agreement ------------------------------------------------------------------------------


def _render_agreement(agreement: dict[str, Any] | None, **extra: Any) -> str:
    versions = pages.call("cd3p_agreement_list")
    extra_vars = {
        "agreement": agreement,
        "versions": versions,
        "acknowledged": bool(agreement) and agreement.get("acknowledged", False),
        "errors": {},
        "error_summary": {},
        **extra,
    }
    return tk.render("cd3p/agreements/read.html", extra_vars)


def agreement_read(id: str | None = None) -> str | Response:
    try:
        agreement = pages.call("cd3p_agreement_show", {"id": id or "current"})
    except tk.ObjectNotFound as e:
        if id is not None:
            return pages.not_found(e)
        agreement = None  # nothing active yet: the page says so
    return _render_agreement(agreement)


def agreement_acknowledge() -> str | Response:
    if not tk.current_user.is_authenticated:
        return pages.login_first()
    data = pages.form("agreement_id", "text_sha256")
    try:
        entry = pages.call("cd3p_agreement_acknowledge", data)
    except tk.ValidationError as e:
        return _render_agreement(_current_agreement(), **pages.errors(e))
    tk.h.flash_success(
        tk._("You acknowledged version {version} of the Data Sharing Agreement.").format(
            version=entry["agreement_version"]
        )
    )
    return tk.redirect_to("cd3p.agreement_read")


# --- agreement versions (sysadmins) -------------------------------------------------------------


def admin_agreements() -> str | Response:
    if not pages.allowed("cd3p_agreement_create"):
        return pages.refuse(tk.NotAuthorized(tk._("Only sysadmins can manage agreement versions")))
    versions = pages.call("cd3p_agreement_list")
    return tk.render("cd3p/agreements/admin/agreements.html", {"versions": versions})


def _agreement_form_data(*names: str) -> dict[str, Any]:
    data = pages.form(*names)
    if "body" in data:  # browsers send CRLF; the text is stored (and hashed) with LF
        data["body"] = data["body"].replace("\r\n", "\n")
    return data


def admin_agreement_new() -> str | Response:
    if not pages.allowed("cd3p_agreement_create"):
        return pages.refuse(tk.NotAuthorized(tk._("Only sysadmins can manage agreement versions")))
    data: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    error_summary: dict[str, Any] = {}
    if tk.request.method == "POST":
        data = _agreement_form_data("version", "title", "body", "effective_date")
        done = tk._("Draft version {version} created. Check it, then activate it.")
        outcome = pages.submit("cd3p_agreement_create", data, done, "cd3p.admin_agreements")
        if not isinstance(outcome, tk.ValidationError):
            return outcome
        errors, error_summary = outcome.error_dict, outcome.error_summary
    return tk.render(
        "cd3p/agreements/admin/agreement_form.html",
        {"data": data, "errors": errors, "error_summary": error_summary, "agreement": None},
    )


def admin_agreement_edit(id: str) -> str | Response:
    if not pages.allowed("cd3p_agreement_update", {"id": id}):
        return pages.refuse(tk.NotAuthorized(tk._("Only sysadmins can manage agreement versions")))
    agreement = pages.call("cd3p_agreement_show", {"id": id})
    if agreement["state"] != "draft":
        tk.h.flash_error(
            tk._("Version {version} is {state}; only drafts can be changed.").format(
                version=agreement["version"], state=agreement["state"]
            )
        )
        return tk.redirect_to("cd3p.admin_agreements")
    data = dict(agreement)
    errors: dict[str, Any] = {}
    error_summary: dict[str, Any] = {}
    if tk.request.method == "POST":
        data = {"id": agreement["id"], **_agreement_form_data("title", "body", "effective_date")}
        done = tk._("Draft version {version} saved.")
        outcome = pages.submit("cd3p_agreement_update", data, done, "cd3p.admin_agreements")
        if not isinstance(outcome, tk.ValidationError):
            return outcome
        errors, error_summary = outcome.error_dict, outcome.error_summary
        data["version"] = agreement["version"]
    return tk.render(
        "cd3p/agreements/admin/agreement_form.html",
        {"data": data, "errors": errors, "error_summary": error_summary, "agreement": agreement},
    )


def _agreement_step(action: str, id: str, done: str) -> Response:
    """Activates or deletes a draft from the versions page, which says what happened (or why not)."""
    try:
        agreement = pages.call(action, {"id": id})
    except tk.ValidationError as e:
        pages.flash_errors(e)
    else:
        tk.h.flash_success(done.format(version=agreement["version"]))
    return tk.redirect_to("cd3p.admin_agreements")


def admin_agreement_activate(id: str) -> Response:
    return _agreement_step(
        "cd3p_agreement_activate",
        id,
        tk._(
            "Version {version} is now the active agreement. Organizations that signed an earlier "
            "version keep their rights during the grace period and are asked to sign it."
        ),
    )


def admin_agreement_delete(id: str) -> Response:
    return _agreement_step("cd3p_agreement_delete", id, tk._("Draft {version} deleted."))


# --- an organization's signature ----------------------------------------------------------------


def _sign_vars(org: dict[str, Any], **extra: Any) -> dict[str, Any]:
    status = pages.call("cd3p_agreement_status", {"organization_id": org["id"]})
    active = _current_agreement()
    can_sign = pages.allowed("cd3p_agreement_sign", {"organization_id": org["id"]})
    signed_active = bool(
        active and status["signed"] and not status["stale"] and status["version"] == active["version"]
    )
    return {
        **_org_vars(org),
        "status": status,
        "active": active,
        "can_sign": can_sign and active is not None and not signed_active,
        "signed_active": signed_active,
        "data": {},
        "errors": {},
        "error_summary": {},
        **extra,
    }


def organization_agreement(id: str) -> str | Response:
    org = _organization(id)
    if tk.request.method == "POST":
        if not tk.current_user.is_authenticated:
            return pages.login_first()
        data = {
            "organization_id": org["id"],
            **pages.form(
                "agreement_id", "text_sha256", "signatory_name", "signatory_title", "confirm_authority"
            ),
        }
        data.setdefault("confirm_authority", "")  # an unticked box is not sent: "not confirmed"
        try:
            result = pages.call("cd3p_agreement_sign", data)
        except tk.ValidationError as e:
            return tk.render(
                "cd3p/agreements/organization/agreement.html", _sign_vars(org, data=data, **pages.errors(e))
            )
        tk.h.flash_success(
            tk._("{org} signed version {version} of the Data Sharing Agreement.").format(
                org=org.get("title") or org["name"], version=result["signature"]["agreement_version"]
            )
        )
        return tk.redirect_to("cd3p.organization_agreement", id=org["name"])
    return tk.render("cd3p/agreements/organization/agreement.html", _sign_vars(org))


def _all_entries(query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every entry matching the query, page by page (the action returns at most 1000 at once)."""
    offset = 0
    while True:
        page = pages.call("cd3p_signature_list", {**query, "limit": CSV_PAGE_SIZE, "offset": offset})
        yield from page["results"]
        offset += len(page["results"])
        if not page["results"] or offset >= page["count"]:
            return


def _ledger_csv(query: dict[str, Any], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for entry in _all_entries(query):
        writer.writerow([pages.csv_cell(entry.get(field)) for field in CSV_FIELDS])
    return pages.download(buffer.getvalue(), pages.CSV, filename)


def _wants_csv(fmt: str) -> bool:
    return fmt == "csv" or tk.request.args.get("format") == "csv"


def _ledger_page(query: dict[str, Any], endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
    """One page of entries, with a pager; validation errors of the filters are returned, not raised."""
    page_number = pages.page_number()
    try:
        found = pages.call(
            "cd3p_signature_list",
            {**query, "limit": pages.PAGE_SIZE, "offset": (page_number - 1) * pages.PAGE_SIZE},
        )
        filter_errors: dict[str, Any] = {}
    except tk.ValidationError as e:
        found, filter_errors = {"count": 0, "results": []}, e.error_summary
    except tk.ObjectNotFound as e:
        found, filter_errors = {"count": 0, "results": []}, {tk._("Organization"): str(e)}
    pager = pages.pager(found, endpoint, params, page_number)
    return {
        "entries": found["results"],
        "count": found["count"],
        "page": pager,
        "filter_errors": filter_errors,
    }


def organization_ledger(id: str, fmt: str = "html") -> str | Response:
    org = _organization(id)
    tk.check_access("cd3p_signature_list", pages.context(), {"organization_id": org["id"]})
    query = {"organization_id": org["id"]}
    if _wants_csv(fmt):
        return _ledger_csv(query, f"cd3p-ledger-{org['name']}.csv")
    extra_vars = {
        **_org_vars(org),
        **_ledger_page(query, "cd3p.organization_ledger", {"id": org["name"]}),
        "csv_url": tk.h.url_for("cd3p.organization_ledger_csv", id=org["name"]),
    }
    return tk.render("cd3p/agreements/organization/ledger.html", extra_vars)


def _admin_ledger_filters() -> tuple[dict[str, str], dict[str, Any]]:
    """The filter form's values, and the cd3p_signature_list parameters they mean."""
    args = tk.request.args
    filters = {name: args.get(name, "").strip() for name in LEDGER_FILTERS}
    query = {LEDGER_FILTERS[name]: value for name, value in filters.items() if value}
    return filters, query


def _render_admin_ledger(**extra: Any) -> str:
    filters, query = _admin_ledger_filters()
    params = {k: v for k, v in filters.items() if v}
    verification = pages.call("cd3p_ledger_verify") if tk.request.args.get("verify") else None
    extra_vars = {
        "filters": filters,
        "filter_params": params,
        **_ledger_page(query, "cd3p.admin_ledger", params),
        "versions": pages.call("cd3p_agreement_list"),
        "csv_url": tk.h.url_for("cd3p.admin_ledger_csv", **params),
        "verification": verification,
        "query_string": tk.request.query_string.decode(),
        "revoke_errors": {},
        "revoke_data": {},
        **extra,
    }
    return tk.render("cd3p/agreements/admin/ledger.html", extra_vars)


def admin_ledger(fmt: str = "html") -> str | Response:
    if not pages.allowed("cd3p_signature_list"):
        return pages.refuse(tk.NotAuthorized(tk._("Only sysadmins can see the whole ledger")))
    if _wants_csv(fmt):
        _filters, query = _admin_ledger_filters()
        try:
            return _ledger_csv(query, "cd3p-ledger.csv")
        except (tk.ValidationError, tk.ObjectNotFound) as e:
            tk.h.flash_error(str(e))
            return tk.redirect_to("cd3p.admin_ledger")
    return _render_admin_ledger()


def ledger_revoke(entry_id: str) -> str | Response:
    """Revokes an entry; the form posts to a URL carrying the ledger page's filters, so the page
    comes back as it was (with the error next to the entry when the reason is missing)."""
    data = {"id": entry_id, **pages.form("reason")}
    try:
        pages.call("cd3p_signature_revoke", data)
    except tk.ValidationError as e:
        return _render_admin_ledger(revoke_errors={entry_id: e.error_dict}, revoke_data={entry_id: data})
    tk.h.flash_success(tk._("The entry was revoked; the revocation is a new ledger entry."))
    filters, _query = _admin_ledger_filters()
    return tk.redirect_to("cd3p.admin_ledger", **{k: v for k, v in filters.items() if v})


# --- becoming a partner -------------------------------------------------------------------------

APPLICATION_FIELDS = (
    "organization_title",
    "sector",
    "website",
    "contact_name",
    "contact_email",
    "contact_phone",
    "data_description",
    "focus_group",
)


def _apply_vars(**extra: Any) -> dict[str, Any]:
    pending = []
    if tk.current_user.is_authenticated:
        pending = pages.call("cd3p_partner_application_list", {"state": "pending", "mine": True})["results"]
    return {
        "pending": pending,
        "data": {"service_area": []},
        "errors": {},
        "error_summary": {},
        "agreement": _current_agreement(),
        **extra,
    }


def partner_apply() -> str | Response:
    if tk.request.method == "POST":
        if not tk.current_user.is_authenticated:
            return pages.login_first()
        data = pages.form(*APPLICATION_FIELDS)
        data["service_area"] = tk.request.form.getlist("service_area")
        try:
            application = pages.call("cd3p_partner_application_create", data)
        except tk.ValidationError as e:
            return tk.render("cd3p/agreements/partner/apply.html", _apply_vars(data=data, **pages.errors(e)))
        tk.h.flash_success(
            tk._(
                "Thank you: your application for {org} was received. The City reviews it and you will "
                "see the decision here."
            ).format(org=application["organization_title"])
        )
        return tk.redirect_to("cd3p.partner_status")
    return tk.render("cd3p/agreements/partner/apply.html", _apply_vars())


def _dataset_count(org_id: str) -> int:
    found = pages.call(
        "package_search",
        {"fq": f'owner_org:"{org_id}"', "rows": 0, "include_private": True, "include_drafts": True},
    )
    return found["count"]


def _progress(application: dict[str, Any]) -> dict[str, Any]:
    """Where an application stands in the three steps."""
    progress: dict[str, Any] = {"application": application, "organization": None, "status": None}
    if application["state"] != "approved" or not application.get("organization_id"):
        return progress
    try:
        org = _organization(application["organization_id"])
        progress["organization"] = org
        progress["status"] = pages.call("cd3p_agreement_status", {"organization_id": org["id"]})
        progress["datasets"] = _dataset_count(org["id"])
    except (tk.ObjectNotFound, tk.NotAuthorized):
        pass  # the organization was deleted since
    return progress


def partner_status() -> str | Response:
    if not tk.current_user.is_authenticated:
        return pages.login_first()
    applications = pages.call("cd3p_partner_application_list", {"mine": True})["results"]
    return tk.render(
        "cd3p/agreements/partner/status.html", {"progress": [_progress(a) for a in applications]}
    )


# --- partner applications (sysadmins) -----------------------------------------------------------

QUEUE_STATES = ("pending", "approved", "rejected", "all")


def _queue_state() -> str:
    state = tk.request.args.get("state", "pending")
    return state if state in QUEUE_STATES else "pending"


def _render_partner_queue(**extra: Any) -> str:
    state = _queue_state()
    page_number = pages.page_number()
    query: dict[str, Any] = {"limit": pages.PAGE_SIZE, "offset": (page_number - 1) * pages.PAGE_SIZE}
    if state != "all":
        query["state"] = state
    found = pages.call("cd3p_partner_application_list", query)
    pager = pages.pager(found, "cd3p.admin_partners", {"state": state}, page_number)
    extra_vars = {
        "applications": found["results"],
        "count": found["count"],
        "page": pager,
        "state": state,
        "states": QUEUE_STATES,
        "sectors": search.sector_labels(),
        "reject_errors": {},
        "reject_data": {},
        **extra,
    }
    return tk.render("cd3p/agreements/admin/partners.html", extra_vars)


def admin_partners() -> str | Response:
    if not pages.allowed("cd3p_partner_application_approve"):
        return pages.refuse(tk.NotAuthorized(tk._("Only sysadmins can review partner applications")))
    return _render_partner_queue()


def _back_to_queue() -> Response:
    return tk.redirect_to("cd3p.admin_partners", state=_queue_state())


def admin_partner_approve(id: str) -> str | Response:
    if not pages.allowed("cd3p_partner_application_approve", {"id": id}):
        return pages.refuse(tk.NotAuthorized(tk._("Only sysadmins can review partner applications")))
    try:
        application = pages.call("cd3p_partner_application_approve", {"id": id})
    except (tk.ValidationError, tk.NotAuthorized) as e:
        # e.g. decided meanwhile, or the organization's name was taken since: said on the queue
        message = (
            " ".join(str(m) for m in e.error_summary.values())
            if isinstance(e, tk.ValidationError)
            else str(e)
        )
        tk.h.flash_error(message)
        return _back_to_queue()
    tk.h.flash_success(
        tk._("Approved: {org} was created with {user} as its admin, who can now sign the agreement.").format(
            org=application["organization_title"], user=application["user_name"]
        )
    )
    return _back_to_queue()


def admin_partner_reject(id: str) -> str | Response:
    if not pages.allowed("cd3p_partner_application_reject", {"id": id}):
        return pages.refuse(tk.NotAuthorized(tk._("Only sysadmins can review partner applications")))
    data = {"id": id, **pages.form("reason")}
    try:
        application = pages.call("cd3p_partner_application_reject", data)
    except tk.ValidationError as e:
        return _render_partner_queue(reject_errors={id: e.error_dict}, reject_data={id: data})
    tk.h.flash_success(
        tk._("Rejected the application for {org}; the applicant sees the reason.").format(
            org=application["organization_title"]
        )
    )
    return _back_to_queue()


# --- joining a partner --------------------------------------------------------------------------


def _join_vars(org: dict[str, Any], **extra: Any) -> dict[str, Any]:
    mine = pages.call("cd3p_membership_request_list", {"state": "pending", "mine": True})["results"]
    return {
        **_org_vars(org),
        "status": pages.call("cd3p_agreement_status", {"organization_id": org["id"]}),
        "active": _current_agreement(),
        "pending": [r for r in mine if r["organization_id"] == org["id"]],
        "data": {"role": "member"},
        "errors": {},
        "error_summary": {},
        **extra,
    }


def organization_join(id: str) -> str | Response:
    if not tk.current_user.is_authenticated:
        return pages.login_first()
    org = _organization(id)
    if tk.request.method == "POST":
        data = {"organization_id": org["id"], **pages.form("role", "message", "acknowledge")}
        data.setdefault("acknowledge", "")  # an unticked box is not sent: "not acknowledged"
        try:
            pages.call("cd3p_membership_request_create", data)
        except tk.ValidationError as e:
            return tk.render(
                "cd3p/agreements/organization/join.html", _join_vars(org, data=data, **pages.errors(e))
            )
        tk.h.flash_success(
            tk._("Your request to join {org} was sent to its admins.").format(
                org=org.get("title") or org["name"]
            )
        )
        return tk.redirect_to("cd3p.organization_join", id=org["name"])
    return tk.render("cd3p/agreements/organization/join.html", _join_vars(org))


def _render_requests(org: dict[str, Any], **extra: Any) -> str:
    state = _queue_state()
    query: dict[str, Any] = {"organization_id": org["id"]}
    if state != "all":
        query["state"] = state
    found = pages.call("cd3p_membership_request_list", query)
    extra_vars = {
        **_org_vars(org),
        "requests": found["results"],
        "count": found["count"],
        "state": state,
        "states": QUEUE_STATES,
        "status": pages.call("cd3p_agreement_status", {"organization_id": org["id"]}),
        "reject_errors": {},
        "reject_data": {},
        **extra,
    }
    return tk.render("cd3p/agreements/organization/requests.html", extra_vars)


def organization_requests(id: str) -> str | Response:
    org = _organization(id)
    tk.check_access("cd3p_membership_request_list", pages.context(), {"organization_id": org["id"]})
    return _render_requests(org)


def _decide_request(id: str, request_id: str, decision: str) -> str | Response:
    org = _organization(id)
    tk.check_access(f"cd3p_membership_request_{decision}", pages.context(), {"id": request_id})
    data = {"id": request_id, **(pages.form("reason") if decision == "reject" else {})}
    try:
        row = pages.call(f"cd3p_membership_request_{decision}", data)
    except tk.NotAuthorized as e:
        # Allowed to decide, yet refused: the membership gate (e.g. the organization's signature lapsed).
        tk.h.flash_error(str(e))
        return tk.redirect_to("cd3p.organization_requests", id=org["name"])
    except tk.ValidationError as e:
        if decision == "reject":
            return _render_requests(
                org, reject_errors={request_id: e.error_dict}, reject_data={request_id: data}
            )
        pages.flash_errors(e)
        return tk.redirect_to("cd3p.organization_requests", id=org["name"])
    if decision == "approve":
        message = tk._("{user} is now a member of {org} ({role}).")
    else:
        message = tk._("The request of {user} to join {org} was declined.")
    tk.h.flash_success(
        message.format(user=row["user_name"], org=org.get("title") or org["name"], role=row["role"])
    )
    return tk.redirect_to("cd3p.organization_requests", id=org["name"])


def organization_request_approve(id: str, request_id: str) -> str | Response:
    return _decide_request(id, request_id, "approve")


def organization_request_reject(id: str, request_id: str) -> str | Response:
    return _decide_request(id, request_id, "reject")


cd3p.add_url_rule("/agreement", view_func=agreement_read)


cd3p.add_url_rule("/agreement/acknowledge", view_func=agreement_acknowledge, methods=pages.POST)


cd3p.add_url_rule("/agreement/<id>", endpoint="agreement_version", view_func=agreement_read)


cd3p.add_url_rule("/ckan-admin/agreements", view_func=admin_agreements)


cd3p.add_url_rule("/ckan-admin/agreements/new", view_func=admin_agreement_new, methods=pages.GET_POST)


cd3p.add_url_rule("/ckan-admin/agreements/<id>/edit", view_func=admin_agreement_edit, methods=pages.GET_POST)


cd3p.add_url_rule(
    "/ckan-admin/agreements/<id>/activate", view_func=admin_agreement_activate, methods=pages.POST
)


cd3p.add_url_rule("/ckan-admin/agreements/<id>/delete", view_func=admin_agreement_delete, methods=pages.POST)


cd3p.add_url_rule("/organization/<id>/agreement", view_func=organization_agreement, methods=pages.GET_POST)


cd3p.add_url_rule("/organization/<id>/ledger", view_func=organization_ledger)


cd3p.add_url_rule(
    "/organization/<id>/ledger.csv",
    endpoint="organization_ledger_csv",
    view_func=organization_ledger,
    defaults={"fmt": "csv"},
)


cd3p.add_url_rule("/ckan-admin/ledger", view_func=admin_ledger)


cd3p.add_url_rule(
    "/ckan-admin/ledger.csv", endpoint="admin_ledger_csv", view_func=admin_ledger, defaults={"fmt": "csv"}
)


cd3p.add_url_rule("/ckan-admin/ledger/<entry_id>/revoke", view_func=ledger_revoke, methods=pages.POST)


cd3p.add_url_rule("/partner/apply", view_func=partner_apply, methods=pages.GET_POST)


cd3p.add_url_rule("/partner/status", view_func=partner_status)


cd3p.add_url_rule("/ckan-admin/partners", view_func=admin_partners)


cd3p.add_url_rule("/ckan-admin/partners/<id>/approve", view_func=admin_partner_approve, methods=pages.POST)


cd3p.add_url_rule("/ckan-admin/partners/<id>/reject", view_func=admin_partner_reject, methods=pages.POST)


cd3p.add_url_rule("/organization/<id>/join", view_func=organization_join, methods=pages.GET_POST)


cd3p.add_url_rule("/organization/<id>/requests", view_func=organization_requests)


cd3p.add_url_rule(
    "/organization/<id>/requests/<request_id>/approve",
    view_func=organization_request_approve,
    methods=pages.POST,
)


cd3p.add_url_rule(
    "/organization/<id>/requests/<request_id>/reject",
    view_func=organization_request_reject,
    methods=pages.POST,
)


blueprints = [cd3p]
