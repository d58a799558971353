"""The privacy rules several features apply, each one function (common/privacy.py)."""

from __future__ import annotations

from typing import Any

import pytest

from ckanext.cd3p.common import privacy


@pytest.mark.parametrize(
    ("stored", "threshold"),
    [
        (None, 11),
        ("", 11),
        ("5", 5),
        (5, 5),
        ("1", 1),
        # Before: the indicators read "0" and "-3" as 1 and the file checks failed on "abc"; the
        # suppressed views read all three as 11. Invalid is the default, everywhere.
        ("0", 11),
        ("-3", 11),
        ("abc", 11),
        ([5], 11),
    ],
)
def test_the_small_cell_threshold_is_one_rule(stored: Any, threshold: int) -> None:
    assert privacy.threshold({"small_cell_threshold": stored}) == threshold


def test_internal_calls_read_raw_and_visitors_do_not() -> None:
    assert privacy.sees_raw({"ignore_auth": True}, {}) is True
    assert privacy.sees_raw({"user": ""}, {"owner_org": "x"}) is False
