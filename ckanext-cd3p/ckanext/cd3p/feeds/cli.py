"""`ckan cd3p freshness ...` (the daily freshness job), `ckan cd3p feeds ...` (the feeds due) and
`ckan cd3p scheduler` (what runs both when they are due)."""

from __future__ import annotations

import click

from ckanext.cd3p import config
from ckanext.cd3p.feeds import daily, pull, scheduler


@click.group()
def freshness() -> None:
    """Dataset freshness (update frequency against the last data change)."""


@freshness.command("run")
def freshness_run() -> None:
    """Evaluate every dataset with an update frequency: record each change of state, update its
    search entry, and e-mail its data steward when it becomes overdue and sysadmins when it becomes
    delinquent (once per change of state). Run it once a day."""
    counts = daily.run(echo=lambda line: click.echo(f"freshness: {line}"))
    click.echo(
        "freshness: {evaluated} datasets evaluated, {changed} changed state, {overdue} overdue and "
        "{delinquent} delinquent told".format(**counts)
    )


@click.group()
def feeds() -> None:
    """Feeds: resources fetched again from their URL on a schedule."""


@feeds.command("run")
def feeds_run() -> None:
    """Fetch every feed that is due now, one after the other, here (the scheduler queues them on
    the worker instead); unchanged content is not reloaded, new content is checked and loaded."""
    counts = pull.run_due()
    said = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    click.echo(f"feeds: {said or 'none due'}")


@click.command("scheduler")
@click.option(
    "--ticks", type=int, default=None, help="Stop after this many ticks (default: run until stopped)."
)
def scheduler_command(ticks: int | None) -> None:
    """Queue the periodic jobs (the daily freshness job, the feeds due) on the worker when they are
    due. Started by `make run` with the worker, and by docker/ as its own container."""
    click.echo(
        f"scheduler: every {config.scheduler_interval()} s: " + ", ".join(t.name for t in scheduler.TASKS)
    )
    scheduler.loop(echo=lambda line: click.echo(f"scheduler: {line}"), ticks=ticks)
