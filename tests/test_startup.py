"""`HitlApp()` draws its first frame before loading pydantic, the openai client, the store or Markdown.

Checked by what is imported (not by time): a fresh interpreter runs the app headless and, at
Textual's `Ready` event (the first frame is on screen), records `sys.modules` and exits. Then,
in process with Pilot, the dashboard arrives after the first frame and works: a prompt gets its
reply, and keys pressed while it is still starting do nothing harmful.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from textual.widgets import Markdown

from tui.app import HitlApp, StartingScreen

REPO = Path(__file__).resolve().parents[1]

FIRST_FRAME = """
import json, sys
from tui.app import HitlApp

class Probe(HitlApp):
    def on_ready(self) -> None:
        self.loaded_at_first_frame = sorted(sys.modules)
        self.screen_at_first_frame = type(self.screen).__name__
        self.exit()

app = Probe()
app.run(headless=True, size=(100, 30))
print(json.dumps({"loaded": app.loaded_at_first_frame, "screen": app.screen_at_first_frame}))
"""

#: What the first frame must not wait for (module name prefixes).
HEAVY = ("pydantic", "pydantic_settings", "openai", "sqlite3", "tui.store", "tui.agent", "tui.config", "markdown_it", "textual.widgets._markdown", "tui.screens.dashboard")


def test_the_first_frame_comes_before_pydantic_openai_the_store_and_markdown() -> None:
    done = subprocess.run([sys.executable, "-c", FIRST_FRAME], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["screen"] == "StartingScreen"
    early = [m for m in report["loaded"] if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert early == [], f"loaded before the first frame: {early[:12]}"


async def test_the_dashboard_follows_the_first_frame_and_answers_a_prompt() -> None:
    app = HitlApp()  # the defaults: settings from the (isolated) environment, the demo model
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, StartingScreen)
        # While starting, the keys that need the agent or the dashboard are off (not a crash).
        assert not any(app.check_action(a, ()) for a in ("new_session", "history", "rules", "decide_next"))
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is app.dashboard
        assert app.agent.store is app.store and app.store is not None  # history is on
        assert app.sub_title  # the model's description, set once the agent exists
        await pilot.press(*"What can you do?")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.agent.run_response is not None and app.agent.run_response.status == "completed"
        shown = "".join(m.source for m in app.dashboard.conversation.query(Markdown))
        assert shown.strip() and shown == app.agent.run_response.content


async def test_a_start_that_fails_says_why_on_screen(monkeypatch) -> None:
    import tui.bootstrap

    def broken(*args, **kwargs):
        raise RuntimeError("the toolbox is broken")

    monkeypatch.setattr(tui.bootstrap, "build_agent", broken)
    app = HitlApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, StartingScreen)
        text = str(app.screen.query_one("#starting").render())
        assert "could not start" in text and "the toolbox is broken" in text
