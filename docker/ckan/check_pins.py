#!/usr/bin/env python3
"""Fail the image build if an installed distribution is not at the version requirements.txt pins.

  check_pins.py REQUIREMENTS [NAME ...]   check only the NAMEs given, else every `name==version` line

The base image brings CKAN (installed from source) and may bring other packages; pip leaves an
installed package alone when it already satisfies a requirement, so this is what proves that the
image runs exactly the stack that development and CI run.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, version

PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    only = {name.lower() for name in argv[2:]}
    checked, wrong = 0, []
    with open(argv[1], encoding="utf-8") as f:
        for line in f:
            m = PIN.match(line)
            if not m or (only and m.group(1).lower() not in only):
                continue
            name, want = m.groups()
            try:
                have = version(name)
            except PackageNotFoundError:
                have = "not installed"
            checked += 1
            if have != want:
                wrong.append(f"  {name}: requirements.txt pins {want}, the image has {have}")
    if only and checked != len(only):
        print(f"check_pins: not all of {sorted(only)} are pinned in {argv[1]}", file=sys.stderr)
        return 1
    if wrong:
        print("check_pins: the image does not match requirements.txt:", *wrong, sep="\n", file=sys.stderr)
        return 1
    print(f"check_pins: {checked} pinned distribution(s) match {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
