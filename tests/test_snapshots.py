"""SVG snapshots of the dashboard, each decision modal and the help screen, wide and narrow.

Deterministic by construction: the demo model at delay 0, a fresh history DB per test, no clock
text (`deterministic=True` hides ages and durations and stops the prompt's cursor blinking), no
run or session ids on screen. Update the baselines with `pytest tests/test_snapshots.py
--snapshot-update` and look at them (snapshot_report.html) before committing.
"""

from __future__ import annotations

from typing import Any

import pytest
from ui_support import NARROW, WIDE, make_app

from tui.agent import tool
from tui.widgets.approvals_pane import ApprovalsPane

HN = "Fetch the top 2 hackernews stories"
EMAIL = "Send an email with the subject 'Hello' and the body 'Hello, world!'"


@tool(external_execution=True)
def run_on_my_machine(command: str) -> str:
    """Run a command on your own machine and paste its output.

    Args:
        command: The shell command to run.
    """
    return ""


async def _idle(pilot: Any) -> None:
    app = pilot.app
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


def _no_blink(app: Any) -> None:
    from textual.widgets import Input, TextArea

    for widget in app.screen.query("Input, TextArea"):
        if isinstance(widget, (Input, TextArea)):
            widget.cursor_blink = False


async def _prompt(pilot: Any, text: str) -> None:
    await _idle(pilot)
    pilot.app.dashboard.submit_prompt(text)
    await _idle(pilot)
    _no_blink(pilot.app)
    await pilot.pause()


async def mid_run(pilot: Any) -> None:
    """A finished run (approved, the tool failed offline) and a second run waiting for a decision."""
    await _prompt(pilot, HN)
    await pilot.press("y")
    await _idle(pilot)
    await _prompt(pilot, "Write a file named notes.txt with 'hello'")
    await pilot.press("escape")  # decide later: the call waits in the approvals pane
    await _idle(pilot)
    assert pilot.app.query_one(ApprovalsPane).count == 1


@pytest.mark.parametrize("size", [WIDE, NARROW], ids=["120x40", "80x24"])
def test_empty_dashboard(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=_idle)


@pytest.mark.parametrize("size", [WIDE, NARROW], ids=["120x40", "80x24"])
def test_dashboard_mid_run(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=mid_run)


@pytest.mark.parametrize("size", [WIDE, NARROW], ids=["120x40", "80x24"])
def test_confirmation_modal(snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Any) -> None:
        await _prompt(pilot, HN)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


def test_user_input_modal(snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await _prompt(pilot, EMAIL)

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


def test_external_result_modal(snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await _prompt(pilot, 'call run_on_my_machine {"command": "uname -a"}')

    assert snap_compare(make_app(tools=[run_on_my_machine]), terminal_size=WIDE, run_before=run_before)


def test_help_screen(snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await _idle(pilot)
        await pilot.press("f1")
        await _idle(pilot)

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)
