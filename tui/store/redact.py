"""Keep secrets out of the history database and out of exports, in time linear in the text.

Two rules, applied to everything the store writes:

- a value whose *key* names a secret (`api_key`, `password`, `github_token`, `clientSecret`,
  `AccountKey`, ...) is replaced by `[REDACTED]`, in tool arguments, in JSON inside messages and
  in `key: value` / `key=value` / `"key": "value"` text;
- a string that *looks like* a credential is replaced wherever it appears (the table below), as
  is the literal value of a secret-looking environment variable such as `OPENAI_API_KEY`.

| Shape | Rule |
| --- | --- |
| OpenAI / Anthropic | `sk-` + at least 16 of `[A-Za-z0-9_-]`, one of them a digit |
| Stripe | `sk_live_`, `sk_test_`, `rk_live_`, `rk_test_` + at least 10 |
| GitHub | `ghp_ gho_ ghu_ ghs_ ghr_` + at least 20; `github_pat_` + at least 20 |
| Slack | `xox?-` + at least 10 |
| AWS access key id | `AKIA` / `ASIA` + exactly 16 of `[0-9A-Z]` |
| AWS secret access key | labelled (`aws_secret_access_key = ...`, `"SecretAccessKey": ...`, any secret key name), or *paired*: a lone 40-character `[A-Za-z0-9/+]` word with upper case, lower case and a digit, within 300 characters of an AWS access key id (the CSV the console offers, `aws configure list`, two env lines). A bare 40-character word with no label and no key id nearby is left alone: git hashes and checksums look the same. |
| Google | `AIza` + at least 35 |
| Hugging Face | `hf_` + at least 30 |
| GitLab | `glpat-` + at least 20 |
| npm | `npm_` + at least 36 |
| SendGrid | `SG.` + 16 or more `.` 16 or more |
| JWT | `eyJ...` `.` `eyJ...` `.` signature (three parts) |
| PEM | `-----BEGIN ... PRIVATE KEY-----` to its END line (or to the next blank line if cut off) |
| Auth headers | `Bearer`, `Basic`, `Token` + a value of 8 or more characters that is not a plain word |
| URL / DSN passwords | `scheme://user:PASS@host`: only PASS is hidden |
| Azure | `AccountKey=`, `SharedAccessKey=`, `SharedAccessSignature=` (whole SAS), `sig=` |

Why it is linear: one compiled pattern, applied once with `re.sub` (the loop over matches runs
in C). Every alternative starts at a fixed prefix or at the start of a word (a one-character
look-behind refuses the positions inside a word), consumes a maximal run with possessive
quantifiers (never re-read by backtracking), and can only fail after a bounded number of
characters: a shape's minimum length, or the end of the run it was reading, which no later
attempt reads again from the inside. Text that is consumed without being a secret (a plain word
after `token`) cannot hold one. Whether a match is a secret is then decided in Python on the match
alone. So no character is read more than a few times: any 100 KB text redacts in milliseconds
(`tests/benchmarks/bench_redaction.py`), where the old chain of backtracking patterns took
seconds per 10 KB of `sk-sk-sk-...`.

Key names: a value is hidden when its key, lower-cased without separators, ends with `password`,
`passwd`, `passphrase`, `secret`, `token`, `bearer`, `authorization`, `credential(s)`, `cookie`,
`apikey`, `accesskey`, `secretkey`, `privatekey`, `accountkey`, `sig`, `sharedaccesskey` or
`sharedaccesssignature` (`PWD`, the working directory, is not one). A DSN password holding an
unencoded `/`, `?`, `#` or `@` is not recognised: RFC 3986 and the usual URL parsers end the user
part there too.

The live run in memory is never changed: only what is written is redacted. A consequence worth
knowing: a user-input field named like a secret, on a call that has not run yet, is stored empty,
so after a restart the run asks for it again instead of running with the placeholder.

Every string value written also passes `clean_text` (a lone surrogate or NUL becomes a visible
marker such as `⟨U+DCFF⟩`, and a value over `MAX_CHARS` is cut with a marker), so what the runtime
did not already bound at its boundaries (the model's own text, say) can still be saved.
"""

from __future__ import annotations

import functools
import json
import os
import re
from typing import Any, Iterable

from ..agent.bounds import DEPTH_MARKER, MAX_DEPTH, MAX_STORED_CHARS, clean_text

REDACTED = "[REDACTED]"

