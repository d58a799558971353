"""The service scripts fail fast, naming the service, when they cannot start it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port held open by someone else."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A scratch state folder the postgres user can reach (pytest's own scratch is private to root)."""
    parent = ROOT / "var" / "scratch"
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=parent))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _run(args: list[str], scratch: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / args[0]), *args[1:]],
        env={**os.environ, "CD3P_VAR": str(scratch / "var"), **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_solr_refuses_a_port_in_use(busy_port: int, scratch: Path) -> None:
    result = _run(["scripts/solr.sh", "start"], scratch, CD3P_SOLR_PORT=str(busy_port))

    assert result.returncode == 1
    assert f"solr: port {busy_port} is already in use by another process" in result.stderr
    assert not (scratch / "var/run/solr.pid").exists()


def test_redis_refuses_a_port_in_use(busy_port: int, scratch: Path) -> None:
    # Postgres goes to a free port of its own so that only Redis meets the busy one.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    result = _run(
        ["scripts/services.sh", "up"], scratch, CD3P_PG_PORT=str(free), CD3P_REDIS_PORT=str(busy_port)
    )
    try:
        assert result.returncode == 1
        assert f"redis: port {busy_port} is already in use by another process" in result.stderr
        assert "postgres: started" in result.stdout
    finally:
        _run(["scripts/services.sh", "down"], scratch, CD3P_PG_PORT=str(free), CD3P_REDIS_PORT=str(busy_port))


def test_postgres_refuses_a_port_in_use(busy_port: int, scratch: Path) -> None:
    result = _run(["scripts/services.sh", "up"], scratch, CD3P_PG_PORT=str(busy_port))

    assert result.returncode == 1
    assert f"postgres: port {busy_port} is already in use by another process" in result.stderr


def test_status_names_each_service(scratch: Path) -> None:
    # Nothing runs under this fresh var folder's ports.
    result = _run(
        ["scripts/services.sh", "status"], scratch, CD3P_PG_PORT="1", CD3P_REDIS_PORT="1", CD3P_SOLR_PORT="1"
    )

    assert result.returncode == 1
    assert "postgres: down" in result.stdout
    assert "redis: down" in result.stdout


def test_each_environment_keeps_its_own_web_port(scratch: Path) -> None:
    """Rendering from the test environment once gave development.ini the test server's address."""
    for env in ("test", "development"):
        result = _run(["scripts/portal.sh", "render", env], scratch)
        assert result.returncode == 0, result.stderr
        urls = {
            name: next(
                line.split("=", 1)[1].strip()
                for line in (scratch / "var/etc" / f"{name}.ini").read_text().splitlines()
                if line.startswith("ckan.site_url")
            )
            for name in ("development", "test")
        }
        assert urls == {"development": "http://127.0.0.1:5000", "test": "http://127.0.0.1:5001"}, env
