"""The recovery job: queued by the scheduler (``feeds/scheduler.py``) every
``ckanext.cd3p.recovery.period`` seconds, run by the worker. It indexes the datasets written while
Solr was down, and starts again the checks no worker is doing (queued while Redis was down, or
whose worker died)."""

from __future__ import annotations

import logging

from ckanext.cd3p.ingestion import checks
from ckanext.cd3p.resilience import index

log = logging.getLogger(__name__)


def run() -> dict[str, int]:
    """Catches up; what it did."""
    indexed = index.catch_up()
    restarted = checks.recover_lost()
    if indexed or restarted:
        log.info("cd3p recovery: %d dataset(s) indexed, %d check(s) started again", indexed, len(restarted))
    return {"indexed": indexed, "checks_restarted": len(restarted)}
