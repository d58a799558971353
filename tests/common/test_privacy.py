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


@pytest.mark.parametrize(
    ("count", "raw", "hidden"),
    [
        (0, False, False),  # zero is not a small cell
        (0.5, False, True),  # a weighted denominator above 0 and below the threshold
        (1, False, True),
        (10, False, True),
        (11, False, False),  # the threshold itself is shown
        (250, False, False),
        (1, True, False),  # readers of raw rows see every count
    ],
)
def test_a_count_under_the_threshold_is_hidden_unless_the_caller_reads_raw_rows(
    count: float, raw: bool, hidden: bool
) -> None:
    assert privacy.Cells(threshold=11, raw=raw).hidden(count) is hidden
