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

Why it is linear: one compiled pattern is searched once from left to right. Every alternative
starts at a fixed prefix or a word start, consumes a maximal run with possessive quantifiers
(no backtracking into it), and never fails after having read a long run, except the key name
(read once: positions inside a word are refused by a one-character look-behind). Whether a
candidate is really a secret is decided in Python on the candidate alone, and the scan resumes
after it. Lookups that look further ahead (a PEM's END line, where a URL's user part ends) are
cached, so no character is read more than a few times. Any 100 KB text redacts in milliseconds
(`tests/benchmarks/bench_redaction.py`); the old chain of regexes took seconds on `sk-sk-sk-...`.

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

#: Key names (after splitting camelCase and separators) whose last one, two or three words,
#: joined, are one of these: `github_token`, `apiKey`, `AWS_SECRET_ACCESS_KEY`, `AccountKey`.
_SECRET_WORDS = frozenset(
    {
        "password", "passwd", "pwd", "passphrase", "secret", "token", "bearer", "authorization",
        "credential", "credentials", "cookie", "apikey", "accesskey", "secretkey", "privatekey",
        "accountkey", "sig", "sharedaccesskey", "sharedaccesssignature",
    }
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+")
#: Names whose value runs to the next `;` or space, `&` included (a SAS is `sv=...&sig=...`).
_WHOLE_VALUE_NAMES = frozenset({"sharedaccesssignature"})

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

#: Key names worth a closer look end with one of these (checked by look-behind, case-insensitively).
#: A bare `key` is not one: `sort_key`, `monkey` and `key=key=...` are not worth a look.
_KEY_ENDINGS = (
    "token", "secret", "password", "passwd", "pwd", "passphrase", "bearer", "authorization",
    "credential", "credentials", "cookie", "signature", "sig",
    *(f"{word}{sep}key" for word in ("api", "access", "secret", "private", "account") for sep in ("", "_", "-")),
)
_W = "A-Za-z0-9_-"  # the characters of a word, for key names and tokens
#: Self-contained credentials: a fixed prefix, the shape's minimum length (so a too-short
#: candidate fails after a few characters), then the rest of the run, possessively (never re-read).
_CREDENTIALS = [
    rf"(?P<jwt>eyJ[{_W}]{{7}}[{_W}]*+\.eyJ[{_W}]*+\.[{_W}]*+)",
    rf"(?P<sg>SG\.[{_W}]{{16}}[{_W}]*+\.[{_W}]{{16}}[{_W}]*+)",
    r"(?P<tok>(?:"
    + "|".join(
        [
            rf"sk-[{_W}]{{16}}",
            rf"[sr]k_(?:live|test)_[{_W}]{{10}}",
            rf"gh[pousr]_[{_W}]{{20}}",
            rf"github_pat_[{_W}]{{20}}",
            rf"xox[a-z]-[{_W}]{{10}}",
            r"A[KS]IA[0-9A-Z]{16}",
            rf"AIza[{_W}]{{35}}",
            rf"hf_[{_W}]{{30}}",
            rf"glpat-[{_W}]{{20}}",
            rf"npm_[{_W}]{{36}}",
        ]
    )
    + rf")[{_W}]*+)",
]
#: What may follow `key:` / `key=` for the pair to be worth a look: an opening quote that is not
#: at once closed, or the first character of a bare value.
_SEP_THEN_VALUE = (
    r"""(?P<sep>\\?["']?[ \t]*+[:=][ \t]*+"""
    r"""(?:\\"(?!\\")|\\'(?!\\')|"(?!["\n])|'(?!['\n])|(?=[^\s"'\\,;}&<>\[{(])))"""
)
_MASTER = re.compile(
    "|".join(
        [
            r"(?P<pem>-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY-----)",
            r"(?P<url>://)",
            # Everything else starts a word: one look-behind refuses the positions inside words.
            rf"(?<![{_W}])(?:"
            + "|".join(
                [
                    # A key name followed by a separator and a value, whose name ends like a
                    # secret's (checked last: most words are not followed by a separator).
                    rf"(?P<kv>[A-Za-z_][{_W}]*+(?={_SEP_THEN_VALUE})"
                    + "(?i:" + "|".join(f"(?<={w})" for w in _KEY_ENDINGS) + "))",
                    r"(?P<auth>(?:[Bb](?:earer|asic|EARER|ASIC)|[Tt](?:oken|OKEN))[ \t]++(?=[A-Za-z0-9._~+/=-]{8}))",
                    *_CREDENTIALS,
                ]
            )
            + ")",
            r"(?P<b64>(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=]))",
        ]
    )
)
#: The same credential shapes, for a word that the key-name rule looked at first (`sk-...key: 1`).
_CREDENTIAL_AT = re.compile("|".join(_CREDENTIALS))
_VALUE_PLAIN = re.compile(r"""[^\s"'\\,;}&<>]++""")
_VALUE_WHOLE = re.compile(r"""[^\s"'\\;<>]++""")
_VALUE_DQ = re.compile(r'(?:[^"\\\n]++|\\.)*+')
_VALUE_SQ = re.compile(r"[^'\n]*+")
_VALUE_ESCAPED = re.compile(r"""(?:[^\\\n]++|\\(?!["']))*+""")
_AUTH_AT = re.compile(r"(?:[Bb](?:earer|asic|EARER|ASIC)|[Tt](?:oken|OKEN))[ \t]")
_AUTH_VALUE = re.compile(r"[A-Za-z0-9._~+/=-]++")
_PEM_END = re.compile(r"-----END[ A-Z0-9]{0,40}PRIVATE KEY-----")
_USERINFO_STOP = re.compile(r"""[\s@"'<>]""")
_AWS_KEY_ID = re.compile(r"(?<![A-Za-z0-9])A[KS]IA[0-9A-Z]{16}(?![A-Za-z0-9])")
_AWS_ID_BODY = re.compile(r"[0-9A-Z]{16}")
_NOT_VALUES = frozenset({"null", "none", "true", "false"})

@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Does this key name hold a secret? `api_key`, `githubToken`, `AWS_SECRET_ACCESS_KEY`: yes;
    `max_tokens`, `token_count`, `sort_key`: no."""
    if not name:
        return False
    words = [w for w in _WORD_SPLIT.split(_CAMEL.sub("_", name).lower()) if w]
    return any("".join(words[-k:]) in _SECRET_WORDS for k in (1, 2, 3) if len(words) >= k)


def secrets_from_environment(environ: dict[str, str] | None = None) -> list[str]:
    """Values of secret-looking environment variables (at least 8 characters long)."""
    env = os.environ if environ is None else environ
    return [v for k, v in env.items() if _SECRET_ENV_RE.search(k) and len(v.strip()) >= 8]


def _token_is_secret(token: str) -> bool:
    """The pattern already checked the prefix and the minimum length; these are the last checks."""
    if token.startswith(("AKIA", "ASIA")):
        return len(token) == 20 and _AWS_ID_BODY.fullmatch(token, 4) is not None
    if token.startswith("sk-"):  # `sk-learn-tutorial-basics` is a word, not a key
        return any(c.isdigit() for c in token)
    return True


@functools.lru_cache(maxsize=1024)
def _takes_whole_value(key: str) -> bool:
    return "".join(_WORD_SPLIT.split(_CAMEL.sub("_", key).lower())) in _WHOLE_VALUE_NAMES


def _auth_value_is_secret(value: str) -> bool:
    """8+ characters and not a plain word ("token information" is prose, not a token)."""
    return len(value) >= 8 and not (value.isalpha() and (value.islower() or value.istitle()))


def _looks_random(word: str) -> bool:
    return any(c.isupper() for c in word) and any(c.islower() for c in word) and any(c.isdigit() for c in word)


class _Scan:
    """One left-to-right pass over a text: pieces to keep and replacements, plus look-ahead caches."""

    __slots__ = ("text", "out", "kept", "pem_end", "pem_end_from", "stop", "stop_from")

    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[str] = []
        self.kept = 0  # text[:kept] is already in `out`
        self.pem_end: re.Match[str] | None = None
        self.pem_end_from = -1
        self.stop = -1
        self.stop_from = -1

    def replace(self, start: int, end: int, with_: str = REDACTED) -> int:
        self.out.append(self.text[self.kept : start])
        self.out.append(with_)
        self.kept = end
        return end

    def result(self) -> str:
        if not self.out:
            return self.text
        self.out.append(self.text[self.kept :])
        return "".join(self.out)

    # -- handlers: each returns where the search goes on (always past the match's start)

    def pem(self, m: re.Match[str]) -> int:
        text, start = self.text, m.start()
        if self.pem_end_from < 0 or (self.pem_end is not None and self.pem_end.start() < start):
            self.pem_end = _PEM_END.search(text, start)
            self.pem_end_from = start
        if self.pem_end is not None:
            return self.replace(start, self.pem_end.end())
        blank = text.find("\n\n", m.end())  # a key cut off before its END line: hide what follows
        return self.replace(start, len(text) if blank < 0 else blank)

    def url(self, m: re.Match[str]) -> int:
        text, begin = self.text, m.end()
        if not (self.stop_from <= begin <= self.stop):
            found = _USERINFO_STOP.search(text, begin)
            self.stop, self.stop_from = (found.start() if found else len(text)), begin
        stop = self.stop
        if stop >= len(text) or text[stop] != "@":
            return begin
        user, colon, password = text[begin:stop].partition(":")
        if not colon or not password or password == REDACTED or any(c in user for c in "/?#"):
            return begin
        return self.replace(begin + len(user) + 1, stop)

    def kv(self, m: re.Match[str]) -> int:
        text = self.text
        key = m.group("kv")
        if not is_secret_name(key):
            token = _CREDENTIAL_AT.match(text, m.start())  # a credential that ends in `token` (read once more)
            if token is None:
                return m.end()
            return max(_HANDLERS[token.lastgroup or ""](self, token), m.end())
        sep = m.group("sep")
        start = m.end("sep")
        if _AUTH_AT.match(text, start):
            return start  # `Authorization: Bearer xyz`: the scheme stays, the auth rule hides xyz
        opened = sep[-1] if sep[-1] in "\"'" else ""
        if opened and sep[-2:-1] == "\\":
            value = _VALUE_ESCAPED.match(text, start)
        elif opened == '"':
            value = _VALUE_DQ.match(text, start)
        elif opened == "'":
            value = _VALUE_SQ.match(text, start)
        else:
            value = (_VALUE_WHOLE if _takes_whole_value(key) else _VALUE_PLAIN).match(text, start)
        if value is None or value.end() == start:
            return start
        found = value.group()
        if found == REDACTED or (not opened and found.lower() in _NOT_VALUES):
            return value.end()
        return self.replace(start, value.end())

    def auth(self, m: re.Match[str]) -> int:
        value = _AUTH_VALUE.match(self.text, m.end())
        if value is not None and _auth_value_is_secret(value.group()):
            return self.replace(value.start(), value.end())
        return m.end()

    def jwt(self, m: re.Match[str]) -> int:
        return self.replace(m.start(), m.end())  # the pattern is the whole rule

    def sg(self, m: re.Match[str]) -> int:
        return self.replace(m.start(), m.end())

    def tok(self, m: re.Match[str]) -> int:
        if _token_is_secret(m.group()):
            return self.replace(m.start(), m.end())
        return m.end()

    def b64(self, m: re.Match[str]) -> int:
        word = m.group()
        if _looks_random(word):
            near = _AWS_KEY_ID.search(self.text, max(0, m.start() - 300), min(len(self.text), m.end() + 300))
            if near is not None:
                return self.replace(m.start(), m.end())
        return m.end()


_HANDLERS = {
    "pem": _Scan.pem,
    "url": _Scan.url,
    "kv": _Scan.kv,
    "auth": _Scan.auth,
    "jwt": _Scan.jwt,
    "sg": _Scan.sg,
    "tok": _Scan.tok,
    "b64": _Scan.b64,
}


def redact_patterns(text: str) -> str:
    """Hide every credential shape and every secret-named value in `text` (one linear pass)."""
    search = _MASTER.search
    m = search(text)
    if m is None:
        return text
    scan = _Scan(text)
    while m is not None:
        pos = _HANDLERS[m.lastgroup or ""](scan, m)
        m = search(text, max(pos, m.start() + 1))
    return scan.result()


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
