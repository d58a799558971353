"""The CD3P plugin: one CKAN plugin, ``cd3p``, composed of its features.

Each feature is a sub-package of the same shape (see the README's map)::

    <feature>/logic/action.py      actions: each ``cd3p_*`` function, and each chained core action
    <feature>/logic/auth.py        auth functions: each ``cd3p_*`` one, and each chained core one
    <feature>/logic/schema.py      the schema of each action
    <feature>/logic/validators.py  validators: each ``cd3p_*`` function
    <feature>/helpers.py           template helpers: each ``cd3p_*`` function
    <feature>/views.py             ``blueprints``
    <feature>/model.py             its ``cd3p_*`` tables

``common/`` holds what several features use (its ``validators`` and ``helpers`` are registered
too). When two features chain the same core action or auth function, both apply: the one of the
feature listed first in :data:`FEATURES` is the outer one.
"""

from __future__ import annotations

import functools
import importlib
from collections import OrderedDict
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ckan import model
from ckan import plugins as p
from ckan.common import CKANConfig
from ckan.lib.plugins import DefaultPermissionLabels, DefaultTranslation
from ckan.plugins import toolkit as tk

from ckanext.cd3p.catalog import search, visibility
from ckanext.cd3p.common import partners
from ckanext.cd3p.common.memo import forget_on_write, remembered
from ckanext.cd3p.feeds import pull
from ckanext.cd3p.impact import outcomes
from ckanext.cd3p.ingestion import checks
from ckanext.cd3p.requests import fulfilment, grants
from ckanext.cd3p.resilience import index, uploads
from ckanext.xloader.interfaces import IXloader

FEATURES = (
    "catalog",
    "agreements",
    "indicators",
    "ingestion",
    "impact",
    "requests",
    "ecosystem",
    "analysis",
    "feeds",
    "dcatus",
    "resilience",
)

# A user's permission labels, remembered for the request (see get_user_dataset_labels).
LABELS_MEMO = "labels"
forget_on_write(LABELS_MEMO)

# The checks before loading read a programme's tables as outcome reports (impact).
checks.add_table_check(outcomes.table_check)


def _modules(leaf: str, common: str | None = None) -> list[ModuleType]:
    """``ckanext.cd3p.<feature>.<leaf>`` of each feature that has one (and ``common.<common>``)."""
    names = [f"ckanext.cd3p.common.{common}"] if common else []
    names += [f"ckanext.cd3p.{feature}.{leaf}" for feature in FEATURES]
    found = []
    for name in names:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
    return found


def _both(outer: Callable[..., Any], inner: Callable[..., Any], marker: str) -> Callable[..., Any]:
    """One chained function for two features' chains of the same core one."""

    def chained(up_func: Callable[..., Any], context: Any, data_dict: Any) -> Any:
        return outer(functools.partial(inner, up_func), context, data_dict)

    setattr(chained, marker, True)
    for flag in ("side_effect_free", "auth_allow_anonymous_access", "auth_sysadmins_check"):
        if getattr(outer, flag, False) or getattr(inner, flag, False):
            setattr(chained, flag, True)
    return chained


def _registered(module: ModuleType, marker: str | None) -> list[tuple[str, Any]]:
    """What a module registers, found by the one prefix (``cd3p_``) or, for a chained core function,
    by the mark CKAN's decorator leaves on it: no list to keep by hand."""
    return [
        (name, item)
        for name, item in vars(module).items()
        if callable(item)
        and not isinstance(item, type)
        and (name.startswith("cd3p_") or (marker is not None and getattr(item, marker, False)))
    ]


