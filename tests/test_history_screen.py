"""The history screen against a real SQLite store filled by a real agent, driven by keys."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console
from textual.app import App
from textual.widgets import DataTable, Input, Select, Static

from modal_helpers import make_agent, screen_text, seed_history
from tui.screens.history_screen import DEBOUNCE, HistoryScreen
from tui.store import RunStore


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """One database for the module (the screen only reads it): five runs made by a real agent."""
    path = tmp_path_factory.mktemp("history") / "runs.db"
    with RunStore(path) as store:
        ids = seed_history(store)
    return path, ids


@pytest.fixture
def store(seeded: tuple[Path, dict[str, str]]):
    with RunStore(seeded[0]) as opened:
        yield opened


class HistoryApp(App[None]):
    """Hosts the history screen and exposes `resume_run` like the dashboard does."""

    def __init__(self, store: RunStore | None) -> None:
        super().__init__()
        self.store = store
        self.resumed: list[str] = []
        self.closed_with: list[str | None] = []

    def on_mount(self) -> None:
        self.push_screen(HistoryScreen(self.store), self.closed_with.append)

    def resume_run(self, run_id: str) -> None:
        self.resumed.append(run_id)


def rows(app: App) -> list[str]:
    """The run ids in the table, top to bottom."""
    table = app.screen.query_one("#runs", DataTable)
    return [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]


def detail(app: App) -> str:
    """The whole detail pane as plain text (it scrolls, so more than the screen shows)."""
    console = Console(width=100, record=True, file=io.StringIO(), color_system=None)
    console.print(app.screen.query_one("#detail", Static).content)
    return console.export_text()


async def go_to(pilot, app: App, run_id: str) -> None:
    """Move the list's cursor to `run_id` with the arrow keys."""
    table = app.screen.query_one("#runs", DataTable)
    table.focus()
    await pilot.press("home")
    for _ in range(rows(app).index(run_id)):
        await pilot.press("down")
    await pilot.pause()
    assert app.screen.selected_run_id == run_id


