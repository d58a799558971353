"""The scheduler queues the daily freshness job on the real worker once a day, and the feeds due
every five minutes, whoever ticks (a restarted scheduler, a second one): the worker then records a
dataset that went overdue (the feeds: tests/feeds/test_feeds.py). Its
command runs as its own process, as `make run` and docker/ start it."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ckan import model
from ckan.lib.redis import connect_to_redis

from ckanext.cd3p.common.model import utcnow
from ckanext.cd3p.feeds import scheduler
from ckanext.cd3p.feeds.model import DataChange
from tests import factories, partners
from tests.helpers import poll

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")


@pytest.fixture
def no_runs() -> None:
    """No task has run in this environment's Redis (each test environment has a database of its own)."""
    redis = connect_to_redis()
    for task in scheduler.TASKS:
        redis.delete(scheduler.KEY_PREFIX + task.name)


def _overdue_dataset() -> dict[str, Any]:
    """A weekly dataset, without resources, whose data last changed 15 days ago (overdue: 14)."""
    org = partners.organization(factories.User())
    dataset = factories.Dataset(owner_org=org["id"], update_frequency="weekly")
    pkg = model.Package.get(dataset["id"])
    pkg.metadata_created = (utcnow() - dt.timedelta(days=15)).replace(tzinfo=None)
    model.Session.commit()
    return dataset


@pytest.mark.usefixtures("no_runs")
def test_the_daily_job_is_queued_once_a_day_and_the_worker_runs_it(agreement: dict[str, Any]) -> None:
    dataset = _overdue_dataset()
    assert scheduler.tick() == ["freshness", "feeds", "recovery"]
    assert scheduler.tick() == []  # within the period: nothing again

    def told() -> str | None:
        row = model.Session.get(DataChange, dataset["id"])
        return row.state if row is not None else None

    poll(lambda: told() == "overdue", timeout=60, what="the worker ran the freshness job")
    assert scheduler.last_run("freshness") is not None


@pytest.mark.usefixtures("no_runs")
def test_the_command_runs_as_its_own_process(request: pytest.FixtureRequest) -> None:
    ini = request.config.getoption("ckan_ini")
    ckan = Path(sys.executable).with_name("ckan")
    done = subprocess.run(
        [str(ckan), "-c", ini, "cd3p", "scheduler", "--ticks", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "scheduler: queued freshness\nscheduler: queued feeds\nscheduler: queued recovery" in done.stdout
    assert scheduler.tick() == []
