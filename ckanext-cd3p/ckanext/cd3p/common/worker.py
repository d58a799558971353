"""The job worker, keeping CKAN's environment between jobs: ``ckan cd3p worker``.

CKAN's worker (``ckan jobs worker``) forks a process for each job, as RQ does, and then loads CKAN's
environment again in it (``load_environment``: the plugins, the templates, the database engine):
about 0.7 s on this machine before each job does anything, the largest fixed cost of a small load
and of every scheduled job. The forked process already has that environment, loaded once by the
worker when it started. This worker keeps it, and reads again only what may have changed since: the
site settings a sysadmin changes in the database (``app_globals.reset``, one query).

What the fork must not share is handled before it, as in CKAN's worker (which this one is): its
database engine is disposed, and the DataStore disposes its own (``IForkObserver``). A job still
runs in its own process, so a job that crashes or leaks leaves the worker as it was.
"""

from __future__ import annotations

from typing import Any

import rq
from ckan.lib import app_globals, jobs


class Worker(jobs.Worker):
    """CKAN's worker, whose forked process runs the job in the environment the worker loaded."""

    def main_work_horse(self, job: Any, queue: Any) -> None:
        app_globals.reset()
        rq.Worker.main_work_horse(self, job, queue)


def work(queues: list[str], burst: bool = False) -> None:
    """Runs the worker on the queues (the default one when none is given) until it is stopped."""
    Worker(queues).work(burst=burst)
