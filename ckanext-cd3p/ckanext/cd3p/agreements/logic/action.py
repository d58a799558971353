"""Actions of the Data Sharing Agreement: agreements, the ledger, partner applications, membership
requests; and the chained core actions that apply the membership gate.

Every action checks access first, then validates its input with the schema of the same name in
``logic/py``. Read actions are side-effect free.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from ckan import authz, model
from ckan.lib.munge import munge_title_to_name
from ckan.plugins import toolkit as tk
from ckan.types import Action, Context, DataDict

from ckanext.cd3p import config
from ckanext.cd3p.agreements import gate, ledger, notify
from ckanext.cd3p.agreements.logic import schema
from ckanext.cd3p.agreements.model import (
    Agreement,
    Decision,
    LedgerEntry,
    MembershipRequest,
    PartnerApplication,
)
from ckanext.cd3p.common import actions, inputs
from ckanext.cd3p.common.model import utcnow


def _date(value: Any) -> Any:
    """isodate gives a datetime; an effective date is a date."""
    return value.date() if hasattr(value, "date") else value


def _organization(ref: str) -> model.Group:
    org = model.Group.get(ref)
    if org is None or not org.is_organization or org.state != "active":
        raise tk.ObjectNotFound(tk._("Organization not found: {ref}").format(ref=ref))
    return org


def _client_ip() -> str | None:
    if not config.record_client_ip():
        return None
    try:
        return tk.request.remote_addr
    except RuntimeError:  # no request (CLI)
        return None


def _agreement_dict(agreement: Agreement, with_body: bool = True) -> dict[str, Any]:
    out = agreement.as_dict()
    out["text_sha256"] = ledger.text_sha256(agreement.body)
    if not with_body:
        out.pop("body")
    return out


def _active_or_error(field: str = "agreement_id") -> Agreement:
    active = Agreement.active()
    if active is None:
        raise tk.ValidationError(
            {field: [tk._("No agreement version is active yet; a sysadmin must activate one.")]}
        )
    return active


# --- agreements ---------------------------------------------------------------------------------


@tk.side_effect_free
def cd3p_agreement_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """Agreement versions, newest first, without their text. Drafts are listed to sysadmins only.

    :param state: ``draft``, ``active`` or ``retired`` (optional)
    """
    tk.check_access("cd3p_agreement_list", context, data_dict)
    data = actions.validate(data_dict, schema.agreement_list(), context)
    query = actions.Session.query(Agreement)
    if not authz.is_sysadmin(context.get("user")):
        query = query.filter(Agreement.state != "draft")
    if data.get("state"):
        query = query.filter(Agreement.state == data["state"])
    return [_agreement_dict(a, with_body=False) for a in query.order_by(Agreement.created.desc())]


@tk.side_effect_free
def cd3p_agreement_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """One agreement version with its text, the SHA-256 of that text, and ``acknowledged``: whether
    the calling user has acknowledged (or signed) it.

    :param id: id or version label, or ``current`` for the active version
    """
    tk.check_access("cd3p_agreement_show", context, data_dict)
    data = actions.validate(data_dict, schema.agreement_show(), context)
    agreement = Agreement.active() if data["id"] == "current" else Agreement.get(data["id"])
    if agreement is None:
        raise tk.ObjectNotFound(tk._("Agreement not found: {id}").format(id=data["id"]))
    result = _agreement_dict(agreement)
    user = model.User.get(context.get("user") or "")
    result["acknowledged"] = bool(user) and ledger.has_acknowledged(user.id, agreement.id)
    return result


def cd3p_agreement_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Creates a draft version (sysadmins).

    :param version: label, e.g. ``2026-1`` (lowercase letters, digits, ``-`` and ``_``)
    :param title: title
    :param body: the text, in Markdown
    :param effective_date: ISO date (optional)
    """
    tk.check_access("cd3p_agreement_create", context, data_dict)
    data = actions.validate(data_dict, schema.agreement_create(), context)
    if Agreement.get(data["version"]) is not None:
        raise tk.ValidationError({"version": [tk._("Version {v} already exists").format(v=data["version"])]})
    agreement = Agreement(
        version=data["version"],
        title=data["title"],
        body=data["body"],
        effective_date=_date(data.get("effective_date")),
        state="draft",
        created_by=context.get("user"),
    )
    actions.Session.add(agreement)
    actions.commit(context)
    return _agreement_dict(agreement)


