"""The user-input modal: a form for the tool arguments that only the user may supply.

One widget per field, chosen by the field's type: a text or number Input (with Textual validators
for integers and numbers), a Switch for booleans, a Select for Literal / Enum choices. Values are
checked with the runtime's own `UserInputField.coerce`, so the form and the runtime agree on what
is valid. Invalid fields show their error under the field and the modal stays open.
"""

from __future__ import annotations

import enum
import json
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch

from tui.agent.decisions import Decision
from tui.agent.run import ToolExecution, UserInputField
from tui.paths import stylesheet
from tui.screens.decision_modal import DecisionModal
from tui.widgets.args_fields import ArgsFields, ScrollingDialog
from tui.widgets.args_view import display_json
from tui.widgets.error_line import ErrorLine
from tui.widgets.literal import literal
from tui.widgets.key_bar import KeyBar

_TYPE_HINTS = {
    "str": "text",
    "int": "whole number",
    "float": "number",
    "bool": "on / off",
    "list": "JSON list",
    "dict": "JSON object",
    "literal": "choose one",
    "enum": "choose one",
    "any": "any value",
}


def widget_kind(field: UserInputField) -> str:
    """Which widget a field gets: "select", "switch", "integer", "number" or "text"."""
    if field.choices:
        return "select"
    return {"bool": "switch", "int": "integer", "float": "number"}.get(field.type_name, "text")


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(getattr(value, "value", value))


