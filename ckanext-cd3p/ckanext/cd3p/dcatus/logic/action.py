"""ckanext-dcat's actions, chained: every catalog output describes only what anyone may see.

The rule is :func:`as_visitor`: the catalog and a dataset's description are made in an anonymous
visitor's context, so CKAN's own permission labels keep out partner-tier, organization-only and held
datasets (a held file makes its dataset organization-only), whoever asks: a member or a sysadmin
too, since a catalog is published for harvesters. A dataset that is not public is "not found", as
for a visitor, so its description's address tells nobody it exists.
"""

from __future__ import annotations

from typing import Any

from ckan.lib.search.common import SearchError, SearchQueryError
from ckan.plugins import toolkit as tk
from ckan.types import Action, Context

from ckanext.cd3p.common import actions
from ckanext.cd3p.dcatus.logic import schema

# The catalog describes the demographic datasets. Programmes (``programme``) are the portal's impact
# records, shown on its own pages; the demo's are illustrative, and no harvester should take them.
TYPE = "dataset"


def as_visitor(context: Context) -> Context:
    """The context of an anonymous visitor, for an action that builds a catalog."""
    visitor = dict(context)
    visitor.update(user="", auth_user_obj=None, ignore_auth=False)
    return visitor  # type: ignore[return-value]


def _catalog_page(context: Context, data_dict: dict[str, Any]) -> dict[str, Any]:
    """A catalog page's parameters, checked (``schema.catalog``), its search narrowed to
    :data:`TYPE` (a caller's ``fq`` narrows it more). ckanext-dcat reads them as they were given."""
    checked = actions.validate(data_dict, schema.catalog(), context)
    known = {k: data_dict[k] for k in checked if k in data_dict}  # as given: ckanext-dcat parses
    fq = known.get("fq")
    return {**known, "fq": f"+dataset_type:{TYPE} " + (fq if isinstance(fq, str) else "")}


def _catalog(up_func: Action, context: Context, data_dict: dict[str, Any]) -> Any:
    """A catalog page as a visitor's: a search Solr cannot run (an unbalanced parenthesis, local
    parameters) is a refusal naming ``q``/``fq`` (409 on the catalog's pages), not an error page."""
    try:
        return up_func(as_visitor(context), _catalog_page(context, data_dict))
    except (SearchQueryError, SearchError) as e:
        reason = tk._("The search could not be run: check its syntax (parentheses, quotes, fields)")
        raise tk.ValidationError({"q": [reason]}) from e


@tk.chained_action
@tk.side_effect_free
def dcat_catalog_show(up_func: Action, context: Context, data_dict: dict[str, Any]) -> Any:
    return _catalog(up_func, context, data_dict)


@tk.chained_action
@tk.side_effect_free
def dcat_catalog_search(up_func: Action, context: Context, data_dict: dict[str, Any]) -> Any:
    return _catalog(up_func, context, data_dict)


@tk.chained_action
@tk.side_effect_free
def dcat_dataset_show(up_func: Action, context: Context, data_dict: dict[str, Any]) -> Any:
    checked = actions.validate(data_dict, schema.dataset(), context)
    visitor = as_visitor(context)
    try:
        shown = tk.get_action("package_show")(dict(visitor), {"id": data_dict["id"]})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        shown = None
    if shown is None or shown.get("type") != TYPE:
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    known = {k: data_dict[k] for k in checked if k in data_dict}
    return up_func(visitor, {**known, "id": shown["id"]})
