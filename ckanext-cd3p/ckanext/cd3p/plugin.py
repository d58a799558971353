"""The CD3P plugin: a thin composition of the pieces that live in their own modules."""

from __future__ import annotations

from ckan import plugins as p
from ckan.common import CKANConfig
from ckan.plugins import toolkit as tk


@tk.blanket.config_declarations
@tk.blanket.cli
@tk.blanket.helpers
class Cd3pPlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)

    # IConfigurer
    def update_config(self, config: CKANConfig) -> None:
        tk.add_template_directory(config, "templates")
        tk.add_resource("assets", "ckanext-cd3p")
