"""Ages and durations as the dashboard writes them, and hidden in deterministic (snapshot) mode."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tui.widgets.clock_text import HIDDEN, format_age, format_duration

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_ages_read_in_the_largest_whole_unit() -> None:
    assert format_age(NOW - timedelta(seconds=12), now=NOW) == "12s"
    assert format_age(NOW - timedelta(minutes=4, seconds=59), now=NOW) == "4m"
    assert format_age(NOW - timedelta(hours=2, minutes=5), now=NOW) == "2h"
    assert format_age(NOW - timedelta(days=3), now=NOW) == "3d"
    assert format_age(NOW + timedelta(seconds=5), now=NOW) == "0s"  # clock skew never goes negative
    assert format_age(datetime(2025, 1, 1, 11, 59, 0), now=NOW) == "1m"  # naive times are UTC


def test_durations_keep_useful_precision() -> None:
    assert format_duration(None) == ""
    assert format_duration(0.4213) == "0.42s"
    assert format_duration(12.34) == "12.3s"
    assert format_duration(125) == "2m05s"


def test_clock_text_is_hidden_in_deterministic_mode() -> None:
    assert format_age(NOW, now=NOW, show=False) == HIDDEN
    assert format_duration(3.0, show=False) == HIDDEN
    assert format_duration(None, show=False) == ""  # nothing to hide
