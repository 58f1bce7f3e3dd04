"""DemoModel: an offline, deterministic model that picks tools by rules over the prompt.

It is the default when no API is configured, so the dashboard works on a plane. It streams its
words with a configurable delay (zero in tests), and behaves like a small, honest assistant:

- every rule that matches the prompt becomes a tool call, and calls found together are made
  together, in one turn (parallel calls, each with its own decision). Parts joined by "then" are
  made one turn after the other;
- it summarises results, acknowledges a rejection and the reason given, reports errors plainly;
- anything else gets a short guide to what it can demonstrate with the tools it was offered.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Iterable

from .base import ModelChunk, ModelResponse, ToolCall


@dataclass(frozen=True)
class Found:
    """A tool call a rule found in the prompt, with where it was found (for ordering and overlap)."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    start: int = 0
    end: int = 0


#: A rule gets the prompt and the names of the tools on offer and returns the calls it found.
#: (Plain `(name, args)` tuples are accepted too, as found at the start of the prompt.)
Rule = Callable[[str, set[str]], Iterable[Found | tuple[str, dict[str, Any]]] | None]


# ----------------------------------------------------------------------------- prompt patterns

_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "a dozen": 12, "twenty": 20,
}
_NUM = r"(?P<n>\d+|" + "|".join(re.escape(w) for w in _NUMBERS) + ")"
#: Where a quoted value may end: the end of the prompt or of a clause.
_END = r"(?=\s*[.!?;,:]?\s*(?:$|(?:and|then|also|plus|after\s+that|afterwards)\b))"
_HN = r"(?:hacker\s*news|\bhn\b)"
_FLAGS = re.I | re.S


def _quoted(name: str) -> str:
    """A value in '', "", “”, ‘’ or ``; read it back with `_value(match, name)`."""
    # A closing quote is never followed by a letter, so "I can't come" keeps its apostrophe.
    return (
        rf"(?:'(?P<{name}1>.*?)'(?!\w)|\"(?P<{name}2>.*?)\"(?!\w)|“(?P<{name}3>.*?)”|‘(?P<{name}4>.*?)’(?!\w)|`(?P<{name}5>.*?)`(?!\w))"
    )


def _path(name: str, *, needs_extension: bool = False) -> str:
    bare = r"[\w~][\w./-]*\.\w+" if needs_extension else r"[\w~][\w./-]*\w"
    return rf"(?:{_quoted(name)}|(?P<{name}0>{bare}))"


def _value(m: re.Match[str], name: str) -> str | None:
    for i in range(6):
        key = f"{name}{i}"
        if key in m.re.groupindex and m.group(key) is not None:
            return m.group(key)
    return None


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBERS[text.lower()]


