"""Make the README's screenshots: drive the real app with Pilot and save SVGs into screenshots/.

    .venv/bin/python scripts/screenshots.py            # all of them
    .venv/bin/python scripts/screenshots.py dashboard  # just one

The app runs offline on the demo model (no delay), with a throwaway history DB, workspace and
outbox, and a tiny local Hacker News server, so the pictures never depend on the network or on
the developer's own data.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Awaitable, Callable

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
SIZE = (120, 36)

STORIES = {
    1: {"id": 1, "type": "story", "title": "Show HN: A terminal dashboard for agents that ask first", "url": "https://example.com/hitl", "score": 412, "by": "ada", "descendants": 96},
    2: {"id": 2, "type": "story", "title": "Why every tool call deserves a human in the loop", "url": "https://example.com/loop", "score": 288, "by": "grace", "descendants": 51},
}


class _HackerNews(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path.endswith("/topstories.json"):
            body: Any = list(STORIES)
        else:
            item = self.path.rsplit("/", 1)[-1].removesuffix(".json")
            body = STORIES.get(int(item)) if item.isdigit() else None
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _sandbox() -> ThreadingHTTPServer:
    """Point every setting at throwaway places, and serve a fake Hacker News."""
    tmp = Path(tempfile.mkdtemp(prefix="hitl-screenshots-"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HackerNews)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ.update(
        HITL_TUI_DB=str(tmp / "runs.db"),
        HITL_TUI_RULES=str(tmp / "rules.toml"),
        HITL_TUI_WORKSPACE=str(tmp / "workspace"),
        HITL_TUI_OUTBOX=str(tmp / "outbox.mbox"),
        HITL_TUI_CONFIG=str(tmp / "config.toml"),
        HITL_TUI_HN_BASE_URL=f"http://127.0.0.1:{server.server_address[1]}/v0",
        HITL_TUI_DECISION_DELAY="0",  # the script's keys are deliberate: no grace period to wait out
    )
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "HITL_TUI_MODEL", "HITL_TUI_BASE_URL"):
        os.environ.pop(var, None)
    return server


def _app() -> Any:
    sys.path.insert(0, str(ROOT))
    from tui.agent.models import DemoModel
    from tui.app import HitlApp
    from tui.bootstrap import build_agent
    from tui.config import load_settings
    from tui.store import RunStore

    settings = load_settings()
    store = RunStore(settings.db)
    agent = build_agent(settings, store=store, model=DemoModel(delay=0))
    return HitlApp(settings, agent=agent, store=store)


async def _settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.2)


async def _ask(pilot: Any, prompt: str) -> None:
    await pilot.press(*prompt, "enter")
    await _settle(pilot)


async def dashboard(pilot: Any) -> None:
    """A finished run with its answer, and two calls waiting in the approvals pane."""
    await _ask(pilot, "Fetch the top 2 hackernews stories")
    await pilot.press("y")
    await _settle(pilot)
    await _ask(pilot, "Send an email with the subject 'Weekly digest' and the body 'Top stories inside'")
    await pilot.press("escape")
    await _settle(pilot)
    await _ask(pilot, "Write a file named digest.md with '# Digest'")
    await pilot.press("escape")
    await _settle(pilot)


async def confirm_modal(pilot: Any) -> None:
    await _ask(pilot, "Fetch the top 2 hackernews stories")


async def user_input(pilot: Any) -> None:
    await _ask(pilot, "Send an email with the subject 'Hello' and the body 'Hello, world!'")
    await pilot.press(*"ann@example")


async def help_screen(pilot: Any) -> None:
    await _settle(pilot)
    await pilot.press("f1")
    await _settle(pilot)


SHOTS: dict[str, Callable[[Any], Awaitable[None]]] = {
    "dashboard": dashboard,
    "confirm_modal": confirm_modal,
    "user_input": user_input,
    "help": help_screen,
}


async def shoot(name: str, drive: Callable[[Any], Awaitable[None]]) -> Path:
    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        await drive(pilot)
        for widget in app.screen.query("Input, TextArea"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
        await pilot.pause()
        path = OUT / f"{name}.svg"
        path.write_text(app.export_screenshot(title=f"hitl-tui — {name.replace('_', ' ')}"), encoding="utf-8")
    app.agent.store.close()
    return path


async def main(names: list[str]) -> None:
    server = _sandbox()
    OUT.mkdir(exist_ok=True)
    try:
        for name in names or list(SHOTS):
            if name not in SHOTS:
                raise SystemExit(f"unknown screenshot {name!r}; choose from {', '.join(SHOTS)}")
            print(await shoot(name, SHOTS[name]))
    finally:
        server.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