#: A key name holds a secret when, lower-cased and without separators, it ends with one of these:
#: `github_token`, `apiKey`, `AWS_SECRET_ACCESS_KEY`, `AccountKey`, `x-api-key`, `dbPassword`.
#: Not `max_tokens`, `token_count`, `sort_key`, `monkey` or `aws_access_key_id`.
_SECRET_SUFFIXES = (
    "password", "passwd", "passphrase", "secret", "token", "bearer", "authorization", "credential",
    "credentials", "cookie", "apikey", "accesskey", "secretkey", "privatekey", "accountkey", "sig",
    "sharedaccesskey", "sharedaccesssignature",
)
_NOT_NAME_CHARS = re.compile(r"[^a-z0-9]+")

#: Environment variables whose values are secrets (their literal values are redacted anywhere).
_SECRET_ENV_RE = re.compile(r"(?:^|_)(?:API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)(?:$|_)", re.I)

#: Keys whose values are identifiers or timestamps: never rewritten, so references stay intact.
_STRUCTURAL_KEYS = frozenset(
    {"run_id", "session_id", "tool_call_id", "id", "created_at", "updated_at", "decided_at", "started_at",
     "finished_at"}
)

#: The redactor's own depth guard for values it walks (the runtime already bounds at MAX_DEPTH;
#: the run's own structure adds a few levels on top).
_WALK_DEPTH = MAX_DEPTH + 36

# ----------------------------------------------------------------------------- the scanner
#
# One pattern, applied with `re.sub` and one callback: the loop over matches runs in C. Every
# alternative consumes exactly what it may replace, so the scan goes on after it; none re-reads
# a long run after failing (see the module docstring).

_W = "A-Za-z0-9_-"  # the characters of a word, for key names and tokens


def _spelled(suffix: str) -> list[str]:
    """How a suffix is written in a key: `apikey`, `api_key`, `api-key` (case is ignored later)."""
    parts = {"apikey": ["api", "key"], "accesskey": ["access", "key"], "secretkey": ["secret", "key"],
             "privatekey": ["private", "key"], "accountkey": ["account", "key"],
             "sharedaccesskey": ["shared", "access", "key"],
             "sharedaccesssignature": ["shared", "access", "signature"]}.get(suffix, [suffix])
    return sorted({sep.join(parts) for sep in ("", "_", "-")})


_KEY_ENDINGS = sorted({form for suffix in _SECRET_SUFFIXES for form in _spelled(suffix)})
_SCHEME = r"(?:[Bb](?:earer|asic|EARER|ASIC)|[Tt](?:oken|OKEN))"
_AUTH_VALUE = r"[A-Za-z0-9._~+/=-]{8}[A-Za-z0-9._~+/=-]*+"

#: What may follow a key for the pair to be worth a look: `:` or `=`, then an opening quote that
#: is not closed at once, or the first character of a bare value. (Checked before the endings.)
_SEP_THEN_VALUE = (
    r"""\\?["']?[ \t]*+[:=][ \t]*+"""
    r"""(?:\\"(?!\\")|\\'(?!\\')|"(?!["\n])|'(?!['\n])|[^\s"'\\,;}&<>\[{(])"""
)
#: Token shapes: the literal prefixes that tell them apart, and the pattern with the minimum length.
_TOKEN_SHAPES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("sk-",), rf"sk-[{_W}]{{16}}"),
    (("sk_live_", "sk_test_", "rk_live_", "rk_test_"), rf"[sr]k_(?:live|test)_[{_W}]{{10}}"),
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), rf"gh[pousr]_[{_W}]{{20}}"),
    (("github_pat_",), rf"github_pat_[{_W}]{{20}}"),
    (("xox",), rf"xox[a-z]-[{_W}]{{10}}"),
    (("AKIA", "ASIA"), r"A[KS]IA[0-9A-Z]{16}"),
    (("AIza",), rf"AIza[{_W}]{{35}}"),
    (("hf_",), rf"hf_[{_W}]{{30}}"),
    (("glpat-",), rf"glpat-[{_W}]{{20}}"),
    (("npm_",), rf"npm_[{_W}]{{36}}"),
)
_TOKEN_PREFIXES = tuple(prefix for prefixes, _ in _TOKEN_SHAPES for prefix in prefixes)

