"""Saved approval rules: allow, ask or deny tool calls by tool name and argument conditions.

A rules file is TOML::

    [[rule]]
    name = "small-hn-fetches"          # shown in the ledger as decided_by = "rule:small-hn-fetches"
    tool = "get_top_hackernews_*"       # a glob over tool names
    effect = "allow"                    # allow | ask | deny
    note = "..."                        # optional: told to the model when the rule denies

    [rule.args.num_stories]             # optional conditions, all of which must hold
    max = 5                             # numeric range: min / max (inclusive)
    # equals = 3 | glob = "notes/*" | regex = "^notes/"

Precedence (fixed): the strictest matching effect wins, deny over ask over allow, whatever the
scope (saved rule, session or run). Among the matching rules with that effect, the most specific
one names the decision: more argument conditions first, then an exact tool name over a glob, then
the earlier rule in the file.

Rules only relax or tighten tools that need *confirmation*. A user-input or external-execution
tool still needs its human data, whatever a rule says.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal

from ..private_files import append_private_text
from .policy import Effect, Policy, PolicyDecision
from .run import RunOutput, ToolExecution

Source = Literal["file", "session", "run"]
_STRICTNESS = {"allow": 0, "ask": 1, "deny": 2}
_CONDITION_KEYS = {"equals", "glob", "regex", "min", "max"}


class RulesError(ValueError):
    """The rules file is invalid. The message names the file, the line and the problem."""


@dataclass(frozen=True)
class ArgCondition:
    arg: str
    equals: Any = None
    glob: str | None = None
    regex: str | None = None
    min: float | None = None
    max: float | None = None

    def matches(self, args: dict[str, Any]) -> bool:
        if self.arg not in args:
            return False
        value = args[self.arg]
        if self.equals is not None and value != self.equals:
            return False
        if self.glob is not None and not fnmatch.fnmatchcase(str(value), self.glob):
            return False
        if self.regex is not None and re.search(self.regex, str(value)) is None:
            return False
        if self.min is not None or self.max is not None:
            if isinstance(value, bool):
                return False
            try:
                number = float(value)
            except (TypeError, ValueError):
                return False
            if self.min is not None and number < self.min:
                return False
            if self.max is not None and number > self.max:
                return False
        return True

    def describe(self) -> str:
        parts = []
        if self.equals is not None:
            parts.append(f"== {self.equals!r}")
        if self.glob is not None:
            parts.append(f"matches {self.glob!r}")
        if self.regex is not None:
            parts.append(f"~ /{self.regex}/")
        if self.min is not None:
            parts.append(f">= {self.min:g}")
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        return f"{self.arg} " + " and ".join(parts)


@dataclass(frozen=True)
class Rule:
    name: str
    tool: str
    effect: Effect
    note: str | None = None
    conditions: tuple[ArgCondition, ...] = ()
    source: Source = "file"
    line: int | None = None
    order: int = 0

    def matches(self, tool_name: str, args: dict[str, Any]) -> bool:
        return fnmatch.fnmatchcase(tool_name, self.tool) and all(c.matches(args) for c in self.conditions)

    @property
    def specificity(self) -> tuple[int, int, int]:
        exact = int(not any(ch in self.tool for ch in "*?["))
        return (len(self.conditions), exact, -self.order)

    def describe(self) -> str:
        text = f"{self.effect} {self.tool}"
        if self.conditions:
            text += " when " + ", ".join(c.describe() for c in self.conditions)
        return text


def _rule_lines(text: str) -> list[int]:
    """Line numbers (1-based) of each [[rule]] header, to name lines in error messages."""
    return [i for i, line in enumerate(text.splitlines(), 1) if re.match(r"^\s*\[\[\s*rules?\s*\]\]", line)]


def parse_rules(text: str, *, path: str = "rules.toml", source: Source = "file") -> list[Rule]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: {exc}") from None
    unknown = set(data) - {"rule", "rules"}
    if unknown:
        raise RulesError(f"{path}: unknown top-level key(s) {', '.join(sorted(unknown))}; write rules as [[rule]] tables")
    entries: list[Any] = []
    for key in ("rule", "rules"):
        value = data.get(key, [])
        if not isinstance(value, list):
            # `rule = "x"`, `rule = {...}` (one table, not an array) or `rules = 5`.
            raise RulesError(
                f"{path}: '{key}' must be an array of tables, written [[{key}]] above each rule, not {type(value).__name__} {value!r:.60}"
            )
        entries.extend(value)
    lines = _rule_lines(text)
    rules: list[Rule] = []
    names: set[str] = set()
    for index, entry in enumerate(entries):
        line = lines[index] if index < len(lines) else None
        where = f"{path}" + (f" line {line}" if line else "") + f" (rule {index + 1})"
        rules.append(_parse_rule(entry, where, index, line, source))
        if rules[-1].name in names:
            raise RulesError(f"{where}: a rule named {rules[-1].name!r} already exists; names must be unique")
        names.add(rules[-1].name)
    return rules


def _parse_rule(entry: Any, where: str, index: int, line: int | None, source: Source) -> Rule:
    if not isinstance(entry, dict):
        raise RulesError(f"{where}: a rule must be a table")
    unknown = set(entry) - {"name", "tool", "effect", "note", "args"}
    if unknown:
        raise RulesError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (expected name, tool, effect, note, args)")
    name = entry.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[\w.\-]+", name or ""):
        raise RulesError(f"{where}: 'name' is required: letters, digits, '_', '-' or '.'")
    tool = entry.get("tool")
    if not isinstance(tool, str) or not tool:
        raise RulesError(f"{where}: 'tool' is required (a tool name or a glob such as 'write_*')")
    effect = entry.get("effect")
    if effect not in _STRICTNESS:
        raise RulesError(f"{where}: 'effect' must be allow, ask or deny, not {effect!r}")
    note = entry.get("note")
    if note is not None and not isinstance(note, str):
        raise RulesError(f"{where}: 'note' must be a string")
    conditions = []
    args = entry.get("args", {})
    if not isinstance(args, dict):
        raise RulesError(f"{where}: 'args' must be a table of argument conditions")
    for arg, spec in args.items():
        if not isinstance(spec, dict):
            spec = {"equals": spec}
        bad = set(spec) - _CONDITION_KEYS
        if bad:
            raise RulesError(f"{where}: argument {arg!r}: unknown condition(s) {', '.join(sorted(bad))} (use equals, glob, regex, min, max)")
        if "regex" in spec:
            try:
                re.compile(spec["regex"])
            except (re.error, TypeError) as exc:
                raise RulesError(f"{where}: argument {arg!r}: invalid regex {spec['regex']!r}: {exc}") from None
        for bound in ("min", "max"):
            if bound in spec and (isinstance(spec[bound], bool) or not isinstance(spec[bound], (int, float))):
                raise RulesError(f"{where}: argument {arg!r}: {bound} must be a number")
        if "glob" in spec and not isinstance(spec["glob"], str):
            raise RulesError(f"{where}: argument {arg!r}: glob must be a string")
        if not spec:
            raise RulesError(f"{where}: argument {arg!r}: give at least one condition")
        conditions.append(ArgCondition(arg=arg, **spec))
    return Rule(
        name=name, tool=tool, effect=effect, note=note, conditions=tuple(conditions), source=source, line=line, order=index
    )


def load_rules(path: Path) -> list[Rule]:
    """Rules from `path` ([] when the file does not exist). Raises RulesError when it is invalid."""
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read it: {exc}") from None
    return parse_rules(text, path=str(path))


def rule_to_toml(rule: Rule) -> str:
    """One `[[rule]]` table as TOML text, written by tomlkit so that any note (quotes, `\r`,
    control characters) round-trips instead of breaking the file and every rule with it."""
    import tomlkit  # only when a rule is saved: it stays off the runtime's import path

    table = tomlkit.table()
    table["name"] = rule.name
    table["tool"] = rule.tool
    table["effect"] = rule.effect
    if rule.note:
        table["note"] = rule.note
    if rule.conditions:
        args = tomlkit.table(is_super_table=True)
        for c in rule.conditions:
            condition = tomlkit.table()
            for key in ("equals", "glob", "regex", "min", "max"):
                value = getattr(c, key)
                if value is not None:
                    condition[key] = value
            args[c.arg] = condition
        table["args"] = args
    rules = tomlkit.aot()
    rules.append(table)
    document = tomlkit.document()
    document["rule"] = rules
    return tomlkit.dumps(document)


def strictest(rules: Iterable[Rule], tool_name: str, args: dict[str, Any]) -> Rule | None:
    """The rule that decides a call: strictest effect, then most specific."""
    matching = [r for r in rules if r.matches(tool_name, args)]
    if not matching:
        return None
    return max(matching, key=lambda r: (_STRICTNESS[r.effect], r.specificity))


def active_rules(policy: Policy) -> list[Rule]:
    """Saved rules (for a RulesPolicy), then session and run choices, each with its source."""
    out = list(policy.rules) if isinstance(policy, RulesPolicy) else []
    for name in sorted(policy.session_allow):
        out.append(Rule(name=f"session-allow:{name}", tool=name, effect="allow", source="session"))
    for name in sorted(policy.session_deny):
        out.append(Rule(name=f"session-deny:{name}", tool=name, effect="deny", source="session"))
    for run_id, names in policy.run_allow.items():
        for name in sorted(names):
            out.append(Rule(name=f"run-allow:{name}", tool=name, effect="allow", source="run", note=run_id))
    return out


@dataclass
class RulesPolicy(Policy):
    """Policy with saved rules (a TOML file) on top of run and session scopes.

    `error` is set (and rules are disabled) when the file is invalid: the app says so and keeps
    running.
    """

    path: Path | None = None
    rules: list[Rule] = field(default_factory=list)
    error: str | None = None

    @classmethod
    def from_file(cls, path: Path | str | None) -> "RulesPolicy":
        policy = cls(path=Path(path).expanduser() if path else None)
        policy.reload()
        return policy

    def reload(self) -> None:
        self.error = None
        if self.path is None:
            self.rules = []
            return
        try:
            self.rules = load_rules(self.path)
        except RulesError as exc:
            self.rules = []
            self.error = f"{exc}. Rules are disabled until the file is fixed."

    def all_rules(self) -> list[Rule]:
        """Every active rule with its source, for the rules screen."""
        return active_rules(self)

    def decide(self, tool: ToolExecution, run: RunOutput) -> PolicyDecision | None:
        if not tool.requires_confirmation:
            return None
        candidates: list[tuple[int, int, PolicyDecision]] = []
        scoped = super().decide(tool, run)
        if scoped is not None:
            # Scoped choices are specific to this tool: rank them like an exact-name rule.
            candidates.append((_STRICTNESS[scoped.effect], 1, scoped))
        rule = strictest(self.rules, tool.tool_name, tool.tool_args)
        if rule is not None:
            note = rule.note or (f"A saved rule ({rule.name}) does not allow this call." if rule.effect == "deny" else None)
            candidates.append((_STRICTNESS[rule.effect], 0, PolicyDecision(rule.effect, f"rule:{rule.name}", note)))
        if not candidates:
            return None
        return max(candidates, key=lambda c: (c[0], c[1]))[2]

    def save_rule(self, tool_name: str, effect: Effect, *, conditions: tuple[ArgCondition, ...] = (), note: str | None = None) -> Rule:
        """Append an "always" rule to the rules file (created if needed) and activate it."""
        if self.path is None:
            raise RulesError("no rules file is configured (the `rules` setting)")
        if self.error is not None:
            raise RulesError(f"the rules file {self.path} has an error; fix it first")
        safe_name = re.sub(r"[^\w.-]", "_", tool_name)
        base = f"{effect}-{safe_name}"
        existing = {r.name for r in self.rules}
        name, n = base, 2
        while name in existing:
            name, n = f"{base}-{n}", n + 1
        rule = Rule(name=name, tool=tool_name, effect=effect, note=note, conditions=conditions, order=len(self.rules))
        prefix = ""
        if self.path.exists() and self.path.stat().st_size:
            text = self.path.read_text(encoding="utf-8")
            prefix = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        append_private_text(self.path, prefix + rule_to_toml(rule))  # a new file is 0600, in 0700 folders
        if self.error is None:
            self.rules.append(rule)
        return rule

    def delete_session_rule(self, tool_name: str) -> None:
        self.forget_session(tool_name)


# ----------------------------------------------------------------------------- dry runs


@dataclass(frozen=True)
class PastCall:
    """A tool call from the history, as a dry run sees it."""

    run_id: str
    tool_call_id: str
    tool_name: str
    args: dict[str, Any]
    status: str
    decided_by: str | None
    note: str | None
    when: str
    #: Only calls that needed confirmation can be decided by a rule.
    requires_confirmation: bool = True

    @property
    def rejected_by_person(self) -> bool:
        return self.status == "rejected" and self.decided_by == "user"


def past_calls(runs: Iterable[RunOutput]) -> list[PastCall]:
    out = []
    for run in runs:
        for t in run.tools:
            out.append(
                PastCall(
                    run_id=run.run_id,
                    tool_call_id=t.tool_call_id,
                    tool_name=t.tool_name,
                    args=t.proposed_args if t.proposed_args is not None else t.tool_args,
                    status=t.status,
                    decided_by=t.decided_by,
                    note=t.confirmation_note,
                    when=t.created_at.isoformat(timespec="seconds"),
                    requires_confirmation=t.requires_confirmation or (t.status == "rejected" and t.decided_by == "user"),
                )
            )
    return out


@dataclass
class DryRunReport:
    """What a rule would have matched in the history; person-rejected matches come first."""

    rule: Rule
    matched: list[PastCall]

    @property
    def rejected(self) -> list[PastCall]:
        return [c for c in self.matched if c.rejected_by_person]

    @property
    def ordered(self) -> list[PastCall]:
        return self.rejected + [c for c in self.matched if not c.rejected_by_person]

    def summary(self) -> str:
        text = f"Rule {self.rule.name!r} ({self.rule.describe()}) would have matched {len(self.matched)} past call(s)"
        if self.rejected:
            n = len(self.rejected)
            text += f"; WARNING: {n} of them {'was' if n == 1 else 'were'} rejected by a person"
        return text + "."


def dry_run(rule: Rule, calls: Iterable[PastCall]) -> DryRunReport:
    # The proposed arguments are what a rule sees at decision time.
    return DryRunReport(
        rule=rule,
        matched=[
            c
            for c in calls
            # undecided calls are not history yet: only decided (or failed) calls count
            if c.requires_confirmation and c.status != "pending" and rule.matches(c.tool_name, c.args)
        ],
    )
