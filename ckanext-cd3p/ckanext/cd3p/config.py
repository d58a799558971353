"""Every CD3P option is read here, typed by config_declaration.yaml (where each is described)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ckan.plugins import toolkit as tk


def _option(key: str) -> Callable[[], Any]:
    """A reader of one declared option: CKAN has already made it the declared type."""

    def read() -> Any:
        return tk.config[key]

    read.__doc__ = f"``{key}`` (see config_declaration.yaml)"
    return read


def data_dir() -> Path:
    """Folder holding the Detroit reference data (boundaries, ACS tables)."""
    return Path(tk.config["ckanext.cd3p.data_dir"]).expanduser()


def detroit_zip_codes() -> list[str]:
    """ZIP codes accepted for the ``zip`` geography key level."""
    return [str(z) for z in tk.config["ckanext.cd3p.checks.detroit_zip_codes"]]


def max_resource_mb() -> int:
    """CKAN's own upload limit (``ckan.max_resource_size``, in MB), applied to links as well."""
    return int(tk.config.get("ckan.max_resource_size") or 10)


# The sysadmin in whose name the demo organizations and datasets are created.
demo_user: Callable[[], str] = _option("ckanext.cd3p.demo.user")

# The agreement: days a stale signature keeps its rights after a new version is activated, and
# whether ledger entries store the signer's IP address.
grace_days: Callable[[], int] = _option("ckanext.cd3p.agreement.grace_days")
grant_days: Callable[[], int] = _option("ckanext.cd3p.requests.grant_days")
requests_hourly_limit: Callable[[], int] = _option("ckanext.cd3p.requests.hourly_limit")
record_client_ip: Callable[[], bool] = _option("ckanext.cd3p.agreement.record_client_ip")

# Whether applicants, organization admins and sysadmins are e-mailed (through CKAN's smtp.*).
notifications: Callable[[], bool] = _option("ckanext.cd3p.notifications")

# The checks before loading: rows per table screened for personal data, and seconds to fetch a
# linked file.
check_sample_rows: Callable[[], int] = _option("ckanext.cd3p.checks.sample_rows")
link_timeout: Callable[[], int] = _option("ckanext.cd3p.checks.link_timeout")

# Loads: seconds without a heartbeat after which a running load is taken to have died with its
# worker; seconds a load waits for readers of the old table before it gives up replacing it; and
# whether a delimited file is copied into an uncommitted table while it is checked.
load_stale_after: Callable[[], int] = _option("ckanext.cd3p.load.stale_after")
load_lock_timeout: Callable[[], int] = _option("ckanext.cd3p.load.lock_timeout")
load_copy_while_checking: Callable[[], bool] = _option("ckanext.cd3p.load.copy_while_checking")

# The analysis workspace: the most rows one query answers with (a page, a saved result), and how
# long its statement may run (milliseconds).
analysis_row_cap: Callable[[], int] = _option("ckanext.cd3p.analysis.row_cap")
analysis_timeout_ms: Callable[[], int] = _option("ckanext.cd3p.analysis.timeout_ms")

# The scheduler (``ckan cd3p scheduler``): seconds between its looks at what is due.
scheduler_interval: Callable[[], int] = _option("ckanext.cd3p.scheduler.interval")
# Resilience: seconds between runs of the recovery job (resilience/recovery.py).
recovery_period: Callable[[], int] = _option("ckanext.cd3p.recovery.period")

# Feeds: hosts or networks a feed may fetch from although they are not public (the refusal of
# loopback, private and link-local addresses is in common/fetch.py).
feeds_allowed_hosts: Callable[[], list[str]] = _option("ckanext.cd3p.feeds.allowed_hosts")
# Feeds: failed fetches in a row before the organization's admins are told.
feeds_notify_after: Callable[[], int] = _option("ckanext.cd3p.feeds.notify_after")

# The DCAT-US 3 catalog (dcatus/): the whole catalog's publisher, and the portal's public contact.
dcat_publisher: Callable[[], str] = _option("ckanext.cd3p.dcat.publisher")
dcat_contact_email: Callable[[], str] = _option("ckanext.cd3p.dcat.contact_email")
