"""The ledger: append-only, tamper-evident, kept when organizations and users go; the grace period;
the migrations.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.cli.cli import ckan
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import CKANCliRunner, call_action
from freezegun import freeze_time

from ckanext.cd3p.agreements import ledger
from ckanext.cd3p.agreements.model import LedgerCheckpoint, LedgerEntry
from tests import factories, partners

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.fixture
def signed(agreement: dict[str, Any]) -> dict[str, Any]:
    admin = factories.User()
    org = partners.organization(admin, title="Detroit Digital Justice Coalition")
    return {"admin": admin, "org": org, "agreement": agreement}


def _entries() -> list[dict[str, Any]]:
    return call_action("cd3p_signature_list", {"user": partners.site_user()})["results"]


class TestAppendOnly:
    def test_no_action_changes_or_removes_an_entry(self) -> None:
        from ckanext.cd3p.plugin import Cd3pPlugin

        actions = Cd3pPlugin().get_actions()
        names = [n for n in actions if n.startswith("cd3p_signature") or n.startswith("cd3p_ledger")]
        assert sorted(names) == [
            "cd3p_ledger_checkpoint",
            "cd3p_ledger_verify",
            "cd3p_signature_list",
            "cd3p_signature_revoke",
        ]

    def test_revoking_appends_and_keeps_the_signature(self, signed: dict[str, Any]) -> None:
        before = _entries()
        call_action(
            "cd3p_signature_revoke", {"user": partners.site_user()}, id=before[0]["id"], reason="Test"
        )
        after = _entries()
        assert after[: len(before)] == [{**before[0], "revoked": True}]
        assert (after[-1]["kind"], after[-1]["revokes"], after[-1]["reason"]) == (
            "revoke",
            before[0]["id"],
            "Test",
        )
        assert call_action("cd3p_agreement_status", organization_id=signed["org"]["id"])["signed"] is False
        with pytest.raises(tk.ValidationError, match="already revoked"):
            call_action(
                "cd3p_signature_revoke", {"user": partners.site_user()}, id=before[0]["id"], reason="x"
            )
        with pytest.raises(tk.ValidationError, match="cannot be revoked"):
            call_action(
                "cd3p_signature_revoke", {"user": partners.site_user()}, id=after[-1]["id"], reason="x"
            )
        assert len(_entries()) == 2

    def test_an_update_through_the_model_is_refused_by_the_database(self, signed: dict[str, Any]) -> None:
        entry = model.Session.query(LedgerEntry).one()
        entry.signatory_name = "Someone Else"
        with pytest.raises(sa.exc.DBAPIError, match="append-only ledger: UPDATE refused"):
            model.Session.commit()
        model.Session.rollback()
        assert _entries()[0]["signatory_name"] == "Alex Morgan"

    def test_a_delete_through_the_model_or_sql_is_refused(self, signed: dict[str, Any]) -> None:
        model.Session.delete(model.Session.query(LedgerEntry).one())
        with pytest.raises(sa.exc.DBAPIError, match="append-only ledger: DELETE refused"):
            model.Session.commit()
        model.Session.rollback()
        with pytest.raises(sa.exc.DBAPIError, match="DELETE refused"):
            model.Session.execute(sa.text("DELETE FROM cd3p_signature"))
        model.Session.rollback()
        assert len(_entries()) == 1

    def test_a_change_made_around_the_trigger_is_detected(self, signed: dict[str, Any]) -> None:
        """Someone with the table owner's rights disables the trigger and edits or removes a row."""
        partners.acknowledge(factories.User())
        partners.acknowledge(factories.User())
        assert call_action("cd3p_ledger_verify", {"user": partners.site_user()}) == {
            "valid": True,
            "entries": 3,
            "last_hash": _entries()[-1]["entry_hash"],
        }
        first, second, _third = _entries()
        session = model.Session
        session.execute(sa.text("ALTER TABLE cd3p_signature DISABLE TRIGGER cd3p_signature_append_only"))
        try:
            session.execute(
                sa.text("UPDATE cd3p_signature SET signatory_title = 'Intern' WHERE id = :id"),
                {"id": first["id"]},
            )
            result = ledger.verify()
            assert (result["valid"], result["broken_at"], result["problem"]) == (
                False,
                first["id"],
                "content changed",
            )
            session.rollback()

            session.execute(sa.text("ALTER TABLE cd3p_signature DISABLE TRIGGER cd3p_signature_append_only"))
            session.execute(sa.text("DELETE FROM cd3p_signature WHERE id = :id"), {"id": second["id"]})
            result = ledger.verify()
            assert (result["valid"], result["entries"], result["problem"]) == (
                False,
                1,
                "missing or reordered entry before it",
            )
        finally:
            session.rollback()
        assert ledger.verify()["valid"] is True

    @pytest.mark.parametrize("table", ["cd3p_signature", "cd3p_ledger_checkpoint"])
    def test_truncate_is_refused(self, signed: dict[str, Any], table: str) -> None:
        with pytest.raises(
            sa.exc.DBAPIError, match=f"{table} is part of an append-only ledger: TRUNCATE refused"
        ):
            model.Session.execute(sa.text(f"TRUNCATE {table}"))
        model.Session.rollback()
        assert len(_entries()) == 1

    def test_a_checkpoint_cannot_be_changed_or_removed(self, signed: dict[str, Any]) -> None:
        with pytest.raises(sa.exc.DBAPIError, match="append-only ledger: UPDATE refused"):
            model.Session.execute(sa.text("UPDATE cd3p_ledger_checkpoint SET entries = 7"))
        model.Session.rollback()
        with pytest.raises(sa.exc.DBAPIError, match="append-only ledger: DELETE refused"):
            model.Session.execute(sa.text("DELETE FROM cd3p_ledger_checkpoint"))
        model.Session.rollback()

    def test_each_entry_writes_the_checkpoint_of_the_head(self, signed: dict[str, Any]) -> None:
        partners.acknowledge(factories.User())
        entries = _entries()
        rows = model.Session.query(LedgerCheckpoint).order_by(LedgerCheckpoint.seq).all()
        assert [(r.entries, r.head_id, r.head_hash) for r in rows] == [
            (n, e["id"], e["entry_hash"]) for n, e in enumerate(entries, start=1)
        ]
        site = {"user": partners.site_user()}
        assert call_action("cd3p_ledger_checkpoint", site)["published"] == f"2:{entries[-1]['entry_hash']}"

    def test_removing_the_newest_entries_around_the_triggers_is_detected(
        self, signed: dict[str, Any]
    ) -> None:
        """Deleting the newest entries leaves a chain whose every link is valid: the checkpoint
        written with the last entry is what tells."""
        partners.acknowledge(factories.User())
        partners.acknowledge(factories.User())
        first, _second, _third = _entries()
        session = model.Session
        session.execute(sa.text("ALTER TABLE cd3p_signature DISABLE TRIGGER cd3p_signature_append_only"))
        try:
            session.execute(sa.text("DELETE FROM cd3p_signature WHERE id <> :id"), {"id": first["id"]})
            assert ledger.verify() == {
                "valid": False,
                "entries": 1,
                "broken_at": None,
                "problem": "the newest 2 entries were removed: the last checkpoint counts 3",
            }
        finally:
            session.rollback()
        assert ledger.verify()["valid"] is True

    def test_a_published_checkpoint_is_checked_against_the_chain(self, signed: dict[str, Any]) -> None:
        """The City publishes the head; someone who also rewrites the checkpoints is caught by it."""
        site = {"user": partners.site_user()}
        partners.acknowledge(factories.User())
        published = call_action("cd3p_ledger_checkpoint", site)["published"]
        partners.acknowledge(factories.User())

        assert call_action("cd3p_ledger_verify", site, checkpoint=published)["valid"] is True

        # The tail is removed and the checkpoints with it, then a different entry is appended: the
        # chain is valid and reaches its (new) last checkpoint, but not the published one.
        session = model.Session
        session.execute(sa.text("ALTER TABLE cd3p_signature DISABLE TRIGGER cd3p_signature_append_only"))
        session.execute(
            sa.text("ALTER TABLE cd3p_ledger_checkpoint DISABLE TRIGGER cd3p_ledger_checkpoint_append_only")
        )
        try:
            first = _entries()[0]
            session.execute(sa.text("DELETE FROM cd3p_signature WHERE id <> :id"), {"id": first["id"]})
            session.execute(sa.text("DELETE FROM cd3p_ledger_checkpoint WHERE entries > 1"))
            ledger.append(
                kind="acknowledge",
                agreement_id=first["agreement_id"],
                agreement_version=first["agreement_version"],
                text_sha256=first["text_sha256"],
                user_id="someone",
                user_name="someone",
            )
            assert ledger.verify()["valid"] is True
            result = call_action("cd3p_ledger_verify", site, checkpoint=published)
            assert (result["valid"], result["entries"]) == (False, 2)
            assert result["problem"].startswith("entry 2 is not the one the published checkpoint names")
        finally:
            session.rollback()

    @pytest.mark.parametrize("bad", ["2", "x:y", "2:" + "0" * 63, ["2", "0" * 64], 5])
    def test_a_malformed_checkpoint_is_refused(self, signed: dict[str, Any], bad: Any) -> None:
        with pytest.raises(tk.ValidationError) as refused:
            call_action("cd3p_ledger_verify", {"user": partners.site_user()}, checkpoint=bad)
        assert list(refused.value.error_dict) == ["checkpoint"]

    def test_the_commands_print_the_checkpoint_and_verify_it(
        self, signed: dict[str, Any], ckan_config: Any
    ) -> None:
        runner = CKANCliRunner(env={"CKAN_INI": ckan_config["__file__"]})
        head = _entries()[-1]["entry_hash"]

        printed = runner.invoke(ckan, ["cd3p", "agreement", "checkpoint"])
        assert printed.exit_code == 0, printed.output
        published = printed.output.split()[0]
        assert published == f"1:{head}"
        checked = runner.invoke(ckan, ["cd3p", "agreement", "verify", "--checkpoint", published])
        assert checked.exit_code == 0, checked.output
        assert "1 entries, chain intact" in checked.output

        partners.acknowledge(factories.User())
        model.Session.execute(
            sa.text("ALTER TABLE cd3p_signature DISABLE TRIGGER cd3p_signature_append_only")
        )
        model.Session.execute(sa.text("DELETE FROM cd3p_signature WHERE entry_hash <> :h"), {"h": head})
        model.Session.execute(sa.text("ALTER TABLE cd3p_signature ENABLE TRIGGER cd3p_signature_append_only"))
        model.Session.commit()

        broken = runner.invoke(ckan, ["cd3p", "agreement", "verify"])
        assert broken.exit_code == 1
        assert "the newest 1 entries were removed" in broken.output
        malformed = runner.invoke(ckan, ["cd3p", "agreement", "verify", "--checkpoint", "nonsense"])
        assert malformed.exit_code == 2

    def test_deleting_the_organization_and_the_user_keeps_their_entries(self, signed: dict[str, Any]) -> None:
        site = {"user": partners.site_user()}
        call_action("organization_delete", site, id=signed["org"]["id"])
        call_action("organization_purge", site, id=signed["org"]["id"])
        call_action("user_delete", site, id=signed["admin"]["id"])
        assert model.Group.get(signed["org"]["id"]) is None
        (entry,) = _entries()
        assert (entry["organization_name"], entry["user_name"], entry["signatory_name"]) == (
            signed["org"]["name"],
            signed["admin"]["name"],
            "Alex Morgan",
        )
        assert ledger.verify()["valid"] is True


