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


def check_sample_rows() -> int:
    """Rows per table screened for personal data before loading."""
    return tk.config["ckanext.cd3p.checks.sample_rows"]


def detroit_zip_codes() -> list[str]:
    """ZIP codes accepted for the ``zip`` geography key level."""
    return [str(z) for z in tk.config["ckanext.cd3p.checks.detroit_zip_codes"]]


def link_timeout() -> int:
    """Seconds to fetch a linked file for its check."""
    return tk.config["ckanext.cd3p.checks.link_timeout"]


def max_resource_mb() -> int:
    """CKAN's own upload limit (``ckan.max_resource_size``, in MB), applied to links as well."""
    return int(tk.config.get("ckan.max_resource_size") or 10)


def load_stale_after() -> int:
    """Seconds without a heartbeat after which a running load is taken to have died with its worker."""
    return tk.config["ckanext.cd3p.load.stale_after"]


def load_lock_timeout() -> int:
    """Seconds a load waits for readers of the old table before it gives up replacing it."""
    return tk.config["ckanext.cd3p.load.lock_timeout"]


def load_copy_while_checking() -> bool:
    """Whether a delimited file is copied into an uncommitted table while it is checked."""
    return tk.config["ckanext.cd3p.load.copy_while_checking"]
