"""Helpers shared by tests."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rq
import sqlalchemy as sa
from babel.messages.pofile import read_po
from ckan import model
from ckan.lib import jobs
from ckan.plugins import toolkit as tk
from ckan.tests.helpers import call_action


def poll(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """``condition()``'s first true value, asked every ``every`` seconds for at most ``timeout``:
    what a test waits for instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    while True:
        model.Session.expire_all()  # another process (the worker) changes the rows
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(every)


_KEPT: dict[str, tuple[Any, Any]] = {}

_STATE = sa.text(
    "SELECT (SELECT count(*) FROM package), (SELECT max(metadata_modified) FROM package),"
    ' (SELECT count(*) FROM "user"), (SELECT count(*) FROM member), (SELECT count(*) FROM activity),'
    " (SELECT count(*) FROM user_following_dataset), (SELECT count(*) FROM package_extra)"
)


def database_state() -> tuple[Any, ...]:
    """A fingerprint of the catalog (datasets and their last change, users, memberships, activities,
    follows) for a kept world: a test that changes any of them makes the next one build it again."""
    return tuple(model.Session.execute(_STATE).one())


def kept_world(
    request: pytest.FixtureRequest, name: str, build: Callable[[], Any], fingerprint: Callable[[Any], Any]
) -> Any:
    """A world that tests only read, built once per process: kept while ``fingerprint(world)`` is
    what it was when built (a test that resets the database or changes the world in between makes
    the next one build it again, on a clean database and index)."""
    kept = _KEPT.get(name)
    if kept is not None and fingerprint(kept[0]) == kept[1]:
        return kept[0]
    request.getfixturevalue("clean_db")
    request.getfixturevalue("clean_index")
    world = build()
    _KEPT[name] = (world, fingerprint(world))
    return world


@contextlib.contextmanager
def statements(table: str) -> Iterator[list[str]]:
    """The SQL statements run meanwhile (in this process, on any engine) that name the table, each
    followed by its parameters (``<statement> -- <parameters>``)."""
    found: list[str] = []

    def read(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if table in statement:
            found.append(f"{statement} -- {parameters!r}")

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", read)
    try:
        yield found
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", read)


@contextlib.contextmanager
def serving(server: Any) -> Iterator[str]:
    """A real HTTP server (``http.server``'s or werkzeug's, bound to 127.0.0.1) served on a thread
    for the block; yields its base URL."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def wait_for_xloader(resource_id: str, timeout: float = 120, after: str | None = None) -> dict[str, Any]:
    """Polls xloader_status until the job ends; fails the test if it never does (a hung job).

    ``after``: the ``job_id`` of an earlier job of the resource, whose status is not the answer.
    """
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            status = call_action("xloader_status", {"ignore_auth": True}, resource_id=resource_id)
        except tk.ObjectNotFound:
            status = {}
        if status.get("status") in ("complete", "error") and (after is None or status.get("job_id") != after):
            return status
        time.sleep(0.5)
    pytest.fail(f"xloader job for {resource_id} did not finish within {timeout}s: {status}")


def wait_for_check(resource_id: str, timeout: float = 60, after: str | None = None) -> dict[str, Any]:
    """Polls the resource's latest check before loading until it is decided; fails the test if it
    never is. ``after``: the id of an earlier check of the resource, whose result is not the answer."""
    deadline = time.monotonic() + timeout
    found: dict[str, Any] = {}
    while time.monotonic() < deadline:
        model.Session.expire_all()  # the worker changes rows this test's session may hold
        try:
            found = call_action("cd3p_resource_check_show", {"ignore_auth": True}, id=resource_id)
        except tk.ObjectNotFound:
            found = {}
        if found.get("state") not in (None, "pending") and found.get("id") != after:
            return found
        time.sleep(0.3)
    pytest.fail(f"the check of {resource_id} was not decided within {timeout}s: {found}")


def wait_for_load(resource_id: str, timeout: float = 120, after: str | None = None) -> dict[str, Any]:
    """Polls the resource's latest check until its file is decided and, if it passed, its load has
    ended (complete or failed); returns the check. ``after``: an earlier check's id, not the answer."""
    deadline = time.monotonic() + timeout
    found: dict[str, Any] = {}
    while time.monotonic() < deadline:
        model.Session.expire_all()
        try:
            found = call_action("cd3p_resource_check_show", {"ignore_auth": True}, id=resource_id)
        except tk.ObjectNotFound:
            found = {}
        load = (found.get("report") or {}).get("load") or {}
        ended = found.get("state") in ("held", "failed") or load.get("state") in ("complete", "failed")
        if ended and found.get("id") != after:
            return found
        time.sleep(0.3)
    pytest.fail(f"the load of {resource_id} did not end within {timeout}s: {found}")


def tract_table(package: dict[str, Any]) -> dict[str, Any]:
    """A link resource of the dataset with a one-row DataStore table of a Detroit tract's households
    (made by datastore_create: no file, so no check and no load)."""
    from tests import factories

    resource = factories.Resource(package_id=package["id"], url="http://example.com/d.csv", format="CSV")
    call_action(
        "datastore_create",
        resource_id=resource["id"],
        force=True,
        fields=[{"id": "geoid", "type": "text"}, {"id": "households", "type": "int"}],
        records=[{"geoid": "26163500100", "households": 812}],
    )
    return resource


def worker_idle(timeout: float = 60) -> None:
    """Waits until this environment's worker has no job running or queued: a check or load that a
    previous test started must not run into this test's reset (it would, for one, make the site user
    again while the test makes it)."""
    queue = jobs.get_queue()
    deadline = time.monotonic() + timeout
    idle = 0
    while time.monotonic() < deadline:
        busy = any(w.get_state() == "busy" for w in rq.Worker.all(connection=queue.connection))
        idle = idle + 1 if not busy and queue.count == 0 and queue.started_job_registry.count == 0 else 0
        # Twice in a row: between taking a job off the queue and marking itself busy, a worker
        # looks idle for a moment, with the job in neither the queue nor the started registry.
        if idle == 2:
            return
        time.sleep(0.02 if idle else 0.1)  # the moment is a few milliseconds: looked at again soon


I18N = Path(__file__).resolve().parents[1] / "ckanext-cd3p" / "ckanext" / "cd3p" / "i18n"


@functools.cache
def catalog(lang: str) -> Any:
    """Our catalog of a language, read with Babel (independently of the gettext the portal uses)."""
    with (I18N / lang / "LC_MESSAGES" / "ckanext-cd3p.po").open("rb") as f:
        return read_po(f)


def translated(lang: str, msgid: str) -> str:
    """A message as our catalog of the language has it."""
    return catalog(lang)[msgid].string
