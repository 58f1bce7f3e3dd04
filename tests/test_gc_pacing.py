"""Full garbage collections wait for a quiet moment (tui/gc_pacing.py).

A full collection with a long reply on screen takes 100-200 ms; landing inside a frame, it made
keys wait as long (tests/benchmarks/bench_stream_keys.py). The pacer's decisions are tested with an
injected clock; the dashboard's part (it is busy while a reply streams, keys are activity) with a
real app and a model that asks the app, mid-stream, whether this is a moment to collect.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any, AsyncIterator, Iterator

import pytest
from ui_support import WIDE, make_app, settle

from tui import gc_pacing
from tui.gc_pacing import NEVER, YOUNG, GcPacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pacer_for_test(clock: Clock, old: list[int], collected: list[Any], **kwargs: Any) -> GcPacer:
    def collect() -> None:
        collected.append(clock.now)
        old[0] = 0

    return GcPacer(
        clock=clock, collect=collect, old_count=lambda: old[0],
        freeze=lambda: collected.append("freeze"), unfreeze=lambda: collected.append("unfreeze"), **kwargs,
    )


def collections_in(collected: list[Any]) -> list[float]:
    return [c for c in collected if not isinstance(c, str)]


def test_a_due_collection_waits_for_a_quiet_moment() -> None:
    clock, old, collected = Clock(), [0], []
    pacer = pacer_for_test(clock, old, collected, quiet=1.0, min_interval=5.0, overdue=60.0)
    clock.now += 10
    assert not pacer.tick()  # nothing due: young collections keep up
    old[0] = 10
    pacer.activity()
    clock.now += 0.5
    assert not pacer.tick()  # due, but someone typed half a second ago
    clock.now += 0.6
    assert not pacer.tick(busy=True)  # quiet keys, but a reply is streaming
    assert pacer.tick()  # quiet and idle: now, walking everything (frozen survivors too)
    assert collected == ["unfreeze", clock.now, "freeze"]
    old[0] = 10
    clock.now += 2
    assert not pacer.tick()  # at most one per min_interval
    clock.now += 3
    assert pacer.tick()
    assert pacer.collections == 2 and len(collections_in(collected)) == 2


def test_a_collection_overdue_runs_even_while_busy_and_walks_only_what_is_new() -> None:
    clock, old, collected = Clock(), [10], []
    pacer = pacer_for_test(clock, old, collected, overdue=10.0, thorough_every=300.0)
    for _ in range(9):
        clock.now += 1
        pacer.activity()
        assert not pacer.tick(busy=True)
    clock.now += 1
    assert pacer.tick(busy=True)  # a long stream still gets its garbage cycles collected
    # ...without unfreezing: it walks what was made since the last collection, not the whole heap
    assert collected == [clock.now, "freeze"]
    # and every thorough_every seconds, everything, even while busy
    collected.clear()
    for _ in range(28):  # up to 290 s after the start
        old[0] = 10
        clock.now += 10
        pacer.activity()
        assert pacer.tick(busy=True)
    assert "unfreeze" not in collected
    old[0] = 10
    clock.now += 10
    assert pacer.tick(busy=True)
    assert collected[-3:] == ["unfreeze", clock.now, "freeze"]


@pytest.fixture
def fresh_pacer() -> Iterator[Any]:
    """Installs a pacer for one test and gives the process its own back afterwards."""
    before = gc_pacing.current()
    thresholds = gc.get_threshold()

    def install(pacer: GcPacer) -> GcPacer:
        return gc_pacing.install(pacer)

    yield install
    gc_pacing.uninstall()
    gc.set_threshold(*thresholds)
    if before is not None:
        gc_pacing.install(before)


def test_installing_leaves_young_collections_and_stops_automatic_full_ones(fresh_pacer: Any) -> None:
    gc_pacing.uninstall()  # the test session's own
    gc.set_threshold(123, 4, 5)
    pacer = fresh_pacer(GcPacer())
    assert gc.get_threshold() == (YOUNG[0], YOUNG[1], NEVER)
    assert gc_pacing.current() is pacer
    gc_pacing.uninstall()
    assert gc.get_threshold() == (123, 4, 5)
    assert gc_pacing.current() is None


class AskingModel:
    """Streams a long reply; every 200 tokens it asks the app whether it would collect now."""

    id = "asking-demo"

    def __init__(self) -> None:
        self.app: Any = None
        self.answers: list[bool] = []
        self.full_collections = 0

    def describe(self) -> str:
        return "asking demo"

    async def astream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], **_: Any) -> AsyncIterator[Any]:
        from tui.agent.models.base import ModelChunk, ModelResponse

        def count(phase: str, info: dict[str, Any]) -> None:
            if phase == "start" and info["generation"] == 2:
                self.full_collections += 1

        gc.callbacks.append(count)
        text = []
        try:
            for i in range(3000):
                token = f"word{i} " if i % 40 else f"\n\nParagraph {i} with `code` and **bold**: "
                text.append(token)
                yield ModelChunk(text=token)
                if i % 200 == 199:
                    self.answers.append(self.app.pace_gc())
                await asyncio.sleep(0)
        finally:
            gc.callbacks.remove(count)
        yield ModelChunk(response=ModelResponse(content="".join(text), finish_reason="stop"))


async def test_no_full_collection_runs_while_a_reply_streams_and_one_runs_when_quiet(fresh_pacer: Any) -> None:
    clock = Clock()
    collected: list[float] = []

    def collect() -> None:
        collected.append(clock.now)
        gc.collect()

    # quiet at once and no spacing between collections: only "busy" may hold a collection back
    pacer = fresh_pacer(GcPacer(clock=clock, collect=collect, quiet=0.0, min_interval=0.0, due_after=0))
    model = AskingModel()
    app = make_app(model=model)
    model.app = app
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        await pilot.press(*"write a lot", "enter")
        await settle(pilot, app)
        assert not app.dashboard.is_busy
        assert len(model.answers) == 15
        assert model.answers == [False] * 15, "the app let a full collection run in the middle of a streamed reply"
        # none started by allocation counts, nor by the app's own ticks (its `collect` is gc.collect)
        assert model.full_collections == 0, "a full collection ran while the reply streamed"
        collected.clear()
        # a key is activity: not quiet yet
        pacer.quiet = 1.0
        await pilot.press("a")
        assert pacer.last_activity == clock.now
        assert not app.pace_gc()
        clock.now += 1.5  # a second and a half with no key, nothing streaming: the moment
        assert app.pace_gc()
        assert collected == [clock.now]


def test_the_dashboard_process_draws_at_120_fps_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.cli import DASHBOARD_FPS, tune_frames

    monkeypatch.setenv("TEXTUAL_FPS", "")  # recorded, so the test leaves the environment as it was
    monkeypatch.delenv("TEXTUAL_FPS")
    tune_frames()
    assert DASHBOARD_FPS == 120
    import os

    assert os.environ["TEXTUAL_FPS"] == "120"
    monkeypatch.setenv("TEXTUAL_FPS", "30")  # the user's choice wins
    tune_frames()
    assert os.environ["TEXTUAL_FPS"] == "30"