_HN_PATTERNS = [
    re.compile(rf"\b(?:top|best|latest|first)\s+{_NUM}\s+{_HN}\s*(?:stories|story|posts|articles|links|items)\b", _FLAGS),
    re.compile(rf"\b(?:top|best|latest|first)\s+{_NUM}\s+(?:stories|posts|articles|links)\s+(?:from|on|of|at)\s+(?:the\s+)?{_HN}", _FLAGS),
    re.compile(rf"\b{_NUM}\s+(?:top\s+)?(?:stories|posts)\s+(?:from|on)\s+{_HN}", _FLAGS),
    re.compile(rf"\b(?:fetch|get|show|check|read|what(?:'s|\s+is)\s+on)\s+(?:me\s+)?(?:the\s+)?(?:top\s+)?{_HN}(?:\s+(?:stories|front\s*page))?", _FLAGS),
]
_EMAIL_PATTERNS = [
    re.compile(
        rf"\b(?:send|write|compose|draft|mail)\s+(?:me\s+)?(?:an?\s+|the\s+)?e-?mail\b.*?\bsubject(?:\s+line)?\s+(?:of\s+|as\s+)?{_quoted('subject')}"
        rf"\s*,?\s*(?:and\s+)?(?:with\s+)?(?:the\s+|a\s+)?(?:body|text|message)\s+(?:of\s+|as\s+)?{_quoted('body')}",
        _FLAGS,
    ),
    re.compile(
        rf"\b(?:send|write|compose)\s+(?:an?\s+)?e-?mail\b.*?\b(?:saying|that\s+says|with\s+the\s+(?:text|message|body))\s+{_quoted('body')}",
        _FLAGS,
    ),
]
_WRITE_PATTERNS = [
    re.compile(
        rf"\b(?:write|create|save|make)\s+(?:a\s+new\s+|a\s+|the\s+)?file\s+(?:named\s+|called\s+)?{_path('path')}"
        rf"\s+(?:with|containing|that\s+says|saying)\s+(?:the\s+)?(?:text\s+|content\s+|contents\s+|words\s+)?{_quoted('content')}",
        _FLAGS,
    ),
    re.compile(
        rf"\b(?:write|save|put|store)\s+{_quoted('content')}\s+(?:to|in|into|as)\s+(?:a\s+new\s+file\s+|a\s+file\s+|the\s+file\s+|file\s+)?"
        rf"(?:named\s+|called\s+)?{_path('path')}",
        _FLAGS,
    ),
]
_READ_PATTERNS = [
    re.compile(
        rf"\b(?:read|show|open|cat|display|print)\s+(?:me\s+)?(?:what(?:'s|\s+is)\s+in\s+)?(?:the\s+)?(?:contents?\s+of\s+)?(?:the\s+)?"
        rf"(?:file\s+(?:named\s+|called\s+)?{_path('fpath')}|{_path('path', needs_extension=True)})",
        _FLAGS,
    ),
    re.compile(rf"\bwhat(?:'s|\s+is)\s+in\s+(?:the\s+file\s+)?{_path('path', needs_extension=True)}", _FLAGS),
]
_LIST_PATTERNS = [
    re.compile(r"\b(?:list|show|see)\s+(?:me\s+)?(?:all\s+)?(?:of\s+)?(?:the\s+|my\s+)?(?:files(?:\s+in\s+(?:the\s+|my\s+)?workspace)?|workspace)\b", _FLAGS),
    re.compile(r"\bwhat\s+files\b(?:[^.?!]*?\bworkspace\b)?", _FLAGS),
    re.compile(r"\bwhat(?:'s|\s+is)\s+in\s+(?:the\s+|my\s+)?workspace\b", _FLAGS),
    re.compile(r"\blist_workspace\b", _FLAGS),
]
_SHELL_PATTERNS = [
    re.compile(rf"\b(?:run|execute)\s+(?:the\s+)?(?:shell\s+)?(?:command\s+)?{_quoted('cmd')}", _FLAGS),
    re.compile(rf"\b(?:run|execute)\s+(?:the\s+)?(?:shell\s+)?command\s+(?P<cmd0>[^\n'\"`“‘]+?){_END}", _FLAGS),
]
_CALL = re.compile(r"\bcall\s+(?P<name>\w+)\s*(?P<args>\{.*\})?\s*$", _FLAGS)
#: Words that split a prompt into steps made one turn after the other.
_THEN = re.compile(r"\b(?:and\s+)?(?:then|after\s+that|afterwards|once\s+(?:that\s+is|it\s+is|it's)\s+done)\b", re.I)


def _find(patterns: list[re.Pattern[str]], prompt: str, make: Callable[[re.Match[str]], Found | None]) -> list[Found]:
    out = []
    for pattern in patterns:
        for m in pattern.finditer(prompt):
            found = make(m)
            if found is not None:
                out.append(found)
    return out


