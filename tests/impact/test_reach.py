"""Who reads a programme's counts raw: its own organization's members do, even outside the partner
tier (privacy.sees_raw), which needs the programme's organization id, not kept by the search index."""

from __future__ import annotations

from typing import Any

import pytest
from ckan.tests.helpers import call_action

from tests import factories, partners
from tests.impact.test_programme import PROGRAMME
from tests.requests.world import act

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")


def test_a_programme_s_own_members_read_it_raw_outside_the_partner_tier(agreement: dict[str, Any]) -> None:
    editor, member = factories.User(), factories.User()
    org = partners.organization(factories.User(), title="Eastside Tech")
    partners.join(org, editor, "editor")
    partners.join(org, member, "member")
    call_action("package_create", {"user": editor["name"]}, **{**PROGRAMME, "owner_org": org["id"]})
    # The member's acknowledgement withdrawn: a member of the organization, out of the partner tier.
    ack = call_action("cd3p_signature_list", user_id=member["id"], kind="acknowledge")["results"][0]
    call_action("cd3p_signature_revoke", {"user": partners.site_user()}, id=ack["id"], reason="Test")
    outsider = factories.User()

    def raw(user: dict[str, Any] | None) -> bool:
        return act("cd3p_impact_place_show", user, level="city", id="city")["raw"]

    assert (raw(member), raw(editor), raw(outsider), raw(None)) == (True, True, False, False)
