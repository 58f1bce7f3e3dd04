"""The conversation: the user's prompts and the model's replies, streamed as Markdown.

Replies are streamed with `Markdown.get_stream` into an anchored scroll, so the view follows the
text until the user scrolls up. Model text is untrusted: control characters are made visible before
it reaches the Markdown parser, links are never opened by a click, and everything that is not
Markdown (prompts, errors, notes) is shown with `literal()`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import ClassVar, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Markdown, Static
from textual.widgets._markdown import MarkdownStream

from tui.agent.run import RunOutput, ToolExecution

from .literal import literal, visible_controls
from .prompt import PromptArea
from .queued_prompts import QueuedPrompts


class Conversation(Vertical):
    """Prompts, streamed replies, tool-call notes, errors; the prompt input at the bottom."""

    #: Seconds between hand-overs of streamed text to the Markdown parser.
    FLUSH_INTERVAL: ClassVar[float] = 0.05

    class PromptSubmitted(Message):
        """The user pressed enter on a non-empty prompt."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(
        self,
        *,
        examples: Sequence[str] = (),
        intro: str = "Type a prompt below and press enter.",
        cursor_blink: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.examples = list(examples)
        self.intro = intro
        self.cursor_blink = cursor_blink
        self._stream: MarkdownStream | None = None
        self._reply: Markdown | None = None
        self._pending: list[str] = []
        self._flush_timer: Timer | None = None
        self._last_flush = 0.0
        self._noted_tools: set[tuple[str, str]] = set()

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="conversation-log"):
            yield Static(self._empty_text(), classes="empty-state", id="conversation-empty")
        yield QueuedPrompts(id="queued-prompts")
        yield PromptArea(
            examples=self.examples,
            placeholder="Ask the agent… (ctrl+j: new line, ↑: recall)",
            id="prompt",
        )

    def on_mount(self) -> None:
        self.query_one(PromptArea).cursor_blink = self.cursor_blink
        self.log_view.anchor()

    def _empty_text(self) -> Text:
        text = Text(self.intro, style="bold")
        if self.examples:
            text.append("\n\nTry one of these (↑ in the prompt fills them in):\n", style="")
            for example in self.examples:
                text.append("\n  › ", style="dim")
                text.append_text(literal(example))
        return text

    @property
    def log_view(self) -> VerticalScroll:
        return self.query_one("#conversation-log", VerticalScroll)

    @property
    def prompt(self) -> PromptArea:
        return self.query_one(PromptArea)

    @property
    def queued(self) -> QueuedPrompts:
        return self.query_one(QueuedPrompts)

    # ------------------------------------------------------------------ input

    @on(PromptArea.Submitted, "#prompt")
    def _submitted(self, event: PromptArea.Submitted) -> None:
        event.stop()
        self.post_message(self.PromptSubmitted(event.text))

    def accept_prompt(self, text: str) -> None:
        """The dashboard took the prompt: clear the line and remember it for ↑."""
        self.prompt.remember(text)
        self.prompt.value = ""

    @on(Markdown.LinkClicked)
    def _link_clicked(self, event: Markdown.LinkClicked) -> None:
        # A model can write any link; opening one is never done on a click inside a reply.
        event.stop()
        self.app.notify(f"Link (not opened): {visible_controls(event.href)}", markup=False, title="Link")

    # ------------------------------------------------------------------ blocks

    def _mount(self, widget) -> None:
        if not self.log_view.is_attached:
            return  # the app is closing (a quit while a run works): there is nowhere to show it
        self.query("#conversation-empty").remove()
        self.log_view.mount(widget)  # the log is anchored: it follows new blocks unless scrolled up

    def add_user_prompt(self, text: str) -> None:
        self._mount(Static(literal(text), classes="user-message"))

    async def write(self, chunk: str) -> None:
        """Append model text to the current reply (a new reply block if none is open).

        Deltas are handed to the Markdown stream at most every FLUSH_INTERVAL seconds (a timer
        flushes the tail), so a fast model costs a few parses per second, not one per token.
        """
        if not chunk:
            return
        if self._stream is None:
            if not self.log_view.is_attached:
                return
            self._reply = Markdown(open_links=False, classes="reply")
            self.query("#conversation-empty").remove()
            await self.log_view.mount(self._reply)
            self._stream = Markdown.get_stream(self._reply)
            self._last_flush = 0.0
        self._pending.append(visible_controls(chunk))
        if time.monotonic() - self._last_flush >= self.FLUSH_INTERVAL:
            await self._flush()
        elif self._flush_timer is None:
            self._flush_timer = self.set_timer(self.FLUSH_INTERVAL, self._flush)
        await asyncio.sleep(0)  # let keys and frames through between deltas

    async def _flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        if self._pending and self._stream is not None:
            text = "".join(self._pending)
            self._pending.clear()
            self._last_flush = time.monotonic()
            await self._stream.write(text)

    async def end_reply(self) -> None:
        """Close the open reply, if any; the next text starts a new block."""
        await self._flush()
        stream, reply = self._stream, self._reply
        self._stream, self._reply = None, None
        if stream is not None:
            await stream.stop()
        if reply is not None and reply.children:
            # Marked once at the end: an order-dependent selector (:last-child) would restyle every
            # block of the reply on each mount while it streams.
            reply.children[-1].add_class("-last-block")

    def add_reply(self, text: str) -> None:
        """A whole reply at once (a run restored from history)."""
        if text:
            self._mount(Markdown(visible_controls(text), open_links=False, classes="reply"))

    def add_tool_call(self, run_id: str, tool: ToolExecution) -> None:
        """One line per call, so the conversation reads in order; the tool log has the details."""
        key = (run_id, tool.tool_call_id)
        if key in self._noted_tools:
            return
        self._noted_tools.add(key)
        try:
            args = json.dumps(tool.tool_args or {}, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            args = repr(tool.tool_args)
        if len(args) > 160:
            args = args[:159] + "…"
        text = Text.assemble(("⚙ ", "bold"), literal(tool.tool_name, "bold"), " ", literal(args, "dim"))
        self._mount(Static(text, classes="tool-note"))

    def add_error(self, message: str, *, title: str = "The run stopped") -> None:
        block = Static(literal(message), classes="error-message")
        block.border_title = title
        self._mount(block)

    def add_note(self, message: str, *, kind: str = "info") -> None:
        self._mount(Static(literal(message), classes=f"note -{kind}"))

    def show_run(self, run: RunOutput) -> None:
        """Replay a stored run read-only: its prompt, the replies and tool calls so far."""
        if run.input:
            self.add_user_prompt(run.input)
        tools = {t.tool_call_id: t for t in run.tools}
        for message in run.messages:
            if message.role == "assistant":
                if message.content:
                    self.add_reply(message.content)
                for call in message.tool_calls or []:
                    tool = tools.get(call.get("id", ""))
                    if tool is not None:
                        self.add_tool_call(run.run_id, tool)

    async def clear(self) -> None:
        await self.end_reply()
        self._noted_tools.clear()
        await self.log_view.remove_children()
        await self.log_view.mount(Static(self._empty_text(), classes="empty-state", id="conversation-empty"))


if __name__ == "__main__":
    from textual.app import App

    class _Demo(App):
        def compose(self) -> ComposeResult:
            yield Conversation(examples=["Fetch the top 2 hackernews stories"])

        async def on_conversation_prompt_submitted(self, message: Conversation.PromptSubmitted) -> None:
            conversation = self.query_one(Conversation)
            conversation.accept_prompt(message.text)
            conversation.add_user_prompt(message.text)
            for word in "You said: **".split() + [message.text, "** — and `[@click=app.quit]` stays text.\x1b[31m"]:
                await conversation.write(word + " ")
            await conversation.end_reply()

    _Demo().run()