def hackernews_rule(prompt: str, tools: set[str]) -> list[Found]:
    """'Fetch the top N hackernews stories' (and 'top N stories on Hacker News', 'what's on HN')."""
    if "get_top_hackernews_stories" not in tools:
        return []

    def make(m: re.Match[str]) -> Found:
        n = _number(m.group("n")) if "n" in m.re.groupindex and m.group("n") else 5
        return Found("get_top_hackernews_stories", {"num_stories": n}, m.start(), m.end())

    return _find(_HN_PATTERNS, prompt, make)


def email_rule(prompt: str, tools: set[str]) -> list[Found]:
    """"Send an email with the subject '…' and the body '…'" (the address is the user's to give)."""
    if "send_email" not in tools:
        return []

    def make(m: re.Match[str]) -> Found:
        body = _value(m, "body") or ""
        subject = _value(m, "subject")
        if subject is None:
            words = body.split()
            subject = " ".join(words[:6]) + (" …" if len(words) > 6 else "")
        return Found("send_email", {"subject": subject, "body": body}, m.start(), m.end())

    return _find(_EMAIL_PATTERNS, prompt, make)


def _clean_path(text: str) -> str:
    return text.strip().rstrip(".,;:!?")


def write_file_rule(prompt: str, tools: set[str]) -> list[Found]:
    """"Write a file named notes.txt with 'hello'" or "Save 'hello' to notes.txt"."""
    if "write_file" not in tools:
        return []

    def make(m: re.Match[str]) -> Found | None:
        path, content = _value(m, "path"), _value(m, "content")
        if not path or content is None:
            return None
        return Found("write_file", {"path": _clean_path(path), "content": content}, m.start(), m.end())

    return _find(_WRITE_PATTERNS, prompt, make)


def read_file_rule(prompt: str, tools: set[str]) -> list[Found]:
    """"Read notes.txt", "show me the file notes", "what's in notes.txt"."""
    if "read_file" not in tools:
        return []

    def make(m: re.Match[str]) -> Found | None:
        path = _value(m, "fpath") or _value(m, "path")
        if not path:
            return None
        return Found("read_file", {"path": _clean_path(path)}, m.start(), m.end())

    return _find(_READ_PATTERNS, prompt, make)


def list_workspace_rule(prompt: str, tools: set[str]) -> list[Found]:
    """"List the files", "what's in my workspace"."""
    if "list_workspace" not in tools:
        return []
    return _find(_LIST_PATTERNS, prompt, lambda m: Found("list_workspace", {}, m.start(), m.end()))


def shell_rule(prompt: str, tools: set[str]) -> list[Found]:
    """"Run the command `uname -a`": an external call, so the user runs it and pastes the output."""
    if "run_shell_command" not in tools:
        return []

    def make(m: re.Match[str]) -> Found | None:
        command = (_value(m, "cmd") or "").strip()
        return Found("run_shell_command", {"command": command}, m.start(), m.end()) if command else None

    return _find(_SHELL_PATTERNS, prompt, make)


def call_rule(prompt: str, tools: set[str]) -> list[Found]:
    """`call NAME {json}`: try any tool, including your own, with the demo model."""
    m = _CALL.search(prompt)
    if not m or m.group("name") not in tools:
        return []
    try:
        args = json.loads(m.group("args") or "{}")
    except json.JSONDecodeError:
        args = {}
    return [Found(m.group("name"), args if isinstance(args, dict) else {}, m.start(), len(prompt))]


DEFAULT_RULES: list[Rule] = [
    hackernews_rule,
    email_rule,
    write_file_rule,
    read_file_rule,
    list_workspace_rule,
    shell_rule,
]


