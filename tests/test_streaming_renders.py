"""The dashboard streams a reply incrementally: it never re-renders the whole message per token.

A long reply is a chain of Markdown parts (tui/widgets/reply_stream.py): text is only ever
appended to the live tail, a finished part is never written again, and the parts joined are
exactly the reply, with fences, lists and quotes never cut apart.

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
from textual.widgets.markdown import MarkdownStream
from ui_support import WIDE, make_app, settle, type_text

from tui.agent.models import DemoModel
from tui.agent.models.base import ModelResponse
from tui.widgets.conversation import Conversation
from tui.widgets.reply_stream import ReplyStream, cut_point

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

    appended: list[tuple[Markdown, str]] = []
    counting(Markdown, "update", lambda widget, text="", *rest: updated.append((widget, text)))
    counting(Markdown, "append", lambda widget, text="", *rest: appended.append((widget, text)))
    counting(MarkdownStream, "write")
    counting(Conversation, "write")
    return {"calls": calls, "updated": updated, "appended": appended}


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


def long_document() -> str:
    """About 14,000 characters: paragraphs, lists, a quote, and a fenced block with blank lines."""
    parts = [long_reply()]
    for n in range(10):
        parts.append(f"## More {n}\n\n")
        parts.append(" ".join(WORDS * 3).capitalize() + ".\n\n")
        parts.append("```python\ndef f():\n\n    return 1\n\n\nPlain text inside the fence.\n```\n\n")
        parts.append("> quoted line one\n\n> quoted line two\n\n")
        parts.append("1. first\n\n2. second\n\n   continued under the second item\n\n")
        parts.append(" ".join(reversed(WORDS * 2)).capitalize() + ".\n\n")
    return "".join(parts).rstrip() + "\n"


LONG = long_document()


class LongerReply(DemoModel):
    def respond(self, messages: list[dict[str, Any]], tools: set[str]) -> ModelResponse:
        return ModelResponse(content=LONG, finish_reason="stop")


async def test_a_long_reply_grows_only_at_its_tail_and_finished_parts_are_never_written_again(counts: dict[str, Any]) -> None:
    assert len(LONG) > 4 * ReplyStream.PART_CHARS
    app = make_app(model=LongerReply(delay=0))
    async with app.run_test(size=WIDE) as pilot:
        await type_text(pilot, "write the long report")
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.agent.run_response.status == "completed"
        parts = [m for m in app.dashboard.conversation.query(Markdown) if m.has_class("reply")]
        # the whole reply is on screen, exactly as the model said it, in several parts
        assert "".join(m.source for m in parts) == LONG
        assert len(parts) >= 4

    appended = counts["appended"]
    # Every character reached the screen once, by appending: nothing was sent twice.
    assert sum(len(text) for widget, text in appended if widget in parts) == len(LONG)
    # Appends went to one part after another: once the next part started, the earlier one was done.
    order = [parts.index(widget) for widget, _ in appended if widget in parts]
    assert order == sorted(order), "a finished part was written again"
    # The live part stays small: a part ends at a cut point soon after PART_CHARS (within two
    # gaps between the reply's cut points: a boundary split between two flushes may be passed over).
    cuts, position = [0], 0
    while (position := cut_point("", LONG, position + 1) or 0) > 0:
        cuts.append(position)
    widest_gap = max(b - a for a, b in zip(cuts, cuts[1:] + [len(LONG)]))
    assert max(len(m.source) for m in parts) <= ReplyStream.PART_CHARS + 2 * widest_gap
    # Full re-renders: none per token (at most the initial empty document of each part).
    assert counts["calls"]["Markdown.update"] <= len(parts)
    # A cut never falls inside a fenced block, a list or a quote: each part is whole Markdown.
    for m in parts:
        assert m.source.count("```") % 2 == 0, m.source[:80]
        assert not m.source.lstrip("\n").startswith((" ", ">", "1.", "2.", "-", "```")), m.source[:40]


def test_cut_points_respect_fences_lists_quotes_and_half_arrived_lines() -> None:
    assert cut_point("", "A paragraph.\n\nNext paragraph.") == len("A paragraph.\n\n")
    assert cut_point("", "```\ncode\n\nmore code\n") is None  # inside the fence
    assert cut_point("```\ncode\n", "\nstill code\n") is None  # the fence opened in the part so far
    assert cut_point("", "Text.\n\n- item") is None  # a list item could be a loose list's next item
    assert cut_point("", "Text.\n\n> quote") is None
    assert cut_point("", "Text.\n\n    indented") is None  # could continue a list item
    assert cut_point("", "Text.\n\n## Heading") is None
    assert cut_point("", "Text.\n\n1") is None  # "1" may become "1. item": wait for more
    assert cut_point("", "One.\n\nTwo.\n\nThree.", start=8) == len("One.\n\nTwo.\n\n")


def test_a_reply_replayed_from_history_is_cut_like_a_streamed_one() -> None:
    from tui.widgets.reply_stream import split_reply

    parts = split_reply(LONG, ReplyStream.PART_CHARS)
    assert "".join(parts) == LONG and len(parts) >= 4
    assert all(p.count("```") % 2 == 0 for p in parts)
    assert split_reply("short", ReplyStream.PART_CHARS) == ["short"]
