"""Fixtures shared by the suite.

The suite runs against the real services started by `make test`: PostgreSQL/PostGIS, Solr (core
ckan_test), Redis, and a CKAN web server and xloader worker on the test configuration. The worker
downloads uploads from that web server and reports back to it, exactly as in production.

`make test` runs the files in parallel processes (pytest-xdist, ``TEST_WORKERS``): each process
``gwN`` runs on an environment of its own, ``test-gwN`` (its databases, Solr core, Redis database,
worker and web server, from ``scripts/portal.sh setup test-gwN``), so that no test sees another's
rows, and the fixtures that reset the databases reset only its own.
"""

from __future__ import annotations

import copy
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from ckan import model, plugins
from ckan.common import config
from ckan.tests.helpers import call_action
from ckanext.datastore.backend.postgres import get_write_engine
from werkzeug.datastructures import FileStorage

from ckanext.cd3p.common import model as cd3p_model
from tests import factories, mail, partners
from tests.helpers import worker_idle
from tests.web import person

_MIGRATED: list[bool] = []
_LOADED: dict[str, Any] = {}


def _marks(request: pytest.FixtureRequest) -> str:
    """The test's own settings (``ckan_config`` marks), which loading plugins or making the app reads."""
    return repr([mark.args for mark in request.node.iter_markers("ckan_config")])


@pytest.fixture
def with_plugins(ckan_config: Any, request: pytest.FixtureRequest) -> Iterator[None]:
    """CKAN's ``with_plugins``, loading the plugins once per process rather than once per test.

    CKAN's loads every plugin of ``ckan.plugins`` for each test and unloads them after; each load
    runs every plugin's ``update_config``, where toolkit finds each template and asset folder with
    ``inspect.stack()``: about two seconds a test, most of the suite's time. The plugins are the
    same for every test here, so they are loaded again only when a test's own settings differ from
    the last load's; what loading put in the configuration is put back for each test (CKAN resets
    the configuration between tests), on top of the test's settings.
    """
    key = _marks(request)
    if _LOADED.get("plugins") != key or not plugins.plugin_loaded("cd3p"):
        before = copy.deepcopy(dict(ckan_config))
        plugins.load_all()
        _LOADED["plugins"] = key
        _LOADED["added"] = {k: v for k, v in ckan_config.items() if k not in before or before[k] != v}
    else:
        ckan_config.update(copy.deepcopy(_LOADED["added"]))
    yield


