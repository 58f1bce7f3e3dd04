"""The confirmation modal: approve, reject (with a reason), edit, or remember a decision for a tool.

The modal only *produces* a `Decision`; the dashboard applies it with `apply_decision`, so the
runtime's rules live in one place. Everything the model wrote (tool name, description, arguments)
is shown literally through `tui.widgets.literal`, never as markup.

Keys follow Toad's approval conventions: lower case decides once or for the session, upper case
decides always (`a` / `A`, `d` / `D`).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Input, Label, Static, TextArea
from textual.widgets.text_area import LanguageDoesNotExist

from tui.agent.decisions import Decision
from tui.agent.preview import Preview
from tui.agent.run import ToolExecution
from tui.paths import stylesheet
from tui.screens.decision_modal import DecisionModal
from tui.widgets.args_diff import diff_args, render_diff, summary
from tui.widgets.args_fields import ArgsFields, ScrollingDialog
from tui.widgets.args_view import edit_json
from tui.widgets.error_line import ErrorLine
from tui.widgets.literal import literal
from tui.widgets.key_bar import KeyBar

Mode = Literal["decide", "reason", "edit", "review"]

_ALLOW = Binding.Group("Allow tool")
_DENY = Binding.Group("Deny tool")

#: Which actions each mode offers (check_action hides the rest from the footer and the keys).
_MODE_ACTIONS: dict[str, set[str]] = {
    "decide": {"approve", "reject", "reject_with_reason", "edit", "allow_run", "allow_session", "allow_always",
               "deny_session", "deny_always", "defer"},
    "reason": {"send_reason", "back"},
    "edit": {"check_edit", "reset_edit", "back"},
    "review": {"apply_edit", "edit_again", "back"},
}


def json_editor(text: str, *, id: str | None = None, read_only: bool = False) -> TextArea:
    """A TextArea for JSON; highlighted when tree-sitter's JSON grammar is installed, plain otherwise."""
    options = dict(id=id, read_only=read_only, show_line_numbers=True, tab_behavior="focus", soft_wrap=True)
    try:
        return TextArea(text, language="json", **options)  # type: ignore[arg-type]
    except LanguageDoesNotExist:  # tree-sitter without the JSON grammar: plain text is fine
        return TextArea(text, language=None, **options)  # type: ignore[arg-type]


KEY_LEGEND = (
    "y approve · n reject · r reject with a reason · e edit the arguments · "
    "t / a / A allow this tool for this run / the session / always · d / D deny it for the session / always · "
    "esc decide later"
)


def why_it_asks(tool: ToolExecution) -> str:
    reason = {
        "confirmation": "This tool is marked as needing your confirmation: it runs only if you approve it.",
        "user_input": "This tool needs values that only you may supply.",
        "external": "This tool is executed by you, outside hitl-tui: you type in its result.",
    }.get(tool.kind, "This tool call waits for your decision.")
    if tool.approval_timeout:
        outcome = "approved" if tool.on_timeout == "approve" else "rejected"
        reason += f" Without a decision within {tool.approval_timeout:g} s it is {outcome}."
    return reason


#: Actions that run the call or widen what runs: they need every argument to have been seen.
_NEEDS_SEEN = {"approve", "allow_run", "allow_session", "allow_always"}


