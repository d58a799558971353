#!/usr/bin/env python3
"""Start-up waits and health checks for the CD3P containers.

Uses only the standard library and what CKAN already installs (psycopg2, redis, rq, PyJWT), and
never prints a connection URL, since those carry passwords.

  probe.py wait [SECONDS]     wait until both databases, Solr and Redis answer (default 300 s)
  probe.py web                CKAN answers /api/3/action/status_show here (web health check)
  probe.py worker             this container's job worker is registered in Redis (worker health check)
  probe.py token TOKEN        TOKEN is signed with CD3P_SECRET_KEY and belongs to an active sysadmin
  probe.py pg-target VAR      print "host port dbname" of the PostgreSQL URL in environment variable VAR
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import urllib.request
from urllib.parse import urlsplit

WEB_URL = "http://127.0.0.1:5000/api/3/action/status_show"


class Fatal(Exception):
    """A failure that waiting will not cure (wrong password, missing database)."""


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise SystemExit(f"probe: {name} is not set")
    return value


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def check_postgres(url: str) -> None:
    import psycopg2

    try:
        psycopg2.connect(url, connect_timeout=5).close()
    except psycopg2.OperationalError as e:
        msg = str(e)
        # The server answered and refused us: a configuration error, not a slow start. Most often
        # the passwords in docker/.env were changed after the database volume was initialised.
        if "password authentication failed" in msg or "does not exist" in msg:
            raise Fatal(_first_line(e)) from e
        raise


def check_solr(url: str) -> None:
    with urllib.request.urlopen(url.rstrip("/") + "/admin/ping?wt=json", timeout=5) as r:
        status = json.load(r).get("status")
    if status != "OK":
        raise RuntimeError(f"ping status {status!r}")


def check_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5).ping()


def wait(timeout: float) -> int:
    checks = [
        ("PostgreSQL, CKAN database", check_postgres, "CKAN_SQLALCHEMY_URL"),
        ("PostgreSQL, DataStore (read-write role)", check_postgres, "CKAN_DATASTORE_WRITE_URL"),
        ("PostgreSQL, DataStore (read-only role)", check_postgres, "CKAN_DATASTORE_READ_URL"),
        ("Solr", check_solr, "CKAN_SOLR_URL"),
        ("Redis", check_redis, "CKAN_REDIS_URL"),
    ]
    deadline = time.monotonic() + timeout
    for label, check, var in checks:
        url = _env(var)
        last = None
        while True:
            try:
                check(url)
                break
            except Fatal as e:
                print(f"probe: {label}: {e} (check {var} and docker/.env)", file=sys.stderr)
                return 1
            except Exception as e:  # any failure here means "not yet"
                msg = _first_line(e)
                if time.monotonic() >= deadline:
                    print(f"probe: {label} did not answer within {timeout:.0f}s: {msg}", file=sys.stderr)
                    return 1
                if msg != last:
                    print(f"probe: waiting for {label}: {msg}", flush=True)
                    last = msg
                time.sleep(2)
        print(f"probe: {label} is up", flush=True)
    return 0


def web() -> int:
    with urllib.request.urlopen(WEB_URL, timeout=10) as r:
        return 0 if json.load(r).get("success") is True else 1


def worker() -> int:
    import redis
    from rq import Worker

    conn = redis.Redis.from_url(_env("CKAN_REDIS_URL"), socket_timeout=5, socket_connect_timeout=5)
    host = socket.gethostname()
    return 0 if any(w.hostname == host for w in Worker.all(connection=conn)) else 1


def token(value: str) -> int:
    import jwt
    import psycopg2

    try:
        # CKAN signs API tokens with HS256 (api_token.jwt.algorithm) and "string:<secret>".
        claims = jwt.decode(value, _env("CD3P_SECRET_KEY"), algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return 1
    jti = claims.get("jti")
    if not jti:
        return 1
    try:
        conn = psycopg2.connect(_env("CKAN_SQLALCHEMY_URL"), connect_timeout=5)
    except psycopg2.Error:
        return 1
    try:
        with conn.cursor() as cur:
            cur.execute(
                'SELECT 1 FROM api_token t JOIN "user" u ON u.id = t.user_id'
                " WHERE t.id = %s AND u.state = 'active' AND u.sysadmin",
                (jti,),
            )
            return 0 if cur.fetchone() else 1
    except psycopg2.Error:  # no api_token table yet: the database is new
        return 1
    finally:
        conn.close()


def pg_target(var: str) -> int:
    parts = urlsplit(_env(var))
    dbname = parts.path.lstrip("/")
    if not parts.hostname or not dbname:
        return 1
    print(parts.hostname, parts.port or 5432, dbname)
    return 0


def main(argv: list[str]) -> int:
    cmd, args = (argv[1], argv[2:]) if len(argv) > 1 else ("", [])
    try:
        if cmd == "wait" and len(args) <= 1:
            return wait(float(args[0]) if args else 300)
        if cmd == "web" and not args:
            return web()
        if cmd == "worker" and not args:
            return worker()
        if cmd == "token" and len(args) == 1:
            return token(args[0])
        if cmd == "pg-target" and len(args) == 1:
            return pg_target(args[0])
    except Exception as e:  # health checks report, they do not raise
        print(f"probe {cmd}: {_first_line(e)}", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
