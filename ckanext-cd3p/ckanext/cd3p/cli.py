"""`ckan cd3p ...` commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from ckan.plugins import toolkit as tk

from ckanext.cd3p import config as cd3p_config
from ckanext.cd3p.defaults import ensure_default_agreement
from ckanext.cd3p.demo import DemoLoader

__all__ = ["cd3p"]


@click.group(short_help="CD3P: demo data and maintenance commands.")
def cd3p() -> None:
    pass


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


@cd3p.group()
def agreement() -> None:
    """The Data Sharing Agreement and its ledger."""


@agreement.command("init")
def agreement_init() -> None:
    """Activate the shipped template agreement if no version is active (idempotent)."""
    ensure_default_agreement(click.echo)


def _site_context() -> dict[str, str]:
    return {"user": tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]}


@agreement.command("verify")
@click.option(
    "--checkpoint",
    "published",
    default=None,
    metavar="ENTRIES:HASH",
    help="A checkpoint published earlier (`ckan cd3p agreement checkpoint`) the chain must still hold.",
)
def agreement_verify(published: str | None) -> None:
    """Recompute the ledger's hash chain; exit 1 if an entry was changed or removed, or the chain does
    not reach its last checkpoint (or the published one)."""
    data = {"checkpoint": published} if published is not None else {}
    try:
        result = tk.get_action("cd3p_ledger_verify")(_site_context(), data)
    except tk.ValidationError as e:
        tk.error_shout(f"ledger: {e.error_summary}")
        sys.exit(2)
    if result["valid"]:
        click.echo(
            f"ledger: {result['entries']} entries, chain intact (last hash {result['last_hash'][:16]}...)"
        )
        return
    where = f"at entry {result['broken_at']} " if result["broken_at"] else ""
    tk.error_shout(f"ledger: BROKEN {where}after {result['entries']} good entries: {result['problem']}")
    sys.exit(1)


@agreement.command("checkpoint")
def agreement_checkpoint() -> None:
    """Print the ledger's head (entries and newest hash) for the City to publish; `verify --checkpoint`
    later checks that the ledger still holds it."""
    found = tk.get_action("cd3p_ledger_checkpoint")(_site_context(), {})
    click.echo(f"{found['published']}  ({found['entries']} entries, as of {found['created'] or 'now'})")
