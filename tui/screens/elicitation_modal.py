"""An MCP server's question in the middle of a tool call (elicitation), as the user-input form.

The server's requested schema becomes the same typed fields a user-input tool has (text, number,
switch, select for enums), checked with the same coercion and then the schema's own limits. The
user answers (ctrl+s), declines (ctrl+r: "no, I will not answer") or cancels (esc: "not now");
the server is told which, and the answer is recorded in the run's ledger by `MCPTools`.
"""

from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widget import Widget

from tui.agent.decisions import Decision
from tui.agent.mcp import ElicitationRequest, ElicitationResponse, validate_content
from tui.paths import stylesheet
from tui.screens.user_input_modal import UserInputModal


class ElicitationModal(UserInputModal):
    """Dismisses with Decision("input", values) to answer, ("reject") to decline, ("defer") to cancel."""

    CSS_PATH = stylesheet("modals")

    BINDINGS = [
        Binding("ctrl+s", "submit", "Answer", id="elicitation.answer",
                tooltip="Check every field and send the answer to the server"),
        Binding("ctrl+r", "decline", "Decline", id="elicitation.decline",
                tooltip="Tell the server you will not answer (the tool goes on without it)"),
        Binding("escape", "cancel", "Cancel", id="elicitation.cancel",
                tooltip="Dismiss the question without answering (the server is told it was cancelled)"),
    ]

    def __init__(self, request: ElicitationRequest, *, id: str | None = None) -> None:
        super().__init__(request.as_tool_execution(), id=id)
        self.request = request
        self.required = request.required

    def header(self, title: Text, why: str) -> Iterable[Widget]:
        """The shared header, about the server's question instead of a tool's fields."""
        request = self.request
        during = f" asks, during {request.tool_name}:" if request.tool_name else " asks:"
        yield from super().header(
            Text(f"The MCP server {request.server!r}{during}", style="bold"),
            "Answer only what you are willing to share with this server.",
        )

    def on_key(self, event: events.Key) -> None:
        """Keys typed before the form is armed are swallowed: a question cannot wait in the
        approvals pane like a paused call (the server is waiting), so typing must not dismiss it."""
        if not self.armed and event.is_printable and event.character:
            event.stop()
            event.prevent_default()

    def on_mount(self) -> None:
        super().on_mount()
        # The form's own legend speaks of deciding later; here the keys answer, decline or cancel.
        legend = " · ".join(
            f"{self.app.get_key_display(b)} {b.description.lower()}" for b in self.BINDINGS if isinstance(b, Binding)
        )
        hints = list(self.query(".modal-hint"))
        if hints:
            hints[-1].update(legend)  # type: ignore[attr-defined]

    def _label(self, field: Any) -> Text:  # type: ignore[override]
        label = super()._label(field)
        if field.name not in self.required:
            label.append("  optional", style="dim")
        return label

    def collect(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The answer checked as the server asked: types, choices, required fields, then the schema's limits."""
        raw = {field.name: self._raw_value(index) for index, field in enumerate(self.fields)}
        return validate_content(self.request.requested_schema, raw)

    def action_decline(self) -> None:
        self.dismiss(Decision("reject"))

    def action_cancel(self) -> None:
        self.dismiss(Decision("defer"))


def response_for(decision: Decision | None) -> ElicitationResponse:
    """The answer to send for what the user did in the modal."""
    if decision is not None and decision.action == "input":
        return ElicitationResponse("accept", dict(decision.values or {}), by="user")
    if decision is not None and decision.action == "reject":
        return ElicitationResponse("decline", by="user")
    return ElicitationResponse("cancel", by="user")


if __name__ == "__main__":
    from textual.app import App

    demo = ElicitationRequest(
        server="shop",
        message="How should the hat be shipped?",
        requested_schema={
            "type": "object",
            "properties": {
                "speed": {"type": "string", "enum": ["standard", "express"], "description": "How fast"},
                "copies": {"type": "integer", "minimum": 1, "maximum": 10},
                "gift": {"type": "boolean", "default": False},
            },
            "required": ["speed", "copies"],
        },
        tool_name="shop_order",
    )

    class _Demo(App[None]):
        def on_mount(self) -> None:
            self.push_screen(ElicitationModal(demo), lambda d: self.exit(message=repr(response_for(d))))

    _Demo().run()
