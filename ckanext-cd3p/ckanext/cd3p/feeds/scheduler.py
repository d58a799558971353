"""The scheduler: the one process that starts periodic work (``ckan cd3p scheduler``).

``make run`` starts it with the worker (``scripts/portal.sh``), and ``docker/`` runs it as a
container of its own. Every ``ckanext.cd3p.scheduler.interval`` seconds it queues, on the worker,
each task of :data:`TASKS` whose period has passed; it runs no task itself, so a task's work, its
log and its failures are the worker's, as for every other job.

"Its period has passed" is kept in Redis: a task runs when it can take the key
``cd3p:scheduler:<task>`` (``SET NX`` with the period as expiry). A restarted scheduler does not
run a task again before its time, and two schedulers started by mistake never both run it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ckan.lib.redis import connect_to_redis
from ckan.plugins import toolkit as tk

from ckanext.cd3p import config
from ckanext.cd3p.common.model import utcnow
from ckanext.cd3p.feeds import daily, pull
from ckanext.cd3p.resilience import recovery

log = logging.getLogger(__name__)

KEY_PREFIX = "cd3p:scheduler:"


def freshness_job() -> dict[str, int]:
    """The daily freshness job, as the worker runs it."""
    return daily.run(echo=lambda line: log.info("freshness: %s", line))


def feeds_job() -> int:
    """The feeds due, each queued as a job of its own (``feeds/pull.py``)."""
    return pull.queue_due()


def recovery_job() -> dict[str, int]:
    """Datasets written while Solr was down indexed, lost checks started again (resilience/)."""
    return recovery.run()


@dataclass(frozen=True)
class Task:
    name: str
    period: dt.timedelta | Callable[[], dt.timedelta]  # a callable: read from the settings each tick
    job: Callable[[], Any]

    def seconds(self) -> int:
        period = self.period if isinstance(self.period, dt.timedelta) else self.period()
        return max(1, int(period.total_seconds()))


TASKS: tuple[Task, ...] = (
    Task("freshness", dt.timedelta(days=1), freshness_job),
    Task("feeds", dt.timedelta(minutes=5), feeds_job),  # an hourly feed is at most 5 minutes late
    Task("recovery", lambda: dt.timedelta(seconds=config.recovery_period()), recovery_job),
)


def tick(tasks: tuple[Task, ...] = TASKS, now: dt.datetime | None = None) -> list[str]:
    """Queues each task whose period has passed; returns their names."""
    redis = connect_to_redis()
    moment = (now or utcnow()).isoformat()
    queued = []
    for task in tasks:
        if redis.set(KEY_PREFIX + task.name, moment, nx=True, ex=task.seconds()):
            tk.enqueue_job(task.job, title=f"cd3p scheduled: {task.name}")
            queued.append(task.name)
    return queued


def last_run(task: str) -> str | None:
    """When the task was last queued (ISO time), while its period runs; None after it."""
    found = connect_to_redis().get(KEY_PREFIX + task)
    return found.decode() if isinstance(found, bytes) else found


def loop(echo: Callable[[str], Any], ticks: int | None = None) -> None:
    """Ticks every interval until stopped (or ``ticks`` times)."""
    done = 0
    while ticks is None or done < ticks:
        try:
            for name in tick():
                echo(f"queued {name}")
        except Exception:  # Redis or the queue down: say so and try again at the next tick
            log.exception("cd3p scheduler: the tick failed")
        done += 1
        if ticks is None or done < ticks:
            time.sleep(config.scheduler_interval())
