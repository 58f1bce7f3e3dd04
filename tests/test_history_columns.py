"""The history list's prompt column grows with the terminal instead of staying 24 cells wide."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from ui_support import screen_text

from tui.agent import Agent
from tui.agent.models import DemoModel
from tui.screens.history_screen import PROMPT_MIN_WIDTH, HistoryScreen
from tui.store import RunStore

LONG_PROMPT = "Summarise what the three most discussed stories on Hacker News say about databases"


class Host(App[None]):
    def __init__(self, store: RunStore) -> None:
        super().__init__()
        self.store = store

    def on_mount(self) -> None:
        self.push_screen(HistoryScreen(self.store))


@pytest.fixture
async def store(tmp_path: Path):
    with RunStore(tmp_path / "runs.db") as opened:
        await Agent(model=DemoModel(delay=0), store=opened).arun(LONG_PROMPT)
        yield opened


@pytest.mark.parametrize("size", [(120, 40), (200, 50)])
async def test_the_prompt_column_takes_the_room_the_list_has(store: RunStore, size: tuple[int, int]) -> None:
    app = Host(store)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        shown = screen_text(app)
        if size[0] >= 200:
            assert screen.prompt_width >= 50
            assert LONG_PROMPT[:49] in shown  # twice the old 24 cells
        else:
            assert screen.prompt_width >= PROMPT_MIN_WIDTH
            assert LONG_PROMPT[:PROMPT_MIN_WIDTH - 1] in shown


async def test_resizing_refits_the_prompt_column(store: RunStore) -> None:
    app = Host(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        narrow = app.screen.prompt_width
        await pilot.resize_terminal(220, 50)
        await pilot.pause()
        await pilot.pause()
        assert app.screen.prompt_width > narrow
        assert LONG_PROMPT in screen_text(app)
