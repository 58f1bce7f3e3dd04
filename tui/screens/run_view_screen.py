"""A run held by another process, read-only: its conversation, calls and decisions.

The same detail the history screen shows (`render_detail`), on its own screen so the dashboard's
approvals pane can open it for any run in the inbox without taking the run over.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.agent.run import RunOutput
from tui.paths import stylesheet
from tui.screens.history_screen import render_detail
from tui.widgets.steady_footer import SteadyFooter


class RunViewScreen(ModalScreen[None]):
    """Read-only view of one run (nothing here can change it)."""

    CSS_PATH = stylesheet("history")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="run_view.close", tooltip="Back to the dashboard"),
    ]

    def __init__(self, run: RunOutput, ledger: list[Any] | None = None, *, holder: str | None = None) -> None:
        super().__init__()
        self.run = run
        self.ledger = ledger or []
        self.holder = holder

    def compose(self) -> ComposeResult:
        scroll = VerticalScroll(Static(render_detail(self.run, self.ledger), id="run-view-detail"), id="history-detail")
        scroll.border_title = f"Run {self.run.run_id} (read-only{', held by ' + self.holder if self.holder else ''})"
        yield scroll
        yield SteadyFooter()

    def action_close(self) -> None:
        self.dismiss(None)
