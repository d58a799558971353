"""What a logged-in page costs with our plugin, against CKAN without it, on the same database.

    make bench            (runs every benchmark, this one included)
    .venv/bin/python benchmarks/bench_pages.py [--ini var/etc/development.ini] [--repeat 30]

Every page a logged-in user sees carries the header's count of new activities (ckanext-activity's
``h.new_activities()``: ``dashboard_new_activities_count``, which reads the whole first page of
the user's dashboard activity stream). Our plugin chains ``dashboard_activity_list`` (its input
guarded, the steward contact left out of the datasets in it), so this measures, for the demo
sysadmin (``ckanext.cd3p.demo.user``) and for a registered user following every demo dataset:

- ``dashboard_new_activities_count`` (the header's count);
- ``GET /dataset/`` and ``GET /dataset/<a demo dataset>`` as that user (API-token header), whole
  pages with the header;

each in two processes on the same development database: CKAN with the ini's plugins, and CKAN with
the same plugins but ``cd3p`` and ``scheming_*`` (the baseline, CKAN alone), each twice and in
turn (the second run of each counts). The median and 95th percentile in milliseconds, and the
difference per call. The run's user and tokens are removed at
the end.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_gate import timed  # the same warm-up and percentiles as the gate's benchmark
from werkzeug.test import Client

ROOT = Path(__file__).resolve().parents[1]


def _app(ini: str, baseline: bool) -> Any:
    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    config = load_config(ini)
    if baseline:
        plugins = config["ckan.plugins"].split()
        config["ckan.plugins"] = " ".join(p for p in plugins if p != "cd3p" and not p.startswith("scheming"))
    return make_app(config)


def measure(ini: str, baseline: bool, users: dict[str, str], dataset: str, repeat: int) -> dict[str, Any]:
    """One process's figures: for each user (name -> API token), each call's p50/p95 in ms."""
    from ckan.plugins import toolkit as tk

    app = _app(ini, baseline)
    client = Client(app)  # the whole WSGI stack, middleware included
    out: dict[str, Any] = {}
    for name, token in users.items():
        headers = {"Authorization": token}

        def count(name: str = name) -> None:
            with app._wsgi_app.test_request_context():
                tk.get_action("dashboard_new_activities_count")({"user": name}, {})

        def page(path: str, headers: dict[str, str] = headers) -> Callable[[], None]:
            def get() -> None:
                response = client.get(path, headers=headers)
                assert response.status_code == 200, (path, response.status_code)

            return get

        out[name] = {
            "dashboard_new_activities_count": timed(count, repeat),
            "GET /dataset/": timed(page("/dataset/"), repeat),
            f"GET /dataset/{dataset}": timed(page(f"/dataset/{dataset}"), repeat),
        }
    return out


def _prepare(ini: str) -> tuple[dict[str, str], dict[str, Any], str]:
    """A registered user who follows every demo dataset, and an API token each for them and the
    demo sysadmin: ({name: token}, what to remove afterwards, a demo dataset's name)."""
    from ckan.plugins import toolkit as tk

    from ckanext.cd3p import config
    from ckanext.cd3p.demo import DATASETS

    app = _app(ini, baseline=False)
    with app._wsgi_app.test_request_context():
        site = {"user": tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]}
        admin = config.demo_user()
        suffix = uuid.uuid4().hex[:8]
        reader = tk.get_action("user_create")(
            dict(site),
            {
                "name": f"bench-reader-{suffix}",
                "email": f"r{suffix}@example.org",
                "password": uuid.uuid4().hex,
            },
        )
        for spec in DATASETS:
            tk.get_action("follow_dataset")({"user": reader["name"]}, {"id": spec.name})
        tokens = {}
        for name in (admin, reader["name"]):
            made = tk.get_action("api_token_create")(dict(site), {"user": name, "name": f"bench-{suffix}"})
            tokens[name] = made["token"]
    return tokens, {"user": reader["id"], "token_name": f"bench-{suffix}"}, DATASETS[0].name


def _clean_up(ini: str, made: dict[str, Any]) -> None:
    from ckan import model
    from ckan.plugins import toolkit as tk

    app = _app(ini, baseline=False)
    with app._wsgi_app.test_request_context():
        site = {"user": tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]}
        for token in model.Session.query(model.ApiToken).filter_by(name=made["token_name"]).all():
            tk.get_action("api_token_revoke")(dict(site), {"jti": token.id})
        tk.get_action("user_delete")(dict(site), {"id": made["user"]})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ini", default=str(ROOT / "var/etc/development.ini"))
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # "baseline" or "ours", with --spec
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        spec = json.loads(args.spec)
        figures = measure(args.ini, args.child == "baseline", spec["users"], spec["dataset"], args.repeat)
        print("RESULT " + json.dumps(figures))
        return

    users, made, dataset = _prepare(args.ini)
    try:
        spec = json.dumps({"users": users, "dataset": dataset})
        results = {}
        # Each in a process of its own (the plugins load once), twice and in turn, so that neither
        # gains from running second: the second figure of each counts.
        for mode in ("baseline", "ours", "baseline", "ours"):
            run = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--ini",
                    args.ini,
                    "--repeat",
                    str(args.repeat),
                    "--child",
                    mode,
                    "--spec",
                    spec,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            line = next(x for x in run.stdout.splitlines() if x.startswith("RESULT "))
            results[mode] = json.loads(line.removeprefix("RESULT "))
    finally:
        _clean_up(args.ini, made)

    print(f"{'user':22} {'what':46} {'CKAN alone p50/p95':>19} {'with cd3p p50/p95':>19} {'added p50':>10}")
    for user in users:
        shown = "demo sysadmin" if not user.startswith("bench-reader") else "follows every dataset"
        for what, (b50, b95) in results["baseline"][user].items():
            o50, o95 = results["ours"][user][what]
            print(
                f"{shown:22} {what[:46]:46} {b50:7.1f} / {b95:8.1f} {o50:7.1f} / {o95:8.1f} {o50 - b50:+9.1f}"
            )
    print(f"baseline: the same ini without cd3p and scheming; {args.repeat} calls each, in milliseconds")


if __name__ == "__main__":
    main()
