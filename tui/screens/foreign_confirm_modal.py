"""The confirmation modal for a call of a run that another process holds.

Same keys and look as `ConfirmModal`, minus the scopes (this run / the session / always, and
deny): they change this dashboard's own rules and policy, which the other process does not use.
Edited arguments are checked here when this dashboard has the tool; otherwise the owner's runtime
checks them when it continues (and tells its model if they do not fit).
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from tui.agent.run import ToolExecution
from tui.agent.approvals import SCOPED_ACTIONS
from tui.screens.confirm_modal import ConfirmModal

LEGEND = "y approve · n reject · r reject with a reason · e edit the arguments · esc decide later (held by {holder})"


class ForeignConfirmModal(ConfirmModal):
    def __init__(self, tool: ToolExecution, agent: Any, holder: str) -> None:
        def validate(args: dict[str, Any]) -> dict[str, Any]:
            if tool.tool_name in agent.functions:
                return agent.validate_edit(tool, args)
            return args

        super().__init__(tool, validate)
        self.holder = holder

    def on_mount(self) -> None:
        self.query_one("#legend", Static).update(LEGEND.format(holder=self.holder))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in SCOPED_ACTIONS:
            return False
        return super().check_action(action, parameters)
