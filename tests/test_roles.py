"""The agreement gate and the partner tier, for every role, through auth, the Action API and pages.

One world, built once for the module's tests (they only read it: the writes some roles may make,
a dataset's notes and a newcomer added to an organization, change no role's rights), with three
organizations:

- ``S``: signed; its first admin signed, an editor joined after acknowledging the agreement;
- ``U``: unsigned; it signed, an editor joined, then a sysadmin revoked its signature;
- ``O``: another signed partner, with a member who acknowledged and one whose acknowledgement was
  revoked (a member without acknowledgement).

``S`` owns a public dataset and a partner-tier dataset, ``U`` a public dataset, each with a DataStore
table. Each role is checked against every gated action on ``S`` and ``U``, adding a member to each,
and every way of reading the partner-tier dataset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action

from tests import factories, partners
from tests.helpers import kept_world, tract_table

ROLES = [
    "anonymous",
    "registered",
    "applicant",
    "member_unacknowledged",
    "editor_unsigned",
    "admin_unsigned",
    "editor_signed",
    "admin_signed",
    "member_other_signed",
    "sysadmin",
]
PUBLISH = [
    "package_create",
    "package_update",
    "package_patch",
    "package_delete",
    "resource_create",
    "resource_update",
    "resource_delete",
    "datastore_create",
    "datastore_upsert",
    "datastore_delete",
]
TIER = [
    "package_show",
    "resource_show",
    "datastore_search",
    "datastore_search_sql",
    "package_search",
    "api_package_show",
    "api_datastore_search",
    "page_dataset",
    "page_resource_download",
]
CHECKS = (
    [f"{a}:S" for a in PUBLISH]
    + [f"{a}:U" for a in PUBLISH]
    + ["api_package_patch:S", "api_package_patch:U", "page_edit:S", "page_edit:U"]
    + ["member_add:S", "member_add:U"]
    + [f"{t}:partners" for t in TIER]
)
PUBLISH_S = {c for c in CHECKS if c.endswith(":S") and not c.startswith("member_add")}
PUBLISH_U = {c for c in CHECKS if c.endswith(":U") and not c.startswith("member_add")}
SEE_TIER = {c for c in CHECKS if c.endswith(":partners")}

EXPECTED: dict[str, set[str]] = {
    "anonymous": set(),
    "registered": set(),
    "applicant": set(),
    "member_unacknowledged": set(),
    "editor_unsigned": set(),
    "admin_unsigned": set(),
    "editor_signed": PUBLISH_S | SEE_TIER,
    "admin_signed": PUBLISH_S | SEE_TIER | {"member_add:S"},
    "member_other_signed": SEE_TIER,
    # Sysadmins pass the publishing gate, but not the membership gate of an unsigned organization.
    "sysadmin": PUBLISH_S | PUBLISH_U | SEE_TIER | {"member_add:S"},
}
# Roles that CKAN itself would let publish in U: their refusal must come from the agreement gate.
GATED_IN_U = {"editor_unsigned", "admin_unsigned"}


@pytest.fixture
def world(request: pytest.FixtureRequest, with_plugins: None) -> dict[str, Any]:
    """The world, built by the first test that asks for it and kept while the database and index
    still hold it (another module's test in between resets them: then it is built again)."""
    return kept_world(request, "role matrix", _build, _still_there)


def _still_there(w: dict[str, Any]) -> bool:
    ids = [w[k]["id"] for k in ("ds_S", "ds_U", "tier")]
    found = call_action("package_search", fq=" OR ".join(f'id:"{i}"' for i in ids), include_private=True)
    return model.Group.get(w["S"]["id"]) is not None and found["count"] == len(ids)


def _build() -> dict[str, Any]:
    partners.active_agreement()
    sysadmin_ctx = {"user": partners.site_user()}
    w: dict[str, Any] = {
        role: factories.UserWithToken() for role in ROLES if role not in ("anonymous", "sysadmin")
    }
    w["sysadmin"] = factories.SysadminWithToken()
    w["anonymous"] = {"name": "", "token": None}

    call_action(
        "cd3p_partner_application_create",
        {"user": w["applicant"]["name"]},
        organization_title="Eastside Tech Circle",
        sector="grassroots",
        contact_name="Applicant",
        contact_email="applicant@example.org",
        data_description="Device lending records by neighbourhood",
    )

    w["S"] = partners.organization(w["admin_signed"], title="Signed Partner")
    partners.join(w["S"], w["editor_signed"], "editor")

    w["U"] = partners.organization(w["admin_unsigned"], title="Lapsed Partner")
    partners.join(w["U"], w["editor_unsigned"], "editor")
    status = call_action("cd3p_agreement_status", organization_id=w["U"]["id"])
    call_action("cd3p_signature_revoke", sysadmin_ctx, id=status["signature_id"], reason="Test: lapsed")

    w["O"] = partners.organization(factories.User(), title="Other Partner")
    partners.join(w["O"], w["member_other_signed"], "member")
    partners.join(w["O"], w["member_unacknowledged"], "member")
    ack = call_action(
        "cd3p_signature_list", sysadmin_ctx, user_id=w["member_unacknowledged"]["id"], kind="acknowledge"
    )["results"][0]
    call_action("cd3p_signature_revoke", sysadmin_ctx, id=ack["id"], reason="Test: acknowledgement withdrawn")

    w["request_S"] = call_action(
        "cd3p_membership_request_create",
        {"user": w["registered"]["name"]},
        organization_id=w["S"]["id"],
        role="member",
        acknowledge=True,
    )
    w["application"] = call_action("cd3p_partner_application_list", {"user": w["applicant"]["name"]})[
        "results"
    ][0]

    w["ds_S"] = factories.Dataset(owner_org=w["S"]["id"], title="Signed public data")
    w["ds_U"] = factories.Dataset(owner_org=w["U"]["id"], title="Lapsed public data")
    w["tier"] = factories.Dataset(owner_org=w["S"]["id"], title="Partner tier data", access_level="partners")
    assert w["tier"]["private"] is True

    # Data requests of a registered user: new data for the City, and access to S's partner-tier data.
    asker = {"user": w["registered"]["name"]}
    w["data_request"] = call_action(
        "cd3p_data_request_create", asker, title="Broadband by block", description="For Osborn"
    )
    w["access_request"] = call_action(
        "cd3p_data_request_create",
        asker,
        kind="access",
        title="Partner tier data",
        description="Our district's rows",
        dataset_id=w["tier"]["id"],
        purpose="Planning",
    )
    # An access grant: S's organization-only dataset, opened to the registered user.
    w["granted"] = factories.Dataset(
        owner_org=w["S"]["id"], title="Granted data", access_level="organization"
    )
    asked = call_action(
        "cd3p_data_request_create",
        asker,
        kind="access",
        title="Granted data",
        description="Rows",
        dataset_id=w["granted"]["id"],
        purpose="Planning",
    )
    call_action(
        "cd3p_data_request_close", {"user": w["admin_signed"]["name"]}, id=asked["id"], outcome="fulfilled"
    )
    w["grant"] = call_action("cd3p_access_grant_list", {"user": w["registered"]["name"]})[0]

    w["res_S"], w["res_U"], w["res_tier"] = (tract_table(w[k]) for k in ("ds_S", "ds_U", "tier"))
    w["saved_query"] = call_action(
        "cd3p_saved_query_create", asker, name="Households by tract", spec={"resource_id": w["res_S"]["id"]}
    )
    return w


def _auth(auth_name: str, user: str, **data: Any) -> tuple[bool, str]:
    try:
        tk.check_access(auth_name, {"user": user, "model": model}, data)
        return True, ""
    except tk.NotAuthorized as e:
        return False, str(e)


def _action(name: str, user: str, **data: Any) -> tuple[bool, str]:
    try:
        call_action(name, {"user": user, "ignore_auth": False}, **data)
        return True, ""
    except (tk.NotAuthorized, tk.ObjectNotFound) as e:
        return False, str(e)


def _checks(w: dict[str, Any], app: Any, role: str) -> dict[str, Callable[[], tuple[bool, str]]]:
    user = w[role]["name"]
    headers = {"Authorization": w[role]["token"]} if w[role]["token"] else {}

    def http(
        method: str, url: str, ok: int = 200, refused: int = 403, **kw: Any
    ) -> Callable[[], tuple[bool, str]]:
        """Allowed on ``ok``; refused only on ``refused`` (or, for a visitor, the login redirect).
        Any other answer (a 500 above all) is neither, and fails the matrix whatever is expected."""

        def run() -> tuple[bool, str]:
            response = getattr(app, method)(url, headers=headers, follow_redirects=False, **kw)
            status, location = response.status_code, response.headers.get("Location", "")
            if status == ok:
                return True, response.body[:2000]
            if status == refused or (role == "anonymous" and status == 302 and "/user/login" in location):
                return False, response.body[:2000]
            raise AssertionError(f"{method.upper()} {url} answered {status}, neither {ok} nor {refused}")

        return run

    checks: dict[str, Callable[[], tuple[bool, str]]] = {}
    for o in ("S", "U"):
        org, ds, res = w[o], w[f"ds_{o}"], w[f"res_{o}"]
        checks.update(
            {
                f"package_create:{o}": lambda org=org: _auth(
                    "package_create", user, owner_org=org["id"], name="x"
                ),
                f"package_update:{o}": lambda ds=ds: _auth("package_update", user, id=ds["id"]),
                f"package_patch:{o}": lambda ds=ds: _auth("package_patch", user, id=ds["id"]),
                f"package_delete:{o}": lambda ds=ds: _auth("package_delete", user, id=ds["id"]),
                f"resource_create:{o}": lambda ds=ds: _auth("resource_create", user, package_id=ds["id"]),
                f"resource_update:{o}": lambda res=res: _auth("resource_update", user, id=res["id"]),
                f"resource_delete:{o}": lambda res=res: _auth("resource_delete", user, id=res["id"]),
                f"datastore_create:{o}": lambda res=res: _auth(
                    "datastore_create", user, resource_id=res["id"]
                ),
                f"datastore_upsert:{o}": lambda res=res: _auth(
                    "datastore_upsert", user, resource_id=res["id"]
                ),
                f"datastore_delete:{o}": lambda res=res: _auth(
                    "datastore_delete", user, resource_id=res["id"]
                ),
                f"api_package_patch:{o}": http(
                    "post", "/api/action/package_patch", json={"id": ds["id"], "notes": f"Edited by {role}"}
                ),
                f"page_edit:{o}": http("get", f"/dataset/edit/{ds['name']}"),
            }
        )

        def member_add(org: dict[str, Any] = org) -> tuple[bool, str]:
            newcomer = factories.User()
            partners.acknowledge(newcomer)
            return _action(
                "organization_member_create", user, id=org["id"], username=newcomer["name"], role="member"
            )

        checks[f"member_add:{o}"] = member_add

    tier, res = w["tier"], w["res_tier"]

    def search() -> tuple[bool, str]:
        found = call_action(
            "package_search", {"user": user, "ignore_auth": False}, q="tier", include_private=True
        )["results"]
        return any(d["id"] == tier["id"] for d in found), str([d["name"] for d in found])

    checks.update(
        {
            "package_show:partners": lambda: _auth("package_show", user, id=tier["id"]),
            "resource_show:partners": lambda: _auth("resource_show", user, id=res["id"]),
            "datastore_search:partners": lambda: _action("datastore_search", user, resource_id=res["id"]),
            "datastore_search_sql:partners": lambda: _action(
                "datastore_search_sql", user, sql=f'SELECT households FROM "{res["id"]}"'
            ),
            "package_search:partners": search,
            "api_package_show:partners": http("get", f"/api/action/package_show?id={tier['id']}"),
            "api_datastore_search:partners": http(
                "get", f"/api/action/datastore_search?resource_id={res['id']}"
            ),
            # CKAN answers 404 for a private dataset's pages to those who may not read it, so that
            # its existence is not told; the download of a link resource is a redirect to its URL.
            "page_dataset:partners": http("get", f"/dataset/{tier['name']}", refused=404),
            "page_resource_download:partners": http(
                "get", f"/dataset/{tier['id']}/resource/{res['id']}/download", ok=302
            ),
        }
    )
    assert set(checks) == set(CHECKS)
    return checks


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(world: dict[str, Any], app: Any, role: str) -> None:
    """Every check for one role; the failures are reported together."""
    wrong = []
    for name, check in _checks(world, app, role).items():
        try:
            allowed, detail = check()
        except AssertionError as e:
            wrong.append(f"{name}: {e}")
            continue
        if allowed != (name in EXPECTED[role]):
            wrong.append(f"{name}: {'allowed' if allowed else 'refused'} ({detail[:300]})")
        elif (
            not allowed
            and role in GATED_IN_U
            and name.endswith(":U")
            and not name.startswith(("api_", "page_"))
            and not (name == "member_add:U" and role == "editor_unsigned")  # editors cannot add members
            # refused by the agreement gate, with a link to the signing page, not by CKAN's roles
            and ("Data Sharing Agreement" not in detail or "/agreement" not in detail)
        ):
            wrong.append(f"{name}: refused without the agreement message ({detail[:300]})")
    assert not wrong, f"{role}: {len(wrong)} of {len(CHECKS)} checks wrong:\n" + "\n".join(wrong)


LOGGED_IN = set(ROLES) - {"anonymous"}
EVERYONE = set(ROLES)
SYSADMIN = {"sysadmin"}
# Each cd3p action's auth function: who passes it (the data each is asked with is in _cd3p_data).
CD3P_EXPECTED: dict[str, set[str]] = {
    "cd3p_agreement_list": EVERYONE,
    "cd3p_agreement_show": EVERYONE,
    "cd3p_agreement_status": EVERYONE,
    "cd3p_agreement_create": SYSADMIN,
    "cd3p_agreement_update": SYSADMIN,
    "cd3p_agreement_activate": SYSADMIN,
    "cd3p_agreement_delete": SYSADMIN,
    # The signature binds the organization: its admins only, not the City's sysadmins.
    "cd3p_agreement_sign:S": {"admin_signed"},
    "cd3p_agreement_sign:U": {"admin_unsigned"},
    "cd3p_agreement_acknowledge": LOGGED_IN,
    "cd3p_signature_list": SYSADMIN,
    "cd3p_signature_list:S": {"admin_signed", "sysadmin"},
    "cd3p_signature_revoke": SYSADMIN,
    "cd3p_ledger_verify": SYSADMIN,
    "cd3p_ledger_checkpoint": SYSADMIN,
    "cd3p_partner_application_create": LOGGED_IN,
    "cd3p_partner_application_list": LOGGED_IN,
    "cd3p_partner_application_show": {"applicant", "sysadmin"},
    "cd3p_partner_application_approve": SYSADMIN,
    "cd3p_partner_application_reject": SYSADMIN,
    "cd3p_membership_request_create": LOGGED_IN,
    "cd3p_membership_request_list": LOGGED_IN,
    "cd3p_membership_request_list:S": {"admin_signed", "sysadmin"},
    "cd3p_membership_request_approve": {"admin_signed", "sysadmin"},
    "cd3p_membership_request_reject": {"admin_signed", "sysadmin"},
    # Indicators are public (a source the caller may not read is refused by the action itself);
    # what they are computed from is the City's decision.
    "cd3p_indicator_list": EVERYONE,
    "cd3p_indicator_show": EVERYONE,
    "cd3p_place_show": EVERYONE,
    "cd3p_indicator_refresh": SYSADMIN,
    "cd3p_indicator_source_create": SYSADMIN,
    "cd3p_indicator_source_delete": SYSADMIN,
    "cd3p_indicator_source_list": SYSADMIN,
    # A file's checks are for those who may change its dataset: editors and admins of a signed
    # organization (a lapsed one may not publish), and sysadmins; the queue is the City's.
    "cd3p_resource_check_show:S": {"editor_signed", "admin_signed", "sysadmin"},
    "cd3p_resource_check_show:U": SYSADMIN,
    "cd3p_resource_check_run:S": {"editor_signed", "admin_signed", "sysadmin"},
    "cd3p_resource_mark_personal:S": {"editor_signed", "admin_signed", "sysadmin"},
    "cd3p_resource_check_list": SYSADMIN,
    "cd3p_resource_check_release": SYSADMIN,
    # What a partner reads before reporting programme outcomes.
    "cd3p_measure_list": EVERYONE,
    "cd3p_outcome_template": EVERYONE,
    # Programmes and their reach: a programme is for whoever may see its dataset (package_show's
    # rule, here a public dataset and a partner-tier one); readings count only what the caller
    # sees, so they are open.
    "cd3p_programme_list": EVERYONE,
    "cd3p_impact_show": EVERYONE,
    "cd3p_impact_place_show": EVERYONE,
    "cd3p_impact_summary": EVERYONE,
    "cd3p_programme_show:S": EVERYONE,
    "cd3p_programme_show:T": {role for role in ROLES if "package_show:partners" in EXPECTED[role]},
    # Data requests (the registered user's): a new-data request for the City is public, and any
    # logged-in user comments on it and follows it; an organization's admin claims it for their
    # own organization (here S); closing an unclaimed one is a sysadmin's. An access request (to
    # S's partner-tier data) is seen only by its requester, S's admins and sysadmins, and decided
    # by S's admins; the requester reopens their own.
    "cd3p_data_request_create": LOGGED_IN,
    "cd3p_data_request_list": EVERYONE,
    "cd3p_data_request_show": EVERYONE,
    "cd3p_data_request_show:A": {"registered", "admin_signed", "sysadmin"},
    "cd3p_data_request_update": {"registered", "sysadmin"},
    "cd3p_data_request_assign": {"admin_signed", "sysadmin"},
    "cd3p_data_request_assign:A": {"admin_signed", "sysadmin"},
    "cd3p_data_request_close": SYSADMIN,
    "cd3p_data_request_close:A": {"admin_signed", "sysadmin"},
    "cd3p_data_request_reopen": {"registered", "sysadmin"},
    "cd3p_data_request_reopen:A": {"registered", "admin_signed", "sysadmin"},
    "cd3p_data_request_comment": LOGGED_IN,
    "cd3p_data_request_comment:A": {"registered", "admin_signed", "sysadmin"},
    "cd3p_data_request_follow": LOGGED_IN,
    "cd3p_data_request_unfollow": LOGGED_IN,
    # The queue is for those who administer an organization, signed or not.
    "cd3p_data_request_queue": {"admin_unsigned", "admin_signed", "sysadmin"},
    # The partner directory, profiles and gaps are public; one's partnership is one's own.
    "cd3p_partner_list": EVERYONE,
    "cd3p_partner_show": EVERYONE,
    "cd3p_partner_gaps": EVERYONE,
    "cd3p_partnership_show": LOGGED_IN,
    # A query is open to anyone; each table it reads is checked with datastore_search's own rule.
    "cd3p_query_run": EVERYONE,
    # Saved queries: one's own; a shared link opens for anyone; only its owner deletes it.
    "cd3p_saved_query_create": LOGGED_IN,
    "cd3p_saved_query_list": LOGGED_IN,
    "cd3p_saved_query_show": EVERYONE,
    "cd3p_saved_query_delete:Q": {"registered", "sysadmin"},
    # A result saved as a resource: anyone logged in may try (the action checks resource_create on
    # the dataset, the agreement gate with it); provenance is for who may see the resource; a
    # refresh for who may change its dataset.
    "cd3p_query_save": LOGGED_IN,
    "cd3p_derived_show:S": EVERYONE,
    "cd3p_derived_show:T": {role for role in ROLES if "package_show:partners" in EXPECTED[role]},
    "cd3p_derived_refresh:S": {"editor_signed", "admin_signed", "sysadmin"},
    # Freshness: of a dataset, for whoever may see it; the list past due is the City's.
    "cd3p_freshness_show:S": EVERYONE,
    "cd3p_freshness_show:T": {role for role in ROLES if "package_show:partners" in EXPECTED[role]},
    "cd3p_freshness_list": SYSADMIN,
    # A feed: its schedule and fetches for whoever may see the resource; a fetch now for who may
    # edit it.
    "cd3p_feed_show:S": EVERYONE,
    "cd3p_feed_show:T": {role for role in ROLES if "package_show:partners" in EXPECTED[role]},
    "cd3p_feed_run:S": {"editor_signed", "admin_signed", "sysadmin"},
    # Access grants: each user lists what they may see of them; the dataset's admins revoke.
    "cd3p_access_grant_list": LOGGED_IN,
    "cd3p_access_grant_revoke:G": {"admin_signed", "sysadmin"},
    # What waits for recovery (datasets to index, lost checks) is the City's.
    "cd3p_recovery_show": SYSADMIN,
}


def _cd3p_data(w: dict[str, Any], check: str) -> dict[str, Any]:
    org = {"S": w["S"], "U": w["U"]}.get(check.partition(":")[2])
    name = check.partition(":")[0]
    if name in ("cd3p_agreement_sign", "cd3p_signature_list", "cd3p_membership_request_list") and org:
        return {"organization_id": org["id"]}
    if name.startswith("cd3p_membership_request_") and name.endswith(("approve", "reject")):
        return {"id": w["request_S"]["id"]}
    if name.startswith("cd3p_partner_application_") and not name.endswith(("create", "list")):
        return {"id": w["application"]["id"]}
    if name.startswith("cd3p_resource_") and org:
        return {"id": w["res_" + check.partition(":")[2]]["id"]}
    if name in ("cd3p_programme_show", "cd3p_freshness_show"):
        return {"id": w["ds_S" if check.endswith(":S") else "tier"]["id"]}
    if name.startswith("cd3p_data_request_") and not name.endswith(("create", "list", "queue")):
        data = {"id": w["access_request" if check.endswith(":A") else "data_request"]["id"]}
        return {**data, "organization_id": w["S"]["id"]} if name.endswith("assign") else data
    if name == "cd3p_agreement_status":
        return {"organization_id": w["S"]["id"]}
    if name.startswith(("cd3p_derived_", "cd3p_feed_")) and check.endswith((":S", ":T")):
        return {"id": w["res_S" if check.endswith(":S") else "res_tier"]["id"]}
    if name.startswith("cd3p_saved_query_") and check.endswith(":Q"):
        return {"id": w["saved_query"]["id"]}
    if name == "cd3p_access_grant_revoke":
        return {"id": w["grant"]["id"], "reason": "Test"}
    return {"id": "current"}


@pytest.mark.parametrize("role", ROLES)
def test_cd3p_actions_auth(world: dict[str, Any], role: str) -> None:
    wrong = []
    for check, allowed_roles in CD3P_EXPECTED.items():
        allowed, detail = _auth(check.partition(":")[0], world[role]["name"], **_cd3p_data(world, check))
        if allowed != (role in allowed_roles):
            wrong.append(f"{check}: {'allowed' if allowed else 'refused'} ({detail[:200]})")
    assert not wrong, f"{role}: " + "\n".join(wrong)


def test_every_cd3p_auth_function_is_in_the_matrix() -> None:
    from ckanext.cd3p.plugin import Cd3pPlugin

    checked = {check.partition(":")[0] for check in CD3P_EXPECTED}
    assert {name for name in Cd3pPlugin().get_auth_functions() if name.startswith("cd3p_")} == checked


ADMINS = {"admin_unsigned", "admin_signed", "sysadmin"}
SEE_TIER_ROLES = {role for role in ROLES if EXPECTED[role] >= SEE_TIER}
# The pages of data requests and partners: who gets each (200); the others are refused with a 403
# (a visitor: the login page), or, for an access request, a 404 where its page would say it exists.
CD3P_PAGES: dict[str, tuple[str, set[str]]] = {
    "/data-requests": ("", EVERYONE),
    "/data-requests/new": ("", LOGGED_IN),
    "/data-requests/new?kind=access&dataset={tier}": ("", LOGGED_IN),
    "/data-requests/{data_request}": ("", EVERYONE),
    "/data-requests/{access_request}": ("", {"registered", "admin_signed", "sysadmin"}),
    "/data-requests/{data_request}/edit": ("", {"registered", "sysadmin"}),
    "/data-requests/queue": ("", ADMINS),
    "/partners": ("", EVERYONE),
    "/partners/districts.geojson": ("", EVERYONE),
    "/partners/gaps?service=device_distribution": ("", EVERYONE),
    "/partners/{S}/districts.geojson": ("", EVERYONE),
    "/organization/{S}": ("", EVERYONE),
    "/dashboard/partnership": ("", LOGGED_IN),
    "/analysis": ("", EVERYONE),
    "/analysis?resource_id={res_S}": ("", EVERYONE),
    "/analysis?resource_id={res_tier}": ("", SEE_TIER_ROLES),
    "/analysis/saved/{Q}": ("", EVERYONE),
    "/dashboard/queries": ("", LOGGED_IN),
    "/ckan-admin/freshness": ("", SYSADMIN),
}


def _page_path(w: dict[str, Any], template: str) -> str:
    return template.format(
        tier=w["tier"]["name"],
        data_request=w["data_request"]["id"],
        access_request=w["access_request"]["id"],
        S=w["S"]["name"],
        Q=w["saved_query"]["id"],
        res_S=w["res_S"]["id"],
        res_tier=w["res_tier"]["id"],
    )


@pytest.mark.parametrize("role", ROLES)
def test_cd3p_pages(world: dict[str, Any], app: Any, role: str) -> None:
    headers = {"Authorization": world[role]["token"]} if world[role]["token"] else {}
    wrong = []
    for template, (_note, allowed_roles) in CD3P_PAGES.items():
        path = _page_path(world, template)
        response = app.get(path, headers=headers, follow_redirects=False)
        status, location = response.status_code, response.headers.get("Location", "")
        if role in allowed_roles:
            if status != 200:
                wrong.append(f"{path}: {status}, expected 200")
        elif not (status == 403 or (role == "anonymous" and status == 302 and "/user/login" in location)):
            wrong.append(f"{path}: {status}, expected a refusal")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def test_matrix_size() -> None:
    """The size reported in the issues' closing notes."""
    assert (len(ROLES), len(CHECKS), len(CD3P_EXPECTED), len(CD3P_PAGES)) == (10, 35, 84, 19)
