"""The external-execution modal: the user runs the call themselves and types in its result.

The tool is never run by hitl-tui. The modal shows exactly what to run (tool and arguments, shown
literally) and takes the result as free text, which is sent to the model as the tool's output.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Static, TextArea

from tui.agent.decisions import Decision
from tui.agent.preview import Preview
from tui.agent.run import ToolExecution
from tui.paths import stylesheet
from tui.screens.decision_modal import DecisionModal
from tui.widgets.args_fields import ArgsFields, ScrollingDialog
from tui.widgets.error_line import ErrorLine
from tui.widgets.literal import literal
from tui.widgets.key_bar import KeyBar

EMPTY_RESULT = "Type the result of running the tool: it is sent to the model. (esc decides later.)"


class ExternalResultModal(DecisionModal):
    """Enter the result of a call the user executed. Dismisses with Decision("result") or ("defer")."""

    CSS_PATH = stylesheet("modals")
    DECIDING = DecisionModal.DECIDING | {"submit"}

    BINDINGS = [
        Binding("ctrl+s", "submit", "Send result", id="external.submit",
                tooltip="Send the text as the tool's result to the model"),
        Binding("ctrl+o", "copy_command", "Copy command", id="external.copy",
                tooltip="Copy the command to the clipboard, exactly as shown"),
        Binding("escape", "defer", "Later", id="external.defer",
                tooltip="Close; the call stays pending in the approvals pane"),
    ]

    def __init__(
        self,
        tool: ToolExecution,
        *,
        preview: Preview | None = None,
        arm_delay: float | None = None,
        position: tuple[int, int] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(tool, arm_delay=arm_delay, position=position, name=name, id=id, classes=classes)
        #: What to run, e.g. `$ ls -la` for run_shell_command (from the tool's preview).
        self.preview = preview

    def compose(self) -> ComposeResult:
        tool = self.tool
        with ScrollingDialog(id="dialog", classes="decision-dialog") as dialog:
            dialog.border_title = self.dialog_title("Run it yourself")
            title = Text.assemble(("Run ", "bold"), literal(tool.tool_name, style="bold"), (" and paste its result", "bold"))
            yield from self.header(title, "hitl-tui never runs this tool: you run the call below, then type its result.")
            yield Label("The call", classes="section-label")
            yield ArgsFields(tool.tool_args, preview=self.preview, id="args")
            yield Label("Result (sent to the model as the tool's output)", classes="section-label")
            yield TextArea(tool.result or "", id="result", soft_wrap=True, placeholder="paste or type the result")
            yield ErrorLine(id="result-error", classes="modal-error")
            yield from self.decline_panel()
            copy = " · ctrl+o copies the command" if self.preview is not None and self.preview.copy else ""
            yield Static(f"ctrl+s sends the result · ctrl+r declines{copy} · esc decides later", classes="modal-hint")
        yield KeyBar()  # the keys in one widget (tui/widgets/key_bar.py)

    def on_arm(self) -> None:
        self.query_one("#result", TextArea).focus(scroll_visible=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_command":
            return self.preview is not None and self.preview.copy is not None
        return super().check_action(action, parameters)

    def action_copy_command(self) -> None:
        if self.preview is None or self.preview.copy is None:
            return
        self.app.copy_to_clipboard(self.preview.copy)
        self.notify("Copied the command to the clipboard (where the terminal allows it).", timeout=3)

    def action_submit(self) -> None:
        text = self.query_one("#result", TextArea).text
        if not text.strip():
            self.query_one("#result-error", ErrorLine).show(EMPTY_RESULT)
            self.query_one("#result", TextArea).focus()
            return
        self.dismiss(Decision("result", result=text))

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        error = self.query_one("#result-error", ErrorLine)
        if error.message and event.text_area.text.strip():
            error.clear()


if __name__ == "__main__":
    from textual.app import App

    demo_tool = ToolExecution(
        tool_call_id="call_demo",
        tool_name="run_shell_command",
        tool_args={"command": "ls -la /tmp"},
        description="Run a shell command on your machine and report its output.",
        external_execution_required=True,
    )

    class _Demo(App[None]):
        def on_mount(self) -> None:
            self.push_screen(ExternalResultModal(demo_tool), lambda d: self.exit(message=repr(d)))

    _Demo().run()
