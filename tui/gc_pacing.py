"""Full garbage collections at quiet moments, never in the middle of a frame.

CPython's cyclic collector runs a full (generation 2) collection whenever enough objects have
survived into the old generation. A dashboard holding a long reply has a few hundred thousand
objects (widgets, styles, rendered lines), so a full collection takes 100-200 ms on a 2-core
machine, and during a streamed reply one started every half second: it landed inside a frame, and
the key waiting behind that frame waited too (tests/benchmarks/bench_stream_keys.py: key p95
491 ms, of which about 140 ms per collection).

The pacer keeps young collections as CPython does them (generation 0 and 1 are cheap: under
2 ms) and moves full collections to moments nobody waits for: no key or mouse event for `quiet`
seconds and no reply streaming. If no such moment comes for `overdue` seconds (a very long
stream), it collects anyway, so garbage cycles cannot pile up without bound.

What survives a collection is frozen (`gc.freeze`): a collection that cannot wait for a quiet
moment then walks only what was made since, not the whole heap (a minute of streaming and typing
without a pause grew it to millions of objects: one such collection took 3 s). A quiet-moment
collection unfreezes first and walks everything, so frozen garbage lives until then, and at most
`thorough_every` seconds.

It is process-wide (the thresholds are), so the entry point installs it (`hitl-tui`, the test
session); an App that is embedded elsewhere only ticks a pacer that the process installed.
"""

from __future__ import annotations

import gc
import time
from typing import Callable

#: Young-generation thresholds: CPython's defaults. Larger ones made each young collection scan
#: 50,000 objects (15-25 ms, inside frames); these cost well under 1 ms each.
YOUNG = (700, 10)
#: A full collection is never started by allocation counts once the pacer is installed.
NEVER = 1_000_000_000


class GcPacer:
    """Decides when to run a full collection (see the module docstring)."""

    def __init__(
        self,
        *,
        quiet: float = 1.0,
        min_interval: float = 5.0,
        overdue: float = 10.0,
        thorough_every: float = 300.0,
        due_after: int = 10,
        clock: Callable[[], float] = time.monotonic,
        collect: Callable[[], object] = gc.collect,
        old_count: Callable[[], int] = lambda: gc.get_count()[2],
        freeze: Callable[[], object] = gc.freeze,
        unfreeze: Callable[[], object] = gc.unfreeze,
    ) -> None:
        #: Seconds without input before a full collection may run.
        self.quiet = quiet
        #: At most one full collection per this many seconds (unless overdue).
        self.min_interval = min_interval
        #: After this many seconds without one, a due collection runs even while busy (it walks only
        #: what was made since the last one).
        self.overdue = overdue
        #: After this many seconds, a collection walks everything even while busy.
        self.thorough_every = thorough_every
        #: Young collections since the last full one before a full one is due (CPython's threshold2).
        self.due_after = due_after
        self._clock = clock
        self._collect = collect
        self._old_count = old_count
        self._freeze = freeze
        self._unfreeze = unfreeze
        now = clock()
        self.last_activity = now
        self.last_full = now
        self.last_thorough = now
        #: Full collections this pacer ran.
        self.collections = 0
        self._saved: tuple[int, int, int] | None = None

    def install(self) -> "GcPacer":
        """Set the process's thresholds: young collections as usual, full ones only through `tick`."""
        if self._saved is None:
            self._saved = gc.get_threshold()
        gc.set_threshold(YOUNG[0], YOUNG[1], NEVER)
        return self

    def uninstall(self) -> None:
        """Give the process its thresholds back (and whatever it froze to the collector)."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
            self._unfreeze()

    def activity(self) -> None:
        """Someone is typing or clicking: not a quiet moment."""
        self.last_activity = self._clock()

    def tick(self, busy: bool = False) -> bool:
        """Run a full collection if one is due and this is a good moment. True when it ran."""
        if self._old_count() < self.due_after:
            return False
        now = self._clock()
        since_full = now - self.last_full
        quiet_now = not busy and now - self.last_activity >= self.quiet and since_full >= self.min_interval
        if not (quiet_now or since_full >= self.overdue):
            return False
        thorough = quiet_now or now - self.last_thorough >= self.thorough_every
        if thorough:
            self._unfreeze()  # everything, frozen garbage included
        self._collect()
        self._freeze()  # the survivors: the next busy-time collection skips them
        self.last_full = self._clock()
        if thorough:
            self.last_thorough = self.last_full
        self.collections += 1
        return True


_current: GcPacer | None = None


def install(pacer: GcPacer | None = None) -> GcPacer:
    """Install `pacer` (a default one if None) for this process and return it."""
    global _current
    if _current is not None and _current is not pacer:
        _current.uninstall()
    _current = (pacer or GcPacer()).install()
    return _current


def uninstall() -> None:
    """Remove the process's pacer and restore its thresholds."""
    global _current
    if _current is not None:
        _current.uninstall()
        _current = None


def current() -> GcPacer | None:
    """The pacer this process installed, if any."""
    return _current
