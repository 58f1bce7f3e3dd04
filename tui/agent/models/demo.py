"""DemoModel: an offline, deterministic model that picks tools by rules over the prompt.

It is the default when no API is configured, so the dashboard works on a plane. It streams its
words with a configurable delay (zero in tests), summarises tool results, and acknowledges a
rejection and its reason.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, AsyncIterator, Callable

from .base import ModelChunk, ModelResponse, ToolCall

Rule = Callable[[str, set[str]], list[tuple[str, dict[str, Any]]] | None]


def _hn_rule(prompt: str, tools: set[str]) -> list[tuple[str, dict[str, Any]]] | None:
    m = re.search(r"top\s+(\d+)\s+hacker\s*news\s+stor", prompt, re.I)
    if m and "get_top_hackernews_stories" in tools:
        return [("get_top_hackernews_stories", {"num_stories": int(m.group(1))})]
    return None


def _email_rule(prompt: str, tools: set[str]) -> list[tuple[str, dict[str, Any]]] | None:
    m = re.search(
        r"send an email with the subject\s+['\"“](?P<subject>.*?)['\"”]\s+and the body\s+['\"“](?P<body>.*?)['\"”]",
        prompt,
        re.I | re.S,
    )
    if m and "send_email" in tools:
        return [("send_email", {"subject": m.group("subject"), "body": m.group("body")})]
    return None


def _write_file_rule(prompt: str, tools: set[str]) -> list[tuple[str, dict[str, Any]]] | None:
    m = re.search(
        r"write (?:a )?file (?:named |called )?['\"“]?(?P<path>[\w./-]+)['\"”]? (?:with|containing) ['\"“](?P<content>.*?)['\"”]",
        prompt,
        re.I | re.S,
    )
    if m and "write_file" in tools:
        return [("write_file", {"path": m.group("path"), "content": m.group("content")})]
    return None


def _call_rule(prompt: str, tools: set[str]) -> list[tuple[str, dict[str, Any]]] | None:
    """`call NAME {json}`: lets users try their own tools with the demo model."""
    m = re.search(r"\bcall\s+(?P<name>\w+)\s*(?P<args>\{.*\})?\s*$", prompt, re.I | re.S)
    if m and m.group("name") in tools:
        try:
            args = json.loads(m.group("args") or "{}")
        except json.JSONDecodeError:
            args = {}
        return [(m.group("name"), args if isinstance(args, dict) else {})]
    return None


DEFAULT_RULES: list[Rule] = [_hn_rule, _email_rule, _write_file_rule, _call_rule]


class DemoModel:
    """Offline and deterministic. `delay` is the pause between streamed words (seconds)."""

    def __init__(self, id: str = "demo", *, delay: float = 0.02, rules: list[Rule] | None = None) -> None:
        self.id = id
        self.delay = delay
        self.rules = list(rules) if rules is not None else list(DEFAULT_RULES)
        self._counter = 0

    def describe(self) -> str:
        return "demo model (offline)"

    async def astream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncIterator[ModelChunk]:
        response = self._respond(messages, {t["function"]["name"] for t in tools})
        if response.content:
            for word in re.findall(r"\S+\s*|\s+", response.content):
                if self.delay:
                    await asyncio.sleep(self.delay)
                yield ModelChunk(text=word)
        yield ModelChunk(response=response)

    # ------------------------------------------------------------------ rules

    def _respond(self, messages: list[dict[str, Any]], tools: set[str]) -> ModelResponse:
        last = messages[-1] if messages else {"role": "user", "content": ""}
        if last.get("role") == "tool":
            return ModelResponse(content=self._summarise(messages), finish_reason="stop")
        prompt = str(last.get("content") or "")
        calls: list[tuple[str, dict[str, Any]]] = []
        for rule in self.rules:
            found = rule(prompt, tools)
            if found:
                calls.extend(found)
                break
        if calls:
            tool_calls = []
            for name, args in calls:
                self._counter += 1
                tool_calls.append(ToolCall(id=f"demo_call_{self._counter}", name=name, arguments=json.dumps(args)))
            return ModelResponse(content="", tool_calls=tool_calls, finish_reason="tool_calls")
        return ModelResponse(content=self._guide(tools), finish_reason="stop")

    def _summarise(self, messages: list[dict[str, Any]]) -> str:
        results = []
        for m in reversed(messages):
            if m.get("role") != "tool":
                break
            results.append(m)
        results.reverse()
        parts = []
        for m in results:
            name = m.get("name") or "the tool"
            text = str(m.get("content") or "")
            if "declined to run" in text or "was not run" in text:
                reason = re.search(r"Reason given: (.*?)(?: Do not retry|$)", text, re.S)
                why = f" Your reason: “{reason.group(1).strip()}”." if reason else ""
                parts.append(f"Understood, I did not run `{name}`.{why} What would you like me to do instead?")
            elif text.startswith("Error"):
                parts.append(f"`{name}` failed: {text}")
            else:
                parts.append(f"Here is what `{name}` returned:\n\n{_preview(text)}")
        return "\n\n".join(parts) or "Done."

    @staticmethod
    def _guide(tools: set[str]) -> str:
        lines = ["I am the offline **demo model**: I pick tools by simple rules. Try one of these:", ""]
        if "get_top_hackernews_stories" in tools:
            lines.append("- `Fetch the top 2 hackernews stories` (asks for confirmation)")
        if "send_email" in tools:
            lines.append("- `Send an email with the subject 'Hello' and the body 'Hello, world!'` (asks for the address)")
        if "write_file" in tools:
            lines.append("- `Write a file named notes.txt with 'hello'` (asks for confirmation)")
        if tools:
            lines.append(f"- `call <tool> {{json args}}` for any tool: {', '.join(sorted(tools))}")
        else:
            lines.append("- (no tools are loaded)")
        lines += ["", "Set OPENAI_API_KEY or --base-url to talk to a real model."]
        return "\n".join(lines)


def _preview(text: str, limit: int = 1500) -> str:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return text if len(text) <= limit else text[:limit] + " …"
    if isinstance(data, list) and data and all(isinstance(d, dict) for d in data):
        rows = []
        for i, d in enumerate(data, 1):
            title = d.get("title") or d.get("name") or json.dumps(d)[:80]
            url = d.get("url")
            rows.append(f"{i}. {title}" + (f" ({url})" if url else ""))
        return "\n".join(rows)
    out = json.dumps(data, indent=2, ensure_ascii=False)
    return out if len(out) <= limit else out[:limit] + " …"
