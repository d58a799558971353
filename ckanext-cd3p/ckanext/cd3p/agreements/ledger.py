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
import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from ckan.model import Session
from ckan.model.types import make_uuid

from ckanext.cd3p import config
from ckanext.cd3p.agreements.model import Agreement, LedgerCheckpoint, LedgerEntry
from ckanext.cd3p.common.model import utcnow

GENESIS = "0" * 64
_HASHED = (
    "id", "kind", "agreement_id", "agreement_version", "text_sha256", "organization_id",
    "organization_name", "user_id", "user_name", "signatory_name", "signatory_title", "client_ip",
    "revokes", "reason", "created",
)  # fmt: skip
# Fields added later (grants): hashed only where an entry holds a value, so that every entry written
# before they existed keeps its hash.
_HASHED_IF_SET = ("dataset_id", "dataset_name", "grantee_id", "grantee_name", "request_id", "expires")
_FIELDS = _HASHED + _HASHED_IF_SET


def text_sha256(text: str) -> str:
    """SHA-256 of an agreement body exactly as stored and shown (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """Hash of one entry, chained to the previous entry's hash."""
    canonical = {k: fields.get(k) for k in _HASHED}
    canonical.update({k: fields[k] for k in _HASHED_IF_SET if fields.get(k) is not None})
    for k in ("created", "expires"):
        if isinstance(canonical.get(k), dt.datetime):
            canonical[k] = canonical[k].astimezone(dt.UTC).isoformat()
    payload = prev_hash + json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(**fields: Any) -> LedgerEntry:
    """Adds one entry, and the checkpoint of the head it makes, in the caller's transaction (committed
    by the caller).

    A transaction-scoped advisory lock serialises writers so the hash chain has no forks.
    """
    Session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('cd3p_signature'))"))
    last = Session.query(LedgerEntry.entry_hash).order_by(LedgerEntry.seq.desc()).limit(1).scalar()
    prev = last or GENESIS
    checkpoint = LedgerCheckpoint.latest()
    count = checkpoint.entries if checkpoint is not None else Session.query(LedgerEntry).count()
    entry = LedgerEntry(**fields)
    entry.id = fields.get("id") or make_uuid()
    entry.created = fields.get("created") or utcnow()
    entry.prev_hash = prev
    entry.entry_hash = entry_hash(prev, {k: getattr(entry, k) for k in _FIELDS})
    Session.add(entry)
    Session.add(
        LedgerCheckpoint(
            entries=count + 1, head_id=entry.id, head_hash=entry.entry_hash, created=entry.created
        )
    )
    Session.flush()
    return entry


_PUBLISHED = re.compile(r"^\s*(\d{1,18})\s*:\s*([0-9a-f]{64})\s*$", re.IGNORECASE)


def parse_checkpoint(text: str) -> tuple[int, str]:
    """A published checkpoint, ``<entries>:<head hash>`` (as :func:`checkpoint` gives it).

    :raises ValueError: text of another form
    """
    found = _PUBLISHED.match(text)
    if found is None:
        raise ValueError("A checkpoint is <entries>:<64 hex digits of the head hash>")
    return int(found.group(1)), found.group(2).lower()


def checkpoint() -> dict[str, Any]:
    """The ledger's head now, to publish outside the portal: ``entries`` (how many), ``head_hash``
    (the newest entry's hash), ``head_id`` and ``created``; ``published`` is the one-line form that
    :func:`verify` takes back (``<entries>:<head_hash>``)."""
    found = LedgerCheckpoint.latest()
    if found is None:
        return {
            "entries": 0,
            "head_hash": GENESIS,
            "head_id": None,
            "created": None,
            "published": f"0:{GENESIS}",
        }
    return {
        "entries": found.entries,
        "head_hash": found.head_hash,
        "head_id": found.head_id,
        "created": found.created.isoformat(),
        "published": f"{found.entries}:{found.head_hash}",
    }


def verify(published: tuple[int, str] | None = None) -> dict[str, Any]:
    """Walks the chain in order; reports the first entry whose hash or link does not match; then
    that the chain reaches the last checkpoint written with an entry (newest entries removed around
    the triggers leave a chain that is valid but shorter), and, given a checkpoint published
    earlier (entries, head hash), that the chain still holds it at that place.
    """
    marks: dict[int, str] = {}  # entry number -> the hash a checkpoint says the chain has there
    # The checkpoint is read before the entries: an entry committed in between only lengthens the
    # chain past it, where the other order could see a checkpoint of an entry not yet read.
    last = LedgerCheckpoint.latest()
    if last is not None:
        marks[last.entries] = last.head_hash
    if published is not None:
        marks[published[0]] = published[1]
    seen: dict[int, str] = {0: GENESIS}
    prev = GENESIS
    count = 0
    for entry in Session.query(LedgerEntry).order_by(LedgerEntry.seq).yield_per(1000):
        fields = {k: getattr(entry, k) for k in _FIELDS}
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
        if count in marks:
            seen[count] = prev
    for entries, head_hash, what in (
        (last.entries, last.head_hash, "the last checkpoint") if last is not None else (None, None, ""),
        (*published, "the published checkpoint") if published is not None else (None, None, ""),
    ):
        if entries is None:
            continue
        if count < entries:
            return {
                "valid": False,
                "entries": count,
                "broken_at": None,
                "problem": f"the newest {entries - count} entries were removed: {what} counts {entries}",
            }
        if seen.get(entries) != head_hash:
            return {
                "valid": False,
                "entries": count,
                "broken_at": None,
                "problem": f"entry {entries} is not the one {what} names (hash {head_hash[:16]}...)",
            }
    return {"valid": True, "entries": count, "last_hash": prev}


# --- "not revoked": one rule ------------------------------------------------------------------


