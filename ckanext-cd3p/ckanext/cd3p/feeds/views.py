"""Pages of freshness (blueprint ``cd3p_freshness``).

Routes:

- ``/ckan-admin/freshness``: the datasets past due (due, overdue, delinquent), oldest first, with
  their organization and data steward, 50 a page (sysadmins; ``cd3p_freshness_list``)
"""

from __future__ import annotations

from ckan.plugins import toolkit as tk

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


cd3p_freshness.add_url_rule("/ckan-admin/freshness", endpoint="admin", view_func=admin_freshness)


blueprints = [cd3p_freshness]