async def test_the_history_lists_every_run_with_its_status_tools_and_rejections(seeded, store):
    ids = seeded[1]
    app = HistoryApp(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        assert set(rows(app)) == set(ids.values())
        table = app.screen.query_one("#runs", DataTable)
        paused_row = table.get_row(ids["paused"])
        assert "paused" in str(paused_row[3]) and paused_row[3].style == "bold yellow"
        assert str(paused_row[1]).startswith("call send_email")
        assert paused_row[1].style == "bold yellow"  # the whole row stands out
        rejected_row = table.get_row(ids["rejected"])
        assert (str(rejected_row[4]), str(rejected_row[5])) == ("1", "1")
        assert "5 runs · 1 paused" in screen_text(app)


async def test_filtering_by_status_from_the_keyboard_shows_only_paused_runs(seeded, store):
    ids = seeded[1]
    app = HistoryApp(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await pilot.press("shift+tab", "shift+tab", "shift+tab")
        assert app.focused is app.screen.query_one("#status-filter", Select)
        await pilot.press("enter", "down", "down", "enter")  # all statuses -> running -> paused
        await pilot.pause()
        assert app.screen.query_one("#status-filter", Select).value == "paused"
        assert rows(app) == [ids["paused"]]


async def test_the_tool_filter_applies_as_you_type_after_a_short_pause(seeded, store):
    ids = seeded[1]
    app = HistoryApp(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await pilot.press("shift+tab", "shift+tab")
        assert app.focused is app.screen.query_one("#tool-filter", Input)
        await pilot.press(*"send_letter")
        await pilot.pause(DEBOUNCE + 0.2)
        assert rows(app) == [ids["input"]]
        await pilot.press(*"x")
        await pilot.pause(DEBOUNCE + 0.2)
        assert rows(app) == []
        assert "No runs match these filters." in screen_text(app)


async def test_slash_searches_the_prompts(seeded, store):
    ids = seeded[1]
    app = HistoryApp(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"what", "enter")  # enter applies at once and returns to the list
        assert rows(app) == [ids["chat"]]
        assert app.focused is app.screen.query_one("#runs", DataTable)
        await pilot.press("slash", *"ctrl+u".split(), "enter")
        assert len(rows(app)) == 5


async def test_the_detail_shows_the_conversation_tool_calls_and_the_decision_ledger(seeded, store):
    ids = seeded[1]
    app = HistoryApp(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await go_to(pilot, app, ids["edited"])
        text = detail(app)
        assert ids["edited"] in text
        assert "Conversation" in text and 'call send_email {"to": "cy@example.com"' in text
        assert "Tool calls (1)" in text and "send_email  completed" in text
        assert "Decisions (1)" in text
        assert "edited  send_email  by user" in text
        assert '~ to: "cy@example.com" → "dee@example.com"' in text  # proposed vs executed
        assert "+ copies: 2" in text


async def test_the_ledger_shows_who_rejected_and_the_note(seeded, store):
    ids = seeded[1]
    app = HistoryApp(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await go_to(pilot, app, ids["rejected"])
        text = detail(app)
        assert "rejected  send_email  by user" in text
        assert "note: not to Bob" in text
        assert "not executed" in text


async def test_enter_on_a_paused_run_resumes_it_in_the_app_and_closes_the_history(seeded, store):
    ids = seeded[1]
    app = HistoryApp(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await go_to(pilot, app, ids["paused"])
        assert "enter resumes this run" in detail(app)
        assert "⏎ Resume" in screen_text(app)
        await pilot.press("enter")
        assert app.resumed == [ids["paused"]]
        assert app.closed_with == [ids["paused"]]
        assert not isinstance(app.screen, HistoryScreen)


async def test_enter_on_a_finished_run_resumes_nothing(seeded, store):
    ids = seeded[1]
    app = HistoryApp(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await go_to(pilot, app, ids["chat"])
        await pilot.press("enter", "tab", "enter")  # from the list, then from the detail
        assert app.resumed == []
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("escape")
        assert app.closed_with == [None]


async def test_x_exports_the_selected_run_as_json_and_markdown_into_the_data_folder(seeded, store):
    ids = seeded[1]
    app = HistoryApp(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await go_to(pilot, app, ids["rejected"])
        await pilot.press("x")
        await pilot.pause()
        exports = Path(os.environ["XDG_DATA_HOME"]) / "hitl-tui" / "exports"
        document = json.loads((exports / f"{ids['rejected']}.json").read_text())
        assert document["run"]["run_id"] == ids["rejected"]
        assert [e["decision"] for e in document["ledger"]] == ["rejected"]
        markdown = (exports / f"{ids['rejected']}.md").read_text()
        assert ids["rejected"] in markdown and "not to Bob" in markdown
        notices = [n.message for n in app._notifications]
        assert any(str(exports / f"{ids['rejected']}.json") in m for m in notices)


async def test_an_empty_history_says_so(tmp_path: Path):
    app = HistoryApp(RunStore(tmp_path / "runs.db"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert rows(app) == []
        assert "No runs yet." in screen_text(app)
        await pilot.press("enter", "x")  # nothing selected: nothing happens
        assert app.resumed == [] and isinstance(app.screen, HistoryScreen)


async def test_a_store_that_fails_shows_a_message_instead_of_a_traceback(tmp_path: Path):
    store = RunStore(tmp_path / "runs.db")
    store.close()  # every query now fails with a StoreError
    app = HistoryApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Could not read the history" in text and "the store was closed" in text
        await pilot.press("ctrl+r", "x", "enter")
        assert app.is_running and isinstance(app.screen, HistoryScreen)


async def test_prompts_with_markup_and_escapes_are_shown_literally_in_the_history(tmp_path: Path):
    store = RunStore(tmp_path / "runs.db")
    agent = make_agent(store=store)
    await agent.arun("[@click=app.quit]quit[/] and \x1b[31mred")
    app = HistoryApp(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "[@click=app.quit]quit[/] and ␛[31mred" in text
        await pilot.press("enter", "tab", "enter")
        assert app.is_running
