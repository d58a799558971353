"""Actions of resilience: what waits for recovery (``cd3p_recovery_show``), and core's search and
deletions chained to answer clearly while Solr cannot be reached (``resilience/index.py``)."""

from __future__ import annotations

from typing import Any

from ckan.common import asbool
from ckan.lib.search import SolrConnectionError
from ckan.plugins import toolkit as tk
from ckan.types import Action, Context, DataDict
from redis.exceptions import RedisError

from ckanext.cd3p.common import actions, inputs
from ckanext.cd3p.ingestion import checks
from ckanext.cd3p.resilience import index
from ckanext.cd3p.resilience.logic import schema


@tk.side_effect_free
def cd3p_recovery_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """What waits for the recovery job (sysadmins): ``solr`` (whether it answers), the datasets
    written while it did not (``index_pending``: ids, oldest first), and the resources whose check
    no worker is doing (``checks_lost``; None when Redis, which holds the queue, cannot be asked).
    """
    tk.check_access("cd3p_recovery_show", context, data_dict)
    actions.validate(data_dict, schema.recovery_show(), context)
    try:
        lost: list[str] | None = [c.resource_id for c in checks.lost()]
    except RedisError:  # Redis down: the queue cannot be asked
        lost = None
    return {"solr": index.solr_answers(), "index_pending": index.pending(), "checks_lost": lost}


# package_search's flags: core reads them with asbool, which raises on a text it does not know.
_SEARCH_FLAGS = ("include_private", "include_drafts", "include_deleted", "use_default_schema")


def _not_a_flag(value: Any) -> bool:
    try:
        asbool(value)
    except ValueError:
        return True
    return False


def _guard_search(data_dict: DataDict) -> None:
    """What core's package_search would fail on (a 500) instead of refusing, refused first."""
    inputs.guard(data_dict, texts=("q", "fq", "sort", "facet"), numbers=("rows", "start"))
    errors = {}
    for name in _SEARCH_FLAGS:
        value = data_dict.get(name)
        if value is not None and _not_a_flag(value):
            errors[name] = [tk._("Must be true or false")]
    fq_list = data_dict.get("fq_list", [])
    if not isinstance(fq_list, list) or not all(isinstance(fq, str) for fq in fq_list):
        errors["fq_list"] = [tk._("Must be a list of texts")]
    if errors:
        raise tk.ValidationError(errors)


@tk.chained_action
@tk.side_effect_free
def package_search(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core's search, its input checked first; a Solr that cannot be reached is
    :class:`index.SearchUnavailable` (a 503)."""
    _guard_search(data_dict)
    try:
        return up_func(context, data_dict)
    except SolrConnectionError as error:
        raise index.unavailable(str(error)) from error


def _refused_while_solr_is_down(name: str, up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """A deletion takes its dataset out of the index in the same commit, which cannot be kept
    for later: while Solr does not answer, it is refused before anything changes (a 503), once
    core's auth function has let the caller through."""
    inputs.guard(data_dict, ids=("id",), required=("id",))
    tk.check_access(name, context, data_dict)
    if not index.solr_answers():
        raise index.unavailable("Solr does not answer: deletions wait until it does")
    return up_func(context, data_dict)


@tk.chained_action
def package_delete(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    return _refused_while_solr_is_down("package_delete", up_func, context, data_dict)


@tk.chained_action
def dataset_purge(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    return _refused_while_solr_is_down("dataset_purge", up_func, context, data_dict)
