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


def grace_days() -> int:
    """Days a stale signature keeps its rights after a new agreement version is activated."""
    return tk.config["ckanext.cd3p.agreement.grace_days"]


def record_client_ip() -> bool:
    """Whether ledger entries store the signer's IP address."""
    return tk.config["ckanext.cd3p.agreement.record_client_ip"]


def notifications() -> bool:
    """Whether applicants, organization admins and sysadmins are e-mailed (through CKAN's smtp.*)."""
    return tk.config["ckanext.cd3p.notifications"]