def plan(prompt: str, tools: set[str], rules: list[Rule] | None = None) -> list[list[Found]]:
    """The calls a prompt asks for, as steps: each step is one turn of (parallel) calls.

    `call NAME {...}` stands alone. Otherwise every rule's matches are kept in prompt order, with
    overlapping matches resolved in favour of the earliest (then the longest), and the prompt is cut
    into steps at "then" / "after that" outside the matches.
    """
    explicit = call_rule(prompt, tools)
    if explicit:
        return [explicit]
    found: list[Found] = []
    for rule in DEFAULT_RULES if rules is None else rules:
        for item in rule(prompt, tools) or []:
            if not isinstance(item, Found):
                name, args = item
                item = Found(name, dict(args), 0, 0)
            found.append(item)
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Found] = []
    for f in found:
        if any(f.start < k.end and k.start < f.end for k in kept):
            continue
        if any(f.name == k.name and f.args == k.args for k in kept):
            continue
        kept.append(f)
    if not kept:
        return []
    cuts = [m.start() for m in _THEN.finditer(prompt) if not any(k.start <= m.start() < k.end for k in kept)]
    steps: list[list[Found]] = []
    for f in kept:
        index = sum(1 for c in cuts if c < f.start)
        while len(steps) <= index:
            steps.append([])
        steps[index].append(f)
    return [s for s in steps if s]


# ----------------------------------------------------------------------------- the model


class DemoModel:
    """Offline and deterministic. `delay` is the pause between streamed words (seconds)."""

    def __init__(self, id: str = "demo", *, delay: float = 0.02, rules: list[Rule] | None = None) -> None:
        self.id = id
        self.delay = delay
        self.rules = list(rules) if rules is not None else list(DEFAULT_RULES)

    def describe(self) -> str:
        return "demo model (offline)"

    async def astream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncIterator[ModelChunk]:
        response = self.respond(messages, {t["function"]["name"] for t in tools})
        if response.content:
            for word in re.findall(r"\S+\s*|\s+", response.content):
                if self.delay:
                    await asyncio.sleep(self.delay)
                yield ModelChunk(text=word)
        yield ModelChunk(response=response)

    # ------------------------------------------------------------------ decisions

    def respond(self, messages: list[dict[str, Any]], tools: set[str]) -> ModelResponse:
        """The whole reply to `messages` (what `astream` streams)."""
        last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=None)
        prompt = str(messages[last_user].get("content") or "") if last_user is not None else ""
        since = messages[last_user + 1 :] if last_user is not None else list(messages)
        steps_done = sum(1 for m in since if m.get("role") == "assistant" and m.get("tool_calls"))
        steps = plan(prompt, tools, self.rules)

        if steps_done == 0:
            if not steps:
                return ModelResponse(content=self._guide(tools), finish_reason="stop")
            return self._calls(messages, steps[0], intro="")

        outcomes = _outcomes(since)
        in_last_turn = len(_last_turn(since))
        latest = outcomes[-in_last_turn:] if in_last_turn else []
        stopped = any(o.kind in ("rejected", "error") for o in latest)
        if steps_done < len(steps) and not stopped:
            intro = "\n\n".join(o.summary() for o in latest)
            return self._calls(messages, steps[steps_done], intro=intro)
        return ModelResponse(content=_final_summary(outcomes, stopped_early=stopped and steps_done < len(steps)), finish_reason="stop")

    def _calls(self, messages: list[dict[str, Any]], step: list[Found], *, intro: str) -> ModelResponse:
        turn = 1 + sum(1 for m in messages if m.get("role") == "assistant")
        calls = [
            ToolCall(id=f"call_demo_{turn}_{i}", name=f.name, arguments=json.dumps(f.args, ensure_ascii=False))
            for i, f in enumerate(step, 1)
        ]
        lines = [_announce(f) for f in step]
        if len(step) > 1:
            lines.insert(0, f"I'll make {len(step)} tool calls at once; each one gets its own decision.")
        content = "\n\n".join(p for p in [intro.strip(), " ".join(lines)] if p)
        return ModelResponse(content=content, tool_calls=calls, finish_reason="tool_calls")

    def _guide(self, tools: set[str]) -> str:
        lines = ["I am the offline **demo model**: I pick tools by simple rules instead of thinking. Try:", ""]
        examples = [
            ("get_top_hackernews_stories", "`Fetch the top 3 hackernews stories` (asks you to confirm)"),
            ("send_email", "`Send an email with the subject 'Hello' and the body 'Hello, world!'` (asks you for the address)"),
            ("write_file", "`Write a file named notes.txt with 'hello'` (asks you to confirm)"),
            ("read_file", "`Read notes.txt` (runs at once)"),
            ("list_workspace", "`List the files in the workspace` (runs at once)"),
            ("run_shell_command", "`Run the command 'uname -a'` (you run it and paste the output)"),
        ]
        for name, text in examples:
            if name in tools:
                lines.append(f"- {text}")
        if {"get_top_hackernews_stories", "write_file"} <= tools:
            lines.append(
                "- `Fetch the top 2 hackernews stories and write a file named todo.txt with 'read HN'` "
                "(two calls at once, one decision each)"
            )
        if tools:
            lines.append(f"- `call <tool> {{json arguments}}` for any loaded tool: {', '.join(sorted(tools))}")
        else:
            lines.append("- nothing that uses tools: no tools are loaded")
        lines += ["", "Set OPENAI_API_KEY (or a base URL for a local server) to talk to a real model."]
        return "\n".join(lines)


