"""Actions of data requests: create, show, list, update, assign, close, reopen, comment, follow,
unfollow.

Every action checks access first (``logic/auth.py``), then validates its input with the schema of
the same name in ``logic/schema.py``. Read actions are side-effect free. Unknown requests are
ObjectNotFound; a state that does not allow the change, or a reference that names nothing, is a
ValidationError naming the field.

Closing an access request as fulfilled is its approval: it creates an access grant
(``requests/grants.py``), an entry of the agreement ledger.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context, DataDict

from ckanext.cd3p.agreements import ledger
from ckanext.cd3p.agreements.model import Agreement
from ckanext.cd3p.common import actions, inputs
from ckanext.cd3p.common.model import utcnow
from ckanext.cd3p.requests import fulfilment, grants, limits, notify, rules
from ckanext.cd3p.requests.logic import schema
from ckanext.cd3p.requests.model import (
    OPEN_STATES,
    OUTCOMES,
    AccessGrant,
    DataRequest,
    DataRequestComment,
    DataRequestFollower,
)


def _row(ref: str) -> DataRequest:
    row = rules.get(ref)
    if row is None:
        raise tk.ObjectNotFound(tk._("Data request not found: {id}").format(id=ref))
    return row


def _organization(field: str, ref: str) -> model.Group:
    org = model.Group.get(inputs.text_id(ref) or "")
    if org is None or not org.is_organization or org.state != "active":
        raise tk.ValidationError({field: [tk._("Organization not found: {ref}").format(ref=ref)]})
    return org


def _dataset(field: str, ref: str) -> model.Package:
    pkg = model.Package.get(inputs.text_id(ref) or "")
    if pkg is None or pkg.state != "active":
        raise tk.ValidationError({field: [tk._("Dataset not found: {ref}").format(ref=ref)]})
    return pkg


def _followers(ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    rows = (
        actions.Session.query(DataRequestFollower.request_id, sa.func.count())
        .filter(DataRequestFollower.request_id.in_(ids))
        .group_by(DataRequestFollower.request_id)
    )
    return dict(rows.all())


def _dict(row: DataRequest, followers: int) -> dict[str, Any]:
    out = row.as_dict()
    out["follower_count"] = followers
    return out


def _linked(out: dict[str, Any], context: Context) -> dict[str, Any]:
    """A new-data request linked to a dataset (fulfilment.py) names it only to those who may read
    it: the dataset is not yet public, and even its id is the organization's to show. ``linked``
    says that there is one."""
    if out["kind"] == "new_data":
        out["linked"] = bool(out["dataset_id"])
        if out["dataset_id"] and not rules.reads(context.get("user") or "", out["dataset_id"]):
            out["dataset_id"] = None
    return out


def _responded(row: DataRequest, user: model.User) -> None:
    """The first comment or assignment by someone other than the requester is the first response."""
    if row.first_response is None and user.id != row.requester_id:
        row.first_response = utcnow()


def _changed(context: Context, row: DataRequest) -> dict[str, Any]:
    row.updated = utcnow()
    actions.commit(context)
    return _dict(row, _followers([row.id]).get(row.id, 0))


def _still_open(row: DataRequest, states: tuple[str, ...] = OPEN_STATES) -> None:
    if row.state not in states:
        raise tk.ValidationError(
            {"id": [tk._("Not possible while the request is {state}").format(state=row.state)]}
        )


def cd3p_data_request_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Asks for new data, or for access to a dataset one may not read (any logged-in user).

    :param kind: ``new_data`` (default) or ``access``
    :param title: what is asked for (at most 200 characters)
    :param description: Markdown, stored as text (at most 10,000 characters)
    :param places: the places it is for: free text or codes (optional)
    :param dataset_id: for ``access`` (required): an organization-only or partner-tier dataset
        (id or name) the requester cannot read now; refused for ``new_data``
    :param purpose: what the data is for (required for ``access``)
    :param addressed_to: for ``new_data``: the organization asked (id or name); absent is the
        City. An access request is addressed to its dataset's organization.
    :returns: the request, with ``follower_count``
    """
    tk.check_access("cd3p_data_request_create", context, data_dict)
    data = actions.validate(data_dict, schema.data_request_create(), context)
    user = actions.actor(context)
    limits.spend(user)
    addressed_to = None
    dataset_id = None
    if data["kind"] == "new_data":
        if data.get("dataset_id"):
            raise tk.ValidationError(
                {"dataset_id": [tk._("A new-data request names no dataset; ask for access instead")]}
            )
        if data.get("addressed_to"):
            addressed_to = _organization("addressed_to", data["addressed_to"]).id
    else:
        missing = {f: [tk._("Missing value")] for f in ("dataset_id", "purpose") if not data.get(f)}
        if missing:
            raise tk.ValidationError(missing)
        pkg = _dataset("dataset_id", data["dataset_id"])
        if rules.reads(user.name, pkg.id):
            raise tk.ValidationError({"dataset_id": [tk._("You can already read this dataset")]})
        if (
            data.get("addressed_to")
            and _organization("addressed_to", data["addressed_to"]).id != pkg.owner_org
        ):
            raise tk.ValidationError(
                {"addressed_to": [tk._("An access request goes to the organization of its dataset")]}
            )
        asked = (
            actions.Session.query(DataRequest)
            .filter(
                DataRequest.kind == "access",
                DataRequest.dataset_id == pkg.id,
                DataRequest.requester_id == user.id,
                DataRequest.state.in_(OPEN_STATES),
            )
            .first()
        )
        if asked is not None:
            raise tk.ValidationError(
                {
                    "dataset_id": [
                        tk._("You already asked for access to this dataset: {id}").format(id=asked.id)
                    ]
                }
            )
        dataset_id, addressed_to = pkg.id, pkg.owner_org
    row = DataRequest(
        kind=data["kind"],
        title=data["title"],
        description=data["description"],
        places=data.get("places") or None,
        dataset_id=dataset_id,
        purpose=data.get("purpose") or None,
        addressed_to=addressed_to,
        requester_id=user.id,
        requester_name=user.name,
        state="open",
    )
    actions.Session.add(row)
    actions.commit(context)
    notify.created(row, user)
    return _dict(row, 0)


