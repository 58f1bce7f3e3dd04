"""How the dashboard writes ages and durations.

Kept in one place so that snapshot tests can hide every clock-dependent text at once
(`show_times=False` on the widgets that use these), which keeps screenshots deterministic.
"""

from __future__ import annotations

from datetime import datetime, timezone

HIDDEN = "··"


def format_duration(seconds: float | None, *, show: bool = True) -> str:
    """`0.42s`, `3.1s`, `2m05s`; empty when unknown."""
    if seconds is None:
        return ""
    if not show:
        return HIDDEN
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def format_age(since: datetime, *, now: datetime | None = None, show: bool = True) -> str:
    """`12s`, `4m`, `2h`, `3d`: how long something has been waiting."""
    if not show:
        return HIDDEN
    now = now or datetime.now(timezone.utc)
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
