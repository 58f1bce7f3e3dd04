"""Which modal decides a pending tool call: chosen by the kind of pause (`ToolExecution.kind`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import ModalScreen

from tui.agent.decisions import Decision
from tui.agent.preview import safe_preview
from tui.agent.run import ToolExecution

from .confirm_modal import ConfirmModal
from .external_result_modal import ExternalResultModal
from .user_input_modal import UserInputModal

if TYPE_CHECKING:
    from tui.agent.agent import Agent


def modal_for(
    tool: ToolExecution,
    agent: "Agent",
    *,
    position: tuple[int, int] | None = None,
    arm_delay: float | None = None,
) -> ModalScreen[Decision]:
    """The modal for `tool`; push it with a callback and apply its `Decision` with `apply_decision`.

    Edited arguments are checked by the agent's own schema validation (`Agent.validate_edit`)
    before the confirmation modal accepts them. The tool's preview (a diff for `write_file`,
    `$ command` for `run_shell_command`) is computed here, once, from the proposed arguments.
    `position` is (n, m) when several calls of the turn wait.
    """
    kind = tool.kind
    fn = agent.functions.get(tool.tool_name)
    preview = safe_preview(fn.preview if fn is not None else None, tool.tool_args)
    if kind == "confirmation":
        return ConfirmModal(
            tool, lambda args: agent.validate_edit(tool, args), preview=preview, position=position, arm_delay=arm_delay
        )
    if kind == "user_input":
        return UserInputModal(tool, position=position, arm_delay=arm_delay)
    if kind == "external":
        return ExternalResultModal(tool, preview=preview, position=position, arm_delay=arm_delay)
    raise ValueError(f"the call to {tool.tool_name!r} needs no decision (it is not gated)")


__all__ = ["modal_for", "ConfirmModal", "UserInputModal", "ExternalResultModal"]


if __name__ == "__main__":
    from textual.app import App

    from tui.agent import Agent, tool
    from tui.agent.models import DemoModel

    @tool(external_execution=True)
    def run_shell_command(command: str) -> str:
        """Run a shell command on your machine and report its output."""
        return ""

    agent = Agent(model=DemoModel(delay=0), tools=[run_shell_command])
    demo_tool = ToolExecution(
        tool_call_id="call_demo",
        tool_name="run_shell_command",
        tool_args={"command": "uname -a"},
        description=run_shell_command.description,
        external_execution_required=True,
    )

    class _Demo(App[None]):
        def on_mount(self) -> None:
            self.push_screen(modal_for(demo_tool, agent), lambda d: self.exit(message=repr(d)))

    _Demo().run()