def _revocations() -> Any:
    return sa.select(LedgerEntry.revokes).where(LedgerEntry.kind == "revoke", LedgerEntry.revokes.isnot(None))


def not_revoked(entry_id: Any = None) -> Any:
    """The filter of the entries that no ``revoke`` entry names, for any query of the ledger that
    must see only standing signatures, acknowledgements and grants; ``entry_id``: the column that
    holds an entry's id when the query is of another table (an access grant's id is its entry's)."""
    return (LedgerEntry.id if entry_id is None else entry_id).notin_(_revocations())


def revoked(entry_ids: Iterable[str]) -> set[str]:
    """Which of these entries a ``revoke`` entry names (one query)."""
    ids = list(entry_ids)
    if not ids:
        return set()
    return set(Session.execute(_revocations().where(LedgerEntry.revokes.in_(ids))).scalars())


def is_revoked(entry_id: str) -> bool:
    return bool(revoked([entry_id]))


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


def _newest_signatures(org_ids: list[str]) -> Any:
    """The select of each organization's newest unrevoked signature (one row per organization)."""
    return (
        sa.select(LedgerEntry)
        .where(LedgerEntry.kind == "sign", LedgerEntry.organization_id.in_(org_ids), not_revoked())
        .distinct(LedgerEntry.organization_id)
        .order_by(LedgerEntry.organization_id, LedgerEntry.seq.desc())
    )


def _latest_signatures(org_ids: Iterable[str]) -> dict[str, LedgerEntry]:
    """The newest unrevoked signature of each organization, in one query."""
    ids = list(org_ids)
    if not ids:
        return {}
    return {row.organization_id: row for row in Session.execute(_newest_signatures(ids)).scalars()}


def _currency(
    signed: str, active_id: str | None, activated: dt.datetime | None, now: dt.datetime
) -> tuple[bool, bool, dt.datetime | None]:
    """The rule of "current", one place: a signature of version ``signed`` is current when it is
    for the active version, or stale (for an older one) and inside the grace period that began when
    the active version was activated. (current, stale, the grace period's end)."""
    if active_id is not None and signed == active_id:
        return True, False, None
    if active_id is not None and activated is not None:
        grace_end = activated + dt.timedelta(days=config.grace_days())
        return now < grace_end, True, grace_end
    return False, True, None


def _standing(org_id: str, sig: LedgerEntry | None, active: Agreement | None, now: dt.datetime) -> Standing:
    standing = Standing(organization_id=org_id, signature=sig, active=active)
    if sig is None:
        return standing
    standing.signed = True
    standing.current, standing.stale, standing.grace_end = _currency(
        sig.agreement_id, active.id if active else None, active.activated if active else None, now
    )
    return standing


@dataclasses.dataclass
class TierFacts:
    """What the partner tier reads from the ledger for one user: the active version, the versions
    the user's organizations signed that are current, and the versions the user acknowledged."""

    active_id: str | None
    current_versions: set[str]
    acknowledged: set[str]


def tier_facts(user_id: str, org_ids: Iterable[str], now: dt.datetime | None = None) -> TierFacts:
    """:class:`TierFacts` in one statement (the active agreement, each organization's newest
    standing signature, the user's standing acknowledgements): the permission labels ask on every
    request of a logged-in user."""
    ids = list(org_ids)
    now = now or utcnow()
    active = sa.select(
        sa.literal("active").label("kind"), Agreement.id.label("agreement_id"), Agreement.activated
    ).where(Agreement.state == "active")
    latest = _newest_signatures(ids).subquery()
    no_time = sa.null().cast(sa.DateTime)
    signed = sa.select(sa.literal("signed"), latest.c.agreement_id, no_time)
    acknowledged = sa.select(sa.literal("acknowledged"), _acknowledged(user_id).c.agreement_id, no_time)
    rows = Session.execute(sa.union_all(active, signed, acknowledged)).all()
    active_row = next(((a, when) for kind, a, when in rows if kind == "active"), (None, None))
    return TierFacts(
        active_id=active_row[0],
        current_versions={a for kind, a, _ in rows if kind == "signed" and _currency(a, *active_row, now)[0]},
        acknowledged={a for kind, a, _ in rows if kind == "acknowledged"},
    )


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


def _acknowledged(user_id: str) -> Any:
    """The select of the versions the user acknowledged or signed, unrevoked."""
    return (
        sa.select(LedgerEntry.agreement_id)
        .where(
            LedgerEntry.user_id == user_id,
            LedgerEntry.kind.in_(("sign", "acknowledge")),
            not_revoked(),
        )
        .distinct()
        .subquery()
    )


def acknowledged_versions(user_id: str) -> set[str]:
    """Ids of the agreement versions the user acknowledged or signed, unrevoked."""
    return set(Session.execute(sa.select(_acknowledged(user_id).c.agreement_id)).scalars())


def acknowledgement(user_id: str, agreement_id: str) -> LedgerEntry | None:
    """The user's newest unrevoked acknowledgement (or, as an admin, signature) of this version."""
    return (
        Session.query(LedgerEntry)
        .filter(
            LedgerEntry.user_id == user_id,
            LedgerEntry.agreement_id == agreement_id,
            LedgerEntry.kind.in_(("sign", "acknowledge")),
            not_revoked(),
        )
        .order_by(LedgerEntry.seq.desc())
        .first()
    )


def signed_version(org_id: str, agreement_id: str) -> LedgerEntry | None:
    """The organization's unrevoked signature of this version, if any."""
    return (
        Session.query(LedgerEntry)
        .filter(
            LedgerEntry.kind == "sign",
            LedgerEntry.organization_id == org_id,
            LedgerEntry.agreement_id == agreement_id,
            not_revoked(),
        )
        .order_by(LedgerEntry.seq.desc())
        .first()
    )
