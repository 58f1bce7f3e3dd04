"""Building and observing the dashboard in tests (Pilot and snapshots share these).

Not a test module: helpers only. The app is built from real parts (settings from the isolated
environment of the root conftest, a real RunStore in a temp dir, the real toolbox), with a
DemoModel at delay 0 unless a test passes another model.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from local_hn_server import HNServer
from rich.cells import cell_len

from tui.agent.models import DemoModel
from tui.app import HitlApp
from tui.bootstrap import build_agent
from tui.config import load_settings
from tui.store import RunStore

WIDE = (120, 40)
NARROW = (80, 24)


@pytest.fixture
def hn_server(monkeypatch: pytest.MonkeyPatch):
    """A local Hacker News API; the built-in tool is pointed at it (import this fixture to use it)."""
    with HNServer() as server:
        monkeypatch.setenv("HITL_TUI_HN_BASE_URL", server.url)
        yield server


def make_app(
    *,
    model: Any = None,
    tools: list[Any] | None = None,
    builtin_tools: bool = True,
    db: Path | None = None,
    deterministic: bool = True,
    **app_kwargs: Any,
) -> HitlApp:
    """A dashboard on the demo model (delay 0), a fresh history DB, and the built-in tools."""
    settings = load_settings()
    if db is not None:
        settings.db = db
    store = RunStore(settings.db)
    agent = build_agent(settings, builtin_tools=builtin_tools, store=store, model=model or DemoModel(delay=0))
    for fn in tools or []:
        from tui.agent.tools import as_function

        f = as_function(fn)
        agent.functions[f.name] = f
    return HitlApp(settings, agent=agent, store=store, deterministic=deterministic, **app_kwargs)


_SVG_TEXT = re.compile(r'<text class="[^"]*" x="(?P<x>[\d.]+)"[^>]*?clip-path="url\(#[^)]*-line-(?P<line>\d+)\)"[^>]*>(?P<text>[^<]*)</text>')
#: Rich's SVG export puts each run of text at x = column * this (20 px characters, aspect 0.61).
_SVG_CHAR_WIDTH = 20 * 0.61


def screen_text(app: HitlApp) -> str:
    """What the terminal shows right now, as plain text (for asserting on visible text).

    Read from the app's public `export_screenshot()` (an SVG with one <text> per styled run,
    placed by column and line), so it never depends on Textual's private compositor.
    """
    width, height = app.size
    rows: list[str] = [""] * height
    for match in _SVG_TEXT.finditer(app.export_screenshot()):
        line = int(match["line"])
        if line >= height:
            continue
        column = round(float(match["x"]) / _SVG_CHAR_WIDTH)
        row = rows[line]
        gap = column - cell_len(row)
        rows[line] = row + " " * max(0, gap) + html.unescape(match["text"]).replace("\xa0", " ")
    return "\n".join(row.rstrip() for row in rows)


async def settle(pilot: Any, app: HitlApp) -> None:
    """Wait until the agent's workers are done and the screen has caught up."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def type_text(pilot: Any, text: str) -> None:
    """Type text key by key (as a person would), including spaces and punctuation."""
    await pilot.press(*text)


async def wait_for(pilot: Any, condition: Any, *, timeout: float = 5.0) -> None:
    """Pause until `condition()` is true (for things that arrive asynchronously, like palette hits)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.05)


def palette_has(app: HitlApp, text: str) -> Any:
    """A condition: the open command palette lists a command containing `text`."""

    def check() -> bool:
        from textual.command import CommandList

        lists = app.screen.query(CommandList)
        if not lists:
            return False
        options = lists.first()
        return any(text.lower() in str(options.get_option_at_index(i).prompt).lower() for i in range(options.option_count))

    return check


def long_markdown(paragraphs: int) -> str:
    """A long Markdown reply: headings, bullet lists and long paragraphs (many widgets)."""
    blocks = []
    for i in range(paragraphs):
        if i % 6 == 0:
            blocks.append(f"### Section {i}")
        if i % 4 == 1:
            blocks.append("\n".join(f"- point {i}.{j}: words that wrap when the pane is narrow enough" for j in range(3)))
        blocks.append(" ".join(f"word{i}-{j}" for j in range(40)))
    return "\n\n".join(blocks)


class LongReply:
    """Streams a long Markdown reply in small deltas."""

    id = "long-reply"

    def __init__(self, text: str) -> None:
        self.text = text

    def describe(self) -> str:
        return "long reply"

    async def astream(self, messages: Any, tools: Any, **_: Any) -> Any:
        from tui.agent.models.base import ModelChunk, ModelResponse

        for i in range(0, len(self.text), 40):
            yield ModelChunk(text=self.text[i : i + 40])
        yield ModelChunk(response=ModelResponse(content=self.text, finish_reason="stop"))
