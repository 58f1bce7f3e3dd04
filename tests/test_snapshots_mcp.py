"""Snapshots of the MCP elicitation form (a server's question mid-call), at 120x40 and 80x24.

Update the baselines with `pytest tests/test_snapshots_mcp.py --snapshot-update`.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from modal_helpers import DecisionApp
from tui.agent.mcp import ElicitationRequest
from tui.screens.elicitation_modal import ElicitationModal

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]

REQUEST = ElicitationRequest(
    server="shop",
    message="How should [bold]the hat[/] be shipped?",
    requested_schema={
        "type": "object",
        "properties": {
            "speed": {"type": "string", "enum": ["standard", "express"], "description": "How fast to ship"},
            "copies": {"type": "integer", "minimum": 1, "maximum": 10, "description": "How many copies"},
            "gift": {"type": "boolean", "default": False, "description": "Wrap it as a gift"},
        },
        "required": ["speed", "copies"],
    },
    tool_name="shop_order",
)


async def _steady(pilot: Pilot) -> None:
    await pilot.pause()
    for widget in pilot.app.screen.query("Input"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.press("tab")
    await pilot.press(*"42")
    await pilot.press("ctrl+s")  # refused: the copies are over the server's maximum, speed is missing
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_elicitation_form_with_errors(snap_compare, size) -> None:
    assert snap_compare(DecisionApp(ElicitationModal(REQUEST)), terminal_size=size, run_before=_steady)


async def test_typing_before_the_question_is_armed_does_not_dismiss_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A decision modal steps aside for typing; a server's question cannot wait, so it stays."""
    monkeypatch.setenv("HITL_TUI_DECISION_DELAY", "3600")  # the grace period never ends by itself here
    app = DecisionApp(ElicitationModal(REQUEST))
    async with app.run_test() as pilot:
        modal = app.screen
        assert isinstance(modal, ElicitationModal) and not modal.armed
        await pilot.press("h", "i", "ctrl+r")
        assert app.screen is modal and app.decision is None  # neither typing nor ctrl+r decided
        modal.arm()
        await pilot.press("ctrl+r")
        assert app.decision is not None and app.decision.action == "reject"  # declined, once armed
