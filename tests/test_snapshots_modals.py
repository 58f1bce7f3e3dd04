"""Snapshots of the decision modals, the help screen and the history screen, at 120x40 and 80x24.

Deterministic by construction: the calls come from the offline DemoModel (fixed call ids), the
history is normalised to fixed ids and times in UTC, and cursors do not blink.
Update the baselines with `pytest tests/test_snapshots_modals.py --snapshot-update`.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Footer, Input, Static, TextArea

from modal_helpers import DecisionApp, make_agent, paused_call_now, seed_history
from tui.screens.decision_modals import modal_for
from tui.screens.help_screen import HelpScreen
from tui.screens.history_screen import HistoryScreen
from tui.store import RunStore

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]

EMAIL = {
    "to": "ann@example.com",
    "subject": "[bold red]Quarterly report[/]",
    "body": "Hi Ann,\nthe numbers are in. \x1b[31mRed\x1b[0m means late.\n[@click=app.quit]Bye[/]",
}


def steady(*keys: str):
    """A `run_before` that stops every cursor blinking, then presses `keys`."""

    async def run_before(pilot: Pilot) -> None:
        await pilot.pause()
        for widget in pilot.app.screen.query("Input, TextArea"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
        if keys:
            await pilot.press(*keys)
        for widget in pilot.app.screen.query("Input, TextArea"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
        await pilot.pause()

    return run_before


def _modal_app(name: str, args: dict[str, Any]) -> DecisionApp:
    agent = make_agent()
    call = paused_call_now(agent, name, args)
    return DecisionApp(modal_for(call, agent))


# ----------------------------------------------------------------------------- modals


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_confirm_modal(snap_compare, size):
    app = _modal_app("send_email", EMAIL)
    assert snap_compare(app, terminal_size=size, run_before=steady())


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_confirm_modal_shows_the_diff_of_an_edit(snap_compare, size):
    app = _modal_app("send_email", EMAIL)

    async def edit(pilot: Pilot) -> None:
        await pilot.press("e")
        pilot.app.screen.query_one("#editor", TextArea).text = (
            '{"to": "bob@example.com", "subject": "Quarterly report", "copies": 2, '
            '"body": "Hi Ann,\\nthe numbers are in. \\u001b[31mRed\\u001b[0m means late.\\n[@click=app.quit]Bye[/]"}'
        )
        await steady("ctrl+s")(pilot)

    assert snap_compare(app, terminal_size=size, run_before=edit)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_confirm_modal_asks_for_a_reason(snap_compare, size):
    app = _modal_app("send_email", EMAIL)
    assert snap_compare(app, terminal_size=size, run_before=steady("r", *"spam"))


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_user_input_form_with_an_error(snap_compare, size):
    app = _modal_app("send_letter", {"subject": "Invoice [b]42[/b]"})
    assert snap_compare(app, terminal_size=size, run_before=steady(*"Rome", "tab", "-", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_external_result_modal(snap_compare, size):
    app = _modal_app("run_shell_command", {"command": "uname -a"})
    assert snap_compare(app, terminal_size=size, run_before=steady(*"Linux"))


# ----------------------------------------------------------------------------- help


class DashboardStandIn(App[None]):
    """Bindings like the dashboard's, so the help screen has app keys to read."""

    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Keys and how decisions work"),
        Binding("h", "history", "History", id="app.history", tooltip="Browse, resume and export past runs"),
        Binding("p", "pending", "Pending", id="app.pending", tooltip="Open the oldest pending approval"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("dashboard")
        yield Footer()

    def on_mount(self) -> None:
        self.push_screen(HelpScreen())

    def action_history(self) -> None:
        pass

    def action_pending(self) -> None:
        pass


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_help_screen(snap_compare, size):
    assert snap_compare(DashboardStandIn(), terminal_size=size, run_before=steady())


# ----------------------------------------------------------------------------- history


def _normalised_copy(source: RunStore, target: RunStore) -> None:
    """Copy every run with fixed ids and times, so that the screenshot does not change."""
    base = datetime(2026, 1, 15, 9, 30, tzinfo=timezone.utc)
    summaries = sorted(source.list_runs(), key=lambda s: s.created_at)
    for i, summary in enumerate(summaries):
        run = source.load_run(summary.run_id)
        assert run is not None
        at = base + timedelta(minutes=7 * i)
        run.run_id = f"run_{i + 1:02d}a1b2c3d4e5f6"
        run.session_id = "ses_0123456789abcdef"
        run.created_at = at
        run.updated_at = at + timedelta(seconds=40)
        for m in run.messages:
            m.created_at = at
        for t in run.tools:
            t.created_at = at
            if t.decided_at is not None:
                t.decided_at = at + timedelta(seconds=20)
            if t.started_at is not None:
                t.started_at = at + timedelta(seconds=21)
            if t.finished_at is not None:
                t.finished_at = at + timedelta(seconds=22)
        target.save_run(run)
        for entry in source.ledger(summary.run_id):
            target.record_decision(run, run.tool(entry.tool_call_id), entry.decision)


@pytest.fixture(scope="module")
def snapshot_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("snapshot-history")
    with RunStore(folder / "seeded.db") as seeded, RunStore(folder / "fixed.db") as fixed:
        seed_history(seeded)
        _normalised_copy(seeded, fixed)
    return folder / "fixed.db"


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class HistoryHost(App[None]):
    def __init__(self, store: RunStore) -> None:
        super().__init__()
        self.store = store

    def on_mount(self) -> None:
        self.push_screen(HistoryScreen(self.store))

    def resume_run(self, run_id: str) -> None:
        pass


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_history_with_a_paused_run_selected(snap_compare, snapshot_history, utc, size):
    with RunStore(snapshot_history) as store:
        # the paused run is the oldest: the last row
        assert snap_compare(HistoryHost(store), terminal_size=size, run_before=steady("down", "down", "down", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_history_with_an_edited_run_selected(snap_compare, snapshot_history, utc, size):
    with RunStore(snapshot_history) as store:
        assert snap_compare(HistoryHost(store), terminal_size=size, run_before=steady("down", "down"))


def test_snapshot_empty_history(snap_compare, tmp_path: Path, utc):
    with RunStore(tmp_path / "runs.db") as store:
        assert snap_compare(HistoryHost(store), terminal_size=(80, 24), run_before=steady())
