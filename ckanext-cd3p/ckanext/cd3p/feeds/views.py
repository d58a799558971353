"""Pages of freshness and feeds (blueprint ``cd3p_freshness``); a resource's feed is shown on the
resource page (``templates/package/resource_read.html``).

Routes:

- ``/ckan-admin/freshness``: the datasets past due (due, overdue, delinquent), oldest first, with
  their organization and data steward, 50 a page (sysadmins; ``cd3p_freshness_list``)
- ``POST /dataset/<id>/resource/<resource_id>/feed``: fetch the feed now (the dataset's editors;
  ``cd3p_feed_run``)
"""

from __future__ import annotations

from ckan.plugins import toolkit as tk
from ckan.types import Response

from ckanext.cd3p.common import pages

cd3p_freshness = pages.blueprint("cd3p_freshness", __name__)


def admin_freshness() -> str:
    page_number = pages.page_number()
    found = pages.call(
        "cd3p_freshness_list", {"limit": pages.PAGE_SIZE, "offset": (page_number - 1) * pages.PAGE_SIZE}
    )
    pager = pages.pager(found, "cd3p_freshness.admin", {}, page_number)
    return tk.render(
        "cd3p/feeds/admin.html", {"datasets": found["results"], "count": found["count"], "page": pager}
    )


def feed_run(id: str, resource_id: str) -> Response:
    try:
        pages.call("cd3p_feed_run", {"id": resource_id})
    except tk.ValidationError as e:
        pages.flash_errors(e)
    else:
        tk.h.flash_success(tk._("The feed is being fetched; this page shows the outcome when it is done."))
    return tk.redirect_to("dataset_resource.read", id=id, resource_id=resource_id)


cd3p_freshness.add_url_rule("/ckan-admin/freshness", endpoint="admin", view_func=admin_freshness)
cd3p_freshness.add_url_rule(
    "/dataset/<id>/resource/<resource_id>/feed", endpoint="feed_run", view_func=feed_run, methods=["POST"]
)


blueprints = [cd3p_freshness]
