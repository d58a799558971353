"""The catalog at city scale (issue 20, "Speed at scale"): CD3P against plain CKAN on 10,000 datasets.

    make bench-scale      (also part of make bench)
    .venv/bin/python benchmarks/bench_scale.py [--repeat 50] [--rebuild-repeat 1] [--json FILE]
    .venv/bin/python benchmarks/bench_scale.py cores      (the two Solr cores, on a running Solr)

Two sites hold the same generated catalog (benchmarks/gen_catalog.py, made once and only checked on
later runs; its docstring says how "the same" it is): ``scale`` (var/etc/scale.ini: our plugin, the
development portal's plugins and settings) and ``plain`` (var/etc/plain.ini: CKAN 2.11 with
ckanext-scheming alone; no cd3p, xloader, dcat or spatial). Each runs in a process of its own, in
the process (no web server), the Action API called as a request would (a request context of its
own per call; the session removed after it). The two processes take turns, 10 calls at a time, so
that a slow minute on this shared machine falls on both. For each call, as anonymous, as
``scale-member`` (an editor of a signed organization, in the partner tier in ours) and as
``scale-sysadmin``:

- ``package_search`` as the portal's /dataset page asks it: the facet fields of our IFacets (the
  same list for plain CKAN, where our facet fields are empty), 20 rows, private datasets included;
- ``package_show`` of a public dataset, of another signed organization's partner-tier dataset
  (refused to anonymous in both, and to the member in plain CKAN, which has no partner tier: no
  ratio then), and of a partner-tier dataset of the member's own organization;
- ``package_patch`` of one field (``version``) of a public dataset of the member's organization
  (refused to anonymous; the value is put back at the end);
- indexing one dataset as ``search-index rebuild`` does (``package_show`` unvalidated, then the
  index's ``update_dict``, commit deferred), 200 datasets in turn;

and, once per site, a full ``ckan search-index rebuild`` (wall time, a subprocess).

Each figure: the median and 95th percentile in milliseconds over ``--repeat`` calls (after warm-up
calls), ours/plain at the median, and the issue's targets: our hooks add at most 5% to
``package_search`` and ``package_show``, at most 10% to a write and to the rebuild. The SQL
statements of each call on CKAN's engine are counted (SQLAlchemy ``before_cursor_execute``), for
the issue's other target: no per-organization or per-table query on a hot path; the statements a
call runs more often in ours than in plain CKAN are listed. The three cases furthest over their
targets (the rebuild through its per-dataset step) are profiled in ours (cProfile) and their top
cd3p functions by cumulative time printed. Everything goes to ``--json`` (default
var/bench/scale.json); each site's process writes its calls to var/bench/scale-<site>.json.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import hashlib
import json
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_catalog  # noqa: E402 (beside this file)

SITES = {"ours": "scale", "plain": "plain"}  # site -> environment of scripts/portal.sh
USERS = {"anonymous": "", "member": gen_catalog.MEMBER, "sysadmin": gen_catalog.SYSADMIN}
SEARCH_TARGET, WRITE_TARGET = 1.05, 1.10
CHUNK = 10  # calls per turn
WARM = 5  # warm-up calls per case and site
MARK = "@@bench "  # prefixes the workers' answers on stdout (anything else there is log)


@dataclass(frozen=True)
class Case:
    key: str
    what: str
    who: str
    target: float


CASES = [
    *(Case(f"search/{who}", "package_search, /dataset's facets", who, SEARCH_TARGET) for who in USERS),
    *(Case(f"show-public/{who}", "package_show, public", who, SEARCH_TARGET) for who in USERS),
    *(Case(f"show-partner/{who}", "package_show, partner tier", who, SEARCH_TARGET) for who in USERS),
    Case("show-partner-own/member", "package_show, partner tier, own org", "member", SEARCH_TARGET),
    *(Case(f"patch/{who}", "package_patch, one field", who, WRITE_TARGET) for who in USERS),
    Case("index/internal", "index one dataset (rebuild's step)", "-", WRITE_TARGET),
]


def percentiles(samples: list[float]) -> tuple[float, float]:
    """Median and 95th percentile, as benchmarks/bench_gate.py computes them."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def code_state() -> dict[str, Any]:
    """The commit, and the plugin's uncommitted changes (the working tree is what runs)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    diff = git("diff", "HEAD", "--", "ckanext-cd3p")
    return {
        "commit": git("rev-parse", "HEAD").strip(),
        "changed": sorted(
            line[3:] for line in git("status", "--porcelain", "--", "ckanext-cd3p").splitlines()
        ),
        "diff_sha256": hashlib.sha256(diff.encode()).hexdigest()[:16] if diff else None,
    }


# --- the worker: one site, in its own process ---------------------------------------------------------


class Worker:
    """Runs the cases in one site, on commands read from stdin."""

    def __init__(self, ini: Path, site: str, targets: dict[str, Any]) -> None:
        from ckan import model
        from ckan.cli import load_config
        from ckan.config.middleware import make_app

        self.site = site
        self.app = make_app(load_config(str(ini)))
        self.flask_app = self.app._wsgi_app
        self.targets = targets
        self.facets: list[str] = []
        self.queries = 0
        self.statements: list[str] | None = None
        self.patched = 0
        self.indexed = 0
        self.samples: dict[str, dict[str, list[Any]]] = {}
        import sqlalchemy as sa

        sa.event.listen(model.meta.engine, "before_cursor_execute", self._count)

    def _count(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.queries += 1
        if self.statements is not None:
            self.statements.append(statement)

    def act(self, action: str, who: str, **data: Any) -> Any:
        from ckan.plugins import toolkit as tk

        return tk.get_action(action)({"user": USERS[who]}, data)

    def default_facets(self) -> list[str]:
        """The facet fields the /dataset page asks for (ckan/views/dataset.py search())."""
        from collections import OrderedDict

        from ckan import plugins as p
        from ckan.plugins import toolkit as tk

        with self.flask_app.test_request_context():
            facets: OrderedDict[str, str] = OrderedDict((f, f) for f in tk.h.facets())
            for plugin in p.PluginImplementations(p.IFacets):
                facets = plugin.dataset_facets(facets, "dataset")
            return list(facets)

    def call(self, case: str) -> Callable[[], Any]:
        from ckan import model
        from ckan.lib.search import index_for
        from ckan.plugins import toolkit as tk

        kind, who = case.split("/")
        t = self.targets
        if kind == "search":
            return lambda: self.act(
                "package_search",
                who,
                q="",
                fq="+dataset_type:dataset",
                **{"facet.field": json.dumps(self.facets)},
                rows=20,
                start=0,
                include_private=True,
            )
        if kind.startswith("show-"):
            name = {
                "show-public": t["public"],
                "show-partner": t["partner"],
                "show-partner-own": t["partner_own"],
            }
            return lambda: self.act("package_show", who, id=name[kind])
        if kind == "patch":

            def patch() -> Any:
                self.patched += 1
                return self.act("package_patch", who, id=t["patch"], version=f"9.{self.patched % 2}")

            return patch
        if kind == "index":
            index = index_for(model.Package)

            def index_one() -> None:
                self.indexed += 1
                name = t["index"][self.indexed % len(t["index"])]
                context = {"ignore_auth": True, "validate": False, "use_cache": False}
                index.update_dict(tk.get_action("package_show")(context, {"id": name}), True)

            return index_one
        raise ValueError(case)

    def run(self, case: str, n: int) -> dict[str, Any]:
        """``n`` calls; each call's milliseconds, SQL statements and outcome (ok, refused)."""
        from ckan import model
        from ckan.plugins import toolkit as tk

        fn = self.call(case)
        found: dict[str, list[Any]] = {"ms": [], "queries": [], "outcome": []}
        for _ in range(n):
            with self.flask_app.test_request_context():
                before = self.queries
                start = time.perf_counter()
                try:
                    fn()
                    outcome = "ok"
                except (tk.NotAuthorized, tk.ObjectNotFound):
                    outcome = "refused"
                ms = (time.perf_counter() - start) * 1000
                found["ms"].append(ms)
                found["queries"].append(self.queries - before)
                found["outcome"].append(outcome)
            model.Session.remove()
        return found

    def statements_of(self, case: str) -> dict[str, Any]:
        """One call's SQL statements: how many, and how many times each (bound parameters keep a
        statement's text the same whatever the values)."""
        self.statements = []
        try:
            self.run(case, 1)
            shapes = Counter(re.sub(r"\s+", " ", s).strip() for s in self.statements)
        finally:
            self.statements = None
        return {"total": sum(shapes.values()), "distinct": len(shapes), "counts": dict(shapes.most_common())}

    def profile(self, case: str, n: int) -> dict[str, Any]:
        """cProfile over ``n`` calls: our functions by cumulative time, and the whole call's top."""
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            self.run(case, n)
        finally:
            profiler.disable()
        stats = pstats.Stats(profiler)
        rows = []
        for (path, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            rows.append(
                {
                    "function": f"{_short(path)}:{line}({func})",
                    "calls": ncalls / n,
                    "own_ms": tottime * 1000 / n,
                    "cumulative_ms": cumtime * 1000 / n,
                    "ours": "/ckanext/cd3p/" in path,
                }
            )
        rows.sort(key=lambda r: -r["cumulative_ms"])
        return {
            "case": case,
            "calls": n,
            "ours": [r for r in rows if r["ours"]][:15],
            "top": rows[:25],
        }

    def restore(self) -> None:
        """Puts the patched dataset's version back, and empties the job queue: in ours each write
        queued a check of the dataset's linked files, which no worker runs in this environment."""
        from ckan import model

        with self.flask_app.test_request_context():
            if self.patched:
                self.act(
                    "package_patch", "sysadmin", id=self.targets["patch"], version=self.targets["version"]
                )
            self.act("job_clear", "sysadmin")
        model.Session.remove()

    def serve(self, stdin: IO[str], stdout: IO[str]) -> None:
        for line in stdin:
            command = json.loads(line)
            op = command["op"]
            if op == "facets":
                answer: Any = self.default_facets()
            elif op == "use_facets":
                self.facets = command["facets"]
                answer = True
            elif op == "run":
                answer = self.run(command["case"], command["n"])
                self.samples.setdefault(command["case"], {"ms": [], "queries": [], "outcome": []})
                if not command.get("warm"):
                    for k, v in answer.items():
                        self.samples[command["case"]][k] += v
            elif op == "samples":
                answer = self.samples
            elif op == "statements":
                answer = self.statements_of(command["case"])
            elif op == "profile":
                answer = self.profile(command["case"], command["n"])
            elif op == "finish":
                self.restore()
                Path(command["json"]).write_text(
                    json.dumps({"site": self.site, "calls": self.samples}, indent=1)
                )
                answer = True
            else:
                raise ValueError(op)
            stdout.write(MARK + json.dumps(answer) + "\n")
            stdout.flush()
            if op == "finish":
                return


def _short(path: str) -> str:
    for marker in ("/site-packages/", "/ckanext-cd3p/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


class Remote:
    """The orchestrator's handle on a worker process."""

    def __init__(self, site: str, ini: Path, targets: dict[str, Any], log: Path) -> None:
        self.site = site
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "worker",
                "--ini",
                str(ini),
                "--site",
                site,
                "--targets",
                json.dumps(targets),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    def ask(self, **command: Any) -> Any:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            if line.startswith(MARK):
                return json.loads(line[len(MARK) :])
        raise SystemExit(f"bench_scale: the {self.site} worker stopped (log: {self.log.name})")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()


# --- the orchestrator ---------------------------------------------------------------------------------


def ini_of(site: str) -> Path:
    return ROOT / "var/etc" / f"{SITES[site]}.ini"


def targets(seed: int) -> dict[str, Any]:
    """The datasets each case reads or writes, from the generated catalog's spec."""
    spec = gen_catalog.catalog(seed)
    own = spec.member_org
    signed = {o.name for o in spec.organizations if o.standing == "signed"} - {own}
    partner = next(d for d in spec.datasets if d.owner in signed and d.fields["access_level"] == "partners")
    patch = spec.first(own, "public", 1)
    return {
        "public": spec.first(own, "public", 0),
        "partner": partner.name,
        "partner_own": spec.first(own, "partners", 0),
        "patch": patch,
        "version": next(d.fields["version"] for d in spec.datasets if d.name == patch),
        "index": [d.name for d in spec.datasets[:200]],
    }


def rebuild(site: str) -> float:
    """Seconds of a full ``ckan search-index rebuild`` of the site."""
    start = time.perf_counter()
    with (ROOT / "var/log" / f"bench-scale-rebuild-{site}.log").open("w") as log:
        subprocess.run(
            [str(ROOT / ".venv/bin/ckan"), "-c", str(ini_of(site)), "search-index", "rebuild", "-q"],
            check=True,
            stdout=log,
            stderr=log,
        )
    return time.perf_counter() - start


def summarise(samples: dict[str, list[Any]]) -> dict[str, Any]:
    outcomes = Counter(samples["outcome"])
    p50, p95 = percentiles(samples["ms"])
    return {
        "p50": round(p50, 2),
        "p95": round(p95, 2),
        "n": len(samples["ms"]),
        "queries": statistics.median(samples["queries"]),
        "queries_range": [min(samples["queries"]), max(samples["queries"])],
        "outcome": "/".join(sorted(outcomes)),
    }


def generate(args: argparse.Namespace) -> dict[str, Any]:
    """Each site's catalog, generated the first time and only checked later: their manifests."""
    catalogs = {}
    for site in SITES:
        started = time.perf_counter()
        subprocess.run(
            [
                *(
                    sys.executable,
                    str(ROOT / "benchmarks/gen_catalog.py"),
                    "generate",
                    "--ini",
                    str(ini_of(site)),
                ),
                *("--site", site, "--seed", str(args.seed), "--timeout", str(args.generate_timeout)),
            ],
            check=True,
        )
        manifest = json.loads(gen_catalog.manifest_path(site).read_text())
        manifest["checked_in_s"] = round(time.perf_counter() - started, 1)
        catalogs[site] = manifest
    return catalogs


def measure(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "repeat": args.repeat,
        "code_before": code_state(),
        "catalog": generate(args),
    }

    print(f"\nbench_scale: a full search-index rebuild of each site ({args.rebuild_repeat}x)", flush=True)
    rebuilds: dict[str, list[float]] = {site: [] for site in SITES}
    for _ in range(args.rebuild_repeat):
        for site in SITES:
            rebuilds[site].append(rebuild(site))
            print(f"bench_scale: rebuild {site}: {rebuilds[site][-1]:.1f} s", flush=True)
    result["rebuild_s"] = rebuilds

    goal = targets(args.seed)
    out = Path(args.json).parent
    out.mkdir(parents=True, exist_ok=True)
    workers = {
        site: Remote(site, ini_of(site), goal, ROOT / "var/log" / f"bench-scale-{site}.log") for site in SITES
    }
    try:
        facets = workers["ours"].ask(op="facets")
        result["facets"] = facets
        for worker in workers.values():
            worker.ask(op="use_facets", facets=facets)
        print(
            f"bench_scale: {len(CASES)} cases, {args.repeat} calls each per site, in turns of {CHUNK}",
            flush=True,
        )
        for case in CASES:
            order = list(workers.values())
            for worker in order:
                worker.ask(op="run", case=case.key, n=WARM, warm=True)
            done = 0
            while done < args.repeat:
                n = min(CHUNK, args.repeat - done)
                for worker in order:
                    worker.ask(op="run", case=case.key, n=n)
                order.reverse()
                done += n
        result["statements"] = {
            site: {case.key: w.ask(op="statements", case=case.key) for case in CASES}
            for site, w in workers.items()
        }
        calls = {site: w.ask(op="samples") for site, w in workers.items()}
        rows = []
        for case in CASES:
            row: dict[str, Any] = {
                "case": case.key,
                "what": case.what,
                "who": case.who,
                "target": case.target,
            }
            for site in SITES:
                row[site] = summarise(calls[site][case.key])
            comparable = row["ours"]["outcome"] == row["plain"]["outcome"]
            row["ratio"] = round(row["ours"]["p50"] / row["plain"]["p50"], 3) if comparable else None
            rows.append(row)
        rebuild_row: dict[str, Any] = {
            "case": "rebuild",
            "what": "ckan search-index rebuild (s)",
            "who": "-",
            "target": WRITE_TARGET,
            **{site: {"p50": round(statistics.median(v), 1), "n": len(v)} for site, v in rebuilds.items()},
        }
        rebuild_row["ratio"] = round(rebuild_row["ours"]["p50"] / rebuild_row["plain"]["p50"], 3)
        result["rows"] = rows
        result["rebuild"] = rebuild_row
        # The cases furthest over their targets (the rebuild by its per-dataset step), profiled in ours
        over = sorted(
            (r for r in [*rows, rebuild_row] if r["ratio"] is not None and r["ratio"] > r["target"]),
            key=lambda r: -r["ratio"] / r["target"],
        )
        profiled = list(
            dict.fromkeys("index/internal" if r["case"] == "rebuild" else r["case"] for r in over)
        )
        result["profiles"] = []
        for case in profiled[: args.profile_cases] if args.profile else []:
            print(f"bench_scale: profiling {case} in ours ({args.profile} calls)", flush=True)
            result["profiles"].append(workers["ours"].ask(op="profile", case=case, n=args.profile))
        for site, worker in workers.items():
            worker.ask(op="finish", json=str(out / f"scale-{site}.json"))
    finally:
        for worker in workers.values():
            worker.close()
    result["code_after"] = code_state()
    return result


def _sql(statement: str) -> str:
    """A statement shortened for the table: its verb and tables, its WHERE."""
    short = re.sub(r"SELECT .*? FROM ", "SELECT ... FROM ", statement, count=1)
    return short[:120]


def _fmt(cell: dict[str, Any]) -> str:
    return f"{cell['p50']:8.1f} / {cell['p95']:7.1f}"


def report(result: dict[str, Any]) -> str:
    """The table: ours against plain, the ratio against the target, SQL statements per call."""
    lines = []
    catalog = result["catalog"]
    lines.append(
        f"\nThe catalog at scale: {gen_catalog.DATASETS:,} datasets in {gen_catalog.ORGANIZATIONS} "
        f"organizations (seed {catalog['ours']['seed']}); {result['repeat']} calls each, ms"
    )
    for site, manifest in catalog.items():
        lines.append(
            f"  {site}: generated in {manifest['generation_s']:.0f} s "
            f"(datasets {manifest.get('create_s', 0):.0f} s, "
            f"first index {manifest.get('rebuild_s', 0):.0f} s); "
            f"checked this run in {manifest['checked_in_s']:.0f} s"
        )
    head = (
        f"{'what':<38} {'who':<10} {'ours p50 / p95':>18} {'plain p50 / p95':>18} {'ours/plain':>10} "
        f"{'target':>7} {'SQL ours/plain':>15}  verdict"
    )
    lines += ["", head, "-" * len(head)]
    for row in result["rows"]:
        ratio = "n/a" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        if row["ratio"] is None:
            verdict = f"not comparable ({row['ours']['outcome']} / {row['plain']['outcome']})"
        else:
            verdict = "ok" if row["ratio"] <= row["target"] else "OVER"
            if row["ours"]["outcome"] != "ok":
                verdict += f" ({row['ours']['outcome']})"
        sql = f"{row['ours']['queries']:g} / {row['plain']['queries']:g}"
        lines.append(
            f"{row['what']:<38} {row['who']:<10} {_fmt(row['ours']):>18} {_fmt(row['plain']):>18} "
            f"{ratio:>10} {row['target']:>6.2f}x {sql:>15}  {verdict}"
        )
    rb = result["rebuild"]
    verdict = "ok" if rb["ratio"] <= rb["target"] else "OVER"
    lines.append(
        f"{rb['what']:<38} {'-':<10} {rb['ours']['p50']:>16.1f} s {rb['plain']['p50']:>16.1f} s "
        f"{rb['ratio']:>9.2f}x {rb['target']:>6.2f}x {'':>15}  {verdict}"
    )
    lines.append(
        "targets: our hooks add at most 5% to package_search and package_show, at most 10% to a write "
        "and to the rebuild; no per-organization or per-table query on a hot path"
    )
    lines.append(
        "\nSQL statements a call runs more often in ours than in plain CKAN (per call, ours / plain; "
        "the 4 most per case):"
    )
    for key, ours in result["statements"]["ours"].items():
        plain = result["statements"]["plain"][key]["counts"]
        more = sorted(
            ((n, plain.get(sql, 0), sql) for sql, n in ours["counts"].items() if n > plain.get(sql, 0)),
            key=lambda t: (t[1] - t[0], t[2]),
        )
        for n, m, sql in more[:4]:
            lines.append(f"  {key:<24} {n:>3} / {m:<3} {_sql(sql)}")
    for profile in result.get("profiles", []):
        lines.append(
            f"\nProfile of {profile['case']} in ours ({profile['calls']} calls, cProfile, ms per call): "
            "cd3p functions by cumulative time"
        )
        for r in profile["ours"][:10]:
            lines.append(
                f"  {r['cumulative_ms']:8.2f} cum {r['own_ms']:7.2f} own {r['calls']:7.1f} calls  "
                f"{r['function']}"
            )
    before, after = result["code_before"], result["code_after"]
    lines.append(
        f"\ncode: {before['commit'][:12]}"
        + (f" with uncommitted changes to {len(before['changed'])} plugin files" if before["changed"] else "")
        + ("" if before == after else "; THE PLUGIN CODE CHANGED DURING THE RUN")
    )
    return "\n".join(lines)


# --- the Solr cores ------------------------------------------------------------------------------------


def ensure_cores(cores: tuple[str, ...] = ("ckan_scale", "ckan_plain")) -> None:
    """Adds the benchmark's cores to a Solr that scripts/solr.sh started before they were in its list,
    through the core admin API, without restarting it: scripts/solr.sh start restarts a Solr that
    lacks a core of its list (and with it every test that is using it). The instance folder is made
    where scripts/solr.sh would make it, so that its next start finds the core. Nothing when Solr is
    not running: scripts/solr.sh start will start it with every core."""
    var = Path(os.environ.get("CD3P_VAR") or ROOT / "var")
    base = f"http://127.0.0.1:{os.environ.get('CD3P_SOLR_PORT', '8983')}/solr"
    try:
        with urllib.request.urlopen(f"{base}/admin/cores?action=STATUS&wt=json", timeout=5) as r:
            status = json.load(r)["status"]
    except OSError:
        print("bench_scale: Solr is not running; scripts/solr.sh start will make the cores")
        return
    for core in cores:
        if status.get(core):
            continue
        home = var / "solr/home" / core
        if not (home / "conf").is_dir():
            shutil.copytree(ROOT / "config/solr/configsets/ckan/conf", home / "conf")
        query = urllib.parse.urlencode({"action": "CREATE", "name": core, "instanceDir": core, "wt": "json"})
        with urllib.request.urlopen(f"{base}/admin/cores?{query}", timeout=120) as r:
            json.load(r)
        print(f"bench_scale: Solr core {core} added to the running Solr")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "command", nargs="?", choices=("measure", "generate", "cores", "worker"), default="measure"
    )
    parser.add_argument("--repeat", type=int, default=50, help="calls per case and site")
    parser.add_argument("--rebuild-repeat", type=int, default=1)
    parser.add_argument("--profile", type=int, default=20, help="calls profiled (0: none)")
    parser.add_argument(
        "--profile-cases", type=int, default=3, help="cases profiled, the furthest over first"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--generate-timeout", type=float, default=3000)
    parser.add_argument("--json", default=str(ROOT / "var/bench/scale.json"))
    parser.add_argument("--ini", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--site", help=argparse.SUPPRESS)
    parser.add_argument("--targets", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.command == "cores":
        ensure_cores()
        return
    if args.command == "generate":  # the catalogs only (make bench-http serves them)
        generate(args)
        return
    if args.command == "worker":
        Worker(args.ini, args.site, json.loads(args.targets)).serve(sys.stdin, sys.stdout)
        return
    result = measure(args)
    text = report(result)
    result["table"] = text
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    print(text)
    print(f"\nbench_scale: results in {args.json}")


if __name__ == "__main__":
    main()