@tk.side_effect_free
def cd3p_data_request_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """One request, with its ``comments`` (oldest first), ``follower_count`` and whether the
    caller follows it (``following``).

    :param id: request id
    """
    tk.check_access("cd3p_data_request_show", context, data_dict)
    data = actions.validate(data_dict, schema.data_request_show(), context)
    row = _row(data["id"])
    out = _linked(_dict(row, _followers([row.id]).get(row.id, 0)), context)
    comments = (
        actions.Session.query(DataRequestComment)
        .filter(DataRequestComment.request_id == row.id)
        .order_by(DataRequestComment.created, DataRequestComment.id)
    )
    out["comments"] = [c.as_dict() for c in comments]
    user = rules.user(context.get("user"))
    out["following"] = user is not None and (
        actions.Session.get(DataRequestFollower, (row.id, user.id)) is not None
    )
    return out


@tk.side_effect_free
def cd3p_data_request_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The requests the caller may see, newest first.

    :param state: ``open``, ``assigned``, ``in_progress``, ``fulfilled``, ``declined`` or
        ``duplicate`` (optional)
    :param kind: ``new_data`` or ``access`` (optional)
    :param organization_id: only those assigned or addressed to this organization (optional)
    :param mine: only the caller's own (default false; needs a login)
    :param followed: only those the caller follows (default false; needs a login)
    :param limit: at most this many (default 100)
    :param offset: skipping this many
    :returns: ``count``, ``results`` (each with ``follower_count``) and ``median_days``: over the
        requests listed (all pages), the median days from asking to the first response
        (``first_response``, of those answered) and to closing (``closed``, of those closed), None
        where there are none
    """
    tk.check_access("cd3p_data_request_list", context, data_dict)
    data = actions.validate(data_dict, schema.data_request_list(), context)
    user = rules.user(context.get("user"))
    query = rules.visible(actions.Session.query(DataRequest), user)
    if data.get("state"):
        query = query.filter(DataRequest.state == data["state"])
    if data.get("kind"):
        query = query.filter(DataRequest.kind == data["kind"])
    if data.get("organization_id"):
        org = model.Group.get(inputs.text_id(data["organization_id"]) or "")
        if org is None or not org.is_organization:
            raise tk.ObjectNotFound(tk._("Organization not found: {ref}").format(ref=data["organization_id"]))
        query = query.filter(
            sa.or_(DataRequest.organization_id == org.id, DataRequest.addressed_to == org.id)
        )
    if data["mine"] or data["followed"]:
        me = actions.actor(context)
        if data["mine"]:
            query = query.filter(DataRequest.requester_id == me.id)
        if data["followed"]:
            followed = sa.select(DataRequestFollower.request_id).where(DataRequestFollower.user_id == me.id)
            query = query.filter(DataRequest.id.in_(followed))
    rows = (
        query.order_by(DataRequest.created.desc(), DataRequest.id).offset(data["offset"]).limit(data["limit"])
    )
    rows = rows.all()
    counts = _followers([r.id for r in rows])
    return {
        "count": query.count(),
        "results": [_linked(_dict(r, counts.get(r.id, 0)), context) for r in rows],
        "median_days": _median_days(query),
    }


@tk.side_effect_free
def cd3p_data_request_queue(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The open requests waiting on the caller, oldest first, with their age: for sysadmins, every
    open request; for an organization's admins, those assigned or addressed to it and the access
    requests for its datasets (refused to anyone who administers no organization).

    :param organization_id: only this organization's (id or name; one the caller administers)
    :param limit: at most this many (default 100)
    :param offset: skipping this many
    :returns: ``count``, ``unassigned`` (how many of them no organization has taken) and
        ``results``, each with ``follower_count`` and ``age_days`` (whole days since it was asked)
    """
    tk.check_access("cd3p_data_request_queue", context, data_dict)
    data = actions.validate(data_dict, schema.data_request_queue(), context)
    user = actions.actor(context)
    query = actions.Session.query(DataRequest).filter(DataRequest.state.in_(OPEN_STATES))
    if data.get("organization_id"):
        org = model.Group.get(inputs.text_id(data["organization_id"]) or "")
        if org is None or not org.is_organization:
            raise tk.ObjectNotFound(tk._("Organization not found: {ref}").format(ref=data["organization_id"]))
        if not user.sysadmin and not rules.is_admin(user.name, org.id):
            raise tk.NotAuthorized(tk._("Not an admin of this organization"))
        orgs: Any = [org.id]
    elif user.sysadmin:
        orgs = None
    else:
        orgs = rules.admin_org_ids(user.id)
    if orgs is not None:
        owned = sa.select(model.Package.id).where(model.Package.owner_org.in_(orgs))
        query = query.filter(
            sa.or_(
                DataRequest.organization_id.in_(orgs),
                sa.and_(DataRequest.organization_id.is_(None), DataRequest.addressed_to.in_(orgs)),
                sa.and_(DataRequest.kind == "access", DataRequest.dataset_id.in_(owned)),
            )
        )
    rows = (
        query.order_by(DataRequest.created, DataRequest.id).offset(data["offset"]).limit(data["limit"]).all()
    )
    counts = _followers([r.id for r in rows])
    now = utcnow()
    results = []
    for r in rows:
        out = _linked(_dict(r, counts.get(r.id, 0)), context)
        out["age_days"] = (now - r.created).days
        results.append(out)
    return {
        "count": query.count(),
        "unassigned": query.filter(DataRequest.organization_id.is_(None)).count(),
        "results": results,
    }


