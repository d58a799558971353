"""The agreement ledger and what it says about organizations and users.

Everything that decides whether an organization may publish, a user may join, or a partner sees
partner-tier data is computed here from ``cd3p_signature``, so the gate, the status page, the API and
the permission labels give one answer.

An organization's *standing*:

- ``signed``: it has a signature that has not been revoked;
- ``stale``: that signature is for an agreement older than the active one;
- ``current``: signed for the active version, or stale but still inside the grace period that
  started when the newer version was activated (``ckanext.cd3p.agreement.grace_days``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from ckan.model import Session
from ckan.model.types import make_uuid

from ckanext.cd3p import config
from ckanext.cd3p.model import Agreement, LedgerEntry, utcnow

GENESIS = "0" * 64
_HASHED = (
    "id", "kind", "agreement_id", "agreement_version", "text_sha256", "organization_id",
    "organization_name", "user_id", "user_name", "signatory_name", "signatory_title", "client_ip",
    "revokes", "reason", "created",
)  # fmt: skip


def text_sha256(text: str) -> str:
    """SHA-256 of an agreement body exactly as stored and shown (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """Hash of one entry, chained to the previous entry's hash."""
    canonical = {k: fields.get(k) for k in _HASHED}
    created = canonical["created"]
    if isinstance(created, dt.datetime):
        canonical["created"] = created.astimezone(dt.UTC).isoformat()
    payload = prev_hash + json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(**fields: Any) -> LedgerEntry:
    """Adds one entry in the caller's transaction (committed by the caller).

    A transaction-scoped advisory lock serialises writers so the hash chain has no forks.
    """
    Session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('cd3p_signature'))"))
    last = Session.query(LedgerEntry.entry_hash).order_by(LedgerEntry.seq.desc()).limit(1).scalar()
    prev = last or GENESIS
    entry = LedgerEntry(**fields)
    entry.id = fields.get("id") or make_uuid()
    entry.created = fields.get("created") or utcnow()
    entry.prev_hash = prev
    entry.entry_hash = entry_hash(prev, {k: getattr(entry, k) for k in _HASHED})
    Session.add(entry)
    Session.flush()
    return entry


def verify() -> dict[str, Any]:
    """Walks the chain in order; reports the first entry whose hash or link does not match."""
    prev = GENESIS
    count = 0
    for entry in Session.query(LedgerEntry).order_by(LedgerEntry.seq).yield_per(1000):
        fields = {k: getattr(entry, k) for k in _HASHED}
        if entry.prev_hash != prev:
            return {
                "valid": False,
                "entries": count,
                "broken_at": entry.id,
                "problem": "missing or reordered entry before it",
            }
        if entry_hash(prev, fields) != entry.entry_hash:
            return {"valid": False, "entries": count, "broken_at": entry.id, "problem": "content changed"}
        prev = entry.entry_hash
        count += 1
    return {"valid": True, "entries": count, "last_hash": prev}


def _revoked_ids() -> Any:
    return sa.select(LedgerEntry.revokes).where(LedgerEntry.kind == "revoke", LedgerEntry.revokes.isnot(None))


def is_revoked(entry_id: str) -> bool:
    return Session.query(
        sa.exists().where(LedgerEntry.kind == "revoke", LedgerEntry.revokes == entry_id)
    ).scalar()


@dataclasses.dataclass
class Standing:
    organization_id: str
    signed: bool = False
    current: bool = False
    stale: bool = False
    signature: LedgerEntry | None = None
    active: Agreement | None = None
    grace_end: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        sig = self.signature
        return {
            "organization_id": self.organization_id,
            "signed": self.signed,
            "current": self.current,
            "stale": self.stale,
            "version": sig.agreement_version if sig else None,
            "agreement_id": sig.agreement_id if sig else None,
            "signature_id": sig.id if sig else None,
            "signed_by": sig.user_name if sig else None,
            "signatory_name": sig.signatory_name if sig else None,
            "signatory_title": sig.signatory_title if sig else None,
            "signed_at": sig.created.isoformat() if sig else None,
            "active_version": self.active.version if self.active else None,
            "grace_end": self.grace_end.isoformat() if self.grace_end else None,
        }


def _latest_signatures(org_ids: Iterable[str]) -> dict[str, LedgerEntry]:
    """The newest unrevoked signature of each organization, in one query."""
    ids = list(org_ids)
    if not ids:
        return {}
    rows = (
        Session.query(LedgerEntry)
        .filter(
            LedgerEntry.kind == "sign",
            LedgerEntry.organization_id.in_(ids),
            LedgerEntry.id.notin_(_revoked_ids()),
        )
        .distinct(LedgerEntry.organization_id)
        .order_by(LedgerEntry.organization_id, LedgerEntry.seq.desc())
    )
    return {row.organization_id: row for row in rows}


def _standing(org_id: str, sig: LedgerEntry | None, active: Agreement | None, now: dt.datetime) -> Standing:
    standing = Standing(organization_id=org_id, signature=sig, active=active)
    if sig is None:
        return standing
    standing.signed = True
    if active is not None and sig.agreement_id == active.id:
        standing.current = True
        return standing
    standing.stale = True
    if active is not None and active.activated is not None:
        standing.grace_end = active.activated + dt.timedelta(days=config.grace_days())
        standing.current = now < standing.grace_end
    return standing


def standing(org_id: str, now: dt.datetime | None = None) -> Standing:
    return standings([org_id], now)[org_id]


def standings(org_ids: Iterable[str], now: dt.datetime | None = None) -> dict[str, Standing]:
    ids = list(org_ids)
    now = now or utcnow()
    active = Agreement.active()
    latest = _latest_signatures(ids)
    return {org_id: _standing(org_id, latest.get(org_id), active, now) for org_id in ids}


def has_acknowledged(user_id: str, agreement_id: str) -> bool:
    """Whether the user acknowledged (or, as an admin, signed) this version, unrevoked."""
    return agreement_id in acknowledged_versions(user_id)


def acknowledged_versions(user_id: str) -> set[str]:
    """Ids of the agreement versions the user acknowledged or signed, unrevoked."""
    rows = Session.execute(
        sa.select(LedgerEntry.agreement_id)
        .where(
            LedgerEntry.user_id == user_id,
            LedgerEntry.kind.in_(("sign", "acknowledge")),
            LedgerEntry.id.notin_(_revoked_ids()),
        )
        .distinct()
    ).scalars()
    return set(rows)


def signed_version(org_id: str, agreement_id: str) -> LedgerEntry | None:
    """The organization's unrevoked signature of this version, if any."""
    return (
        Session.query(LedgerEntry)
        .filter(
            LedgerEntry.kind == "sign",
            LedgerEntry.organization_id == org_id,
            LedgerEntry.agreement_id == agreement_id,
            LedgerEntry.id.notin_(_revoked_ids()),
        )
        .order_by(LedgerEntry.seq.desc())
        .first()
    )
