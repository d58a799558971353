"""`ckan cd3p ...` commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from ckan.plugins import toolkit as tk

from ckanext.cd3p import config as cd3p_config
from ckanext.cd3p.agreements.cli import agreement
from ckanext.cd3p.common import worker as job_worker
from ckanext.cd3p.demo import DemoLoader
from ckanext.cd3p.feeds.cli import feeds, freshness, scheduler_command

__all__ = ["cd3p"]


@click.group(short_help="CD3P: demo data and maintenance commands.")
def cd3p() -> None:
    pass


cd3p.add_command(agreement)
cd3p.add_command(freshness)
cd3p.add_command(feeds)
cd3p.add_command(scheduler_command)


@cd3p.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
@click.argument("queues", nargs=-1)
def worker(burst: bool, queues: tuple[str, ...]) -> None:
    """The job worker, as `ckan jobs worker` but keeping CKAN's environment between jobs
    (common/worker.py): each job starts without loading the plugins again."""
    job_worker.work(list(queues), burst=burst)


@cd3p.group()
def demo() -> None:
    """The Detroit demo catalog."""


@demo.command("load")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Detroit data folder (default: ckanext.cd3p.data_dir).",
)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Wait until the xloader worker has loaded every table into the DataStore.",
)
@click.option("--timeout", type=float, default=600, show_default=True, help="Seconds to wait.")
def demo_load(data_dir: Path | None, wait: bool, timeout: float) -> None:
    """Create the demo organizations and datasets and upload the Detroit files (idempotent)."""
    try:
        loader = DemoLoader(
            data_dir or cd3p_config.data_dir(),
            cd3p_config.demo_user(),
            echo=lambda msg: click.echo(f"demo: {msg}"),
        )
        states = loader.run(wait=wait, timeout=timeout)
    except tk.ObjectNotFound as e:
        tk.error_shout(f"demo: {e}")
        sys.exit(1)
    except tk.ValidationError as e:
        tk.error_shout(f"demo: rejected: {e.error_summary}")
        sys.exit(1)
    failed = sorted(rid for rid, s in states.items() if s != "complete")
    if failed:
        tk.error_shout(
            f"demo: {len(failed)} table(s) not loaded into the DataStore: {', '.join(failed)} "
            "(see the worker's log, var/log/worker-development.log)"
        )
        sys.exit(1)
    if wait:
        click.echo(f"demo: {len(states)} DataStore tables loaded")
