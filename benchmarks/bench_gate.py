"""What the agreement gate and the partner tier cost per request, against CKAN without them.

    make bench            (runs every benchmark, this one included)
    .venv/bin/python benchmarks/bench_gate.py [--ini var/etc/development.ini] [--repeat 500]

In one process on the development database, with a partner organization (signed, one member who
acknowledged) and a partner-tier dataset created for the run and purged afterwards, it times:

- the user's permission labels: CKAN's own ``DefaultPermissionLabels`` (the baseline, what CKAN
  computes without our plugin) against our plugin's (CKAN's plus the partner label);
- ``package_update`` auth: core's auth function called directly (baseline) against the chained one
  (core's plus the signature check);
- ``package_show`` of the partner-tier dataset as the member, and ``package_search`` as the member
  (labels filter in Solr), each against the same call by a sysadmin (who skips labels: the floor).

Reports the median and 95th percentile in milliseconds and the difference per call. The run's
signature and acknowledgement stay in the ledger, which is append-only, under the purged names
``bench-*``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    for _ in range(min(20, repeat)):  # warm caches and connections
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ini", default=str(ROOT / "var/etc/development.ini"))
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()

    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(args.ini))
    with app._wsgi_app.test_request_context():
        run(args.repeat)


def run(repeat: int) -> None:
    from ckan import model
    from ckan.lib.plugins import DefaultPermissionLabels
    from ckan.logic.auth.update import package_update as core_package_update
    from ckan.plugins import get_plugin
    from ckan.plugins import toolkit as tk

    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    sysadmin = {"user": site}
    suffix = uuid.uuid4().hex[:8]

    def act(action: str, context: dict[str, Any] | None = None, **data: Any) -> Any:
        return tk.get_action(action)(dict(context or sysadmin), data)

    current = act("cd3p_agreement_show", id="current")
    admin = act(
        "user_create", name=f"bench-admin-{suffix}", email=f"a{suffix}@example.org", password=uuid.uuid4().hex
    )
    member = act(
        "user_create",
        name=f"bench-member-{suffix}",
        email=f"m{suffix}@example.org",
        password=uuid.uuid4().hex,
    )
    org = act(
        "organization_create", name=f"bench-partner-{suffix}", title="Bench partner", sector="nonprofit"
    )
    act("organization_member_create", id=org["id"], username=admin["name"], role="admin")
    act(
        "cd3p_agreement_sign",
        {"user": admin["name"]},
        organization_id=org["id"],
        agreement_id=current["id"],
        signatory_name="Bench",
        signatory_title="Benchmark",
        confirm_authority=True,
    )
    act("cd3p_agreement_acknowledge", {"user": member["name"]})
    act(
        "organization_member_create",
        {"user": admin["name"]},
        id=org["id"],
        username=member["name"],
        role="editor",
    )
    dataset = act(
        "package_create",
        name=f"bench-tier-{suffix}",
        title="Bench partner-tier dataset",
        owner_org=org["id"],
        access_level="partners",
        geography_level="tract",
        contains_personal_data="no",
    )
    try:
        user_obj = model.User.get(member["name"])
        ours = get_plugin("cd3p")
        core = DefaultPermissionLabels()
        assert "cd3p-partners" in ours.get_user_dataset_labels(user_obj)

        def auth_core() -> None:
            core_package_update({"user": member["name"], "model": model}, {"id": dataset["id"]})

        def auth_ours() -> None:
            tk.check_access("package_update", {"user": member["name"], "model": model}, {"id": dataset["id"]})

        rows = [
            (
                "user labels",
                lambda: core.get_user_dataset_labels(user_obj),
                lambda: ours.get_user_dataset_labels(user_obj),
            ),
            ("package_update auth", auth_core, auth_ours),
            (
                "package_show (partner tier)",
                lambda: act("package_show", {"user": site}, id=dataset["id"]),
                lambda: act("package_show", {"user": member["name"]}, id=dataset["id"]),
            ),
            (
                "package_search (labels in Solr)",
                lambda: act("package_search", {"user": site}, q="bench", include_private=True),
                lambda: act("package_search", {"user": member["name"]}, q="bench", include_private=True),
            ),
        ]
        print(
            f"{'what':34} {'baseline ms (p50/p95)':>22} {'with the gate ms (p50/p95)':>27} {'added p50':>10}"
        )
        for label, baseline, gated in rows:
            b50, b95 = timed(baseline, repeat)
            g50, g95 = timed(gated, repeat)
            print(f"{label:34} {b50:10.3f} / {b95:8.3f} {g50:14.3f} / {g95:8.3f} {g50 - b50:+10.3f}")
        print(
            "baselines: CKAN's DefaultPermissionLabels; core's package_update auth; "
            "the same call as a sysadmin"
        )
    finally:
        act("dataset_purge", id=dataset["id"])
        act("organization_purge", id=org["id"])
        for user in (admin, member):
            act("user_delete", id=user["id"])


if __name__ == "__main__":
    main()
