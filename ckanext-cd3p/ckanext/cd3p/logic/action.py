"""Actions of the Data Sharing Agreement: agreements, the ledger, partner applications, membership
requests; and the chained core actions that apply the membership gate.

Every action checks access first, then validates its input with the schema of the same name in
``logic/schema.py``. Read actions are side-effect free.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from ckan import authz, model
from ckan.lib.munge import munge_title_to_name
from ckan.plugins import toolkit as tk
from ckan.types import Action, Context, DataDict

from ckanext.cd3p import (
    checks,
    config,
    gate,
    geography,
    indicators,
    ledger,
    loading,
    notify,
    suppression,
    visibility,
)
from ckanext.cd3p.common import inputs
from ckanext.cd3p.logic import schema
from ckanext.cd3p.model import (
    Agreement,
    IndicatorSource,
    LedgerEntry,
    MembershipRequest,
    PartnerApplication,
    ResourceCheck,
    utcnow,
)

__all__ = [
    "activity_data_show",
    "activity_diff",
    "activity_show",
    "cd3p_agreement_acknowledge",
    "cd3p_agreement_activate",
    "cd3p_agreement_create",
    "cd3p_agreement_delete",
    "cd3p_agreement_list",
    "cd3p_agreement_show",
    "cd3p_agreement_sign",
    "cd3p_agreement_status",
    "cd3p_agreement_update",
    "cd3p_indicator_list",
    "cd3p_indicator_refresh",
    "cd3p_indicator_show",
    "cd3p_indicator_source_create",
    "cd3p_indicator_source_delete",
    "cd3p_indicator_source_list",
    "cd3p_ledger_checkpoint",
    "cd3p_ledger_verify",
    "cd3p_membership_request_approve",
    "cd3p_membership_request_create",
    "cd3p_membership_request_list",
    "cd3p_membership_request_reject",
    "cd3p_partner_application_approve",
    "cd3p_partner_application_create",
    "cd3p_partner_application_list",
    "cd3p_partner_application_reject",
    "cd3p_partner_application_show",
    "cd3p_place_show",
    "cd3p_resource_check_list",
    "cd3p_resource_check_release",
    "cd3p_resource_check_run",
    "cd3p_resource_check_show",
    "cd3p_resource_mark_personal",
    "cd3p_signature_list",
    "cd3p_signature_revoke",
    "dashboard_activity_list",
    "dataset_followee_list",
    "datastore_create",
    "datastore_delete",
    "datastore_search",
    "datastore_upsert",
    "followee_list",
    "group_activity_list",
    "member_create",
    "organization_activity_list",
    "organization_create",
    "organization_update",
    "package_activity_list",
    "package_update",
    "recently_changed_packages_activity_list",
    "resource_create",
    "resource_update",
    "user_activity_list",
    "user_invite",
]

Session = model.Session


def _validate(data_dict: DataDict, schema_: dict[str, Any], context: Context) -> dict[str, Any]:
    data, errors = tk.navl_validate(data_dict, schema_, context)
    if errors:
        Session.rollback()
        raise tk.ValidationError(errors)
    data.pop("__extras", None)  # unknown keys are ignored, never stored
    data.pop("__junk", None)
    return data


def _date(value: Any) -> Any:
    """isodate gives a datetime; an effective date is a date."""
    return value.date() if hasattr(value, "date") else value


def _commit(context: Context) -> None:
    if not context.get("defer_commit"):
        Session.commit()


def _actor(context: Context) -> model.User:
    user = model.User.get(context.get("user") or "")
    if user is None:
        raise tk.NotAuthorized(tk._("You must be logged in"))
    return user


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
    data = _validate(data_dict, schema.agreement_list(), context)
    query = Session.query(Agreement)
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
    data = _validate(data_dict, schema.agreement_show(), context)
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
    data = _validate(data_dict, schema.agreement_create(), context)
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
    Session.add(agreement)
    _commit(context)
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
    data = _validate(data_dict, schema.agreement_update(), context)
    agreement = _draft(data["id"], "state", tk._("Only a draft can be changed; version {v} is {s}"))
    for field in ("title", "body"):
        if field in data:
            setattr(agreement, field, data[field])
    if "effective_date" in data:
        agreement.effective_date = _date(data["effective_date"])
    agreement.modified = utcnow()
    _commit(context)
    return _agreement_dict(agreement)


def cd3p_agreement_delete(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Deletes a draft nobody signed (sysadmins), so that drafts do not pile up. Active and retired
    versions stay: partners signed them.

    :param id: id or version label of a draft
    :returns: the deleted draft, without its text
    """
    tk.check_access("cd3p_agreement_delete", context, data_dict)
    data = _validate(data_dict, schema.agreement_delete(), context)
    agreement = _draft(data["id"], "id", tk._("Only a draft can be deleted; version {v} is {s}"))
    if Session.query(sa.exists().where(LedgerEntry.agreement_id == agreement.id)).scalar():
        raise tk.ValidationError(
            {"id": [tk._("The ledger names version {v}: it stays").format(v=agreement.version)]}
        )
    found = _agreement_dict(agreement, with_body=False)
    Session.delete(agreement)
    _commit(context)
    return found


