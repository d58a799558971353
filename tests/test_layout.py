"""The README's map of the package matches the code: each feature's modules are where it says, and
each feature has the same inside."""

from __future__ import annotations

import re
from pathlib import Path

from ckanext.cd3p import plugin

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ckanext-cd3p" / "ckanext" / "cd3p"


def _map() -> dict[str, set[str]]:
    """Each folder of the README's map and the module names listed on its lines."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("### The code: one package per feature", 1)[1].split("```", 2)[1]
    listed: dict[str, set[str]] = {}
    folder = ""
    for line in block.splitlines():
        head = re.match(r"  (\w+)/ ", line)
        if head:
            folder = head.group(1)
        elif re.match(r"  \S", line):
            folder = ""
        names = set(re.findall(r"(\w+)\.py", line))
        for group in re.findall(r"\{([\w,]+)\}\.py", line):
            names |= {f"logic/{n}" for n in group.split(",")}
        if folder:
            listed.setdefault(folder, set()).update(names)
    return listed


def _modules(folder: str) -> set[str]:
    base = PACKAGE / folder
    return {
        str(p.relative_to(base).with_suffix(""))
        for p in base.rglob("*.py")
        if p.name != "__init__.py" and "schemas" not in p.parts
    }


def test_the_readme_lists_every_module_of_every_feature_and_common() -> None:
    listed = _map()
    assert set(listed) - {"assets", "templates", "migration"} == {"common", *plugin.FEATURES}
    listed = {f: listed[f] for f in ("common", *plugin.FEATURES)}
    for folder, names in listed.items():
        on_disk = _modules(folder)
        named = {n for n in names if n in on_disk or n.startswith("logic/")}
        assert named == on_disk, folder


def test_every_feature_has_the_same_inside() -> None:
    for feature in plugin.FEATURES:
        for part in ("logic/action.py", "logic/auth.py", "helpers.py", "__init__.py"):
            assert (PACKAGE / feature / part).is_file(), f"{feature}/{part}"
        assert (PACKAGE / "templates" / "cd3p" / feature).is_dir() or feature == "catalog", feature
