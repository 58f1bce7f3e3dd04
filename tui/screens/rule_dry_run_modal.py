"""Before an "always" rule is saved: what it would have matched in the history.

The matches a person decided the other way come first, as a warning: for an allow rule the calls
a person rejected, for a deny rule the calls a person approved. `y` saves the rule, `n`/`esc` goes back.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..agent.rules import DryRunReport
from ..agent.visible import one_line
from ..paths import stylesheet
from ..widgets.steady_footer import SteadyFooter
from ..widgets.literal import literal


class RuleDryRunModal(ModalScreen[bool]):
    CSS_PATH = [stylesheet("rules")]
    BINDINGS = [
        Binding("y", "save", "Save rule", id="dryrun.save", tooltip="Save the rule and apply it"),
        Binding("n,escape", "back", "Back", id="dryrun.back", tooltip="Do not save the rule"),
    ]

    def __init__(self, report: DryRunReport) -> None:
        super().__init__()
        self.report = report

    def compose(self) -> ComposeResult:
        report = self.report
        with Vertical(id="dryrun-dialog"):
            yield Static(literal(f"Save rule: {report.rule.describe()}", style="bold"), id="dryrun-title")
            yield Static(literal(report.summary(), style="bold red" if report.conflicts else ""), id="dryrun-summary")
            with VerticalScroll(id="dryrun-list"):
                if not report.matched:
                    yield Static("No past call in the history matches this rule.", classes="dryrun-empty")
                for call in report.ordered:
                    conflict = report.is_conflict(call)
                    if conflict:
                        prefix = "✗ rejected by you" if call.rejected_by_person else "✗ approved by you"
                    else:
                        prefix = f"  {call.status}"
                    note = f" — “{call.note}”" if call.rejected_by_person and call.note else ""
                    yield Static(
                        literal(f"{prefix}  {call.when}  {call.tool_name}({one_line(call.args, 200)}){note}"),
                        classes="dryrun-row rejected" if conflict else "dryrun-row",
                    )
            yield Static("y save the rule · n / esc back", id="dryrun-keys")
        yield SteadyFooter()

    def action_save(self) -> None:
        self.dismiss(True)

    def action_back(self) -> None:
        self.dismiss(False)
