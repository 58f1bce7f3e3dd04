"""What to do with a call of a run that another process paused and that process has ended.

The store says who holds a run. While its owner lives, the dashboard only decides its calls and the
owner continues it. When the owner is gone, nobody would continue it: the user may take it over
(this dashboard continues it, with the tools it has), decide the call and leave the run for later,
look at its conversation, or leave it alone.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.agent.run import RunOutput, ToolExecution
from tui.paths import stylesheet
from tui.widgets.literal import literal
from tui.widgets.steady_footer import SteadyFooter

Choice = Literal["take_over", "decide", "view", "leave"]


class ForeignRunModal(ModalScreen[Choice]):
    """Take over, decide, view or leave a run whose owner process has ended."""

    CSS_PATH = stylesheet("modals")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "choose('take_over')", "Take over", id="foreign.take_over", tooltip="Continue this run here, with this dashboard's tools"),
        Binding("d", "choose('decide')", "Decide only", id="foreign.decide", tooltip="Decide the call and leave the run paused"),
        Binding("v", "choose('view')", "View", id="foreign.view", tooltip="Read the run's conversation (read-only)"),
        Binding("escape,l", "choose('leave')", "Leave", id="foreign.leave", tooltip="Leave the run as it is"),
    ]

    def __init__(self, run: RunOutput, tool: ToolExecution, holder: str) -> None:
        super().__init__(classes="decision-modal")
        self.run = run
        self.tool = tool
        self.holder = holder

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(literal(f"{self.tool.tool_name} waits in a run whose process has ended", "bold"), classes="modal-title")
            who = self.run.agent_name or "an agent"
            yield Static(
                literal(
                    f"Run {self.run.run_id} of {who} was paused by {self.holder}, which is no longer running, "
                    "so nobody will continue it unless you take it over. Taking over continues it here, "
                    "with the tools this dashboard has."
                ),
                classes="modal-why",
            )
            yield Static(literal(f"Prompt: {self.run.input or ''}"), classes="modal-description")
        yield SteadyFooter()

    def action_choose(self, choice: Choice) -> None:
        self.dismiss(choice)
