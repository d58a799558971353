"""What languages and the DCAT-US catalog cost, each against its baseline in the same run.

    make bench            (runs every benchmark, this one included)
    .venv/bin/python benchmarks/bench_catalog.py [--ini var/etc/development.ini] [--repeat 30]

On the development portal's demo data, in one process (the whole WSGI stack, as a visitor):

- ``GET /equity``, ``/impact`` and ``/dataset/<a demo dataset>`` in English (the baseline: no
  catalog of ours is read) against the same pages in Spanish and Arabic (``/es/...``, ``/ar/...``:
  our catalogs merged with CKAN's, our shipped texts translated, numbers formatted by Babel);
- ``GET /catalog.ttl`` (our profile: every public dataset of the demo, serialised) against the
  ``package_search`` it wraps, the same rows through the Action API (the baseline: the search alone);
- ``GET /dataset/<name>.ttl`` against ``package_show`` of the same dataset.

The median and 95th percentile in milliseconds, and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from bench_gate import timed  # the same warm-up and percentiles as the gate's benchmark
from werkzeug.test import Client

ROOT = Path(__file__).resolve().parents[1]
DATASET = "detroit-tract-broadband-acs-2015-2019"


def _get(client: Client, path: str) -> Callable[[], None]:
    def get() -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)

    return get


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ini", default=str(ROOT / "var/etc/development.ini"))
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    client = Client(make_app(load_config(args.ini)))
    rows: list[tuple[str, str, tuple[float, float], tuple[float, float]]] = []
    for page in ("/equity", "/impact", f"/dataset/{DATASET}"):
        english = timed(_get(client, page), args.repeat)
        for lang in ("es", "ar"):
            rows.append(
                (
                    f"GET /{lang}{page}",
                    f"GET {page} (English)",
                    timed(_get(client, f"/{lang}{page}"), args.repeat),
                    english,
                )
            )
    search = "/api/3/action/package_search?rows=100&fq=%2Bdataset_type:dataset&sort=metadata_modified+desc"
    rows.append(
        (
            "GET /catalog.ttl",
            "package_search, same rows",
            timed(_get(client, "/catalog.ttl"), args.repeat),
            timed(_get(client, search), args.repeat),
        )
    )
    rows.append(
        (
            f"GET /dataset/{DATASET}.ttl",
            "package_show, same dataset",
            timed(_get(client, f"/dataset/{DATASET}.ttl"), args.repeat),
            timed(_get(client, f"/api/3/action/package_show?id={DATASET}"), args.repeat),
        )
    )

    print(f"\nLanguages and the DCAT-US catalog ({args.repeat} requests each, ms)")
    print(f"{'request':<58} {'p50':>7} {'p95':>7}   {'baseline':<34} {'p50':>7} {'p95':>7} {'x':>5}")
    figures = []
    for ours, base, (p50, p95), (b50, b95) in rows:
        print(f"{ours:<58} {p50:7.1f} {p95:7.1f}   {base:<34} {b50:7.1f} {b95:7.1f} {p50 / b50:5.2f}")
        figures.append(
            {
                "request": ours,
                "p50": p50,
                "p95": p95,
                "baseline": base,
                "baseline_p50": b50,
                "baseline_p95": b95,
            }
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
