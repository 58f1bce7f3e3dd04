"""The prompt: a few lines of text for the agent. enter sends; shift+enter, ctrl+j or alt+enter add a line.

A `TextArea` rather than an `Input`, so a prompt can hold a pasted paragraph or a list. Terminals
report shift+enter only with the kitty keyboard protocol, so ctrl+j (the newline character itself,
which every terminal sends) and alt+enter add a line too. ↑ on the first line and ↓ on the last
walk through earlier prompts, then the example prompts; elsewhere they move the cursor.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea


class PromptArea(TextArea):
    """Multi-line prompt entry with recall of earlier prompts."""

    DEFAULT_CSS = """
    PromptArea {
        height: auto;
        min-height: 3;
        max-height: 10;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Send", show=False, id="prompt.send", tooltip="Send the prompt (queued while the agent works)"),
        Binding(
            "shift+enter,ctrl+j,alt+enter",
            "newline",
            "New line",
            show=False,
            id="prompt.newline",
            tooltip="Start a new line in the prompt",
        ),
        Binding("up", "recall(-1)", "Earlier prompt", show=False, id="prompt.earlier", tooltip="On the first line: the previous prompt (then the examples)"),
        Binding("down", "recall(1)", "Later prompt", show=False, id="prompt.later", tooltip="On the last line: the next prompt"),
    ]

    class Submitted(Message):
        """The user pressed enter on a prompt that is not blank."""

        def __init__(self, prompt: "PromptArea", text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

        @property
        def control(self) -> "PromptArea":
            return self.prompt

    def __init__(self, *, examples: Sequence[str] = (), placeholder: str = "", id: str | None = None) -> None:
        super().__init__(
            id=id,
            placeholder=placeholder,
            soft_wrap=True,
            tab_behavior="focus",  # tab moves between panes, as everywhere else on the dashboard
            show_line_numbers=False,
            compact=False,
            highlight_cursor_line=False,
        )
        self._examples = list(examples)
        self._history: list[str] = []
        self._position: int | None = None

    # ------------------------------------------------------------------ the text

    @property
    def value(self) -> str:
        """The prompt's text (the name `Input` uses; kept for callers of the one-line prompt)."""
        return self.text

    @value.setter
    def value(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)

    def insert_text_at_cursor(self, text: str) -> None:
        """Type `text` where the cursor is (`Input`'s name: a dialog that opened mid-typing hands
        the keys it caught back to the prompt through this)."""
        self.insert(text)

    def remember(self, text: str) -> None:
        if not self._history or self._history[-1] != text:
            self._history.append(text)
        self._position = None

    @property
    def recall_list(self) -> list[str]:
        # Oldest first: the examples, then what the user typed; ↑ starts from the newest.
        return [e for e in self._examples if e not in self._history] + self._history

    # ------------------------------------------------------------------ keys

    async def _on_key(self, event: events.Key) -> None:
        # TextArea inserts a newline on enter before bindings are consulted: enter sends instead.
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
            return
        if event.key.startswith("alt+") and event.character is not None:
            # A terminal sends alt+1 as esc + "1": the key comes with the character "1", which
            # TextArea would type. It is a key for the app (the panes): send it on without the
            # character, so that only the bindings see it.
            event.stop()
            event.prevent_default()
            self.app.simulate_key(event.key)
            return
        await super()._on_key(event)

    def action_submit(self) -> None:
        text = self.text.strip()
        if text:
            self.post_message(self.Submitted(self, text))
            # Cleared now, not when the dashboard takes the prompt (two messages later): keys
            # typed right after enter belong to the next prompt and must not be wiped with it.
            self.value = ""

    def action_newline(self) -> None:
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)

    def action_recall(self, step: int) -> None:
        row, _ = self.cursor_location
        if step < 0 and row > 0:
            self.action_cursor_up()
            return
        if step > 0 and row < self.document.line_count - 1:
            self.action_cursor_down()
            return
        items = self.recall_list
        if not items:
            return
        if self._position is None:
            if step > 0:
                return
            position = len(items) - 1
        else:
            position = self._position + step
        if position >= len(items):
            self._position = None
            self.value = ""
            return
        self._position = max(0, position)
        self.value = items[self._position]


if __name__ == "__main__":
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class _Demo(App[None]):
        def compose(self) -> ComposeResult:
            yield Static(id="out")
            yield PromptArea(examples=["Fetch the top 2 hackernews stories"], placeholder="Type; enter sends, ctrl+j adds a line")

        def on_prompt_area_submitted(self, message: PromptArea.Submitted) -> None:
            self.query_one("#out", Static).update(message.text)
            message.prompt.remember(message.text)
            message.prompt.value = ""

    _Demo().run()