def cd3p_agreement_activate(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Makes a draft the active version (sysadmins); the previous active version is retired and every
    signature of it becomes stale, with a grace period of ``ckanext.cd3p.agreement.grace_days``.

    :param id: id or version label of a draft
    """
    tk.check_access("cd3p_agreement_activate", context, data_dict)
    data = _validate(data_dict, schema.agreement_show(), context)
    agreement = _draft(data["id"], "state", tk._("Only a draft can be activated; version {v} is {s}"))
    now = utcnow()
    previous = Agreement.active()
    if previous is not None:
        previous.state = "retired"
        previous.retired = now
        Session.flush()  # one active version at a time is a unique index
    agreement.state = "active"
    agreement.activated = now
    agreement.modified = now
    _commit(context)
    return _agreement_dict(agreement)


# --- signing ------------------------------------------------------------------------------------


def _entry_fields(agreement: Agreement, user: model.User, org: model.Group | None) -> dict[str, Any]:
    return {
        "agreement_id": agreement.id,
        "agreement_version": agreement.version,
        "text_sha256": ledger.text_sha256(agreement.body),
        "organization_id": org.id if org else None,
        "organization_name": org.name if org else None,
        "user_id": user.id,
        "user_name": user.name,
        "client_ip": _client_ip(),
    }


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
    data = _validate(data_dict, schema.agreement_sign(), context)
    org = _organization(data["organization_id"])
    user = _actor(context)
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
    _commit(context)
    return result


def cd3p_agreement_acknowledge(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The calling user acknowledges the active agreement personally (required to join a partner).

    :param agreement_id: id or version label of the active version (optional; default the active one)
    :param text_sha256: SHA-256 of the text read (optional; refused if it differs)
    """
    tk.check_access("cd3p_agreement_acknowledge", context, data_dict)
    data = _validate(data_dict, schema.agreement_acknowledge(), context)
    user = _actor(context)
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
    _commit(context)
    return result


@tk.side_effect_free
def cd3p_agreement_status(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Where an organization stands: ``signed``, ``current`` (may publish and see partner data),
    ``stale`` (signed an older version), ``version``, ``signatory_name``, ``signatory_title``,
    ``signed_by`` (account), ``signed_at``, ``active_version`` and ``grace_end``.

    :param organization_id: id or name
    """
    tk.check_access("cd3p_agreement_status", context, data_dict)
    data = _validate(data_dict, schema.agreement_status(), context)
    org = _organization(data["organization_id"])
    result = ledger.standing(org.id).as_dict()
    result["organization_name"] = org.name
    return result


# --- the ledger ---------------------------------------------------------------------------------


def _entry_dicts(entries: list[LedgerEntry]) -> list[dict[str, Any]]:
    ids = [e.id for e in entries]
    revoked = (
        set(
            Session.execute(
                sa.select(LedgerEntry.revokes).where(
                    LedgerEntry.kind == "revoke", LedgerEntry.revokes.in_(ids)
                )
            ).scalars()
        )
        if ids
        else set()
    )
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
    :param kind: ``sign``, ``acknowledge`` or ``revoke``
    :param since: ISO date or time (inclusive)
    :param until: ISO date or time (exclusive)
    :param limit: default 100, at most 1000
    :param offset: default 0
    :returns: ``count`` and ``results``
    """
    tk.check_access("cd3p_signature_list", context, data_dict)
    data = _validate(data_dict, schema.signature_list(), context)
    query = Session.query(LedgerEntry)
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
    data = _validate(data_dict, schema.signature_revoke(), context)
    target = Session.get(LedgerEntry, data["id"])
    if target is None:
        raise tk.ObjectNotFound(tk._("Ledger entry not found: {id}").format(id=data["id"]))
    if target.kind == "revoke":
        raise tk.ValidationError({"id": [tk._("A revocation cannot be revoked; sign again instead.")]})
    if ledger.is_revoked(target.id):
        raise tk.ValidationError({"id": [tk._("This entry is already revoked.")]})
    user = _actor(context)
    entry = ledger.append(
        kind="revoke",
        agreement_id=target.agreement_id,
        agreement_version=target.agreement_version,
        text_sha256=target.text_sha256,
        organization_id=target.organization_id,
        organization_name=target.organization_name,
        user_id=user.id,
        user_name=user.name,
        revokes=target.id,
        reason=data["reason"],
        client_ip=_client_ip(),
    )
    result = entry.as_dict()
    _commit(context)
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
    data = _validate(data_dict, schema.ledger_verify(), context)
    return ledger.verify(data.get("checkpoint"))


@tk.side_effect_free
def cd3p_ledger_checkpoint(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The ledger's head now, for the City to publish outside the portal (sysadmins): ``entries``,
    ``head_hash``, ``head_id``, ``created`` and ``published``, the form cd3p_ledger_verify takes."""
    tk.check_access("cd3p_ledger_checkpoint", context, data_dict)
    _validate(data_dict, schema.ledger_checkpoint(), context)
    return ledger.checkpoint()


# --- partner applications -----------------------------------------------------------------------


# Partner applications and membership requests share their life cycle: pending, then approved or
# rejected once, by someone, with the requester told.
Decidable = PartnerApplication | MembershipRequest


def _row(cls: type[Decidable], ref: str, pending: bool = False) -> Any:
    """The application or request, raising ObjectNotFound; with ``pending``, one not yet decided."""
    row = Session.get(cls, ref)
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


def _decide(context: Context, row: Decidable, state: str, **fields: Any) -> dict[str, Any]:
    """Records the decision, commits, and tells the requester."""
    row.state = state
    row.decided = utcnow()
    row.decided_by = context.get("user")
    for name, value in fields.items():
        setattr(row, name, value)
    _commit(context)
    if isinstance(row, PartnerApplication):
        notify.application_decided(row)
    else:
        notify.request_decided(row)
    return row.as_dict()


def _queue(query: Any, cls: type[Decidable], data: dict[str, Any]) -> dict[str, Any]:
    """One page of a list action, newest first, optionally of one state."""
    if data.get("state"):
        query = query.filter(cls.state == data["state"])
    rows = query.order_by(cls.created.desc()).offset(data["offset"]).limit(data["limit"])
    return {"count": query.count(), "results": [r.as_dict() for r in rows]}


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
    data = _validate(data_dict, schema.partner_application_create(), context)
    user = _actor(context)
    name = data.get("organization_name") or munge_title_to_name(data["organization_title"])
    errors: dict[str, list[str]] = {}
    if model.Group.get(name) is not None:
        errors["organization_name"] = [tk._("An organization named {name} already exists").format(name=name)]
    pending = Session.query(PartnerApplication).filter_by(user_id=user.id, state="pending").first()
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
    Session.add(application)
    _commit(context)
    notify.application_received(application)
    return application.as_dict()


@tk.side_effect_free
def cd3p_partner_application_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Applications, newest first: all of them for sysadmins, the caller's own for anyone else.

    :param state: ``pending``, ``approved`` or ``rejected`` (optional)
    :param mine: only the caller's own (for sysadmins; default false)
    :returns: ``count`` and ``results``
    """
    tk.check_access("cd3p_partner_application_list", context, data_dict)
    data = _validate(data_dict, schema.queue_list(), context)
    query = Session.query(PartnerApplication)
    if data["mine"] or not authz.is_sysadmin(context.get("user")):
        query = query.filter(PartnerApplication.user_id == _actor(context).id)
    return _queue(query, PartnerApplication, data)


@tk.side_effect_free
def cd3p_partner_application_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """One application (its applicant and sysadmins).

    :param id: application id
    """
    tk.check_access("cd3p_partner_application_show", context, data_dict)
    data = _validate(data_dict, schema.by_id(), context)
    return _row(PartnerApplication, data["id"]).as_dict()


def cd3p_partner_application_approve(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Approves an application (sysadmins): creates the organization and makes the applicant its
    first admin, who can then sign the agreement.

    :param id: application id
    :returns: the application, with ``organization_id``
    """
    tk.check_access("cd3p_partner_application_approve", context, data_dict)
    data = _validate(data_dict, schema.by_id(), context)
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
    tk.check_access("cd3p_partner_application_reject", context, data_dict)
    data = _validate(data_dict, schema.reject(), context)
    application = _row(PartnerApplication, data["id"], pending=True)
    return _decide(context, application, "rejected", reason=data["reason"])


# --- membership requests ------------------------------------------------------------------------


def cd3p_membership_request_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A registered user asks to join a partner organization, acknowledging the active agreement.

    :param organization_id: id or name
    :param role: ``member`` (default) or ``editor``
    :param message: to the organization's admins (optional)
    :param acknowledge: must be true: the user acknowledges the active agreement
    """
    tk.check_access("cd3p_membership_request_create", context, data_dict)
    data = _validate(data_dict, schema.membership_request_create(), context)
    user = _actor(context)
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
        Session.query(MembershipRequest)
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
    if not ledger.has_acknowledged(user.id, agreement.id):
        ack = ledger.append(kind="acknowledge", **_entry_fields(agreement, user, org))
    else:
        ack = (
            Session.query(LedgerEntry)
            .filter(
                LedgerEntry.user_id == user.id,
                LedgerEntry.agreement_id == agreement.id,
                LedgerEntry.kind.in_(("sign", "acknowledge")),
            )
            .order_by(LedgerEntry.seq.desc())
            .first()
        )
    row = MembershipRequest(
        organization_id=org.id,
        organization_name=org.name,
        user_id=user.id,
        user_name=user.name,
        role=data["role"],
        message=data.get("message"),
        acknowledgement_id=ack.id if ack else None,
        state="pending",
    )
    Session.add(row)
    _commit(context)
    notify.request_received(row)
    return row.as_dict()


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
    data = _validate(data_dict, schema.queue_list(), context)
    query = Session.query(MembershipRequest)
    if data.get("organization_id"):
        query = query.filter(MembershipRequest.organization_id == _organization(data["organization_id"]).id)
    elif data["mine"] or not authz.is_sysadmin(context.get("user")):
        query = query.filter(MembershipRequest.user_id == _actor(context).id)
    return _queue(query, MembershipRequest, data)


def cd3p_membership_request_approve(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Adds the requester to the organization in the requested role (its admins and sysadmins). The
    membership gate applies: the organization must still have a current signature.

    :param id: request id
    """
    tk.check_access("cd3p_membership_request_approve", context, data_dict)
    data = _validate(data_dict, schema.by_id(), context)
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
    tk.check_access("cd3p_membership_request_reject", context, data_dict)
    data = _validate(data_dict, schema.reject(), context)
    row = _row(MembershipRequest, data["id"], pending=True)
    return _decide(context, row, "rejected", reason=data["reason"])


# --- indicators ---------------------------------------------------------------------------------


@tk.side_effect_free
def cd3p_indicator_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """The registered indicators (``indicators.yaml``), optionally of one topic.

    :param topic: e.g. ``connectivity``, ``devices``, ``education``, ``income``, ``workforce``
    """
    tk.check_access("cd3p_indicator_list", context, data_dict)
    data = _validate(data_dict, schema.indicator_list(), context)
    reg = indicators.registry()
    found = [reg.describe(i) for i in reg.ids()]
    if data.get("topic"):
        found = [i for i in found if i["topic"] == data["topic"]]
    return found


@tk.side_effect_free
def cd3p_indicator_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """An indicator's value for every place of a level, computed from the DataStore.

    Values are read with ``datastore_search`` in the caller's name, so a source the caller may not
    read is refused. Each value has ``id``, ``name``, ``value`` (None: no data), ``numerator``,
    ``denominator``, ``moe``, ``suppressed`` (below the source's small-cell threshold, outside the
    partner tier), ``tracts`` and ``tracts_with_data``.

    :param id: indicator id (see cd3p_indicator_list)
    :param level: ``tract`` (default), ``council_district``, ``neighborhood`` or ``city``
    :returns: ``indicator``, ``level``, ``values``, ``citywide``, ``vintage``, ``sources``,
        ``small_cell_threshold``
    """
    tk.check_access("cd3p_indicator_show", context, data_dict)
    data = _validate(data_dict, schema.indicator_show(), context)
    if data["id"] not in indicators.registry().ids():
        raise tk.ObjectNotFound(tk._("Indicator not found: {id}").format(id=data["id"]))
    return indicators.compute(context, data["id"], data["level"])


@tk.side_effect_free
def cd3p_place_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Every indicator for one place, next to the city's value.

    :param level: ``tract``, ``council_district``, ``neighborhood`` or ``city``
    :param id: the place: a tract GEOID, ``district-3``, ``neighborhood-<slug>`` or ``city``
    :returns: ``level``, ``id``, ``name`` and ``indicators``: for each, ``indicator``, ``value`` (as in
        cd3p_indicator_show), ``citywide``, ``vintage``; indicators whose source the caller may
        not read are left out and listed in ``withheld``
    """
    tk.check_access("cd3p_place_show", context, data_dict)
    data = _validate(data_dict, schema.place_show(), context)
    result: dict[str, Any] = {"level": data["level"], "id": data["id"], "indicators": [], "withheld": []}
    for indicator_id in indicators.registry().ids():
        try:
            shown = indicators.compute(context, indicator_id, data["level"])
        except tk.NotAuthorized:
            result["withheld"].append(indicator_id)
            continue
        place = next((v for v in shown["values"] if v["id"] == data["id"]), None)
        if place is None:
            raise tk.ObjectNotFound(
                tk._("No {level} with id {id} in Detroit").format(level=data["level"], id=data["id"])
            )
        result["name"] = place["name"]
        result["indicators"].append(
            {
                "indicator": shown["indicator"],
                "value": place,
                "citywide": shown["citywide"],
                "vintage": shown["vintage"],
            }
        )
    return result


def cd3p_indicator_refresh(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Forgets every cached source read, so the next request recomputes from the DataStore
    (sysadmins). Changes to source tables already do this for their own table."""
    tk.check_access("cd3p_indicator_refresh", context, data_dict)
    indicators.invalidate_all()
    return {"refreshed": True}


# --- indicator sources registered by sysadmins ---------------------------------------------------


def _table_fields(context: Context, dataset_ref: str, resource_name: str) -> tuple[dict[str, Any], list[str]]:
    """A dataset's named resource and its DataStore columns, read as the caller; ValidationError
    naming the field at fault otherwise."""
    try:
        dataset = tk.get_action("package_show")(dict(context), {"id": dataset_ref})
    except tk.ObjectNotFound:
        raise tk.ValidationError(
            {"dataset": [tk._("Dataset not found: {name}").format(name=dataset_ref)]}
        ) from None
    resource = next((r for r in dataset["resources"] if r.get("name") == resource_name), None)
    if resource is None:
        names = ", ".join(r.get("name") or r["id"] for r in dataset["resources"]) or tk._("none")
        raise tk.ValidationError(
            {
                "resource": [
                    tk._("No resource named {name} (its resources: {names})").format(
                        name=resource_name, names=names
                    )
                ]
            }
        )
    if not resource.get("datastore_active"):
        raise tk.ValidationError(
            {
                "resource": [
                    tk._("{name} is not in the DataStore yet: wait for its load to finish").format(
                        name=resource_name
                    )
                ]
            }
        )
    found = tk.get_action("datastore_search")(dict(context), {"resource_id": resource["id"], "limit": 0})
    return {**resource, "dataset_name": dataset["name"]}, [
        f["id"] for f in found["fields"] if f["id"] != "_id"
    ]


def cd3p_indicator_source_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Registers a partner dataset's DataStore table as an indicator source, with the indicators
    computed from it (sysadmins). The table holds one row per census tract.

    :param id: the source's id (lowercase letters, digits, ``-`` and ``_``)
    :param dataset: the dataset's name or id
    :param resource: the name of its resource whose DataStore table is read
    :param key: the column holding tract GEOIDs (11 digits)
    :param vintage: e.g. ``ACS 2019-2023 5-year`` or ``Programme year 2025``
    :param citation: who produced the numbers
    :param indicators: a list, each with ``id``, ``title``, ``description``, ``topic``
        (devices, connectivity, education, workforce, income, programmes), ``unit``,
        ``direction`` (``higher`` = more need), ``column``, ``kind`` (share 0-1, percent 0-100,
        amount, count), optional ``complement`` (1 - share), ``moe`` (the column with the 90%
        margin of error), ``caveat``, and ``weight_column``, ``weight_label``, optional
        ``weight_moe`` and ``weight_source`` (another registered or shipped source; default:
        this one)
    :returns: the registered source
    """
    tk.check_access("cd3p_indicator_source_create", context, data_dict)
    inputs.guard(data_dict, records=("indicators",))  # navl takes only a list of dicts for it
    data = _validate(data_dict, schema.indicator_source_create(), context)
    if not data.get("indicators"):
        raise tk.ValidationError({"indicators": [tk._("Register at least one indicator")]})
    reg = indicators.registry()
    if data["id"] in reg.sources:
        raise tk.ValidationError({"id": [tk._("A source with this id exists: {id}").format(id=data["id"])]})
    resource, columns = _table_fields(context, data["dataset"], data["resource"])
    errors: list[str] = []
    if data["key"] not in columns:
        raise tk.ValidationError(
            {
                "key": [
                    tk._("No column {column} in the table (its columns: {columns})").format(
                        column=data["key"], columns=", ".join(columns)
                    )
                ]
            }
        )
    tracts = sorted(geography.tracts())
    matched = tk.get_action("datastore_search")(
        dict(context), {"resource_id": resource["id"], "filters": {data["key"]: tracts}, "limit": 0}
    )["total"]
    if not matched:
        raise tk.ValidationError(
            {
                "key": [
                    tk._("None of the values in {column} is a Detroit census tract GEOID").format(
                        column=data["key"]
                    )
                ]
            }
        )
    other_columns: dict[str, list[str]] = {}
    specs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, item in enumerate(data["indicators"], start=1):
        where = tk._("Indicator {n} ({id})").format(n=n, id=item["id"])
        if item["id"] in reg.ids() or item["id"] in seen:
            errors.append(tk._("{where}: the id is taken").format(where=where))
        seen.add(item["id"])
        weight_source = item["weight_source"] or data["id"]
        if weight_source == data["id"]:
            weight_columns = columns
        elif weight_source in reg.sources:
            if weight_source not in other_columns:
                src = reg.sources[weight_source]
                other_columns[weight_source] = _table_fields(context, src.dataset, src.resource)[1]
            weight_columns = other_columns[weight_source]
        else:
            errors.append(tk._("{where}: unknown weight source {id}").format(where=where, id=weight_source))
            weight_columns = []
        for column, among in (
            (item["column"], columns),
            (item["moe"], columns),
            (item["weight_column"], weight_columns),
            (item["weight_moe"], weight_columns),
        ):
            if column and among and column not in among:
                errors.append(
                    tk._("{where}: no column {column} (columns: {columns})").format(
                        where=where, column=column, columns=", ".join(among)
                    )
                )
        specs.append(
            {
                **{
                    k: item[k]
                    for k in ("id", "title", "description", "topic", "unit", "direction", "column", "kind")
                },
                "complement": item["complement"],
                "moe": item["moe"],
                "caveat": item["caveat"],
                "source": data["id"],
                "weight": {
                    "source": weight_source,
                    "column": item["weight_column"],
                    "label": item["weight_label"],
                    "moe": item["weight_moe"],
                },
            }
        )
    if errors:
        raise tk.ValidationError({"indicators": errors})
    row = IndicatorSource(
        id=data["id"],
        dataset=resource["dataset_name"],
        resource=data["resource"],
        key=data["key"],
        level=data["level"],
        vintage=data["vintage"],
        citation=data["citation"],
        indicators=specs,
        created_by=context.get("user"),
    )
    Session.add(row)
    _commit(context)
    indicators.invalidate_all()
    return row.as_dict()


def cd3p_indicator_source_delete(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Removes a registered source and its indicators (sysadmins); shipped sources stay.

    :param id: the source's id
    """
    tk.check_access("cd3p_indicator_source_delete", context, data_dict)
    data = _validate(data_dict, schema.indicator_source_delete(), context)
    row = Session.get(IndicatorSource, data["id"])
    if row is None:
        raise tk.ObjectNotFound(tk._("No registered indicator source {id}").format(id=data["id"]))
    needed = [
        spec["id"]
        for other in Session.query(IndicatorSource).filter(IndicatorSource.id != row.id)
        for spec in other.indicators
        if spec["weight"]["source"] == row.id
    ]
    if needed:
        raise tk.ValidationError(
            {
                "id": [
                    tk._("Indicators of other sources are weighted by it: {ids}").format(
                        ids=", ".join(needed)
                    )
                ]
            }
        )
    found = row.as_dict()
    Session.delete(row)
    _commit(context)
    indicators.invalidate_all()
    return found


@tk.side_effect_free
def cd3p_indicator_source_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """Every indicator source: the shipped ones (``registered`` false) and those sysadmins registered,
    with who registered them and when (sysadmins)."""
    tk.check_access("cd3p_indicator_source_list", context, data_dict)
    _validate(data_dict, schema.indicator_source_list(), context)
    rows = {row.id: row.as_dict() for row in Session.query(IndicatorSource)}
    reg = indicators.registry()
    found = []
    for source in reg.sources.values():
        entry = {**dataclasses.asdict(source), **rows.get(source.id, {})}
        entry["indicators"] = [
            {"id": i.id, "title": i.title} for i in reg.indicators.values() if i.source == source.id
        ]
        found.append(entry)
    return found


# --- checks before loading ------------------------------------------------------------------------


def _check_dicts(rows: list[ResourceCheck]) -> list[dict[str, Any]]:
    """Checks with their resource's and dataset's names, read in two queries for any number."""
    resources = dict(
        Session.query(model.Resource.id, model.Resource.name).filter(
            model.Resource.id.in_({r.resource_id for r in rows})
        )
    )
    datasets = {
        p.id: p
        for p in Session.query(model.Package.id, model.Package.name, model.Package.title).filter(
            model.Package.id.in_({r.package_id for r in rows})
        )
    }
    found = []
    for row in rows:
        dataset = datasets.get(row.package_id)
        shown = row.as_dict()
        if shown["report"].get("load"):  # a load whose worker died is shown as failed
            shown["report"] = {**shown["report"], "load": loading.state(shown["report"]["load"])}
        found.append(
            {
                **shown,
                "resource_name": resources.get(row.resource_id),
                "dataset_name": dataset.name if dataset is not None else None,
                "dataset_title": dataset.title if dataset is not None else None,
            }
        )
    return found


def _check_dict(row: ResourceCheck) -> dict[str, Any]:
    return _check_dicts([row])[0]


@tk.side_effect_free
def cd3p_resource_check_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The latest check of a resource's file before loading: ``state`` (pending, passed, held,
    failed) and its ``report``: the file's tables (sheets, columns, rows, encoding), personal-data
    ``findings`` (column, kind, reason, row numbers; never the values), unknown ``geography`` codes
    with their rows, or the ``error`` that made the file unreadable. A file that passed has its
    ``load``: ``state`` (running, complete, failed), ``phase``, ``rows`` of ``total_rows``,
    ``elapsed`` seconds, the column ``types``, the ``log`` and any ``error``. A running load not
    heard from for ``ckanext.cd3p.load.stale_after`` seconds died with its worker and is failed.

    :param id: the resource's id
    """
    tk.check_access("cd3p_resource_check_show", context, data_dict)
    data = _validate(data_dict, schema.resource_check_show(), context)
    row = checks.latest(data["id"])
    if row is None:
        raise tk.ObjectNotFound(tk._("This file has not been checked"))
    return _check_dict(row)


def cd3p_resource_check_run(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Checks the resource's current file again (queued), e.g. after its dataset's settings changed.

    :param id: the resource's id
    """
    tk.check_access("cd3p_resource_check_run", context, data_dict)
    data = _validate(data_dict, schema.resource_check_run(), context)
    return _check_dict(checks.start(data["id"]))


def cd3p_resource_mark_personal(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The uploader's answer to a held file that does hold personal data: the dataset is marked as
    containing personal data and kept to its organization (a dataset change, in its activity), and
    the file is checked again, which then loads it.

    :param id: the resource's id
    """
    tk.check_access("cd3p_resource_mark_personal", context, data_dict)
    data = _validate(data_dict, schema.resource_mark_personal(), context)
    resource = model.Resource.get(data["id"])
    if resource is None:  # sysadmins are not asked the auth function, which looks it up
        raise tk.ObjectNotFound(tk._("Resource not found: {id}").format(id=data["id"]))
    tk.get_action("package_patch")(
        dict(context),
        {
            "id": resource.package_id,
            "contains_personal_data": "yes",
            "access_level": "organization",
        },
    )
    return _check_dict(checks.start(data["id"]))


@tk.side_effect_free
def cd3p_resource_check_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """Resources whose latest check is in a state (sysadmins): the review queue of held files.

    :param state: ``held`` (default), ``failed``, ``pending`` or ``passed``
    :param limit: at most this many (default 200)
    """
    tk.check_access("cd3p_resource_check_list", context, data_dict)
    data = _validate(data_dict, schema.resource_check_list(), context)
    return _check_dicts(checks.queue((data["state"],), data["limit"]))


def cd3p_resource_check_release(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Releases a held file as a false alarm (sysadmins): it passes, its dataset gets back the access
    level it had, and the file is loaded.

    :param id: the resource's id
    :param reason: why the flagged columns are not personal data (kept in the report)
    """
    tk.check_access("cd3p_resource_check_release", context, data_dict)
    data = _validate(data_dict, schema.resource_check_release(), context)
    row = checks.latest(data["id"])
    if row is None or row.state != "held":
        raise tk.ValidationError({"id": [tk._("This file is not held")]})
    checks.release(row, context.get("user") or "", data["reason"])
    return _check_dict(row)


def _refuse_too_large(data_dict: DataDict) -> None:
    """An upload over ``ckan.max_resource_size`` is refused before anything is stored, saying the limit."""
    upload = data_dict.get("upload")
    stream = getattr(upload, "stream", None)
    if stream is None or not hasattr(stream, "seek"):
        return
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    limit = config.max_resource_mb()
    if size > limit * 1024 * 1024:
        raise tk.ValidationError(
            {
                "upload": [
                    tk._("The file is {size:.1f} MB; uploads are limited to {limit} MB.").format(
                        size=size / 1024 / 1024, limit=limit
                    )
                ]
            }
        )


# What core's resource_create and resource_update would fail on in a resource's own fields.
_RESOURCE_INPUTS: dict[str, Any] = {
    "texts": (
        "url",
        "name",
        "description",
        "format",
        "resource_type",
        "mimetype",
        "mimetype_inner",
        "hash",
        "cache_url",
        "url_type",
    ),
    "numbers": ("size",),
    "dates": ("created", "last_modified", "cache_last_updated"),
}


@tk.chained_action
def resource_create(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core resource_create, after the upload size check."""
    inputs.guard(data_dict, ids=("package_id",), required=("package_id",), **_RESOURCE_INPUTS)
    _refuse_too_large(data_dict)
    return up_func(context, data_dict)


@tk.chained_action
def resource_update(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core resource_update, after the upload size check."""
    inputs.guard(data_dict, ids=("id", "package_id"), **_RESOURCE_INPUTS)
    _refuse_too_large(data_dict)
    return up_func(context, data_dict)


# --- indicator sources changed: forget what was read from them ----------------------------------


def _changed(resource_id: Any) -> None:
    if resource_id:
        indicators.invalidate(str(resource_id))


def _may(auth_name: str, context: Context, data_dict: DataDict) -> bool:
    """Whether the caller passes an auth function, asked without counting as the action's check."""
    try:
        return bool(authz.is_authorized(auth_name, dict(context), dict(data_dict)).get("success"))
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return False


@tk.chained_action
def datastore_create(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core datastore_create; a source table of an indicator is recomputed on the next request. A
    table with suppressed counts has its public view set aside meanwhile (PostgreSQL will not drop
    or retype a column a view reads) and made again after, with any new columns."""
    inputs.guard(
        data_dict,
        ids=("resource_id",),
        required=() if data_dict.get("resource") else ("resource_id",),
        flags=("force", "calculate_record_count", "delete_fields"),
        mappings=("resource",),
        records=("fields", "triggers", "records"),
    )
    resource_id = data_dict.get("resource_id")
    aside = bool(resource_id) and _may("datastore_create", context, data_dict)
    if aside:
        suppression.set_aside(str(resource_id))
    try:
        result = up_func(context, data_dict)
    except Exception:
        if aside:  # the table is as it was: so is its view
            suppression.refresh(str(resource_id))
        raise
    _changed(result.get("resource_id"))
    if result.get("resource_id"):
        suppression.refresh(str(result["resource_id"]))
    return result


@tk.chained_action
def datastore_upsert(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    inputs.guard(
        data_dict,
        ids=("resource_id",),
        flags=("force", "calculate_record_count", "dry_run"),
        records=("records",),
        texts=("method",),
    )
    result = up_func(context, data_dict)
    _changed(data_dict.get("resource_id"))
    return result


@tk.chained_action
def datastore_delete(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    inputs.guard(
        data_dict, ids=("resource_id",), flags=("force", "calculate_record_count"), objects=("filters",)
    )
    result = up_func(context, data_dict)
    _changed(data_dict.get("resource_id"))
    return result


# --- small-cell suppression: the public reads a table's suppressed view --------------------------


@tk.side_effect_free
@tk.chained_action
def datastore_search(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core datastore_search; outside the partner tier and the dataset's organization, a public table
    with count columns is searched in its suppressed view (see :mod:`ckanext.cd3p.suppression`).

    Core cannot be asked for the view: it takes the view for an alias of the table and searches the
    table. So the view is searched here as core would search it: the same validation, the access
    check on the resource, then the DataStore backend's search of the view. The result names the
    resource, with ``suppressed``: the count columns suppressed and the threshold.
    """
    inputs.guard(
        data_dict,
        ids=("resource_id", "id"),
        flags=("distinct", "include_total", "include_records", "plain"),
        numbers=("limit", "offset"),
        objects=("filters",),
        texts=("language", "records_format"),
    )
    found = suppression.for_caller(context, data_dict.get("resource_id") or data_dict.get("id"))
    if found is None:
        return up_func(context, data_dict)
    from ckanext.datastore.backend import DatastoreBackend
    from ckanext.datastore.logic.schema import datastore_search_schema

    schema_ = context.get("schema") or datastore_search_schema()
    data, errors = tk.navl_validate(dict(data_dict), schema_, context)
    if errors:
        raise tk.ValidationError(errors)
    tk.check_access("datastore_search", context, {"resource_id": found.resource_id})
    made = suppression.view_state(found.resource_id)
    if not suppression.serves(made, found.dataset, found.resource):
        raise tk.ValidationError({"resource_id": [suppression.not_ready_message()]})
    assert made is not None
    data["resource_id"] = found.view
    result = DatastoreBackend.get_active_backend().search(context, data)
    result.pop("id", None)
    result.pop("connection_url", None)
    result["resource_id"] = found.resource_id
    result["suppressed"] = {
        "columns": made.get("columns") or [],
        "threshold": made["threshold"],
        "unresolved": made.get("unresolved") or [],
    }
    return result


@tk.chained_action
def package_update(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core package_update (which resource_create, resource_update and the patches call too); the
    public views of the dataset's tables follow a changed threshold or count columns."""
    inputs.guard(data_dict, ids=("id", "name", "owner_org"))
    result = up_func(context, data_dict)
    if isinstance(result, dict):
        suppression.sync_views(result)
    return result


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


# --- activity: the datasets in it, as package_show would show them to the caller ------------------
# ckanext-activity keeps the whole dataset (package_show's, as the site user saw it) in each dataset
# activity; these actions return it. The steward contact leaves it for callers who may not see it.


# What core's activity actions would fail on instead of refusing (``id`` is required by those that
# take one: core's own message for it names no field).
_ACTIVITY_INPUTS: dict[str, Any] = {
    "ids": ("id", "object_id"),
    "numbers": ("limit", "offset"),
    "flags": ("include_hidden_activity",),
    "timestamps": ("before", "after"),
    "texts": ("object_type", "diff_type", "activity_type"),
}


def _activity_list(up_func: Action, context: Context, data_dict: DataDict, has_id: bool = True) -> Any:
    inputs.guard(data_dict, required=("id",) if has_id else (), **_ACTIVITY_INPUTS)
    result = up_func(context, data_dict)
    visibility.hide_steward_in_activities(context, result)
    return result


def _activity_lister(has_id: bool = True) -> Action:
    """A chained activity list action: core's, with its input guarded and the steward left out."""

    @tk.side_effect_free
    @tk.chained_action
    def chained(up_func: Action, context: Context, data_dict: DataDict) -> Any:
        return _activity_list(up_func, context, data_dict, has_id)

    return chained


package_activity_list = _activity_lister()
group_activity_list = _activity_lister()
organization_activity_list = _activity_lister()
user_activity_list = _activity_lister()
dashboard_activity_list = _activity_lister(has_id=False)
recently_changed_packages_activity_list = _activity_lister(has_id=False)


@tk.side_effect_free
@tk.chained_action
def activity_show(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    inputs.guard(data_dict, required=("id",), **_ACTIVITY_INPUTS)
    result = up_func(context, data_dict)
    visibility.hide_steward_in_activities(context, [result])
    return result


@tk.side_effect_free
@tk.chained_action
def activity_data_show(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    inputs.guard(data_dict, required=("id",), **_ACTIVITY_INPUTS)
    result = up_func(context, data_dict)
    return visibility.hide_steward_in_activity_data(context, result, data_dict.get("object_type"))


@tk.side_effect_free
@tk.chained_action
def activity_diff(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    inputs.guard(data_dict, required=("id",), **_ACTIVITY_INPUTS)
    result = up_func(context, data_dict)
    return visibility.hide_steward_in_diff(context, result, data_dict)


# --- followed datasets: CKAN's dictionaries of them, the contact in their extras ----------------------


@tk.side_effect_free
@tk.chained_action
def dataset_followee_list(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    inputs.guard(data_dict, ids=("id",), required=("id",))
    caller = context.copy()
    return visibility.hide_steward_in_datasets(caller, up_func(context, data_dict))


@tk.side_effect_free
@tk.chained_action
def followee_list(up_func: Action, context: Context, data_dict: DataDict) -> Any:
    """Core followee_list (the dashboard's), which reads the followed datasets with core's
    dataset_followee_list itself, and sets ``ignore_auth`` in the context it is given: the caller
    is read from a copy made before."""
    inputs.guard(data_dict, ids=("id",), required=("id",), texts=("q",))
    caller = context.copy()
    followees = up_func(context, data_dict)
    datasets = [f for f in followees if f.get("type") == "dataset"]
    shown = visibility.hide_steward_in_datasets(caller, [f.get("dict") for f in datasets])
    for followee, pkg_dict in zip(datasets, shown, strict=True):
        followee["dict"] = pkg_dict
    return followees