_PATTERN = "|".join(
    [
        # A PEM private key: to its END line, else (cut off) to the next blank line or key.
        r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY-----"
        r"(?:(?:[^-]++|-(?!----(?:END|BEGIN)))*+-----END[ A-Z0-9]{0,40}PRIVATE KEY-----"
        r"|(?:[^\n-]++|-(?!----BEGIN)|\n(?!\n))*+)",
        # scheme://user:PASSWORD@host (RFC 3986: no unencoded / ? # @ in the user part).
        r"""(?P<url>://[^\s:/@?#"'<>]*+:[^\s/@?#"'<>]++@)""",
        # Everything else starts a word: one look-behind refuses the positions inside words.
        rf"(?<![{_W}])(?:"
        + "|".join(
            [
                # key, separator, value. The separator is checked before the (28) endings: most
                # words have none. Values: a whole Azure SAS (`SharedAccessSignature=sv=...&sig=...`,
                # to the next `;`), escaped-quoted, quoted, `Bearer xyz`, or bare.
                rf"(?P<kv>[A-Za-z_][{_W}]*+(?={_SEP_THEN_VALUE})"
                + "(?i:" + "|".join(f"(?<={w})" for w in _KEY_ENDINGS) + ")"
                + r"""\\?["']?[ \t]*+[:=][ \t]*+"""
                + r"""(?:(?:(?<=ignature=)|(?<=IGNATURE=))[^\s"'\\;<>]++"""
                + r"""|\\"(?:[^\\\n]++|\\(?!"))++"""
                + r"""|\\'(?:[^\\\n]++|\\(?!'))++"""
                + r"""|"(?:[^"\\\n]++|\\.)++"""
                + r"""|'[^'\n]++"""
                + rf"""|{_SCHEME}[ \t]++{_AUTH_VALUE}"""
                + r"""|[^\s"'\\,;}&<>\[{(][^\s"'\\,;}&<>]*+))""",
                rf"(?P<auth>{_SCHEME}[ \t]++{_AUTH_VALUE})",
                # Self-contained credentials: a fixed prefix and the shape's minimum length (a
                # too-short candidate fails after a few characters), then the rest, possessively.
                rf"eyJ[{_W}]{{7}}[{_W}]*+\.eyJ[{_W}]*+\.[{_W}]*+",  # JWT
                rf"SG\.[{_W}]{{16}}[{_W}]*+\.[{_W}]{{16}}[{_W}]*+",  # SendGrid
                r"(?:" + "|".join(pattern for _, pattern in _TOKEN_SHAPES) + rf")[{_W}]*+",
            ]
        )
        + ")",
        # A 40-character base64 word: an AWS secret access key if an access key id is near.
        r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
    ]
)
#: Only three alternatives capture (the pattern runs faster with few groups); the callback tells
#: the others apart by their first characters, which no two of them share.
_MASTER = re.compile(_PATTERN)
_KEY_SEP = re.compile(rf"""([A-Za-z_][{_W}]*+)(\\?["']?[ \t]*+[:=][ \t]*+)""")
_SCHEME_AT = re.compile(rf"{_SCHEME}[ \t]++")
_AWS_KEY_ID = re.compile(r"(?<![A-Za-z0-9])A[KS]IA[0-9A-Z]{16}(?![A-Za-z0-9])")
_DIGIT = re.compile(r"[0-9]")
_NOT_VALUES = frozenset({"null", "none", "true", "false"})


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Does this key name hold a secret? `api_key`, `githubToken`, `AWS_SECRET_ACCESS_KEY`: yes;
    `max_tokens`, `token_count`, `sort_key`: no."""
    return bool(name) and _NOT_NAME_CHARS.sub("", name.lower()).endswith(_SECRET_SUFFIXES)


def secrets_from_environment(environ: dict[str, str] | None = None) -> list[str]:
    """Values of secret-looking environment variables (at least 8 characters long)."""
    env = os.environ if environ is None else environ
    return [v for k, v in env.items() if _SECRET_ENV_RE.search(k) and len(v.strip()) >= 8]


def _plain_word(value: str) -> bool:
    """`information`, `Understanding`: prose after "token" or "basic", not a credential."""
    return value.isalpha() and (value.islower() or value.istitle())


def _looks_random(word: str) -> bool:
    return word.lower() != word and word.upper() != word and _DIGIT.search(word) is not None


def _replace(m: re.Match[str]) -> str:
    """The replacement for one match of `_MASTER`: the match itself where it is not a secret."""
    found = m.group()
    kind = m.lastgroup
    if kind == "kv":
        return _key_value(found)
    if kind == "auth":
        scheme = _SCHEME_AT.match(found)
        assert scheme is not None
        return found if _plain_word(found[scheme.end():]) else found[: scheme.end()] + REDACTED
    if kind == "url":
        user, _, password = found[3:-1].partition(":")
        return found if password == REDACTED else f"://{user}:{REDACTED}@"
    first = found[0]
    if first == "-" or found.startswith(("eyJ", "SG.")) and "." in found:
        return REDACTED  # PEM, JWT, SendGrid: the pattern is the whole rule
    if found.startswith(_TOKEN_PREFIXES) and not (len(found) == 40 and found.startswith(("AKIA", "ASIA"))):
        if found.startswith(("AKIA", "ASIA")):
            return REDACTED if len(found) == 20 else found
        if found.startswith("sk-") and not any(c.isdigit() for c in found):
            return found  # `sk-learn-tutorial-basics` is a word, not a key
        return REDACTED
    # A 40-character base64 word: an AWS secret next to its key id, else left alone.
    text = m.string
    if _mentions_aws_key_ids(text) and _looks_random(found):
        start, end = m.start(), m.end()
        if _AWS_KEY_ID.search(text, max(0, start - 300), min(len(text), end + 300)) is not None:
            return REDACTED
    return found


@functools.lru_cache(maxsize=8)
def _mentions_aws_key_ids(text: str) -> bool:
    """Once per text (a str caches its hash): most texts hold no key id, so no 40-character word
    in them needs a closer look."""
    return "AKIA" in text or "ASIA" in text


def _key_value(found: str) -> str:
    """`key` + separator + value, the key already known to name a secret: hide the value."""
    head = _KEY_SEP.match(found)
    assert head is not None
    key, sep = head.group(1), head.group(2)
    value = found[head.end():]
    for quote in ('\\"', "\\'", '"', "'"):
        if value.startswith(quote):
            if value[len(quote):] == REDACTED:
                return found
            return key + sep + quote + REDACTED
    scheme = _SCHEME_AT.match(value)
    if scheme is not None:  # `Authorization: Bearer xyz`: the scheme stays
        return found if _plain_word(value[scheme.end():]) else key + sep + value[: scheme.end()] + REDACTED
    if value == REDACTED or value.lower() in _NOT_VALUES:
        return found
    return key + sep + REDACTED


def redact_patterns(text: str) -> str:
    """Hide every credential shape and every secret-named value in `text` (one linear pass)."""
    return _MASTER.sub(_replace, text)


class Redactor:
    """Replaces secrets with `[REDACTED]` in text, argument dicts and whole run states."""

    def __init__(self, literals: Iterable[str] = (), *, include_environment: bool = True) -> None:
        values = {v for v in literals if v and len(v) >= 4}
        if include_environment:
            values.update(secrets_from_environment())
        #: Longest first, so a secret that contains another is hidden whole.
        self._literals = sorted(values, key=len, reverse=True)

    # ------------------------------------------------------------------ primitives

    def text(self, value: str) -> str:
        if not value:
            return value
        out = clean_text(value, limit=len(value))  # only unstorable characters; never cuts
        for literal in self._literals:  # str.replace: linear, in C
            if literal in out:
                out = out.replace(literal, REDACTED)
        return redact_patterns(out)

    def value(self, value: Any, key: str | None = None, _depth: int = 0) -> Any:
        """Redact any JSON-like value; `key` is the name it is stored under (if any)."""
        if key is not None and key in _STRUCTURAL_KEYS and not isinstance(value, (dict, list)):
            return clean_text(value, limit=len(value)) if isinstance(value, str) else value
        if key is not None and is_secret_name(key) and _is_secret_scalar(value):
            return REDACTED
        if isinstance(value, str):
            if key == "arguments":  # a tool call's raw JSON arguments
                return self._json_text(value)
            return self.text(clean_text(value, MAX_STORED_CHARS))  # storable, and bounded
        if isinstance(value, (dict, list)) and _depth >= _WALK_DEPTH:
            return DEPTH_MARKER
        if isinstance(value, dict):
            return {
                (clean_text(k, limit=len(k)) if isinstance(k, str) else k): self.value(v, k, _depth + 1)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.value(v, None, _depth + 1) for v in value]
        return value

    def args(self, args: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if args is None else self.value(args)

    def _json_text(self, raw: str) -> str:
        try:
            parsed = json.loads(raw)
            cleaned = self.value(parsed)
            if cleaned == parsed:
                return raw  # unchanged: keep the model's exact text
            return json.dumps(cleaned, ensure_ascii=False)
        except (json.JSONDecodeError, TypeError, RecursionError):
            return self.text(clean_text(raw, MAX_STORED_CHARS))

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
