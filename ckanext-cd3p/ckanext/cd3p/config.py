"""Every CD3P option is read here, typed by config_declaration.yaml."""

from __future__ import annotations

from pathlib import Path

from ckan.plugins import toolkit as tk


def data_dir() -> Path:
    """Folder holding the Detroit reference data (boundaries, ACS tables)."""
    return Path(tk.config["ckanext.cd3p.data_dir"]).expanduser()


def demo_user() -> str:
    """Sysadmin in whose name the demo organizations and datasets are created."""
    return tk.config["ckanext.cd3p.demo.user"]