class TestGracePeriod:
    """A new version makes earlier signatures stale; rights last ckanext.cd3p.agreement.grace_days (30)."""

    def test_stale_signature_keeps_rights_until_the_grace_period_ends(self, signed: dict[str, Any]) -> None:
        org, admin = signed["org"], signed["admin"]
        editor = factories.User()
        partners.join(org, editor, "editor")
        dataset = factories.Dataset(owner_org=org["id"])

        def may_publish() -> bool:
            try:
                tk.check_access(
                    "package_update", {"user": editor["name"], "model": model}, {"id": dataset["id"]}
                )
                return True
            except tk.NotAuthorized:
                return False

        with freeze_time("2026-01-10 12:00:00"):
            partners.active_agreement("2026-2")
        status = call_action("cd3p_agreement_status", organization_id=org["id"])
        assert status["grace_end"] == "2026-02-09T12:00:00+00:00"
        assert (status["stale"], status["version"], status["active_version"]) == (
            True,
            "template-1",
            "2026-2",
        )

        with freeze_time("2026-02-09 11:59:00"):
            assert call_action("cd3p_agreement_status", organization_id=org["id"])["current"] is True
            assert may_publish()
        with freeze_time("2026-02-09 12:00:01"):
            assert call_action("cd3p_agreement_status", organization_id=org["id"])["current"] is False
            assert not may_publish()
            with pytest.raises(
                tk.NotAuthorized, match="grace period to sign version 2026-2 ended on 2026-02-09"
            ):
                tk.check_access(
                    "package_update", {"user": editor["name"], "model": model}, {"id": dataset["id"]}
                )
            partners.sign(org, admin)
            status = call_action("cd3p_agreement_status", organization_id=org["id"])
            assert (status["current"], status["stale"], status["version"]) == (True, False, "2026-2")
            assert may_publish()

    @pytest.mark.ckan_config("ckanext.cd3p.agreement.grace_days", 0)
    def test_no_grace_period(self, signed: dict[str, Any]) -> None:
        partners.active_agreement("2026-2")
        assert call_action("cd3p_agreement_status", organization_id=signed["org"]["id"])["current"] is False