def _draft(ref: str, key: str, refusal: str) -> Agreement:
    """The agreement version ``ref`` if it is a draft; ObjectNotFound, or the ``refusal`` (with
    ``{v}`` the version and ``{s}`` its state) as a ValidationError under ``key``."""
    agreement = Agreement.get(ref)
    if agreement is None:
        raise tk.ObjectNotFound(tk._("Agreement not found: {id}").format(id=ref))
    if agreement.state != "draft":
        raise tk.ValidationError({key: [refusal.format(v=agreement.version, s=agreement.state)]})
    return agreement


def cd3p_agreement_update(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Changes a draft's title, text or effective date (sysadmins). Active and retired versions are
    frozen: partners signed exactly that text.

    :param id: id or version label
    """
    tk.check_access("cd3p_agreement_update", context, data_dict)
    data = actions.validate(data_dict, schema.agreement_update(), context)
    agreement = _draft(data["id"], "state", tk._("Only a draft can be changed; version {v} is {s}"))
    for field in ("title", "body"):
        if field in data:
            setattr(agreement, field, data[field])
    if "effective_date" in data:
        agreement.effective_date = _date(data["effective_date"])
    agreement.modified = utcnow()
    actions.commit(context)
    return _agreement_dict(agreement)


def cd3p_agreement_delete(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Deletes a draft nobody signed (sysadmins), so that drafts do not pile up. Active and retired
    versions stay: partners signed them.

    :param id: id or version label of a draft
    :returns: the deleted draft, without its text
    """
    tk.check_access("cd3p_agreement_delete", context, data_dict)
    data = actions.validate(data_dict, schema.agreement_delete(), context)
    agreement = _draft(data["id"], "id", tk._("Only a draft can be deleted; version {v} is {s}"))
    if actions.Session.query(sa.exists().where(LedgerEntry.agreement_id == agreement.id)).scalar():
        raise tk.ValidationError(
            {"id": [tk._("The ledger names version {v}: it stays").format(v=agreement.version)]}
        )
    found = _agreement_dict(agreement, with_body=False)
    actions.Session.delete(agreement)
    actions.commit(context)
    return found


def cd3p_agreement_activate(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Makes a draft the active version (sysadmins); the previous active version is retired and every
    signature of it becomes stale, with a grace period of ``ckanext.cd3p.agreement.grace_days``.

    :param id: id or version label of a draft
    """
    tk.check_access("cd3p_agreement_activate", context, data_dict)
    data = actions.validate(data_dict, schema.agreement_show(), context)
    agreement = _draft(data["id"], "state", tk._("Only a draft can be activated; version {v} is {s}"))
    now = utcnow()
    previous = Agreement.active()
    if previous is not None:
        previous.state = "retired"
        previous.retired = now
        actions.Session.flush()  # one active version at a time is a unique index
    agreement.state = "active"
    agreement.activated = now
    agreement.modified = now
    actions.commit(context)
    return _agreement_dict(agreement)


# --- signing ------------------------------------------------------------------------------------


def _who(user: model.User, org: model.Group | None) -> dict[str, Any]:
    """The user and organization a ledger entry, application or request names (ids and names)."""
    return {
        "organization_id": org.id if org else None,
        "organization_name": org.name if org else None,
        "user_id": user.id,
        "user_name": user.name,
    }


def _entry_fields(agreement: Agreement, user: model.User, org: model.Group | None) -> dict[str, Any]:
    return {
        "agreement_id": agreement.id,
        "agreement_version": agreement.version,
        "text_sha256": ledger.text_sha256(agreement.body),
        "client_ip": _client_ip(),
        **_who(user, org),
    }


# What a revocation repeats of the entry it revokes: the version signed and by which organization.
_REVOKED_FIELDS = ("agreement_id", "agreement_version", "text_sha256", "organization_id", "organization_name")


def _check_text(agreement: Agreement, data: dict[str, Any]) -> None:
    shown = data.get("text_sha256")
    if shown and shown != ledger.text_sha256(agreement.body):
        raise tk.ValidationError(
            {
                "text_sha256": [
                    tk._("The text you read is not the text of version {v}; reload the page.").format(
                        v=agreement.version
                    )
                ]
            }
        )


def cd3p_agreement_sign(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """An organization admin signs the active agreement for the organization.

    Signing also records the signer's own acknowledgement of that version.

    :param organization_id: id or name
    :param agreement_id: id or version label of the active version
    :param signatory_name: full name
    :param signatory_title: job title
    :param confirm_authority: must be true: the signer has authority to bind the organization
    :param text_sha256: SHA-256 of the text the signer read (optional; refused if it differs)
    :returns: ``signature`` (the ledger entry) and ``status`` (as cd3p_agreement_status)
    """
    tk.check_access("cd3p_agreement_sign", context, data_dict)
    data = actions.validate(data_dict, schema.agreement_sign(), context)
    org = _organization(data["organization_id"])
    user = actions.actor(context)
    agreement = Agreement.get(data["agreement_id"])
    if agreement is None:
        raise tk.ValidationError(
            {"agreement_id": [tk._("Agreement not found: {id}").format(id=data["agreement_id"])]}
        )
    if agreement.state != "active":
        raise tk.ValidationError(
            {
                "agreement_id": [
                    tk._("Version {v} is {s}; only the active version can be signed.").format(
                        v=agreement.version, s=agreement.state
                    )
                ]
            }
        )
    _check_text(agreement, data)
    if ledger.signed_version(org.id, agreement.id) is not None:
        raise tk.ValidationError(
            {
                "agreement_id": [
                    tk._("{org} has already signed version {v}.").format(
                        org=org.title or org.name, v=agreement.version
                    )
                ]
            }
        )
    entry = ledger.append(
        kind="sign",
        signatory_name=data["signatory_name"],
        signatory_title=data["signatory_title"],
        **_entry_fields(agreement, user, org),
    )
    result = {"signature": entry.as_dict(), "status": ledger.standing(org.id).as_dict()}
    actions.commit(context)
    return result


def cd3p_agreement_acknowledge(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The calling user acknowledges the active agreement personally (required to join a partner).

    :param agreement_id: id or version label of the active version (optional; default the active one)
    :param text_sha256: SHA-256 of the text read (optional; refused if it differs)
    """
    tk.check_access("cd3p_agreement_acknowledge", context, data_dict)
    data = actions.validate(data_dict, schema.agreement_acknowledge(), context)
    user = actions.actor(context)
    agreement = Agreement.get(data["agreement_id"]) if data.get("agreement_id") else _active_or_error()
    if agreement is None or agreement.state != "active":
        raise tk.ValidationError({"agreement_id": [tk._("Only the active version can be acknowledged.")]})
    _check_text(agreement, data)
    if ledger.has_acknowledged(user.id, agreement.id):
        raise tk.ValidationError(
            {"agreement_id": [tk._("You have already acknowledged version {v}.").format(v=agreement.version)]}
        )
    entry = ledger.append(kind="acknowledge", **_entry_fields(agreement, user, None))
    result = entry.as_dict()
    actions.commit(context)
    return result


@tk.side_effect_free
def cd3p_agreement_status(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Where an organization stands: ``signed``, ``current`` (may publish and see partner data),
    ``stale`` (signed an older version), ``version``, ``signatory_name``, ``signatory_title``,
    ``signed_by`` (account), ``signed_at``, ``active_version`` and ``grace_end``.

    :param organization_id: id or name
    """
    tk.check_access("cd3p_agreement_status", context, data_dict)
    data = actions.validate(data_dict, schema.agreement_status(), context)
    org = _organization(data["organization_id"])
    result = ledger.standing(org.id).as_dict()
    result["organization_name"] = org.name
    return result


# --- the ledger ---------------------------------------------------------------------------------


def _entry_dicts(entries: list[LedgerEntry]) -> list[dict[str, Any]]:
    revoked = ledger.revoked(e.id for e in entries)
    out = []
    for entry in entries:
        d = entry.as_dict()
        d["revoked"] = entry.id in revoked
        out.append(d)
    return out


@tk.side_effect_free
def cd3p_signature_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Ledger entries, oldest first. Sysadmins see all; organization admins pass their
    ``organization_id`` and see that organization's entries and its members' personal
    acknowledgements (those made for no organization; one made when asking to join another
    organization is that organization's entry).

    :param organization_id: id or name (required unless sysadmin)
    :param user_id: id or name
    :param agreement_id: id or version label
    :param kind: ``sign``, ``acknowledge``, ``revoke`` or ``grant``
    :param since: ISO date or time (inclusive)
    :param until: ISO date or time (exclusive)
    :param limit: default 100, at most 1000
    :param offset: default 0
    :returns: ``count`` and ``results``
    """
    tk.check_access("cd3p_signature_list", context, data_dict)
    data = actions.validate(data_dict, schema.signature_list(), context)
    query = actions.Session.query(LedgerEntry)
    if data.get("organization_id"):
        org = _organization(data["organization_id"])
        members = sa.select(model.Member.table_id).where(
            model.Member.group_id == org.id, model.Member.table_name == "user", model.Member.state == "active"
        )
        # Its own entries, and its members' personal acknowledgements; not what they acknowledged
        # when asking to join another organization, which would say whom they asked.
        query = query.filter(
            sa.or_(
                LedgerEntry.organization_id == org.id,
                sa.and_(
                    LedgerEntry.kind == "acknowledge",
                    LedgerEntry.organization_id.is_(None),
                    LedgerEntry.user_id.in_(members),
                ),
            )
        )
    if data.get("user_id"):
        user = model.User.get(data["user_id"])
        query = query.filter(LedgerEntry.user_id == (user.id if user else data["user_id"]))
    if data.get("agreement_id"):
        agreement = Agreement.get(data["agreement_id"])
        query = query.filter(
            LedgerEntry.agreement_id == (agreement.id if agreement else data["agreement_id"])
        )
    if data.get("kind"):
        query = query.filter(LedgerEntry.kind == data["kind"])
    if data.get("since"):
        query = query.filter(LedgerEntry.created >= data["since"])
    if data.get("until"):
        query = query.filter(LedgerEntry.created < data["until"])
    count = query.count()
    entries = query.order_by(LedgerEntry.seq).offset(data["offset"]).limit(min(data["limit"], 1000)).all()
    return {"count": count, "results": _entry_dicts(entries)}


def cd3p_signature_revoke(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Revokes a signature or acknowledgement by appending a ``revoke`` entry (sysadmins). Nothing is
    changed or removed.

    :param id: the ledger entry to revoke
    :param reason: why
    """
    tk.check_access("cd3p_signature_revoke", context, data_dict)
    data = actions.validate(data_dict, schema.signature_revoke(), context)
    target = actions.Session.get(LedgerEntry, data["id"])
    if target is None:
        raise tk.ObjectNotFound(tk._("Ledger entry not found: {id}").format(id=data["id"]))
    if target.kind == "revoke":
        raise tk.ValidationError({"id": [tk._("A revocation cannot be revoked; sign again instead.")]})
    if target.kind == "grant":
        raise tk.ValidationError(
            {"id": [tk._("An access grant is revoked with cd3p_access_grant_revoke, which ends the access.")]}
        )
    if ledger.is_revoked(target.id):
        raise tk.ValidationError({"id": [tk._("This entry is already revoked.")]})
    user = actions.actor(context)
    entry = ledger.append(
        kind="revoke",
        **{k: getattr(target, k) for k in _REVOKED_FIELDS},
        user_id=user.id,
        user_name=user.name,
        revokes=target.id,
        reason=data["reason"],
        client_ip=_client_ip(),
    )
    result = entry.as_dict()
    actions.commit(context)
    return result


@tk.side_effect_free
def cd3p_ledger_verify(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Recomputes the ledger's hash chain (sysadmins): ``valid``, ``entries`` and, when broken,
    ``broken_at`` (the first entry that does not match, or None when the newest entries are
    missing) and ``problem``. The chain must reach the checkpoint written with the last entry.

    :param checkpoint: a checkpoint published earlier, ``<entries>:<head hash>`` (as
        cd3p_ledger_checkpoint gives it), that the chain must still hold (optional)
    """
    tk.check_access("cd3p_ledger_verify", context, data_dict)
    data = actions.validate(data_dict, schema.ledger_verify(), context)
    return ledger.verify(data.get("checkpoint"))


@tk.side_effect_free
def cd3p_ledger_checkpoint(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The ledger's head now, for the City to publish outside the portal (sysadmins): ``entries``,
    ``head_hash``, ``head_id``, ``created`` and ``published``, the form cd3p_ledger_verify takes."""
    tk.check_access("cd3p_ledger_checkpoint", context, data_dict)
    actions.validate(data_dict, schema.ledger_checkpoint(), context)
    return ledger.checkpoint()


# --- partner applications -----------------------------------------------------------------------


# Partner applications and membership requests share their life cycle: pending, then approved or
# rejected once, by someone, with the requester told.
def _row(cls: type[Decision], ref: str, pending: bool = False) -> Any:
    """The application or request, raising ObjectNotFound; with ``pending``, one not yet decided."""
    row = actions.Session.get(cls, ref)
    if row is None:
        label = tk._("Partner application") if cls is PartnerApplication else tk._("Membership request")
        raise tk.ObjectNotFound(tk._("{what} not found: {id}").format(what=label, id=ref))
    if pending and row.state != "pending":
        raise tk.ValidationError(
            {
                "id": [
                    tk._("This has already been {state} (on {date}).").format(
                        state=row.state, date=row.decided.date().isoformat() if row.decided else ""
                    )
                ]
            }
        )
    return row


def _decide(context: Context, row: Decision, state: str, **fields: Any) -> dict[str, Any]:
    """Records the decision, commits, and tells the requester."""
    row.state = state
    row.decided = utcnow()
    row.decided_by = context.get("user")
    for name, value in fields.items():
        setattr(row, name, value)
    actions.commit(context)
    if isinstance(row, PartnerApplication):
        notify.application_decided(row)
    else:
        notify.request_decided(row)
    return row.as_dict()


def _reject(context: Context, data_dict: DataDict, cls: type[Decision], action: str) -> dict[str, Any]:
    """A reject action: a pending application or request declined, with the reason its sender sees."""
    tk.check_access(action, context, data_dict)
    data = actions.validate(data_dict, schema.reject(), context)
    return _decide(context, _row(cls, data["id"], pending=True), "rejected", reason=data["reason"])


def _queue(query: Any, cls: type[Decision], data: dict[str, Any]) -> dict[str, Any]:
    """One page of a list action, newest first, optionally of one state."""
    if data.get("state"):
        query = query.filter(cls.state == data["state"])
    rows = query.order_by(cls.created.desc()).offset(data["offset"]).limit(data["limit"])
    return {"count": query.count(), "results": [r.as_dict() for r in rows]}


def _submit(context: Context, row: Decision, received: Callable[[Any], None]) -> dict[str, Any]:
    """A new application or request: stored, then its reviewers told."""
    actions.Session.add(row)
    actions.commit(context)
    received(row)
    return row.as_dict()


def cd3p_partner_application_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Step 1 of becoming a partner: a registered user applies on behalf of an organization.

    :param organization_title: the organization's name as it should appear
    :param organization_name: URL name (optional; made from the title)
    :param sector: one of the organization schema's sectors
    :param website: URL (optional)
    :param contact_name: contact person
    :param contact_email: contact e-mail
    :param contact_phone: (optional)
    :param data_description: the data the organization can share
    :param service_area: council districts served (``district-1`` ...; list or comma-separated)
    :param focus_group: interest in the pilot focus group (boolean)
    """
    tk.check_access("cd3p_partner_application_create", context, data_dict)
    data = actions.validate(data_dict, schema.partner_application_create(), context)
    user = actions.actor(context)
    name = data.get("organization_name") or munge_title_to_name(data["organization_title"])
    errors: dict[str, list[str]] = {}
    if model.Group.get(name) is not None:
        errors["organization_name"] = [tk._("An organization named {name} already exists").format(name=name)]
    pending = actions.Session.query(PartnerApplication).filter_by(user_id=user.id, state="pending").first()
    if pending is not None:
        errors["organization_title"] = [
            tk._("You already have a pending application for {org}").format(org=pending.organization_title)
        ]
    if errors:
        raise tk.ValidationError(errors)
    application = PartnerApplication(
        user_id=user.id,
        user_name=user.name,
        organization_name=name,
        state="pending",
        **{k: v for k, v in data.items() if k != "organization_name"},
    )
    return _submit(context, application, notify.application_received)


@tk.side_effect_free
def cd3p_partner_application_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Applications, newest first: all of them for sysadmins, the caller's own for anyone else.

    :param state: ``pending``, ``approved`` or ``rejected`` (optional)
    :param mine: only the caller's own (for sysadmins; default false)
    :returns: ``count`` and ``results``
    """
    tk.check_access("cd3p_partner_application_list", context, data_dict)
    data = actions.validate(data_dict, schema.queue_list(), context)
    query = actions.Session.query(PartnerApplication)
    if data["mine"] or not authz.is_sysadmin(context.get("user")):
        query = query.filter(PartnerApplication.user_id == actions.actor(context).id)
    return _queue(query, PartnerApplication, data)


@tk.side_effect_free
def cd3p_partner_application_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """One application (its applicant and sysadmins).

    :param id: application id
    """
    tk.check_access("cd3p_partner_application_show", context, data_dict)
    data = actions.validate(data_dict, schema.by_id(), context)
    return _row(PartnerApplication, data["id"]).as_dict()


def cd3p_partner_application_approve(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Approves an application (sysadmins): creates the organization and makes the applicant its
    first admin, who can then sign the agreement.

    :param id: application id
    :returns: the application, with ``organization_id``
    """
    tk.check_access("cd3p_partner_application_approve", context, data_dict)
    data = actions.validate(data_dict, schema.by_id(), context)
    application = _row(PartnerApplication, data["id"], pending=True)
    actor = context.get("user")
    org_dict: dict[str, Any] = {
        "name": application.organization_name,
        "title": application.organization_title,
        "sector": application.sector,
        "contact_email": application.contact_email,
    }
    if application.website:
        org_dict["website"] = application.website
    if application.service_area:
        org_dict["service_area"] = application.service_area.split(",")
    org = tk.get_action("organization_create")({"user": actor}, org_dict)
    tk.get_action("organization_member_create")(
        {"user": actor}, {"id": org["id"], "username": application.user_id, "role": "admin"}
    )
    return _decide(context, application, "approved", organization_id=org["id"])


def cd3p_partner_application_reject(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Rejects an application with a reason the applicant sees (sysadmins).

    :param id: application id
    :param reason: why
    """
    return _reject(context, data_dict, PartnerApplication, "cd3p_partner_application_reject")


# --- membership requests ------------------------------------------------------------------------


def cd3p_membership_request_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A registered user asks to join a partner organization, acknowledging the active agreement.

    :param organization_id: id or name
    :param role: ``member`` (default) or ``editor``
    :param message: to the organization's admins (optional)
    :param acknowledge: must be true: the user acknowledges the active agreement
    """
    tk.check_access("cd3p_membership_request_create", context, data_dict)
    data = actions.validate(data_dict, schema.membership_request_create(), context)
    user = actions.actor(context)
    org = _organization(data["organization_id"])
    if gate.is_member(org.id, user):
        raise tk.ValidationError(
            {
                "organization_id": [
                    tk._("You are already a member of {org}.").format(org=org.title or org.name)
                ]
            }
        )
    pending = (
        actions.Session.query(MembershipRequest)
        .filter_by(organization_id=org.id, user_id=user.id, state="pending")
        .first()
    )
    if pending is not None:
        raise tk.ValidationError(
            {
                "organization_id": [
                    tk._("You already asked to join {org}; the request is waiting for its admins.").format(
                        org=org.title
                    )
                ]
            }
        )
    standing = ledger.standing(org.id)
    if not standing.current:
        raise tk.ValidationError({"organization_id": [gate.unsigned_message(org, standing)]})
    agreement = _active_or_error("acknowledge")
    ack = ledger.acknowledgement(user.id, agreement.id)
    if ack is None:
        ack = ledger.append(kind="acknowledge", **_entry_fields(agreement, user, org))
    row = MembershipRequest(
        **_who(user, org),
        role=data["role"],
        message=data.get("message"),
        acknowledgement_id=ack.id if ack else None,
        state="pending",
    )
    return _submit(context, row, notify.request_received)


@tk.side_effect_free
def cd3p_membership_request_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Membership requests, newest first. With ``organization_id``: that organization's queue (its
    admins and sysadmins). Without: the caller's own requests (all requests for sysadmins).

    :param organization_id: id or name (optional)
    :param state: ``pending``, ``approved`` or ``rejected`` (optional)
    :param mine: without organization_id, only the caller's own (for sysadmins; default false)
    :returns: ``count`` and ``results``
    """
    tk.check_access("cd3p_membership_request_list", context, data_dict)
    data = actions.validate(data_dict, schema.queue_list(), context)
    query = actions.Session.query(MembershipRequest)
    if data.get("organization_id"):
        query = query.filter(MembershipRequest.organization_id == _organization(data["organization_id"]).id)
    elif data["mine"] or not authz.is_sysadmin(context.get("user")):
        query = query.filter(MembershipRequest.user_id == actions.actor(context).id)
    return _queue(query, MembershipRequest, data)


def cd3p_membership_request_approve(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Adds the requester to the organization in the requested role (its admins and sysadmins). The
    membership gate applies: the organization must still have a current signature.

    :param id: request id
    """
    tk.check_access("cd3p_membership_request_approve", context, data_dict)
    data = actions.validate(data_dict, schema.by_id(), context)
    row = _row(MembershipRequest, data["id"], pending=True)
    tk.get_action("organization_member_create")(
        {"user": context.get("user")}, {"id": row.organization_id, "username": row.user_id, "role": row.role}
    )
    return _decide(context, row, "approved")


def cd3p_membership_request_reject(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Declines a request with a reason the requester sees (its admins and sysadmins).

    :param id: request id
    :param reason: why
    """
    return _reject(context, data_dict, MembershipRequest, "cd3p_membership_request_reject")


# --- the membership gate on core actions --------------------------------------------------------


@tk.chained_action
def member_create(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core member_create (also reached by organization_member_create and user_invite), gated."""
    inputs.guard(
        data_dict,
        ids=("id", "object"),
        required=("id", "object", "object_type"),
        texts=("object_type", "capacity"),
    )
    if data_dict.get("object_type") == "user":
        org = model.Group.get(data_dict.get("id") or "")
        if org is not None and org.is_organization:
            gate.check_new_members(
                context, org, [(data_dict.get("object") or "", data_dict.get("capacity") or "")]
            )
    return up_func(context, data_dict)


def _users(data_dict: DataDict) -> list[tuple[str, str]]:
    users = data_dict.get("users") or []
    return [
        (u.get("name") or u.get("id") or "", u.get("capacity") or "member")
        for u in users
        if isinstance(u, dict)
    ]


# What core's organization_create and organization_update would fail on.
_ORGANIZATION_INPUTS: dict[str, Any] = {
    "ids": ("id", "name"),
    "records": ("users", "extras", "packages", "groups"),
    "texts": ("title", "description", "image_url", "state", "approval_status", "type"),
}


@tk.chained_action
def organization_create(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core organization_create; members given in ``users`` pass the gate."""
    inputs.guard(data_dict, **_ORGANIZATION_INPUTS)
    if data_dict.get("users"):
        gate.check_new_members(context, None, _users(data_dict))
    return up_func(context, data_dict)


@tk.chained_action
def organization_update(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core organization_update (and organization_patch); new members given in ``users`` pass the gate."""
    inputs.guard(data_dict, **_ORGANIZATION_INPUTS)
    if data_dict.get("users"):
        org = model.Group.get(data_dict.get("id") or data_dict.get("name") or "")
        if org is not None:
            gate.check_new_members(context, org, _users(data_dict))
    return up_func(context, data_dict)


@tk.chained_action
def user_invite(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core user_invite, refused up front (before it creates the account) unless the invitee will be
    the organization's first admin: a new account cannot have acknowledged the agreement."""
    inputs.guard(
        data_dict, ids=("group_id",), required=("group_id", "email", "role"), texts=("email", "role")
    )
    org = model.Group.get(data_dict.get("group_id") or "")
    if (
        org is not None
        and org.is_organization
        and not gate.first_admin_allowed(context, org, data_dict.get("role"))
    ):
        raise tk.NotAuthorized(
            tk._(
                "New members must acknowledge the Data Sharing Agreement before they join {org}: "
                "ask them to register and then ask to join at {url}"
            ).format(org=org.title or org.name, url=gate.join_url(org))
        )
    return up_func(context, data_dict)
