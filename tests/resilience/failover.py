"""A portal of its own for the failure tests: a second set of services (PostgreSQL, Redis, Solr) under
``var/failover`` on ports of their own, and the ``test`` environment's web server (uWSGI), worker and
scheduler on it, all started, stopped and restarted with the project's own scripts. The failure
tests stop services under this portal; the other tests, running at the same time on the first set
of services, never notice.

The tests reach this portal as anyone does: over HTTP, with a sysadmin's API token.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent


class Failover:
    """The failure tests' portal. ``url`` is its web server; ``call`` its Action API."""

    def __init__(self, base: int = 100) -> None:
        self.var = Path(os.environ.get("CD3P_VAR", ROOT / "var")) / "failover"
        self.web_port = 5001 + base
        self.env = {
            **os.environ,
            "CD3P_VAR": str(self.var),
            "CD3P_VENV": str(VENV),
            "CD3P_PG_PORT": str(5432 + base),
            "CD3P_REDIS_PORT": str(6379 + base),
            "CD3P_SOLR_PORT": str(8983 + base),
            "CD3P_SOLR_CORES": "ckan_test",
            "CD3P_SOLR_BUILD_DIR": str(ROOT / "var" / "solr" / "launcher"),
            "CD3P_WEB_PORT": str(5000 + base),
            "CD3P_TEST_WEB_PORT": str(self.web_port),
            # The scheduler runs here, ticking every second; the recovery job every 2 seconds.
            "CD3P_SCHEDULER": "1",
            "CD3P_SCHEDULER_INTERVAL": "1",
            "CD3P_RECOVERY_PERIOD": "2",
        }
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.ini = self.var / "etc" / "test.ini"
        self.token = ""

    # --- the project's scripts ---------------------------------------------------------------------

    def script(self, *args: str, timeout: float = 600) -> str:
        done = subprocess.run(
            [str(ROOT / "scripts" / args[0]), *args[1:]],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    def service(self, action: str, name: str) -> None:
        """``scripts/services.sh start|stop|restart postgres|redis|solr`` for this portal."""
        self.script("services.sh", action, name)

    def ckan(self, *args: str) -> str:
        done = subprocess.run(
            [str(VENV / "bin" / "ckan"), "-c", str(self.ini), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"ckan {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def up(self) -> None:
        """The services, the environment (databases, migrations) and its processes; a sysadmin."""
        self.script("services.sh", "up")
        self.script("portal.sh", "setup", "test")
        name = f"failover-{uuid.uuid4().hex[:8]}"
        self.ckan("user", "add", name, f"email={name}@example.org", f"password={uuid.uuid4().hex}")
        self.ckan("sysadmin", "add", name)
        self.token = self.ckan("user", "token", "add", name, "failover").strip().splitlines()[-1].strip()
        # The test environment's ini names no token for the worker (the tests make their own):
        # this portal's worker fetches uploads with the sysadmin's, as development's does.
        self.ckan("config-tool", str(self.ini), f"ckanext.xloader.api_token={self.token}")
        self.script("portal.sh", "restart", "test")

    def down(self, wipe: bool = False) -> None:
        """Stops what ``up`` started; ``wipe``: and deletes its data (a clean start)."""
        with contextlib.suppress(Exception):
            self.script("portal.sh", "stop", "test")
        with contextlib.suppress(Exception):
            self.script("services.sh", "down")
        if wipe:
            shutil.rmtree(self.var, ignore_errors=True)

    def pid(self, process: str) -> int:
        """The pid of one of this portal's processes (worker, web, scheduler) from its pid file."""
        return int((self.var / "run" / f"{process}-test.pid").read_text().split()[0])

    def kill_worker(self) -> None:
        """Kills the job worker and the job it runs at once (SIGKILL: no clean-up, as a crash or the
        out-of-memory killer would). Its supervisor (scripts/portal.sh) starts a new worker."""

        def children(pid: int) -> list[int]:
            found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
            return [int(p) for p in found.stdout.split()]

        for worker in children(self.pid("worker")):
            for each in [*children(worker), worker]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(each, signal.SIGKILL)

    # --- over HTTP ---------------------------------------------------------------------------------

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(self.url + path, params=params, headers={"Authorization": self.token}, timeout=60)

    def call(self, action: str, files: dict[str, Any] | None = None, **data: Any) -> requests.Response:
        """The Action API with the sysadmin's token: JSON, or a form with ``files``."""
        url = f"{self.url}/api/3/action/{action}"
        headers = {"Authorization": self.token}
        if files:
            return requests.post(url, data=data, files=files, headers=headers, timeout=120)
        return requests.post(url, json=data, headers=headers, timeout=120)

    def result(self, action: str, files: dict[str, Any] | None = None, **data: Any) -> Any:
        response = self.call(action, files, **data)
        assert response.status_code == 200, f"{action}: {response.status_code} {response.text[:2000]}"
        return response.json()["result"]


def wait(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.25) -> Any:
    """``condition()``'s first true value, asked until ``timeout`` seconds have passed; an error,
    while the service is away, counts as not yet."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            found = condition()
        except (requests.RequestException, AssertionError, KeyError) as error:
            found, last = None, error
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"not within {timeout} s: {what} (last error: {last!r})")


@contextlib.contextmanager
def stopped(portal: Failover, name: str) -> Iterator[None]:
    """The service stopped for the block, started again after it, whatever happens in it."""
    portal.service("stop", name)
    try:
        yield
    finally:
        portal.service("start", name)
