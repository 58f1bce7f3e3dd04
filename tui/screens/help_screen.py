"""The help screen (`?`): every key, grouped, and how decisions work.

The keys of the screen underneath (the dashboard) are read from its active bindings, so the list
is never out of date and honours the user's keymap. The modal and history keys come from those
screens' own `BINDINGS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from tui.paths import stylesheet

from .confirm_modal import ConfirmModal
from .external_result_modal import ExternalResultModal
from .user_input_modal import UserInputModal

HOW_DECISIONS_WORK = """\
When the model calls a tool that needs you, the run pauses and a modal opens on the first \
pending call. Nothing gated ever runs without your decision.

• Confirmation: y runs the call once as proposed. n rejects it; r rejects it with a reason. \
Either way the model is told, and reads your reason. e edits the arguments: they are checked \
against the tool's schema, and you see what changed before y approves them.
• Lower case keys decide once or for this session, upper case keys decide always (a saved rule): \
a / A allow the tool, d / D deny it.
• User input: fill the fields only you may supply. Each value is checked; an invalid field shows \
its error under it and the form stays open.
• External execution: you run the call yourself and type in its result.
• esc decides later: the call stays in the pending approvals pane, and the run stays paused \
until you decide. Every decision is recorded (who, when, the arguments) and shown in the history.
"""


EVERYWHERE = "Everywhere"


@dataclass(frozen=True)
class KeyRow:
    keys: str
    description: str


def _key(app: App[object], binding: Binding) -> str:
    return app.get_key_display(binding)


def rows_from_bindings(
    app: App[object],
    bindings: list[Binding],
    *,
    only: set[str] | None = None,
) -> list[KeyRow]:
    """One row per action (keys bound to the same action are merged: "y / Y")."""
    order: list[str] = []
    keys: dict[str, list[str]] = {}
    text: dict[str, str] = {}
    for binding in bindings:
        if only is not None and binding.action not in only:
            continue
        if not (binding.description or binding.tooltip):
            continue
        for single in binding.key.split(","):
            single_binding = binding.with_key(single.strip(), binding.key_display)
            display = _key(app, single_binding)
            if binding.action not in keys:
                order.append(binding.action)
                keys[binding.action] = []
                text[binding.action] = binding.tooltip or binding.description
            if display not in keys[binding.action]:
                keys[binding.action].append(display)
    return [KeyRow(" / ".join(keys[a]), text[a]) for a in order]


def _normalise(bindings: object) -> list[Binding]:
    out = []
    for b in bindings or []:  # type: ignore[union-attr]
        if isinstance(b, Binding):
            out.append(b)
        elif isinstance(b, tuple):
            out.append(Binding(*b))
    return out


def _node_title(node: DOMNode) -> str:
    if isinstance(node, App):
        return EVERYWHERE
    if isinstance(node, Screen):
        title = getattr(node, "HELP_TITLE", None) or getattr(node, "title", None) or type(node).__name__
        return str(title)
    return str(getattr(node, "BINDING_GROUP_TITLE", None) or type(node).__name__)


def active_key_groups(screen: Screen[object]) -> list[tuple[str, list[KeyRow]]]:
    """The keys active on `screen` right now, grouped by who owns them (focused widget first)."""
    app = screen.app
    groups: dict[str, list[Binding]] = {}
    for _key_name, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.show or binding.system or not binding.description:
            continue
        groups.setdefault(_node_title(active.node), []).append(binding)
    out = []
    for title, bindings in groups.items():
        rows = rows_from_bindings(app, bindings)
        if rows:
            out.append((title, rows))
    return out


def modal_key_groups(app: App[object]) -> list[tuple[str, list[KeyRow]]]:
    """The keys of the decision modals and the history screen, from their own BINDINGS."""
    confirm = _normalise(ConfirmModal.BINDINGS)
    groups = [
        ("Confirmation modal", rows_from_bindings(app, confirm, only={
            "approve", "reject", "reject_with_reason", "edit", "allow_session", "allow_always",
            "deny_session", "deny_always", "defer"})),
        ("Confirmation modal: editing", rows_from_bindings(app, confirm, only={
            "check_edit", "apply_edit", "edit_again", "back"})),
        ("User-input form", [KeyRow("enter", "Submit from a text field")]
         + rows_from_bindings(app, _normalise(UserInputModal.BINDINGS))),
        ("External result", rows_from_bindings(app, _normalise(ExternalResultModal.BINDINGS))),
    ]
    try:
        from .history_screen import HistoryScreen
    except ImportError:  # pragma: no cover - history is optional for help
        pass
    else:
        groups.append(("History", rows_from_bindings(app, _normalise(HistoryScreen.BINDINGS))))
    return groups


def key_table(rows: list[KeyRow]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=9)
    table.add_column(ratio=1)
    for row in rows:
        table.add_row(Text(row.keys), Text(row.description))
    return table


class HelpScreen(ModalScreen[None]):
    """Every key of the dashboard and the modals, and how decisions work. esc, q or ? closes."""

    CSS_PATH = stylesheet("help")
    AUTO_FOCUS = "#help-body"

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close", tooltip="Close the help"),
    ]

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        # The keys as they are *now*, before this screen covers the dashboard (once it is on top,
        # the app's check_action hides what does not apply over a modal).
        self._active: list[tuple[str, list[KeyRow]]] | None = None
        try:
            self._active = active_key_groups(self.app.screen)
        except Exception:  # built outside a running app: read them when mounted
            self._active = None

    def _screen_below(self) -> Screen[object] | None:
        stack = self.app.screen_stack
        below = [s for s in stack if s is not self]
        return below[-1] if below else None

    def _app_rows(self) -> list[KeyRow]:
        """Every shown app-wide key, even one that is disabled at this moment."""
        try:
            bindings = [binding for _key, binding in self.app._bindings]
        except Exception:  # pragma: no cover - private API moved: the active keys still show
            bindings = _normalise(type(self.app).BINDINGS)
        shown = [b for b in bindings if b.show and not b.system and b.description]
        return rows_from_bindings(self.app, shown)

    def compose(self) -> ComposeResult:
        groups: list[tuple[str, list[KeyRow]]] = []
        active = self._active
        if active is None:
            below = self._screen_below()
            active = active_key_groups(below) if below is not None else []
        groups.extend(active)
        everywhere = next((rows for title, rows in groups if title == EVERYWHERE), None)
        if everywhere is None:
            everywhere = []
            groups.append((EVERYWHERE, everywhere))
        for row in self._app_rows():
            if all(row.description != existing.description for existing in everywhere):
                everywhere.append(row)
        if not everywhere:
            groups.remove((EVERYWHERE, everywhere))
        groups.extend(modal_key_groups(self.app))
        with Vertical(id="help-dialog"):
            with VerticalScroll(id="help-body"):
                yield Static("Keys", classes="help-heading")
                for title, rows in groups:
                    yield Static(title, classes="help-group-title")
                    yield Static(key_table(rows), classes="help-keys")
                yield Static("How decisions work", classes="help-heading")
                yield Static(HOW_DECISIONS_WORK, classes="help-text", markup=False)
        yield Footer()

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