class UserInputModal(DecisionModal):
    """Fill the user-owned fields of one tool call. Dismisses with Decision("input") or ("defer")."""

    CSS_PATH = stylesheet("modals")
    DECIDING = DecisionModal.DECIDING | {"submit"}

    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit", id="input.submit",
                tooltip="Check every field and send the values (enter in a text field does the same)"),
        Binding("escape", "defer", "Later", id="input.defer",
                tooltip="Close; the call stays pending in the approvals pane"),
    ]

    def __init__(
        self,
        tool: ToolExecution,
        *,
        arm_delay: float | None = None,
        position: tuple[int, int] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(tool, arm_delay=arm_delay, position=position, name=name, id=id, classes=classes)
        self.fields: list[UserInputField] = list(tool.user_input_schema or [])
        #: The value each field had when its error was shown: the error goes once the value changes.
        self._erroneous: dict[int, Any] = {}

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        tool = self.tool
        with ScrollingDialog(id="dialog", classes="decision-dialog") as dialog:
            dialog.border_title = self.dialog_title("Input needed")
            title = Text.assemble(literal(tool.tool_name, style="bold"), (" needs values only you may supply", "bold"))
            yield from self.header(title, "The model cannot fill these; what it sent for them was discarded.")
            with VerticalScroll(id="form"):
                if not self.fields:
                    yield Static("This tool has no fields to fill: ctrl+s sends an empty form.", classes="modal-hint")
                for index, field in enumerate(self.fields):
                    with Vertical(classes="field", id=f"field-{index}"):
                        yield Label(self._label(field), classes="field-label")
                        if field.description:
                            yield Static(literal(field.description), classes="field-help")
                        yield self._make_widget(index, field)
                        hint = self._suggestion_hint(field)
                        if hint:
                            yield Static(literal(hint), classes="field-help field-suggestion")
                        error = ErrorLine(id=f"error-{index}", classes="field-error")
                        yield error
                yield Label("The model proposed (read-only, for context)", classes="section-label")
                if tool.tool_args:
                    yield ArgsFields(tool.tool_args, id="context", classes="context-args")
                else:
                    yield Static("No other arguments.", id="context", classes="modal-hint")
            yield ErrorLine(id="form-error", classes="modal-error")
            yield from self.decline_panel()
            yield Static("enter in a text field or ctrl+s submits · ctrl+r declines · esc decides later", classes="modal-hint")
        yield KeyBar()  # the keys in one widget (tui/widgets/key_bar.py)

    def on_mount(self) -> None:
        super().on_mount()
        for index, field in enumerate(self.fields):
            if field.error:  # a previous submission was refused: say why, where
                self._show_field_error(index, field.error)

    def on_arm(self) -> None:
        first = next(iter(self.query(".field-input")), None)
        if first is not None:
            first.focus(scroll_visible=False)

    @staticmethod
    def _label(field: UserInputField) -> Text:
        return Text.assemble(
            literal(field.name, style="bold"),
            (f"  {_TYPE_HINTS.get(field.type_name, field.type_name)}", "italic"),
        )

    @staticmethod
    def _initial(field: UserInputField) -> Any:
        value = field.value if field.value is not None else field.suggested
        return value.value if isinstance(value, enum.Enum) else value

    @staticmethod
    def _suggestion_hint(field: UserInputField) -> str | None:
        if field.value is not None:
            return f"Prefilled with your previous value {display_json(field.value, indent=None)}."
        if field.suggested is not None:
            if isinstance(field.suggested, bool):
                return f"Prefilled with the suggested value: {'on' if field.suggested else 'off'}."
            shown = display_json(field.suggested, indent=None)
            return f"Prefilled with the suggested value {shown}: keep it or change it."
        if widget_kind(field) == "switch":
            return "No suggested value: the switch starts off."
        return None

    def _make_widget(self, index: int, field: UserInputField) -> Widget:
        kind = widget_kind(field)
        initial = self._initial(field)
        wid = f"input-{index}"
        if kind == "select":
            choices = list(field.choices or [])
            options = [(literal(_as_text(c)), c) for c in choices]
            value = initial if initial in choices else Select.NULL
            return Select(options, prompt="Choose…", value=value, id=wid, classes="field-input")
        if kind == "switch":
            return Switch(value=bool(initial), id=wid, classes="field-input", animate=False)
        placeholder = {"integer": "a whole number", "number": "a number"}.get(kind, "")
        if not placeholder:
            placeholder = "JSON" if field.type_name in ("list", "dict") else "type a value"
        return Input(
            value=_as_text(initial) if initial is not None else "",
            placeholder=placeholder,
            type="text",  # integer/number are checked as typed: letters are reported, not dropped
            id=wid,
            classes="field-input",
            select_on_focus=False,
        )

    # ------------------------------------------------------------------ values

    def _raw_value(self, index: int) -> Any:
        widget = self.query_one(f"#input-{index}")
        if isinstance(widget, Select):
            return None if widget.value is Select.NULL else widget.value
        if isinstance(widget, Switch):
            return widget.value
        assert isinstance(widget, Input)
        return widget.value

    def collect(self) -> tuple[dict[str, Any], dict[str, str]]:
        """(coerced values, errors by field name), using the runtime's own coercion."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for index, field in enumerate(self.fields):
            try:
                values[field.name] = field.coerce(self._raw_value(index))
            except Exception as exc:  # coerce raises ValueError; an odd field type must not crash the form
                errors[field.name] = str(exc) or type(exc).__name__
        return values, errors

    def show_errors(self, errors: dict[str, str]) -> None:
        """Show per-field errors (also used by the dashboard when `apply_decision` refuses values)."""
        first_bad: Widget | None = None
        for index, field in enumerate(self.fields):
            message = errors.get(field.name, "")
            self._show_field_error(index, message)
            if message and first_bad is None:
                first_bad = self.query_one(f"#input-{index}")
        form_error = self.query_one("#form-error", ErrorLine)
        if errors:
            n = len(errors)
            form_error.show(f"{n} field{'s' if n != 1 else ''} need{'s' if n == 1 else ''} fixing.")
        else:
            form_error.clear()
        if first_bad is not None:
            first_bad.focus()
            first_bad.scroll_visible()

    def _show_field_error(self, index: int, message: str) -> None:
        self.query_one(f"#error-{index}", ErrorLine).show(message)
        if message:
            self._erroneous[index] = self._raw_value(index)
        else:
            self._erroneous.pop(index, None)

    def action_submit(self) -> None:
        values, errors = self.collect()
        self.show_errors(errors)
        if not errors:
            self.dismiss(Decision("input", values=values))

    @on(Input.Submitted, ".field-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.armed:
            self.action_submit()

    @on(Input.Changed, ".field-input")
    @on(Switch.Changed, ".field-input")
    @on(Select.Changed, ".field-input")
    def _changed(self, event: Input.Changed | Switch.Changed | Select.Changed) -> None:
        widget_id = event.control.id or ""
        if not widget_id.startswith("input-"):
            return
        index = int(widget_id.removeprefix("input-"))
        field = self.fields[index]
        raw = self._raw_value(index)
        if widget_kind(field) in ("integer", "number") and isinstance(raw, str) and raw.strip():
            # A number field says at once what is wrong with what was typed (nothing is dropped).
            try:
                field.coerce(raw)
            except ValueError as exc:
                self._show_field_error(index, str(exc))
                return
            self._show_field_error(index, "")
            return
        if index in self._erroneous and raw != self._erroneous[index]:
            self._show_field_error(index, "")


if __name__ == "__main__":
    from typing import Literal

    from textual.app import App

    from tui.agent import tool

    @tool(requires_user_input=True, user_input_fields=["to", "priority", "urgent", "copies"])
    def send_email(subject: str, body: str, to: str, priority: Literal["low", "high"] = "low",
                   urgent: bool = False, copies: int = 1) -> str:
        """Send an email.

        Args:
            subject: The subject line.
            body: The message.
            to: The recipient's address.
            priority: How urgent the message is.
            urgent: Flag it as urgent.
            copies: How many copies to send.
        """
        return "sent"

    demo_tool = ToolExecution(
        tool_call_id="call_demo",
        tool_name="send_email",
        tool_args={"subject": "Hello", "body": "Hello, world!"},
        description=send_email.description,
        requires_user_input=True,
        user_input_schema=send_email.user_input_schema(),
    )

    class _Demo(App[None]):
        def on_mount(self) -> None:
            self.push_screen(UserInputModal(demo_tool), lambda d: self.exit(message=repr(d)))

    _Demo().run()
