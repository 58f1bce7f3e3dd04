"""Snapshots of the inbox's own views: a foreign run's item in the approvals pane (agent name and
host/pid), the confirmation without scopes, the choice for a run whose owner died, and a
foreign run read-only.

Deterministic by construction: fixed ids and times (UTC), a fixed holder label, no ages.
Update the baselines with `pytest tests/test_snapshots_inbox.py --snapshot-update`.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Footer

from tui.agent.run import Message, RunOutput, RunStatus, ToolExecution
from tui.screens.foreign_confirm_modal import ForeignConfirmModal
from tui.screens.foreign_run_modal import ForeignRunModal
from tui.screens.run_view_screen import RunViewScreen
from tui.widgets.approvals_pane import ApprovalsPane

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]
WHEN = datetime(2026, 11, 30, 9, 30, tzinfo=timezone.utc)


def foreign_run() -> RunOutput:
    run = RunOutput(
        run_id="run_0123456789abcdef",
        session_id="ses_0123456789abcdef",
        agent_name="nightly",
        model="demo",
        input='call publish_post {"title": "Release 1.2"}',
        status=RunStatus.paused,
        created_at=WHEN,
        updated_at=WHEN,
        open_turn=1,
        turns=1,
    )
    run.messages = [
        Message(role="user", content=run.input),
        Message(role="assistant", content="I'll call `publish_post`."),
    ]
    run.tools = [
        ToolExecution(
            tool_call_id="call_1",
            tool_name="publish_post",
            tool_args={"title": "Release 1.2"},
            requires_confirmation=True,
            turn=1,
            created_at=WHEN,
            description="Publish a blog post.",
        )
    ]
    return run


class InboxStandIn(App[None]):
    def __init__(self, screen: str) -> None:
        super().__init__()
        self.which = screen

    def compose(self) -> ComposeResult:
        yield ApprovalsPane(show_times=False)
        yield Footer()

    def on_mount(self) -> None:
        run = foreign_run()
        pane = self.query_one(ApprovalsPane)
        pane.add(run, run.tools[0], origin="nightly · vm/4242 (gone: enter to take over)")
        pane.focus_list()
        if self.which == "modal":
            self.push_screen(ForeignRunModal(run, run.tools[0], "vm/4242"))
        elif self.which == "view":
            self.push_screen(RunViewScreen(run, [], holder="vm/4242"))
        elif self.which == "confirm":

            class NoTools:
                functions: dict = {}

            self.push_screen(ForeignConfirmModal(run.tools[0], NoTools(), "vm/4242"))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("which", ["pane", "modal", "view", "confirm"])
def test_snapshot_inbox(snap_compare, which: str, size) -> None:
    assert snap_compare(InboxStandIn(which), terminal_size=size)
