"""The dashboard streams a reply incrementally: it never re-renders the whole message per token.

Counted at the Textual boundary, on the real dashboard (HitlApp, Pilot, the DemoModel at delay 0
saying a reply of a few hundred words): every `Markdown.update` (a full re-parse and re-mount of
a document) and every `Markdown.append` (an incremental parse of the tail). The wrappers only
count and then call the real methods. A per-token `update(whole_text_so_far)` would show up as
hundreds of updates and a quadratic number of characters re-rendered.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownStream
from ui_support import WIDE, make_app, settle, type_text

from tui.agent.models import DemoModel
from tui.agent.models.base import ModelResponse
from tui.widgets.conversation import Conversation

WORDS = (
    "the agent asks before it runs a gated tool and the person decides from the keyboard while "
    "the reply keeps streaming into the conversation pane"
).split()


def long_reply() -> str:
    """A few hundred words of Markdown: headings, paragraphs, a list, inline code and bold."""
    parts = []
    for section in range(1, 4):
        parts.append(f"## Part {section}\n\n")
        for paragraph in range(3):
            words = [WORDS[(section * 5 + paragraph * 3 + k) % len(WORDS)] for k in range(40)]
            words[3] = f"**{words[3]}**"
            words[9] = f"`{words[9]}`"
            parts.append(" ".join(words).capitalize() + ".\n\n")
        parts.append("".join(f"- step {k}: `{WORDS[k]}` then **{WORDS[k + 1]}**\n" for k in range(4)) + "\n")
    return "".join(parts).rstrip() + "\n"


REPLY = long_reply()
TOKENS = len(re.findall(r"\S+\s*|\s+", REPLY))  # DemoModel streams one word (with its spacing) per delta


class LongReply(DemoModel):
    def respond(self, messages: list[dict[str, Any]], tools: set[str]) -> ModelResponse:
        return ModelResponse(content=REPLY, finish_reason="stop")


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    calls: Counter[str] = Counter()
    updated: list[tuple[Markdown, str]] = []

    def counting(cls: type, name: str, record: Any = None) -> None:
        original = getattr(cls, name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls[f"{cls.__name__}.{name}"] += 1
            if record is not None:
                record(self, *args)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, wrapper)

    counting(Markdown, "update", lambda widget, text="", *rest: updated.append((widget, text)))
    counting(Markdown, "append")
    counting(MarkdownStream, "write")
    counting(Conversation, "write")
    return {"calls": calls, "updated": updated}


async def test_a_streamed_reply_is_appended_never_re_rendered_whole_per_token(counts: dict[str, Any]) -> None:
    assert 300 <= len(REPLY.split()) <= 600 and TOKENS > 300
    app = make_app(model=LongReply(delay=0))
    async with app.run_test(size=WIDE) as pilot:
        await type_text(pilot, "write the report")
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.agent.run_response.status == "completed"
        replies = [m for m in app.dashboard.conversation.query(Markdown) if m.has_class("reply")]
        # the whole reply is on screen, exactly as the model said it
        assert "".join(m.source for m in replies) == REPLY

    calls, updated = counts["calls"], counts["updated"]
    # The reply really was streamed: one delta per token reached the conversation.
    assert calls["Conversation.write"] == TOKENS
    # Full re-renders: at most one per reply widget (its initial, empty document), none per token.
    reply_updates = [text for widget, text in updated if widget in replies]
    assert len(reply_updates) <= len(replies), f"{len(reply_updates)} full Markdown updates for {TOKENS} tokens"
    assert calls["Markdown.update"] <= TOKENS // 50, calls
    # ...and never the growing message: everything re-rendered in full adds up to less than the reply.
    assert sum(len(text) for text in reply_updates) <= len(REPLY)
    # Incremental appends carry the text; they may batch tokens but never exceed one per token.
    assert 1 <= calls["Markdown.append"] <= TOKENS, calls
