"""The history screen queries the store off the UI thread: with 10,000 runs, keys keep working.

A real SQLite store with 10,000 runs; its queries are held at a gate (a `threading.Event`) that
the test opens when it chooses, so "the keys were handled while the query was still running" is
asserted by events, not by timing: with a query on the event loop, the test itself could not
run until the query returned.
"""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.app import App
from textual.widgets import DataTable, Input, Static

from tui.agent import Message, RunOutput, RunStatus
from tui.agent.run import utcnow
from tui.screens.history_screen import PAGE_SIZE, HistoryScreen
from tui.store import RunStore

RUNS = 10_000
NEEDLE = "kubernetes"


@pytest.fixture(scope="module")
def big_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big-history") / "runs.db"
    base = utcnow() - timedelta(days=30)
    with RunStore(path, synchronous="OFF", recover=False) as store:
        for i in range(RUNS):
            prompt = f"weekly report {i}" + (f" about {NEEDLE}" if i % 1000 == 0 else "")
            when = base + timedelta(seconds=i)
            run = RunOutput(input=prompt, model="test-model", created_at=when, updated_at=when, status=RunStatus.completed)
            run.messages = [Message(role="user", content=prompt), Message(role="assistant", content=f"Done {i}.")]
            store.save_run(run)
    return path


class GatedStore(RunStore):
    """A real store whose list queries wait at a gate, so a test can hold one mid-flight."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.in_flight = threading.Event()
        self.list_threads: list[str] = []

    def list_runs(self, *args: Any, **kwargs: Any) -> Any:
        self.list_threads.append(threading.current_thread().name)
        self.in_flight.set()
        try:
            self.gate.wait(timeout=10)  # the test opens it; never hang the suite
            return super().list_runs(*args, **kwargs)
        finally:
            self.in_flight.clear()


class HistoryApp(App[None]):
    def __init__(self, store: RunStore) -> None:
        super().__init__()
        self.store = store

    def on_mount(self) -> None:
        self.push_screen(HistoryScreen(self.store))

    def resume_run(self, run_id: str) -> None:
        pass


async def wait_until(pilot: Any, condition: Any) -> None:
    """Let the app run until `condition()` holds (events, not a clock; bounded by pytest's timeout)."""
    for _ in range(10_000):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"never happened: {condition}")


async def test_keys_are_handled_while_the_history_of_10000_runs_is_still_being_queried(big_history: Path) -> None:
    store = GatedStore(big_history)
    app = HistoryApp(store)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await wait_until(pilot, store.in_flight.is_set)  # the first query is held at the gate
        # While it is held: `/` moves to the search box and typing fills it.
        await pilot.press("slash", *NEEDLE)
        search = screen.query_one("#text-filter", Input)
        assert app.focused is search and search.value == NEEDLE
        assert store.in_flight.is_set(), "the query finished before the keys were handled"
        assert threading.main_thread().name not in store.list_threads  # never on the UI thread
        store.gate.set()
        await pilot.press("enter")  # apply the filter now
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = screen.query_one("#runs", DataTable)
        assert table.row_count == RUNS // 1000
        status = str(screen.query_one("#list-status", Static).render())
        assert f"{RUNS // 1000} runs" in status


async def test_the_history_of_10000_runs_opens_on_its_first_page(big_history: Path) -> None:
    store = RunStore(big_history)
    app = HistoryApp(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        table = screen.query_one("#runs", DataTable)
        assert table.row_count == PAGE_SIZE
        assert f"{PAGE_SIZE} of {RUNS} runs" in str(screen.query_one("#list-status", Static).render())
        # the newest run is selected and its detail is shown (loaded off the UI thread too)
        await app.workers.wait_for_complete()
        await pilot.pause()
        console = Console(width=100, record=True, file=io.StringIO(), color_system=None)
        console.print(screen.query_one("#detail", Static).content)
        detail = console.export_text()
        assert f"weekly report {RUNS - 1}" in detail