# ----------------------------------------------------------------------------- reading results


def _announce(f: Found) -> str:
    a = f.args
    if f.name == "get_top_hackernews_stories":
        n = a.get("num_stories")
        return "I'll fetch the top story from Hacker News." if n == 1 else f"I'll fetch the top {n} stories from Hacker News."
    if f.name == "send_email":
        return f"I'll send an email with the subject “{a.get('subject')}”; you will be asked for the recipient's address."
    if f.name == "write_file":
        return f"I'll write `{a.get('path')}` in your workspace."
    if f.name == "read_file":
        return f"I'll read `{a.get('path')}` from your workspace."
    if f.name == "list_workspace":
        return "I'll list the files in your workspace."
    if f.name == "run_shell_command":
        return f"Please run `{a.get('command')}` for me and paste its output."
    return f"I'll call `{f.name}`."


@dataclass
class _Outcome:
    name: str
    args: dict[str, Any]
    kind: str  # "completed", "rejected", "error"
    text: str
    edited_to: dict[str, Any] | None = None

    def summary(self) -> str:
        return _describe(self)


def _last_turn(since: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for m in reversed(since):
        if m.get("role") != "tool":
            break
        out.append(m)
    return out


_EDITED = re.compile(
    r"^Note: the user edited the arguments before approving\. The tool ran with (?P<ran>\{.*?\}) "
    r"instead of the proposed \{.*?\}\.\nResult: (?P<result>.*)$",
    re.S,
)


def _outcomes(since: list[dict[str, Any]]) -> list[_Outcome]:
    """Every tool result since the prompt, oldest first, with the call that produced it."""
    calls: dict[str | None, tuple[str, dict[str, Any]]] = {}
    out: list[_Outcome] = []
    for m in since:
        if m.get("role") == "assistant":
            for c in m.get("tool_calls") or []:
                fn = c.get("function") or {}
                try:
                    args = json.loads(fn.get("arguments") or "{}")
                except json.JSONDecodeError:
                    args = {}
                calls[c.get("id")] = (fn.get("name") or "", args if isinstance(args, dict) else {})
        elif m.get("role") == "tool":
            name, args = calls.get(m.get("tool_call_id"), (m.get("name") or "the tool", {}))
            name = m.get("name") or name
            text = str(m.get("content") or "")
            edited_to = None
            edited = _EDITED.match(text)
            if edited:
                try:
                    edited_to = json.loads(edited.group("ran"))
                    args = edited_to
                except json.JSONDecodeError:
                    pass
                text = edited.group("result")
            if "declined to run" in text or "was not run" in text or "did not provide the input in time" in text:
                kind = "rejected"
            elif text.startswith(("Error", "Interrupted", "Cancelled")):
                kind = "error"
            else:
                kind = "completed"
            out.append(_Outcome(name, args, kind, text, edited_to))
    return out


def _describe(o: _Outcome) -> str:
    if o.kind == "rejected":
        reason = re.search(r"Reason given: (.*?)(?:\s+Do not retry|$)", o.text, re.S)
        if "approval policy" in o.text:
            who = re.search(r"The approval policy \(([^)]*)\)", o.text)
            head = f"Your approval rules ({who.group(1) if who else 'policy'}) declined `{o.name}`, so I did not run it."
        elif "in time" in o.text:
            head = f"No decision came in time for `{o.name}`, so it was not run."
        else:
            head = f"Understood: you declined `{o.name}`, so I did not run it."
        if reason:
            said = reason.group(1).strip()
            whose = "The rule's note" if "approval policy" in o.text else "Your reason"
            head += f" {whose}: “{said}”" + ("" if said.endswith((".", "!", "?")) else ".")
        return head
    if o.kind == "error":
        message = re.sub(r"^Error:\s*", "", o.text.strip())
        return f"`{o.name}` failed: {message}"
    prefix = f"You edited the call; it ran with `{json.dumps(o.edited_to, ensure_ascii=False)}`. " if o.edited_to else ""
    return prefix + _describe_result(o)


def _describe_result(o: _Outcome) -> str:
    text = o.text.strip()
    if o.name == "get_top_hackernews_stories":
        try:
            stories = json.loads(text)
        except json.JSONDecodeError:
            stories = None
        if isinstance(stories, list):
            if not stories:
                return "Hacker News returned no stories."
            head = "Here is the top story" if len(stories) == 1 else f"Here are the top {len(stories)} stories"
            rows = [f"{head} on Hacker News:", ""]
            for i, s in enumerate(stories, 1):
                if not isinstance(s, dict):
                    continue
                title = s.get("title") or "(untitled)"
                link = f"[{title}]({s['url']})" if s.get("url") else title
                facts = []
                if s.get("score") is not None:
                    facts.append(f"{s['score']} points")
                if s.get("by"):
                    facts.append(f"by {s['by']}")
                if s.get("descendants") is not None:
                    facts.append(f"{s['descendants']} comments")
                rows.append(f"{i}. {link}" + (f" ({', '.join(facts)})" if facts else ""))
            return "\n".join(rows)
    if o.name == "read_file":
        return f"Here is `{o.args.get('path', 'the file')}`:\n\n```\n{_clip(text)}\n```"
    if o.name == "list_workspace":
        return f"```\n{_clip(text)}\n```"
    if o.name == "run_shell_command":
        return f"You ran `{o.args.get('command', '')}`. Its output:\n\n```\n{_clip(text) or '(no output)'}\n```"
    if o.name in ("send_email", "write_file"):
        return f"Done. {text}"
    return f"`{o.name}` returned:\n\n{_preview(text)}"


def _final_summary(outcomes: list[_Outcome], *, stopped_early: bool) -> str:
    if not outcomes:
        return "Done."
    parts = [o.summary() for o in outcomes]
    if stopped_early:
        parts.append("I stopped there and did not do the rest of what you asked.")
    if any(o.kind == "rejected" for o in outcomes):
        parts.append("What would you like me to do instead?")
    return "\n\n".join(parts)


def _clip(text: str, limit: int = 1500) -> str:
    return text if len(text) <= limit else text[:limit] + " …"


def _preview(text: str, limit: int = 1500) -> str:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return _clip(text, limit)
    if isinstance(data, list) and data and all(isinstance(d, dict) for d in data):
        rows = []
        for i, d in enumerate(data, 1):
            title = d.get("title") or d.get("name") or json.dumps(d)[:80]
            url = d.get("url")
            rows.append(f"{i}. {title}" + (f" ({url})" if url else ""))
        return "\n".join(rows)
    return _clip(json.dumps(data, indent=2, ensure_ascii=False), limit)
