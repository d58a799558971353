"""The CD3P plugin: a thin composition of the pieces that live in their own modules."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ckan import plugins as p
from ckan.common import CKANConfig
from ckan.lib.plugins import DefaultPermissionLabels
from ckan.plugins import toolkit as tk

from ckanext.cd3p import checks, search, visibility
from ckanext.xloader.interfaces import IXloader


def _blueprints() -> list[Any]:
    """The agreement pages (views.py), the equity pages (views_equity.py) and the file checks'
    pages (views_checks.py)."""
    from ckanext.cd3p import views, views_checks, views_equity

    return [views.cd3p, views_equity.cd3p_equity, views_checks.cd3p_checks]


@tk.blanket.actions
@tk.blanket.auth_functions
@tk.blanket.blueprints(_blueprints)
@tk.blanket.config_declarations
@tk.blanket.cli
@tk.blanket.helpers
@tk.blanket.validators
class Cd3pPlugin(p.SingletonPlugin, DefaultPermissionLabels):
    p.implements(p.IConfigurer)
    p.implements(p.IPermissionLabels)
    p.implements(IXloader, inherit=True)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IOrganizationController, inherit=True)

    # IConfigurer
    def update_config(self, config: CKANConfig) -> None:
        tk.add_template_directory(config, "templates")
        tk.add_resource("assets", "ckanext-cd3p")

    # IFacets
    def dataset_facets(self, facets_dict: OrderedDict[str, Any], package_type: str) -> OrderedDict[str, Any]:
        return OrderedDict((field, tk._(title)) for field, (title, _choices) in search.FACETS.items())

    # IOrganizationController: a new or changed sector must reach the next dataset indexed.
    # (IPackageController has hooks of the same names, so dataset writes clear the map too; that
    # costs one query per dataset written, never per dataset reindexed.)
    def create(self, entity: Any) -> None:
        search.forget_organization_sectors()

    def edit(self, entity: Any) -> None:
        search.forget_organization_sectors()

    # IPackageController
    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        visibility.unindex_steward(pkg_dict)
        return search.index_fields(pkg_dict)

    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        visibility.hide_steward(context, pkg_dict)

    def after_dataset_search(
        self, search_results: dict[str, Any], search_params: dict[str, Any]
    ) -> dict[str, Any]:
        visibility.hide_steward_in_results(search_results.get("results", []))
        return search.label_facets(search_results)

    # IPermissionLabels: CKAN's labels, plus the partner tier (see visibility.py)
    def get_dataset_labels(self, dataset_obj: Any) -> list[str]:
        return super().get_dataset_labels(dataset_obj) + visibility.partner_dataset_labels(dataset_obj)

    def get_user_dataset_labels(self, user_obj: Any) -> list[str]:
        labels = super().get_user_dataset_labels(user_obj)
        return labels + visibility.partner_user_labels(user_obj, labels)

    # IXloader: the check job screens, then loads in one transaction, in xloader's place (checks.py)
    def can_upload(self, resource_id: str) -> bool:
        return checks.can_load(resource_id)
