"""Actions of the partner directory: the directory, one partner's profile, the gaps, and a user's
partnership.

Every action checks access first (``logic/auth.py``), then validates its input with the schema of
the same name in ``logic/schema.py``; all of them only read. What a caller sees of programmes and
their outcomes, of need counts and of data requests is what the impact, indicator and request
actions give them (``ecosystem/directory.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ckan import model
from ckan.plugins import toolkit as tk
from ckan.types import Context, DataDict

from ckanext.cd3p.agreements import ledger
from ckanext.cd3p.agreements.model import LedgerEntry
from ckanext.cd3p.common import actions
from ckanext.cd3p.ecosystem import directory
from ckanext.cd3p.ecosystem.logic import schema
from ckanext.cd3p.requests.model import OPEN_STATES

# The most requests a profile or a queue lists (the list action's own limit).
MAX_REQUESTS = 1000


def _age_days(created: dt.datetime | None, now: dt.datetime) -> int | None:
    if created is None:
        return None
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return max((now - created).days, 0)


@tk.side_effect_free
def cd3p_partner_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Every active partner organization, by title, filtered.

    :param sector: only this sector (a code of the organization schema, e.g. ``nonprofit``)
    :param service: only partners offering this service (a service id of ``cd3p_measure_list``'s
        registry, e.g. ``device_distribution``)
    :param district: only partners serving this council district (``district-3``), for
        ``service`` when given: the district is in their declared service area and they offer the
        service, or a programme of theirs the caller may see reported outcomes of it there
    :param q: only partners whose title, name or mission holds this text (any case)
    :returns: ``count``; ``results``, each with ``id``, ``name``, ``title``, ``sector``,
        ``service_area`` (council district codes), ``services`` (those of its programmes the
        caller may see, else the declared ones), ``services_from`` (``programmes`` or
        ``declared``), ``declared_services``, ``mission``, ``standing`` (``signed``, ``current``,
        ``stale``, ``version``, ``active_version`` of the Data Sharing Agreement),
        ``dataset_count`` (datasets the caller may see), ``contact_email`` and ``website``; and
        ``facets``: per ``sector``, ``service`` and ``district``, the partners each value would
        list with the other filters kept (``district``: the partners serving each district)
    """
    tk.check_access("cd3p_partner_list", context, data_dict)
    data = actions.validate(data_dict, schema.partner_list(), context)
    return directory.directory(context, data)


@tk.side_effect_free
def cd3p_partner_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """One partner's profile: what ``cd3p_partner_list`` gives of it, and ``requests``: the open
    data requests assigned or addressed to it that the caller may see (``cd3p_data_request_list``
    in their name), newest first, each with ``age_days``.

    :param id: the organization's id or name
    """
    tk.check_access("cd3p_partner_show", context, data_dict)
    data = actions.validate(data_dict, schema.partner_show(), context)
    found = directory.partner(context, data["id"])
    listed = tk.get_action("cd3p_data_request_list")(
        {"user": context.get("user") or ""}, {"organization_id": found["id"], "limit": MAX_REQUESTS}
    )
    now = dt.datetime.now(dt.UTC)
    requests = [
        {**r, "age_days": _age_days(dt.datetime.fromisoformat(r["created"]), now)}
        for r in listed["results"]
        if r["state"] in OPEN_STATES
    ]
    return {**found, "requests": requests}


@tk.side_effect_free
def cd3p_partner_gaps(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The places of most need for a service that no partner serves: no partner's declared service
    area holds the place's council district with the service among its services, and no programme
    the caller may see reported outcomes of it there. The need is the count of the service's first
    measure with one (``devices_distributed`` for ``device_distribution``: households without a
    computer), read through the indicator actions in the caller's name; a place whose need the
    caller cannot read is left out.

    :param service: a service with a need count (``device_distribution``, ``home_internet``,
        ``digital_skills``, ``it_certification``, ``it_internships`` or ``job_placement``)
    :param level: ``council_district`` (default) or ``tract``
    :param limit: how many places (default 20, at most 1000)
    :returns: ``service`` and ``measure`` (``id``, ``title``), ``need`` (``indicator``, ``label``,
        ``available``, ``vintage``), ``level``, ``places_with_need``, ``unserved`` (how many of
        them no partner serves) and ``places``: the unserved places of most need first, each with
        ``id``, ``name`` and ``need``
    """
    tk.check_access("cd3p_partner_gaps", context, data_dict)
    data = actions.validate(data_dict, schema.partner_gaps(), context)
    return directory.gaps(context, data["service"], data["level"], data["limit"])


@tk.side_effect_free
def cd3p_partnership_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The caller's partnership: ``entries``, what they signed or acknowledged in the agreement
    ledger (newest first, each with ``revoked``); ``organizations``, those they belong to, with
    their ``capacity`` and ``standing``; and ``queue``, the open data requests assigned or
    addressed to the organizations they administer and the access requests for their datasets
    (``cd3p_data_request_queue``), oldest first, each with ``age_days``.
    """
    tk.check_access("cd3p_partnership_show", context, data_dict)
    actions.validate(data_dict, schema.partnership_show(), context)
    user = actions.actor(context)
    entries = (
        actions.Session.query(LedgerEntry)
        .filter(LedgerEntry.user_id == user.id, LedgerEntry.kind.in_(("sign", "acknowledge")))
        .order_by(LedgerEntry.seq.desc())
        .limit(MAX_REQUESTS)
        .all()
    )
    revoked = ledger.revoked(e.id for e in entries)
    memberships = (
        actions.Session.query(model.Group, model.Member.capacity)
        .join(model.Member, model.Member.group_id == model.Group.id)
        .filter(
            model.Member.table_name == "user",
            model.Member.table_id == user.id,
            model.Member.state == "active",
            model.Group.is_organization.is_(True),
            model.Group.state == "active",
        )
        .order_by(model.Group.title)
        .all()
    )
    standings = ledger.standings([g.id for g, _capacity in memberships])
    try:  # the queue of the organizations they administer: one rule, the requests' own
        queue = tk.get_action("cd3p_data_request_queue")({"user": user.name}, {"limit": MAX_REQUESTS})
    except tk.NotAuthorized:  # they administer none
        queue = {"results": []}
    return {
        "entries": [{**e.as_dict(), "revoked": e.id in revoked} for e in entries],
        "organizations": [
            {
                "id": g.id,
                "name": g.name,
                "title": g.title or g.name,
                "capacity": capacity,
                "standing": standings[g.id].as_dict(),
            }
            for g, capacity in memberships
        ],
        "queue": queue["results"],
    }
