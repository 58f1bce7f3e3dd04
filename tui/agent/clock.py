"""The runtime's clock: one replaceable object, so approval timeouts are tested without waiting.

Everything in the runtime that asks "what time is it" goes through `now()` (via `run.utcnow`).
Production uses the system clock; a test installs a `ManualClock` with `use_clock(...)` and moves
time with `advance(seconds)`, instead of sleeping past a timeout.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Iterator, Protocol


class Clock(Protocol):
    """Tells the current time, timezone-aware (UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that only moves when told to (tests, simulations)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


_clock: Clock = SystemClock()


def now() -> datetime:
    """The current time by the installed clock."""
    return _clock.now()


def set_clock(clock: Clock) -> Clock:
    """Install `clock` for the whole process; returns the one it replaces."""
    global _clock
    previous, _clock = _clock, clock
    return previous


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Install `clock` for the duration of a `with` block."""
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)


__all__ = ["Clock", "ManualClock", "SystemClock", "now", "set_clock", "use_clock"]