def _gather(leaf: str, common: str | None = None, marker: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for module in _modules(leaf, common):
        for name, item in _registered(module, marker):
            if name in found:
                if marker is None or not (
                    getattr(found[name], marker, False) and getattr(item, marker, False)
                ):
                    raise RuntimeError(f"cd3p: two features register {name}")
                item = _both(found[name], item, marker)
            found[name] = item
    return found


def _actions() -> dict[str, Any]:
    return _gather("logic.action", marker="chained_action")


def _auth_functions() -> dict[str, Any]:
    return _gather("logic.auth", marker="chained_auth_function")


def _validators() -> dict[str, Any]:
    return _gather("logic.validators", common="validators")


def _helpers() -> dict[str, Any]:
    return _gather("helpers", common="helpers")


def _blueprints() -> list[Any]:
    return [bp for module in _modules("views") for bp in module.blueprints]


@tk.blanket.actions(_actions)
@tk.blanket.auth_functions(_auth_functions)
@tk.blanket.blueprints(_blueprints)
@tk.blanket.config_declarations
@tk.blanket.cli
@tk.blanket.helpers(_helpers)
@tk.blanket.validators(_validators)
class Cd3pPlugin(p.SingletonPlugin, DefaultPermissionLabels, DefaultTranslation):
    p.implements(p.IConfigurer)
    p.implements(p.IPermissionLabels)
    # ITranslation: our catalogs, i18n/<lang>/LC_MESSAGES/ckanext-cd3p.mo (common/i18n.py)
    p.implements(p.ITranslation)
    p.implements(IXloader, inherit=True)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IOrganizationController, inherit=True)
    p.implements(p.IUploader, inherit=True)

    # IConfigurer
    def update_config(self, config: CKANConfig) -> None:
        tk.add_template_directory(config, "templates")
        tk.add_resource("assets", "ckanext-cd3p")

    # IFacets
    def dataset_facets(self, facets_dict: OrderedDict[str, Any], package_type: str) -> OrderedDict[str, Any]:
        return OrderedDict((field, tk._(title)) for field, (title, _choices) in search.FACETS.items())

    # IOrganizationController: a new or changed sector must reach the next dataset indexed.
    # IPackageController has hooks of the same names, called with the dataset: those leave the map.
    def create(self, entity: Any) -> None:
        if isinstance(entity, model.Group):
            search.forget_organization_sectors()

    def edit(self, entity: Any) -> None:
        if isinstance(entity, model.Group):
            search.forget_organization_sectors()

    # IPackageController (resilience: while Solr does not answer, the dataset is kept for indexing
    # later and CKAN's commit goes on; catalog: the facet fields, the steward out of the index)
    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        index.defer_when_unreachable(pkg_dict)
        visibility.unindex_steward(pkg_dict)
        return search.index_fields(pkg_dict)

    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        visibility.hide_steward(context, pkg_dict)

    def after_dataset_search(
        self, search_results: dict[str, Any], search_params: dict[str, Any]
    ) -> dict[str, Any]:
        visibility.hide_steward_in_results(search_results.get("results", []))
        return search.label_facets(search_results)

    # IPackageController (requests): a new-data request linked to a dataset is fulfilled when the
    # dataset becomes visible to its requester (one indexed query per dataset written); (feeds) its
    # resources' refresh schedules are kept in step (one query per dataset written)
    def after_dataset_create(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        pull.sync(pkg_dict)

    def after_dataset_update(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        fulfilment.dataset_changed(context, pkg_dict["id"])
        pull.sync(pkg_dict)

    def after_dataset_delete(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        pull.forget_dataset(pkg_dict["id"])

    # IPermissionLabels: CKAN's labels, plus the partner tier (common/partners.py) and access
    # grants (requests/grants.py)
    def get_dataset_labels(self, dataset_obj: Any) -> list[str]:
        return (
            super().get_dataset_labels(dataset_obj)
            + partners.partner_dataset_labels(dataset_obj)
            + grants.dataset_labels(dataset_obj)
        )

    # CKAN asks for them in every dataset auth check (and nested ones): worked out once per request
    # and user, until the request writes something (common/memo.forget_on_write)
    def get_user_dataset_labels(self, user_obj: Any) -> list[str]:
        def labels() -> list[str]:
            core = super(Cd3pPlugin, self).get_user_dataset_labels(user_obj)
            return core + partners.partner_user_labels(user_obj, core) + grants.user_labels(user_obj)

        key = None if not user_obj or user_obj.is_anonymous else user_obj.id
        return list(remembered(LABELS_MEMO, key, labels))

    # IUploader (resilience): a resource's file written in full before anything changes, so that a
    # full or unwritable storage is a clear error that loses nothing; other uploads are core's
    def get_resource_uploader(self, data_dict: dict[str, Any]) -> uploads.StagedUpload:
        return uploads.StagedUpload(data_dict)

    def get_uploader(self, upload_to: str, old_filename: str | None = None) -> None:
        return None

    # IXloader: the check job screens, then loads in one transaction, in xloader's place (ingestion)
    def can_upload(self, resource_id: str) -> bool:
        return checks.can_load(resource_id)
