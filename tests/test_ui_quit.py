"""ctrl+q always quits: even while a synchronous tool is stuck, and it says how to resume paused runs.

Quitting runs in a real process (the thing that hangs is the process exit, not the screen): a child
Python drives the dashboard with Pilot, presses ctrl+q, and must exit promptly. The store is read
afterwards by this process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from ui_support import WIDE, make_app, settle, type_text

from tui.store import RunStore

STUCK_CHILD = textwrap.dedent(
    """
    import asyncio, sys, threading
    sys.path.insert(0, {tests!r})
    from ui_support import make_app, settle, type_text, wait_for
    from tui.agent import tool

    never = threading.Event()

    @tool
    def read_pipe(path: str) -> str:
        '''Read a named pipe (blocks until a writer comes: none will).

        Args:
            path: The pipe.
        '''
        never.wait()  # a synchronous tool stuck for good, like open() on a FIFO
        return "never"

    async def main() -> None:
        app = make_app(tools=[read_pipe], builtin_tools=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await type_text(pilot, 'call read_pipe {{"path": "fifo"}}')
            await pilot.press("enter")
            await wait_for(pilot, lambda: any(t.status == "running" for t in app.agent.run_response.tools))
            print("RUN", app.agent.run_response.run_id, flush=True)
            await pilot.press("ctrl+q")
            await wait_for(pilot, lambda: not app.is_running)
        print("QUIT", flush=True)

    asyncio.run(main())
    """
)


def test_ctrl_q_quits_promptly_while_a_sync_tool_is_stuck_and_the_call_is_recorded_interrupted(tmp_path: Path) -> None:
    tests = str(Path(__file__).parent)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", STUCK_CHILD.format(tests=tests)],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    assert "QUIT" in done.stdout, done.stdout + done.stderr[-3000:]
    run_id = done.stdout.split("RUN ", 1)[1].split()[0]
    store = RunStore(os.environ["HITL_TUI_DB"])
    run = store.load_run(run_id)
    tool = run.tools[0]
    assert run.status == "cancelled"
    assert tool.status == "error" and tool.error.startswith("Interrupted"), tool.error
    assert took < 30, f"quitting took {took:.1f}s"


PAUSED_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, {tests!r})
    from ui_support import make_app, settle, type_text, wait_for

    async def main() -> None:
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await type_text(pilot, "Fetch the top 2 hackernews stories")
            await pilot.press("enter")
            await settle(pilot, app)
            print("RUN", app.agent.run_response.run_id, flush=True)
            await pilot.press("escape")  # decide later
            await pilot.press("ctrl+q")
            await wait_for(pilot, lambda: not app.is_running)

    asyncio.run(main())
    """
)


def test_quitting_with_a_paused_run_says_how_to_resume_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PAUSED_CHILD.format(tests=str(Path(__file__).parent))],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run_id = done.stdout.split("RUN ", 1)[1].split()[0]
    assert "1 paused run waits for your decision" in done.stderr
    assert f"hitl-tui resume {run_id}    (get_top_hackernews_stories)" in done.stderr
    assert RunStore(os.environ["HITL_TUI_DB"]).load_run(run_id).status == "paused"


async def test_quitting_with_nothing_paused_says_nothing() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await type_text(pilot, "hello")
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.resume_hint() is None


async def test_the_quit_hint_also_names_runs_paused_by_an_earlier_process() -> None:
    from tui.agent.models import DemoModel
    from tui.bootstrap import build_agent
    from tui.config import load_settings

    settings = load_settings()
    with RunStore(settings.db) as store:
        earlier = await build_agent(settings, store=store, model=DemoModel(delay=0)).arun(
            "Write a file named notes.txt with 'hello'"
        )
    assert earlier.is_paused
    app = make_app(db=settings.db)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        hint = app.resume_hint() or ""
        assert f"hitl-tui resume {earlier.run_id}    (write_file)" in hint
        assert hint.startswith("1 paused run waits for your decision.")