class ConfirmModal(DecisionModal):
    """Decide on one tool call that needs confirmation. Dismisses with a `Decision`.

    The arguments are shown as named fields. When they do not fit, approving (or allowing the
    tool more widely) needs their end to have been on screen: the first `y` scrolls to what is
    still unseen and says so, instead of approving.
    """

    CSS_PATH = stylesheet("modals")
    DECIDING = frozenset(set().union(*_MODE_ACTIONS.values()) - {"defer", "back"})

    BINDINGS = [
        # decide
        Binding("y", "approve", "Approve", id="confirm.approve", tooltip="Run the call once, as proposed"),
        Binding("n", "reject", "Reject", id="confirm.reject", tooltip="Do not run the call; the model is told"),
        Binding("r", "reject_with_reason", "Reason", id="confirm.reject_reason",
                tooltip="Do not run the call, and tell the model why"),
        Binding("e", "edit", "Edit", id="confirm.edit", tooltip="Edit the arguments, then approve"),
        Binding("t", "allow_run", "this run", id="confirm.allow_run", group=_ALLOW,
                tooltip="Approve, and allow this tool for the rest of this run"),
        Binding("a", "allow_session", "session", id="confirm.allow_session", group=_ALLOW,
                tooltip="Approve, and allow this tool for the rest of the session"),
        Binding("A", "allow_always", "always", id="confirm.allow_always", group=_ALLOW,
                tooltip="Approve, and always allow this tool (saved rule)"),
        Binding("d", "deny_session", "session", id="confirm.deny_session", group=_DENY,
                tooltip="Reject, and deny this tool for the rest of the session"),
        Binding("D", "deny_always", "always", id="confirm.deny_always", group=_DENY,
                tooltip="Reject, and always deny this tool (saved rule)"),
        Binding("escape", "defer", "Later", id="confirm.defer",
                tooltip="Close; the call stays pending in the approvals pane"),
        # reason
        # Not a priority binding: the reason Input submits it itself, after every key typed before
        # enter has reached it (a priority enter could overtake a fast typist's last characters).
        Binding("enter", "send_reason", "Reject with this reason", id="confirm.send_reason"),
        # edit
        Binding("ctrl+s", "check_edit", "Check edit", id="confirm.check_edit",
                tooltip="Validate the edited JSON and show what changes"),
        Binding("ctrl+r", "reset_edit", "Reset", id="confirm.reset_edit",
                tooltip="Throw the draft away: start again from the arguments the model proposed"),
        # review
        Binding("y", "apply_edit", "Approve edited", id="confirm.apply_edit",
                tooltip="Run the call once with the edited arguments"),
        Binding("e", "edit_again", "Edit again", id="confirm.edit_again"),
        # reason / edit / review
        Binding("escape", "back", "Back", id="confirm.back"),
    ]

    mode: reactive[Mode] = reactive("decide", init=False)

    def __init__(
        self,
        tool: ToolExecution,
        validate_edit: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        *,
        preview: Preview | None = None,
        arm_delay: float | None = None,
        position: tuple[int, int] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(tool, arm_delay=arm_delay, position=position, name=name, id=id, classes=classes)
        self.add_class("-mode-decide", update=False)  # set before mounting: no restyle when it mounts
        self.validate_edit = validate_edit
        self.preview = preview
        self.original_args: dict[str, Any] = dict(tool.tool_args)
        #: Validated edited arguments, set once an edit passed the check.
        self.edited_args: dict[str, Any] | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        tool = self.tool
        with ScrollingDialog(id="dialog", classes="decision-dialog") as dialog:
            dialog.border_title = self.dialog_title("Confirm tool call")
            title = Text.assemble(("Run ", "bold"), literal(tool.tool_name, style="bold"), ("?", "bold"))
            yield from self.header(title, why_it_asks(tool))
            count = len(self.original_args)
            yield Label(f"Arguments ({count})" if count else "Arguments", classes="section-label", id="args-label")
            yield ArgsFields(self.original_args, preview=self.preview, id="args")
            yield Static("", id="unseen", classes="modal-warning")
            yield Static(KEY_LEGEND, id="legend", classes="modal-hint")
            with Vertical(id="reason-panel", classes="panel"):
                yield Label("Why not? The model reads this and can try something else. enter rejects with it · esc goes back", classes="section-label")
                yield Input(placeholder="Reason for rejecting (enter sends, esc goes back)", id="reason")
            with Vertical(id="edit-panel", classes="panel"):
                yield Label(
                    "Edit the arguments (JSON). ctrl+s checks them · ctrl+r starts again from the proposed ones · "
                    "esc goes back (the draft is kept)",
                    classes="section-label",
                    id="edit-label",
                )
                yield json_editor(edit_json(self.original_args), id="editor")
                yield ErrorLine(id="edit-error", classes="modal-error")
            with Vertical(id="review-panel", classes="panel"):
                yield Label("Changes against the proposed call", classes="section-label", id="review-label")
                yield Static("", id="diff")
                yield Static(
                    "y approves the call with these arguments · e edits again · esc goes back",
                    classes="modal-hint",
                )
        yield KeyBar()  # the keys in one widget (tui/widgets/key_bar.py)

    def on_mount(self) -> None:
        super().on_mount()
        self._show_mode(self.mode)
        self.query_one("#unseen", Static).display = False

    def on_arm(self) -> None:
        if self.mode == "decide":
            self.query_one("#args", ArgsFields).focus(scroll_visible=False)

    # ------------------------------------------------------------------ modes

    def watch_mode(self, mode: Mode) -> None:
        self._show_mode(mode)
        self.refresh_bindings()

    def _show_mode(self, mode: Mode) -> None:
        for name in ("decide", "reason", "edit", "review"):
            self.set_class(name == mode, f"-mode-{name}")
        if mode == "decide":
            if self.armed:
                self.query_one("#args", ArgsFields).focus(scroll_visible=False)
        elif mode == "reason":
            self.query_one("#reason", Input).focus()
        elif mode == "edit":
            self.query_one("#editor", TextArea).focus()
        elif mode == "review":
            self.query_one("#diff", Static).scroll_visible()
            self.set_focus(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        owned = set().union(*_MODE_ACTIONS.values())
        if action in owned and action not in _MODE_ACTIONS[self.mode]:
            return False
        if action in ("decline", "send_decline"):
            return False  # n and r decline here
        return super().check_action(action, parameters)

    # ------------------------------------------------------------------ every argument seen

    def everything_seen(self) -> bool:
        """True once the end of the arguments (and of the dialog) has been on screen."""
        return self.query_one("#args", ArgsFields).seen_end and self.query_one("#dialog", ScrollingDialog).seen_end

    def _show_unseen(self) -> bool:
        """Scroll towards what is unseen and say so. False when everything was seen already."""
        args = self.query_one("#args", ArgsFields)
        dialog = self.query_one("#dialog", ScrollingDialog)
        notice = self.query_one("#unseen", Static)
        if not args.seen_end:
            target = min(args.max_scroll_y, args.scroll_y + max(1, args.scrollable_content_region.height - 1))
            args.scroll_to(y=target, animate=False)
            left = int(args.max_scroll_y - target)
            where = f"{left} more line{'s' if left != 1 else ''} below" if left else "this is their end"
            notice.update(f"⤓ Not approved yet: the arguments go on below. Scrolled down ({where}). Read, then press again.")
        elif not dialog.seen_end:
            dialog.scroll_end(animate=False)
            notice.update("⤓ Not approved yet: scrolled to the end of this dialog. Read, then press the key again.")
        else:
            notice.display = False
            return False
        notice.display = True
        return True

    def _decide_seen(self, decision: Decision) -> None:
        if self._show_unseen():
            return
        self.dismiss(decision)

    # ------------------------------------------------------------------ decide

    def action_approve(self) -> None:
        self._decide_seen(Decision("approve"))

    def action_reject(self) -> None:
        self.dismiss(Decision("reject"))

    def action_reject_with_reason(self) -> None:
        self.mode = "reason"

    def action_edit(self) -> None:
        self.query_one("#edit-error", ErrorLine).clear()
        self.mode = "edit"

    def action_allow_run(self) -> None:
        self._decide_seen(Decision("allow_run"))

    def action_allow_session(self) -> None:
        self._decide_seen(Decision("allow_session"))

    def action_allow_always(self) -> None:
        self._decide_seen(Decision("allow_always"))

    def action_deny_session(self) -> None:
        self.dismiss(Decision("deny_session"))

    def action_deny_always(self) -> None:
        self.dismiss(Decision("deny_always"))

    def action_back(self) -> None:
        if self.mode == "edit":
            draft = self.query_one("#editor", TextArea).text
            if draft != edit_json(self.original_args):
                self.notify("Your draft is kept for the next e; ctrl+r in the editor starts again.", timeout=4)
        self.mode = "edit" if self.mode == "review" else "decide"

    def action_reset_edit(self) -> None:
        """Start the edit again from the proposed arguments (a broken draft is not a dead end)."""
        editor = self.query_one("#editor", TextArea)
        editor.load_text(edit_json(self.original_args))
        self.query_one("#edit-error", ErrorLine).clear()
        self.edited_args = None
        editor.focus()

    # ------------------------------------------------------------------ reason

    def action_send_reason(self) -> None:
        note = self.query_one("#reason", Input).value.strip()
        self.dismiss(Decision("reject", note=note or None))

    @on(Input.Submitted, "#reason")
    def _reason_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.armed:
            self.action_send_reason()

    # ------------------------------------------------------------------ edit

    def action_check_edit(self) -> None:
        text = self.query_one("#editor", TextArea).text
        error = self.query_one("#edit-error", ErrorLine)
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            error.show(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).")
            return
        if not isinstance(parsed, dict):
            error.show(f"The arguments must be a JSON object {{...}}, not {type(parsed).__name__}.")
            return
        if self.validate_edit is not None:
            try:
                checked = self.validate_edit(parsed)
            except Exception as exc:  # ValueError from the schema; anything else is shown, never raised
                error.show(f"The tool does not accept these arguments: {exc}")
                return
            if isinstance(checked, dict):
                parsed = checked
        error.clear()
        self.edited_args = parsed
        changes = diff_args(self.original_args, parsed)
        self.query_one("#review-label", Label).update(f"Changes against the proposed call ({summary(changes)})")
        self.query_one("#diff", Static).update(render_diff(changes))
        self.mode = "review"

    def action_edit_again(self) -> None:
        self.mode = "edit"

    def action_apply_edit(self) -> None:
        if self.edited_args is None:  # pragma: no cover - review mode implies a checked edit
            self.mode = "edit"
            return
        if not diff_args(self.original_args, self.edited_args):
            self.dismiss(Decision("approve"))
        else:
            self.dismiss(Decision("edit", args=self.edited_args))


if __name__ == "__main__":
    from textual.app import App

    from tui.agent import Agent, tool
    from tui.agent.models import DemoModel

    @tool(requires_confirmation=True)
    def send_email(to: str, subject: str, body: str) -> str:
        """Send an email.

        Args:
            to: The recipient's address.
            subject: The subject line.
            body: The message.
        """
        return "sent"

    agent = Agent(model=DemoModel(delay=0), tools=[send_email])
    demo_tool = ToolExecution(
        tool_call_id="call_demo",
        tool_name="send_email",
        tool_args={"to": "ann@example.com", "subject": "[bold red]Hi[/]", "body": "Line 1\nLine 2 \x1b[31mred"},
        description=send_email.description,
        requires_confirmation=True,
    )

    class _Demo(App[None]):
        def on_mount(self) -> None:
            self.push_screen(
                ConfirmModal(demo_tool, lambda args: agent.validate_edit(demo_tool, args)),
                lambda d: self.exit(message=repr(d)),
            )

    _Demo().run()