def _median_days(query: sa.orm.Query) -> dict[str, float | None]:
    """The median days from asking to the first response and to closing, of the query's requests
    (one statement)."""

    def median(end: Any) -> Any:
        days = sa.extract("epoch", end - DataRequest.created) / 86400.0
        return sa.func.percentile_cont(0.5).within_group(days)

    listed = query.with_entities(DataRequest.id).subquery()
    first, closing = (
        actions.Session.query(median(DataRequest.first_response), median(DataRequest.closed))
        .filter(DataRequest.id.in_(sa.select(listed.c.id)))
        .one()
    )
    return {
        "first_response": None if first is None else float(first),
        "close": None if closing is None else float(closing),
    }


def cd3p_data_request_update(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Changes the words of a request (its requester, while it is open and not yet assigned).

    :param id: request id
    :param title: (optional)
    :param description: (optional)
    :param places: (optional; empty clears it)
    :param purpose: (optional; an access request's cannot be cleared)
    """
    tk.check_access("cd3p_data_request_update", context, data_dict)
    data = actions.validate(data_dict, schema.data_request_update(), context)
    row = _row(data["id"])
    _still_open(row, ("open",))
    if row.kind == "access" and "purpose" in data and not data["purpose"]:
        raise tk.ValidationError({"purpose": [tk._("Missing value")]})
    for name in ("title", "description", "places", "purpose"):
        if name in data:
            setattr(row, name, data[name] or None)
    return _changed(context, row)


def cd3p_data_request_assign(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Assigns an open request to an organization: a sysadmin, to any; an organization's admin
    claims it for their own. An access request is assigned to its dataset's organization only.

    :param id: request id
    :param organization_id: id or name
    """
    tk.check_access("cd3p_data_request_assign", context, data_dict)
    data = actions.validate(data_dict, schema.data_request_assign(), context)
    row = _row(data["id"])
    _still_open(row)
    org = _organization("organization_id", data["organization_id"])
    if row.kind == "access" and org.id != rules.dataset_org(row):
        raise tk.ValidationError(
            {"organization_id": [tk._("An access request goes to the organization of its dataset")]}
        )
    moved = row.organization_id != org.id
    if moved:
        row.organization_id = org.id
        row.state = "assigned"
    _responded(row, actions.actor(context))
    result = _changed(context, row)
    if moved:  # assigning it again where it is tells nobody anything new
        notify.assigned(row, actions.actor(context))
    return result


def cd3p_data_request_close(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Closes a request with its outcome (the admins of the organization it is assigned to; an
    access request's dataset's organization; sysadmins).

    :param id: request id
    :param outcome: ``fulfilled``, ``declined`` (with ``reason``) or ``duplicate`` (with
        ``duplicate_of``, another request). An access request fulfilled is approved: its requester
        gets an access grant. A new-data request is fulfilled with ``dataset_id``: at once if its
        requester can read that dataset; otherwise the request is linked to it (``dataset_id``
        set, the state unchanged, or in progress if it was assigned) and fulfilled when the
        dataset becomes visible to the requester
    :param dataset_id: the dataset that fulfils a new-data request (id or name)
    :param reason: why it is declined
    :param duplicate_of: the id of the request it repeats
    """
    tk.check_access("cd3p_data_request_close", context, data_dict)
    data = actions.validate(data_dict, schema.data_request_close(), context)
    row = _row(data["id"])
    _still_open(row)
    outcome = data["outcome"]
    if outcome == "fulfilled" and row.kind == "access":
        return _approve(context, row)
    needs = {"fulfilled": "dataset_id", "declined": "reason", "duplicate": "duplicate_of"}[outcome]
    if not data.get(needs):
        raise tk.ValidationError({needs: [tk._("Missing value")]})
    if outcome == "fulfilled":
        pkg = _dataset("dataset_id", data["dataset_id"])
        if not rules.reads(row.requester_name, pkg.id):
            # Linked: fulfilled when the dataset becomes visible to the requester (fulfilment.py).
            fulfilment.link(row, pkg)
            return _changed(context, row)
        row.fulfilled_dataset_id = pkg.id
    elif outcome == "declined":
        row.decline_reason = data["reason"]
    else:
        other = rules.get(data["duplicate_of"])
        if other is None or not rules.may_see(context.get("user"), other):
            raise tk.ValidationError(
                {"duplicate_of": [tk._("Data request not found: {id}").format(id=data["duplicate_of"])]}
            )
        if other.id == row.id:
            raise tk.ValidationError({"duplicate_of": [tk._("A request cannot be a duplicate of itself")]})
        row.duplicate_of = other.id
    row.state = outcome
    row.closed = utcnow()
    row.closed_by = actions.actor(context).name
    result = _changed(context, row)
    notify.closed(row, actions.actor(context))
    return result


def _approve(context: Context, row: DataRequest) -> dict[str, Any]:
    """An access request fulfilled: its requester, who must have acknowledged the active Data
    Sharing Agreement, gets a grant of read access to the dataset (``requests/grants.py``)."""
    requester = rules.user(row.requester_name)
    if requester is None:
        raise tk.ValidationError({"id": [tk._("The requester's account is no longer active")]})
    pkg = model.Package.get(row.dataset_id or "")
    if pkg is None or pkg.state != "active":
        raise tk.ValidationError({"id": [tk._("The dataset asked for no longer exists")]})
    active = Agreement.active()
    if active is None or not ledger.has_acknowledged(requester.id, active.id):
        raise tk.ValidationError(
            {"outcome": [tk._("The requester has not acknowledged the active Data Sharing Agreement yet")]}
        )
    grant = grants.grant(pkg, requester, row.id, actions.actor(context), active)
    row.fulfilled_dataset_id = pkg.id
    row.state = "fulfilled"
    row.closed = grant.created
    row.closed_by = grant.granted_by
    result = _changed(context, row)
    grants.forget_memo()
    notify.closed(row, actions.actor(context))
    return result


def cd3p_data_request_reopen(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Reopens a closed request (its requester, the admins of the organization it is assigned to,
    sysadmins): assigned again if it was assigned, else open; its outcome is cleared.

    :param id: request id
    """
    tk.check_access("cd3p_data_request_reopen", context, data_dict)
    data = actions.validate(data_dict, schema.data_request_reopen(), context)
    row = _row(data["id"])
    _still_open(row, OUTCOMES)
    row.state = "assigned" if row.organization_id else "open"
    row.fulfilled_dataset_id = row.decline_reason = row.duplicate_of = None
    if row.kind == "new_data":
        row.dataset_id = None  # a dataset linked to fulfil it is linked again, or not
    row.closed = None
    row.closed_by = None
    result = _changed(context, row)
    notify.reopened(row, actions.actor(context))
    return result


def cd3p_data_request_comment(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Comments on a request (any logged-in user who may see it). The first comment by an admin of
    the organization it is assigned to puts an assigned request in progress.

    :param id: request id
    :param text: Markdown, stored as text (at most 10,000 characters)
    :returns: the comment
    """
    tk.check_access("cd3p_data_request_comment", context, data_dict)
    data = actions.validate(data_dict, schema.data_request_comment(), context)
    row = _row(data["id"])
    user = actions.actor(context)
    limits.spend(user)
    comment = DataRequestComment(
        request_id=row.id, author_id=user.id, author_name=user.name, text=data["text"]
    )
    actions.Session.add(comment)
    _responded(row, user)
    if row.state == "assigned" and rules.is_admin(user.name, row.organization_id):
        row.state = "in_progress"
    row.updated = utcnow()
    actions.commit(context)
    notify.commented(row, comment, user)
    return comment.as_dict()


def _following(
    context: Context, data_dict: DataDict, action_schema: Any
) -> tuple[DataRequest, DataRequestFollower | None]:
    """The request (``id``, validated by the action's schema) and the caller's following of it, if
    they follow it."""
    data = actions.validate(data_dict, action_schema, context)
    row = _row(data["id"])
    return row, actions.Session.get(DataRequestFollower, (row.id, actions.actor(context).id))


def _followers_changed(context: Context, row: DataRequest) -> dict[str, Any]:
    actions.commit(context)
    return _dict(row, _followers([row.id]).get(row.id, 0))


def cd3p_data_request_follow(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Follows a request (any logged-in user who may see it): the number of followers is the demand.

    :param id: request id
    :returns: the request, with ``follower_count``
    """
    tk.check_access("cd3p_data_request_follow", context, data_dict)
    row, following = _following(context, data_dict, schema.data_request_follow())
    if following is not None:
        raise tk.ValidationError({"id": [tk._("You already follow this request")]})
    actions.Session.add(DataRequestFollower(request_id=row.id, user_id=actions.actor(context).id))
    return _followers_changed(context, row)


def cd3p_data_request_unfollow(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Stops following a request.

    :param id: request id
    :returns: the request, with ``follower_count``
    """
    tk.check_access("cd3p_data_request_unfollow", context, data_dict)
    row, following = _following(context, data_dict, schema.data_request_unfollow())
    if following is None:
        raise tk.ValidationError({"id": [tk._("You do not follow this request")]})
    actions.Session.delete(following)
    return _followers_changed(context, row)


# --- access grants ---------------------------------------------------------------------------------


def _grant_dict(row: AccessGrant, names: dict[str, str], revoked: set[str]) -> dict[str, Any]:
    out = row.as_dict()
    out["dataset_name"] = names.get(row.dataset_id)
    out["standing"] = row.id not in revoked and row.expires > utcnow()
    return out


@tk.side_effect_free
def cd3p_access_grant_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """Access grants, newest first: the caller's own, those of datasets of the organizations they
    administer, and every one for sysadmins.

    :param dataset_id: only this dataset's (id or name)
    :param mine: only the caller's own
    :param standing: only those that stand (not revoked, not expired)
    :returns: each grant's ``id``, ``dataset_id``, ``dataset_name``, ``user_id``, ``user_name``,
        ``request_id``, ``granted_by``, ``created``, ``expires``, ``revoked``, ``revoked_by``,
        ``revoke_reason`` and ``standing``
    """
    tk.check_access("cd3p_access_grant_list", context, data_dict)
    data = actions.validate(data_dict, schema.access_grant_list(), context)
    user = actions.actor(context)
    query = actions.Session.query(AccessGrant)
    if not user.sysadmin:
        administered = sa.select(model.Package.id).where(
            model.Package.owner_org.in_(rules.admin_org_ids(user.id))
        )
        query = query.filter(sa.or_(AccessGrant.user_id == user.id, AccessGrant.dataset_id.in_(administered)))
    if data.get("mine"):
        query = query.filter(AccessGrant.user_id == user.id)
    if data.get("standing"):
        query = query.filter(grants.standing())
    if data.get("dataset_id"):
        pkg = model.Package.get(inputs.text_id(data["dataset_id"]) or "")
        query = query.filter(AccessGrant.dataset_id == (pkg.id if pkg is not None else data["dataset_id"]))
    rows = query.order_by(AccessGrant.created.desc()).limit(1000).all()
    ids = {r.dataset_id for r in rows}
    names = dict(
        actions.Session.query(model.Package.id, model.Package.name).filter(model.Package.id.in_(ids))
    )
    revoked = ledger.revoked(r.id for r in rows)
    return [_grant_dict(r, names, revoked) for r in rows]


def cd3p_access_grant_revoke(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Ends a grant now: its user loses access at once (the admins of the dataset's organization;
    sysadmins).

    :param id: the grant's id
    :param reason: why (the grantee and the ledger of decisions keep it)
    """
    tk.check_access("cd3p_access_grant_revoke", context, data_dict)
    data = actions.validate(data_dict, schema.access_grant_revoke(), context)
    row = grants.get(data["id"])
    if row is None:
        raise tk.ObjectNotFound(tk._("Access grant not found: {id}").format(id=data["id"]))
    if ledger.is_revoked(row.id):
        raise tk.ValidationError({"id": [tk._("This grant was revoked already")]})
    grants.revoke(row, actions.actor(context), data["reason"])
    actions.commit(context)
    grants.forget_memo()
    pkg = model.Package.get(row.dataset_id)
    return _grant_dict(row, {row.dataset_id: pkg.name} if pkg is not None else {}, {row.id})
