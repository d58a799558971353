"""`ckan cd3p agreement ...`: the shipped agreement, and the ledger's verification and checkpoint."""

from __future__ import annotations

import sys

import click
from ckan.plugins import toolkit as tk

from ckanext.cd3p.agreements.defaults import ensure_default_agreement


@click.group()
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