@pytest.mark.usefixtures("clean_db")
def test_migration_downgrades_and_upgrades(migrate_db_for: Any) -> None:
    def tables() -> set[str]:
        return {t for t in sa.inspect(model.Session.get_bind()).get_table_names() if t.startswith("cd3p_")}

    model.Session.remove()
    migrate_db_for("cd3p", version="base", forward=False)
    assert tables() == {"cd3p_alembic_version"}
    migrate_db_for("cd3p")
    assert tables() == {
        "cd3p_alembic_version",
        "cd3p_agreement",
        "cd3p_signature",
        "cd3p_partner_application",
        "cd3p_membership_request",
        "cd3p_indicator_source",
        "cd3p_resource_check",
        "cd3p_ledger_checkpoint",
        "cd3p_outcome",
        "cd3p_data_request",
        "cd3p_data_request_comment",
        "cd3p_data_request_follower",
        "cd3p_access_grant",
        "cd3p_saved_query",
        "cd3p_derived_resource",
        "cd3p_derived_refresh",
        "cd3p_data_change",
        "cd3p_feed",
        "cd3p_feed_fetch",
        "cd3p_index_pending",
    }
    assert partners.active_agreement()["state"] == "active"  # usable again


def test_the_checkpoint_migration_anchors_a_ledger_kept_before_it(
    signed: dict[str, Any], migrate_db_for: Any
) -> None:
    """Downgraded, the ledger has no checkpoints and TRUNCATE is no longer refused; upgraded again,
    its head at that time is the first checkpoint."""

    def truncate_triggers() -> set[str]:
        rows = model.Session.execute(
            sa.text("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'cd3p_%no_truncate'")
        )
        return set(rows.scalars())

    partners.acknowledge(factories.User())
    head = _entries()[-1]
    model.Session.remove()
    migrate_db_for("cd3p", version="9e1f3a7c2d54", forward=False)
    assert not sa.inspect(model.Session.get_bind()).has_table("cd3p_ledger_checkpoint")
    assert truncate_triggers() == set()
    model.Session.remove()

    migrate_db_for("cd3p")

    assert truncate_triggers() == {"cd3p_signature_no_truncate", "cd3p_ledger_checkpoint_no_truncate"}
    assert ledger.checkpoint()["published"] == f"2:{head['entry_hash']}"
    assert ledger.checkpoint()["head_id"] == head["id"]
    assert ledger.verify() == {"valid": True, "entries": 2, "last_hash": head["entry_hash"]}