@pytest.fixture
def app(make_app: Callable[[], Any], request: pytest.FixtureRequest) -> Any:
    """CKAN's ``app``, made once per process and again only for a test with settings of its own
    (making one loads every plugin again, see :func:`with_plugins`)."""
    key = _marks(request)
    if _LOADED.get("app_key") != key or "app" not in _LOADED:
        _LOADED["app"] = make_app()
        _LOADED["app_key"] = key
        _LOADED.pop("plugins", None)  # the app's load read this test's settings
    return _LOADED["app"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first (``@pytest.mark.slow``): the parallel processes take tests as they
    finish, so a slow one taken last would leave the other process idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_configure(config: pytest.Config) -> None:
    """A parallel process reads its own environment's ini, next to the one given (test.ini), before
    CKAN's pytest plugin loads it at the start of the session."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    given = getattr(config.option, "ckan_ini", None)
    if worker and given:
        own = Path(given).with_name(f"test-{worker}.ini")
        if not own.is_file():
            raise pytest.UsageError(
                f"{own} is missing: run `make test` (scripts/portal.sh setup test-{worker})"
            )
        config.option.ckan_ini = str(own)


@pytest.fixture
def clean_db(with_plugins: None, reset_db: Any, migrate_db_for: Any) -> None:
    """CKAN's clean_db, plus the migrations of the plugins we enable that have tables of their own.

    CKAN's reset deletes the rows of the tables in its own MetaData; ours live in their own (the
    ledger refuses DELETE by design), so they are emptied with TRUNCATE. The ledger refuses that too;
    as the tables' owner, the reset turns those two triggers off for its own transaction only.
    """
    worker_idle()
    reset_db()
    # The first reset of a process drops CKAN's tables (the activity plugin's among them) and makes
    # them again; later ones only delete rows. So the migrations are needed once per process.
    if not _MIGRATED:
        migrate_db_for("activity")
        migrate_db_for("cd3p")
        _MIGRATED.append(True)
        # Core's migration environment binds the model to an engine without a pool (NullPool) and
        # leaves it bound, so that every later query of the process would open a new connection.
        # Bind it back to a pooled engine, as the portal runs (ckan.config.environment).
        if isinstance(model.meta.engine.pool, sa.pool.NullPool):
            model.init_model(sa.engine_from_config(config))
    names = ", ".join(table.name for table in cd3p_model.tables())
    guarded = {
        "cd3p_signature": "cd3p_signature_no_truncate",
        "cd3p_ledger_checkpoint": "cd3p_ledger_checkpoint_no_truncate",
    }
    for table, trigger in guarded.items():
        model.Session.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
    model.Session.execute(sa.text(f"TRUNCATE {names}"))
    for table, trigger in guarded.items():
        model.Session.execute(sa.text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
    model.Session.commit()


@pytest.fixture
def agreement(clean_db: None) -> dict[str, Any]:
    """The shipped template agreement, active (what `ckan cd3p agreement init` does)."""
    return partners.active_agreement()


@pytest.fixture
def sysadmin(clean_db: None) -> dict[str, Any]:
    """A sysadmin with an API token (``sysadmin["token"]``)."""
    return factories.SysadminWithToken()


@pytest.fixture
def organization(sysadmin: dict[str, Any]) -> dict[str, Any]:
    return factories.Organization(users=[{"name": sysadmin["name"], "capacity": "admin"}])


@pytest.fixture
def clean_datastore(clean_db: None) -> None:
    """Drops every DataStore table left by earlier tests (PostGIS lives in its own schema)."""
    with get_write_engine().begin() as conn:
        quote = conn.dialect.identifier_preparer.quote
        names = conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
        for name in list(names):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS public.{quote(name)} CASCADE"))


@pytest.fixture
def xloader_token(sysadmin: dict[str, Any], ckan_config: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Makes the xloader submit jobs with a token that is valid in this test's database."""
    monkeypatch.setitem(ckan_config, "ckanext.xloader.api_token", sysadmin["token"])
    return sysadmin["token"]


@pytest.fixture
def inbox(ckan_config: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[mail.Inbox]:
    """A real SMTP server on 127.0.0.1 for the test, which CKAN sends to, notifications on."""
    with mail.serving(ckan_config, monkeypatch) as received:
        yield received


@pytest.fixture
def upload(sysadmin: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """Uploads bytes as a new resource through resource_create, into the configured storage path.

    The storage path is the one the test web server serves from, so the xloader worker can download
    the file the way it does in production.
    """

    def _upload(package_id: str, data: bytes, filename: str, **fields: Any) -> dict[str, Any]:
        return call_action(
            "resource_create",
            {"user": sysadmin["name"]},
            package_id=package_id,
            url=filename,
            upload=FileStorage(io.BytesIO(data), filename=filename),
            **fields,
        )

    return _upload


@pytest.fixture
def partner(agreement: dict[str, Any], xloader_token: str) -> dict[str, Any]:
    """A signed partner organization with an admin, an editor and a member who can log in."""
    admin, editor, member = person(token=True), person(token=True), person(token=True)
    org = partners.organization(admin)
    partners.join(org, editor, "editor")
    partners.join(org, member, "member")
    return {"org": org, "admin": admin, "editor": editor, "member": member}


@pytest.fixture
def put(partner: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """The partner's editor uploads bytes as a new resource (or a new file of an existing one)."""

    def _put(
        data: bytes, filename: str, dataset: dict[str, Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        upload = FileStorage(io.BytesIO(data), filename=filename)
        context = {"user": partner["editor"]["name"]}
        if "id" in fields:
            return call_action("resource_patch", context, url=filename, upload=upload, **fields)
        assert dataset is not None
        return call_action(
            "resource_create",
            context,
            package_id=dataset["id"],
            url=filename,
            upload=upload,
            **{"format": "CSV", **fields},
        )

    return _put
