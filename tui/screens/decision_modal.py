"""What every decision modal shares: the call it is about, its header, and `esc` to decide later."""

from __future__ import annotations

from typing import Iterable

from rich.text import Text
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

from tui.agent.decisions import Decision
from tui.agent.run import ToolExecution
from tui.paths import stylesheet
from tui.widgets.literal import literal


class DecisionModal(ModalScreen[Decision]):
    """A modal about one pending tool call. Dismisses with a Decision; `defer` leaves it pending."""

    CSS_PATH = stylesheet("modals")

    def __init__(
        self,
        tool: ToolExecution,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.tool = tool

    def header(self, title: Text, why: str) -> Iterable[Widget]:
        """Title, the tool's description, why it asks, and the error of an earlier attempt."""
        tool = self.tool
        yield Static(title, id="title", classes="modal-title")
        if tool.description:
            yield Static(literal(tool.description), id="description", classes="modal-description")
        yield Static(literal(why), id="why", classes="modal-why")
        if tool.error:
            yield Static(literal(tool.error), id="tool-error", classes="modal-error")

    def action_defer(self) -> None:
        self.dismiss(Decision("defer"))
