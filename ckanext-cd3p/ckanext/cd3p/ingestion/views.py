"""Pages of the checks before loading (blueprint ``cd3p_checks``); the report itself is shown on the
resource page (``templates/package/resource_read.html``).

- ``POST /dataset/<id>/resource/<resource_id>/check``: check the file again
- ``POST /dataset/<id>/resource/<resource_id>/mark-personal``: mark the dataset as holding personal
  data and organization-only, then check (and load) the file again
- ``/ckan-admin/checks``: sysadmins' queue of held (or failed) files; ``POST .../<resource_id>/release``

A file that has not passed its check may be downloaded only by the dataset's editors (a held file
only by its organization's admins) and sysadmins, and the file of a
table with suppressed small counts only by those who read the raw table: CKAN's download route is
guarded before it runs (:func:`guard_download`).
"""

from __future__ import annotations

from typing import Any

from ckan.plugins import toolkit as tk
from ckan.types import Response
from flask import request

from ckanext.cd3p.common import inputs, pages
from ckanext.cd3p.ingestion import checks, suppression

cd3p_checks = pages.blueprint("cd3p_checks", __name__)


def _back(id: str, resource_id: str) -> Response:
    return tk.redirect_to("dataset_resource.read", id=id, resource_id=resource_id)


def recheck(id: str, resource_id: str) -> Response:
    pages.call("cd3p_resource_check_run", {"id": resource_id})
    tk.h.flash_success(
        tk._("The file is queued for a new check; this page shows the result when it is done.")
    )
    return _back(id, resource_id)


def mark_personal(id: str, resource_id: str) -> Response:
    pages.call("cd3p_resource_mark_personal", {"id": resource_id})
    tk.h.flash_success(
        tk._(
            "The dataset is now marked as containing personal data and visible to its organization only. "
            "The file is being checked again and will then be loaded."
        )
    )
    return _back(id, resource_id)


def admin_checks() -> str:
    state = request.args.get("state", "held")
    if state not in ("held", "failed"):
        state = "held"
    found = pages.call("cd3p_resource_check_list", {"state": state})
    return tk.render("cd3p/ingestion/queue.html", {"checks": found, "state": state})


def admin_release(resource_id: str) -> Response:
    try:
        pages.call(
            "cd3p_resource_check_release", {"id": resource_id, "reason": request.form.get("reason", "")}
        )
    except tk.ValidationError as e:
        pages.flash_errors(e)
    else:
        tk.h.flash_success(
            tk._("Released: the file is being loaded and its dataset has its access level back.")
        )
    return tk.redirect_to("cd3p_checks.admin_checks")


def guard_download() -> Any:
    """Before CKAN's resource download view: a file that has not passed its check is for the
    dataset's editors (a held one for its organization's admins) and sysadmins only, see
    :func:`checks.download_refused` (everyone else gets a 403, visitors the login page first). The
    file of a table with suppressed small counts is, for those who read its public view, the view's
    DataStore dump (a redirect)."""
    endpoint = request.endpoint or ""
    if not endpoint.endswith("resource.download"):
        return None
    resource_id = inputs.text_id((request.view_args or {}).get("resource_id"))
    if resource_id is None:  # no resource has that id: CKAN's view answers, without a look-up of ours
        return pages.not_found(tk.ObjectNotFound(tk._("Resource not found")))
    user = pages.user_name()
    refused = checks.download_refused(resource_id, user)
    if refused is not None:
        return pages.refuse(tk.NotAuthorized(refused))
    if suppression.for_caller({"user": user}, resource_id) is not None:
        return tk.redirect_to("datastore.dump", resource_id=resource_id)
    return None


cd3p_checks.add_url_rule("/dataset/<id>/resource/<resource_id>/check", view_func=recheck, methods=["POST"])
cd3p_checks.add_url_rule(
    "/dataset/<id>/resource/<resource_id>/mark-personal", view_func=mark_personal, methods=["POST"]
)
cd3p_checks.add_url_rule("/ckan-admin/checks", view_func=admin_checks)
cd3p_checks.add_url_rule(
    "/ckan-admin/checks/<resource_id>/release", view_func=admin_release, methods=["POST"]
)
cd3p_checks.before_app_request(guard_download)


blueprints = [cd3p_checks]
