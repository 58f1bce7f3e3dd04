"""Keep secrets out of the history database and out of exports.

Two rules, applied to everything the store writes:

- a value whose *key* names a secret (`api_key`, `password`, `github_token`, `client_secret`, ...)
  is replaced by `[REDACTED]`, in tool arguments, in JSON inside messages and in `key: value` text;
- a string that *looks like* a credential (`sk-...`, `Bearer ...`, GitHub/Slack/AWS/Google keys,
  PEM private keys, or the literal value of a secret-looking environment variable such as
  `OPENAI_API_KEY`) is replaced wherever it appears.

The live run in memory is never changed: only what is written is redacted. A consequence worth
knowing: a user-input field named like a secret, on a call that has not run yet, is stored empty,
so after a restart the run asks for it again instead of running with the placeholder.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Iterable

REDACTED = "[REDACTED]"

#: Names that hold secrets. Matches `token`, `github_token`, `api-key` but not `max_tokens`.
_SECRET_NAME = (
    r"(?:[a-z0-9]+[_-])*(?:api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key|password|passwd|"
    r"passphrase|secret|client[_-]?secret|token|access[_-]?token|refresh[_-]?token|auth[_-]?token|"
    r"id[_-]?token|session[_-]?token|bearer|authorization|credentials?|cookie)"
)
_SECRET_NAME_RE = re.compile(_SECRET_NAME + r"\Z", re.I)

_CREDENTIAL_PATTERNS = [
    r"\bsk-(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{16,}",  # OpenAI / Anthropic style keys
    r"\bgh[pousr]_[A-Za-z0-9]{20,}",  # GitHub tokens
    r"\bgithub_pat_[A-Za-z0-9_]{20,}",
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}",  # Slack
    r"\bAKIA[0-9A-Z]{16}\b",  # AWS access key id
    r"\bAIza[0-9A-Za-z_-]{35}",  # Google API key
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
]
_CREDENTIAL_RE = re.compile("|".join(f"(?:{p})" for p in _CREDENTIAL_PATTERNS))
_AUTH_SCHEME_RE = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}", re.I)
#: `password: hunter2`, `"api_key": "abc"`, `token=abc` (also inside escaped JSON).
_KEY_VALUE_RE = re.compile(
    r"(?<![A-Za-z0-9])(?P<key>" + _SECRET_NAME + r")"
    r"(?P<sep>(?:\\?[\"'])?\s*[:=]\s*(?:\\?[\"'])?)"
    r"(?!\[REDACTED\]|(?:Bearer|Basic|Token)\s)"
    r"(?P<val>[^\s\"'\\,;}&<>]+)",
    re.I,
)
#: Environment variables whose values are secrets (their literal values are redacted anywhere).
_SECRET_ENV_RE = re.compile(r"(?:^|_)(?:API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)(?:$|_)", re.I)

#: Keys whose values are identifiers or timestamps: never rewritten, so references stay intact.
_STRUCTURAL_KEYS = frozenset(
    {"run_id", "session_id", "tool_call_id", "id", "created_at", "updated_at", "decided_at", "started_at",
     "finished_at"}
)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME_RE.match(name or ""))


def secrets_from_environment(environ: dict[str, str] | None = None) -> list[str]:
    """Values of secret-looking environment variables (at least 8 characters long)."""
    env = os.environ if environ is None else environ
    return [v for k, v in env.items() if _SECRET_ENV_RE.search(k) and len(v.strip()) >= 8]


class Redactor:
    """Replaces secrets with `[REDACTED]` in text, argument dicts and whole run states."""

    def __init__(self, literals: Iterable[str] = (), *, include_environment: bool = True) -> None:
        values = {v for v in literals if v and len(v) >= 4}
        if include_environment:
            values.update(secrets_from_environment())
        ordered = sorted(values, key=len, reverse=True)
        self._literal_re = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None

    # ------------------------------------------------------------------ primitives

    def text(self, value: str) -> str:
        if not value:
            return value
        out = value
        if self._literal_re is not None:
            out = self._literal_re.sub(REDACTED, out)
        out = _CREDENTIAL_RE.sub(REDACTED, out)
        out = _AUTH_SCHEME_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", out)
        out = _KEY_VALUE_RE.sub(lambda m: f"{m.group('key')}{m.group('sep')}{REDACTED}", out)
        return out

    def value(self, value: Any, key: str | None = None) -> Any:
        """Redact any JSON-like value; `key` is the name it is stored under (if any)."""
        if key is not None and key in _STRUCTURAL_KEYS and not isinstance(value, (dict, list)):
            return value
        if key is not None and is_secret_name(key) and _is_secret_scalar(value):
            return REDACTED
        if isinstance(value, str):
            if key == "arguments":  # a tool call's raw JSON arguments
                return self._json_text(value)
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def args(self, args: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if args is None else self.value(args)

    def _json_text(self, raw: str) -> str:
        try:
            parsed = json.loads(raw)
        except (json.JSONDecodeError, TypeError):
            return self.text(raw)
        cleaned = self.value(parsed)
        if cleaned == parsed:
            return raw  # unchanged: keep the model's exact text
        return json.dumps(cleaned, ensure_ascii=False)

    # ------------------------------------------------------------------ runs

    def run_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """Redact a run dumped with `RunOutput.model_dump(mode="json")`."""
        out = self.value(state)
        for tool in out.get("tools") or []:
            pending = tool.get("status") == "pending"
            for field in tool.get("user_input_schema") or []:
                if not is_secret_name(str(field.get("name") or "")):
                    continue
                for slot in ("value", "suggested"):
                    if _is_secret_scalar(field.get(slot)):
                        # Not yet used: store nothing, so a restarted run asks for it again.
                        field[slot] = None if pending else REDACTED
        return out


def _is_secret_scalar(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str):
        return value != "" and value != REDACTED
    return isinstance(value, (int, float))
