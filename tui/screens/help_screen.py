"""The help screen (`f1`): every key, grouped by where it works, and how decisions work.

The keys are read from the bindings of the app and of every screen, modal and widget
(`key_help.key_groups`), so the help cannot drift from them.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.paths import stylesheet
from tui.widgets.steady_footer import SteadyFooter

from .key_help import KeyRow, key_groups

HOW_DECISIONS_WORK = """\
When the model calls a tool that needs you, the run pauses and a modal opens on the first \
pending call. Nothing gated ever runs without your decision.

• Confirmation: y runs the call once as proposed. n rejects it; r rejects it with a reason. \
Either way the model is told, and reads your reason. e edits the arguments: they are checked \
against the tool's schema, and you see what changed before y approves them.
• t allows the tool for the rest of this run. Lower case keys decide for this session, upper case \
keys decide always (a saved rule, after a dry run over the history): a / A allow the tool, d / D deny it.
• User input: fill the fields only you may supply. Each value is checked; an invalid field shows \
its error under it and the form stays open.
• External execution: you run the call yourself and type in its result.
• esc decides later: the call stays in the pending approvals pane, and the run stays paused \
until you decide. In that pane, enter opens a call, space marks calls, Y / N approve or reject the \
marked ones (or, with none marked, every call of the highlighted call's turn). Every decision \
is recorded (who, when, the arguments) and shown in the history.
"""


def key_table(rows: list[KeyRow], key_width: int = 9) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", min_width=key_width, max_width=key_width)
    table.add_column(ratio=1)
    for row in rows:
        table.add_row(Text(row.keys), Text(row.description))
    return table


class HelpScreen(ModalScreen[None]):
    """Every key of the dashboard and the modals, and how decisions work. esc, q, ? or f1 closes."""

    CSS_PATH = stylesheet("help")
    AUTO_FOCUS = "#help-body"

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "close", "Close", id="help.close", tooltip="Close the help"),
    ]

    def compose(self) -> ComposeResult:
        #: What the help shows (a test checks that every binding of every class is in it).
        self.groups = key_groups(self.app)
        # One width for every group's key column, so the descriptions line up down the whole help.
        # (A few long ones, like the prompt's three new-line keys, wrap instead of widening every group.)
        key_width = min(14, max((cell_len(row.keys) for group in self.groups for row in group.rows), default=9))
        with Vertical(id="help-dialog"):
            with VerticalScroll(id="help-body"):
                yield Static("Keys", classes="help-heading")
                for group in self.groups:
                    yield Static(group.title, classes="help-group-title")
                    yield Static(key_table(group.rows, key_width), classes="help-keys")
                yield Static("How decisions work", classes="help-heading")
                yield Static(HOW_DECISIONS_WORK, classes="help-text", markup=False)
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one("#help-dialog").border_title = "Help"

    def action_close(self) -> None:
        self.dismiss(None)


if __name__ == "__main__":

    class _Demo(App[None]):
        BINDINGS = [Binding("question_mark", "help", "Help"), Binding("h", "history", "History")]

        def on_mount(self) -> None:
            self.push_screen(HelpScreen(), lambda _: self.exit())

        def action_help(self) -> None:
            self.push_screen(HelpScreen())

        def action_history(self) -> None:
            pass

    _Demo().run()
