"""The conversation: the user's prompts and the model's replies, streamed as Markdown.

Replies are streamed with `Markdown.append` into an anchored scroll, so the view follows the
text until the user scrolls up. A long reply is a chain of Markdown parts (`reply_stream.py`):
only the live tail is re-parsed and re-laid out, so keys stay prompt at any reply length.
Model text is untrusted: control characters are made visible before it reaches the Markdown
parser, links are never opened by a click, and everything that is not Markdown (prompts,
errors, notes) is shown with `literal()`.
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

from tui.agent.run import RunOutput, ToolExecution
from tui.agent.visible import cut_visible

from .literal import literal, visible_controls
from .outcome import outcome_line
from .prompt import PromptArea
from .queued_prompts import QueuedPrompts
from .reply_stream import ReplyPart, ReplyStream, split_reply


class Conversation(Vertical):
    """Prompts, streamed replies, tool-call notes, errors; the prompt input at the bottom."""

    #: Seconds between hand-overs of streamed text to the Markdown parser.
    FLUSH_INTERVAL: ClassVar[float] = 0.05
    #: Seconds new reply text waits after a key or click (see `write`).
    INPUT_HOLD: ClassVar[float] = 0.15
    #: The longest new reply text waits, held by input or by a dialog on top.
    MAX_HOLD: ClassVar[float] = 1.0

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
        self._reply: ReplyStream | None = None
        self._pending: list[str] = []
        self._flush_timer: Timer | None = None
        self._last_flush = 0.0
        self._hold_until = 0.0
        self._arranging = False
        self._arranged_width = 0
        #: When the oldest text not yet handed over arrived.
        self._pending_since = 0.0
        #: The clock for flushing and holding (tests inject one).
        self._clock = time.monotonic
        self._noted_tools: set[tuple[str, str]] = set()
        #: The one-line note of each call, updated in place as the call is decided and run.
        self._tool_lines: dict[tuple[str, str], Static] = {}
        #: The "Waiting for your decision" note of each paused run; it becomes the outcome.
        self._waiting_notes: dict[str, Static] = {}

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
        self.watch(self.log_view, "scroll_y", self._view_moved, init=False)

    # ------------------------------------------------------------------ what is far from the view

    #: Finished reply parts more than this many screen heights above or below the view hide their
    #: blocks (ReplyPart.collapse): they are laid out as one fixed-height box.
    VIEW_MARGIN: ClassVar[float] = 1.5

    def _view_moved(self, *_: object) -> None:
        if not self._arranging:
            self._arranging = True
            self.call_after_refresh(self._arrange_far_parts)

    def _arrange_far_parts(self) -> None:
        self._arranging = False
        log = self.log_view
        if not log.is_attached or not log.size.height:
            return
        height = log.size.height
        top = log.scroll_y - self.VIEW_MARGIN * height
        bottom = log.scroll_y + (1 + self.VIEW_MARGIN) * height
        for part in log.children:
            if not isinstance(part, ReplyPart) or not part.finished:
                continue
            region = part.virtual_region
            if region.bottom < top or region.y > bottom:
                part.collapse()
            else:
                part.expand()

    def on_resize(self, event) -> None:
        if event.size.width != self._arranged_width:
            # Collapsed heights were measured at the old width: measure everything again.
            self._arranged_width = event.size.width
            for part in self.log_view.query(ReplyPart):
                part.expand()
        self._view_moved()

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
        """The dashboard took the prompt: remember it for ↑, and clear the line if it still holds it.

        The prompt clears itself on enter; what is there now was typed after, for the next prompt.
        """
        self.prompt.remember(text)
        if self.prompt.text.strip() == text:
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

        Deltas are handed to the Markdown parser at most every FLUSH_INTERVAL seconds (a timer
        flushes the tail), so a fast model costs a few parses per second, not one per token.
        Input comes first: for INPUT_HOLD seconds after a key or click, and while another screen
        (a dialog) covers the conversation, the text waits, so the frame that shows the key's
        effect, or the dialog, does not also lay out new reply text; it still reaches the screen
        at least every MAX_HOLD seconds, and all of it when the reply ends.
        """
        if not chunk:
            return
        if self._reply is None:
            if not self.log_view.is_attached:
                return  # the app is closing: there is nowhere to show it
            self.query("#conversation-empty").remove()
            self._reply = ReplyStream(self._mount_part)
            self._last_flush = 0.0
        if not self._pending:
            self._pending_since = self._clock()
        self._pending.append(visible_controls(chunk))
        wait = self._flush_wait()
        if wait <= 0:
            await self._flush()
        elif self._flush_timer is None:
            self._flush_timer = self.set_timer(wait, self._flush_when_due)
        await asyncio.sleep(0)  # let keys and frames through between deltas

    def hold_for_input(self) -> None:
        """A key or click arrived: new reply text waits INPUT_HOLD seconds (see `write`)."""
        self._hold_until = self._clock() + self.INPUT_HOLD

    def _flush_wait(self) -> float:
        """Seconds until pending text may be handed over (0: now)."""
        now = self._clock()
        wait = self.FLUSH_INTERVAL - (now - self._last_flush)
        held = max(self._hold_until - now, 0.0)
        if self.is_attached and self.app.screen is not self.screen:
            held = max(held, self.MAX_HOLD)  # a dialog covers the reply
        if held > 0:
            waited = now - self._pending_since  # the oldest pending text waits at most MAX_HOLD
            wait = max(wait, min(held, self.MAX_HOLD - waited))
        return max(wait, 0.0)

    async def _flush_when_due(self) -> None:
        self._flush_timer = None
        wait = self._flush_wait()
        if wait > 0:
            self._flush_timer = self.set_timer(wait, self._flush_when_due)
            return
        await self._flush()

    async def _flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        if self._pending and self._reply is not None:
            text = "".join(self._pending)
            self._pending.clear()
            self._last_flush = self._clock()
            await self._reply.write(text)
            self._view_moved()

    async def _mount_part(self, part: Markdown) -> None:
        await self.log_view.mount(part)  # anchored: the view follows the reply unless scrolled up

    async def end_reply(self) -> None:
        """Close the open reply, if any; the next text starts a new block."""
        await self._flush()
        reply, self._reply = self._reply, None
        if reply is not None:
            await reply.stop()

    def add_reply(self, text: str) -> None:
        """A whole reply at once (a run restored from history)."""
        if text:
            # Cut as a streamed reply is cut, so a long one lays out as fast (reply_stream.py).
            for n, part in enumerate(split_reply(visible_controls(text), ReplyStream.PART_CHARS)):
                self._mount(ReplyPart(part, open_links=False, classes="reply -continued" if n else "reply", finished=True))

    def add_tool_call(self, run_id: str, tool: ToolExecution) -> None:
        """One line per call, so the conversation reads in order; the tool log has the details."""
        key = (run_id, tool.tool_call_id)
        if key in self._noted_tools:
            self.update_tool_call(run_id, tool)
            return
        self._noted_tools.add(key)
        line = Static(self._tool_line(tool), classes="tool-note")
        self._tool_lines[key] = line
        self._mount(line)

    def update_tool_call(self, run_id: str, tool: ToolExecution) -> None:
        """Show where the call stands now: approved by you, edited to ..., denied by rule X, done."""
        line = self._tool_lines.get((run_id, tool.tool_call_id))
        if line is not None:
            line.update(self._tool_line(tool))

    @staticmethod
    def _tool_line(tool: ToolExecution) -> Text:
        """`⚙ name {proposed args}  — outcome`: the model's proposal, then what became of it."""
        shown = tool.proposed_args if tool.proposed_args is not None else tool.tool_args
        try:
            args = json.dumps(shown or {}, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            args = repr(shown)
        args = cut_visible(visible_controls(args), 160)  # markers first: the cut never splits one
        text = Text.assemble(("⚙ ", "bold"), literal(tool.tool_name, "bold"), " ", literal(args, "dim"))
        outcome = outcome_line(tool)
        if outcome:
            text.append("  — ", style="dim")
            text.append_text(literal(outcome, "italic"))
        return text

    def add_waiting_note(self, run_id: str, names: str) -> None:
        """"⏸ Waiting for your decision: X"; `resolve_waiting_note` turns it into the outcome."""
        note = Static(literal(f"⏸ Waiting for your decision: {names}"), classes="note -paused")
        self._waiting_notes[run_id] = note
        self._mount(note)

    def resolve_waiting_note(self, run_id: str, outcome: str) -> None:
        """The run's waiting note now says what was decided (it no longer claims anything waits)."""
        note = self._waiting_notes.pop(run_id, None)
        if note is not None:
            note.update(literal(outcome))
            note.remove_class("-paused")
            note.add_class("-decided")

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
        self._tool_lines.clear()
        self._waiting_notes.clear()
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
