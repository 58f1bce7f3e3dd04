"""The redactor hides every common credential shape, leaves look-alikes alone, and survives hostile text.

Three layers: the text rule for each shape (exact output, so what surrounds a secret is kept), the
same secrets carried through a real run (tool arguments, tool results, the model's messages and
the prompt) into a real SQLite file and its exports, and hostile inputs that used to take seconds
per 10 KB (correctness only here; `tests/benchmarks/bench_redaction.py` measures the time).
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest
from chatserver import ChatServer, call, text, tools
from conftest import make_model
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.agent import Agent, RunStatus, tool
from tui.store import REDACTED, Redactor, RunStore
from tui.store.export import export_json, export_markdown
from tui.store.redact import is_secret_name

R = REDACTED
AWS_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAMwAAAAtzc2gtZWQyNTUxOQ\n-----END OPENSSH PRIVATE KEY-----"
SENDGRID = "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"
AZURE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

#: (shape, text, expected). At least the 22 shapes of issue 9, each in a realistic setting.
SHAPES: list[tuple[str, str, str]] = [
    ("openai", "key is sk-proj-Ab12Cd34Ef56Gh78Ij90Kl.", f"key is {R}."),
    ("anthropic", "ANTHROPIC key sk-ant-api03-AbCdEf0123456789-xyz_AAbbCC here", f"ANTHROPIC key {R} here"),
    ("github ghp_", "push with ghp_16C7e42F292c6912E7710c838347Ae178B4a now", f"push with {R} now"),
    ("github gho_ ghu_ ghs_ ghr_", "gho_16C7e42F292c6912E7710c838347Ae178B4a ghu_16C7e42F292c6912E7710c838347Ae178B4a "
     "ghs_16C7e42F292c6912E7710c838347Ae178B4a ghr_16C7e42F292c6912E7710c838347Ae178B4a", f"{R} {R} {R} {R}"),
    ("github_pat_", "GH=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF", f"GH={R}"),
    ("slack", "slack: xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", f"slack: {R}"),
    ("aws access key id", f"id {AWS_ID} ok", f"id {R} ok"),
    ("aws secret, credentials file", f"[default]\naws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\n",
     f"[default]\naws_access_key_id = {R}\naws_secret_access_key = {R}\n"),
    ("aws secret, env", f"export AWS_SECRET_ACCESS_KEY={AWS_SECRET}", f"export AWS_SECRET_ACCESS_KEY={R}"),
    ("aws secret, JSON", f'{{"AccessKeyId": "{AWS_ID}", "SecretAccessKey": "{AWS_SECRET}"}}',
     f'{{"AccessKeyId": "{R}", "SecretAccessKey": "{R}"}}'),
    ("aws secret, only within 300 characters of its key id",
     f"{AWS_ID} {'. ' * 200}{AWS_SECRET}", f"{R} {'. ' * 200}{AWS_SECRET}"),
    ("aws secret, just before its key id", f"{AWS_SECRET[::-1]} {AWS_ID}", f"{R} {R}"),
    ("aws secret, CSV next to its key id", f"Access key ID,Secret access key\n{AWS_ID},{AWS_SECRET}\n",
     f"Access key ID,Secret access key\n{R},{R}\n"),
    ("google", "maps AIzaSyA1234567890abcdefghijklmnopqrstuv!", f"maps {R}!"),
    ("pem private key", f"key:\n{PEM}\ndone", f"key:\n{R}\ndone"),
    ("pem with headers, legacy encrypted",
     "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n"
     "mBsVbEVK7fN3zc0k8mD3s8lL2o9ZrF1Q\n-----END RSA PRIVATE KEY-----\nafter", f"{R}\nafter"),
    ("two pem keys", f"a\n{PEM}\nb\n{PEM.replace('OPENSSH', 'RSA')}\nc", f"a\n{R}\nb\n{R}\nc"),
    ("bearer header", "Authorization: Bearer abcdefgh12345678", f"Authorization: Bearer {R}"),
    ("basic header", "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", f"Authorization: Basic {R}"),
    ("token header", "Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
     f"Authorization: Token {R}"),
    ("key: value", "password: hunter2 (do not share)", f"password: {R} (do not share)"),
    ("json key", '{"api_key": "abc 123", "model": "x"}', f'{{"api_key": "{R}", "model": "x"}}'),
    ("token=", "https://api.example.com/v1?access_token=abc123&page=2",
     f"https://api.example.com/v1?access_token={R}&page=2"),
    ("camelCase key", "clientSecret='s3cr3t-value'", f"clientSecret='{R}'"),
    ("stripe sk_live_", "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", f"stripe {R}"),
    ("stripe rk_live_ sk_test_", "rk_live_51H8abcDEFghiJKLmno sk_test_4eC39HqLyjWDarjtT1zdp7dc", f"{R} {R}"),
    ("jwt", f"session {JWT} expires", f"session {R} expires"),
    ("hugging face", "HF hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", f"HF {R}"),
    ("gitlab", "glpat-xxxxxxxxxxxxxxxxxxxx1 in CI", f"{R} in CI"),
    ("npm", "//registry.npmjs.org/:_authToken=npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
     f"//registry.npmjs.org/:_authToken={R}"),
    ("sendgrid", f"SENDGRID {SENDGRID}", f"SENDGRID {R}"),
    ("dsn password", "DATABASE_URL=postgres://ada:S3cr%40t-pass@db.internal:5432/app",
     f"DATABASE_URL=postgres://ada:{R}@db.internal:5432/app"),
    ("dsn password without user", "redis://:p4ssw0rd@cache:6379/0", f"redis://:{R}@cache:6379/0"),
    ("azure AccountKey", f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={AZURE_KEY};EndpointSuffix=core.windows.net",
     f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={R};EndpointSuffix=core.windows.net"),
    ("azure SharedAccessSignature", "BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&ss=b&sig=abc%2Bdef%3D",
     f"BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature={R}"),
    ("azure SAS url sig=", "https://a.blob.core.windows.net/c/f.txt?sv=2022-11-02&se=2026-01-01&sig=abc%2Bdef%3D",
     f"https://a.blob.core.windows.net/c/f.txt?sv=2022-11-02&se=2026-01-01&sig={R}"),
]

#: Look-alikes that are not secrets: left exactly as they are.
NOT_SECRETS = [
    "max_tokens: 512, token_count=3",
    "ask-the-team-about-it and sk-learn-tutorial-basics",
    "The token budget is large. The token information is below.",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b (a git hash is 40 characters too)",
    f"a lone 40-character word {AWS_SECRET} with no key id nearby",
    "sort_key: name, monkey=3, primary-key: id",
    "https://example.com:8080/path?q=1 and git@github.com:org/repo.git and mailto:ada@example.com",
    "password: null, token: true",
    "Bearer in mind: basic understanding matters.",
    "eyJ alone, SG. alone, AKIA alone, hf_short",
]


@pytest.mark.parametrize(("shape", "given_text", "expected"), SHAPES, ids=[s[0] for s in SHAPES])
def test_each_credential_shape_is_hidden_and_its_surroundings_are_kept(shape: str, given_text: str, expected: str) -> None:
    assert Redactor(include_environment=False).text(given_text) == expected


@pytest.mark.parametrize("given_text", NOT_SECRETS)
def test_look_alikes_are_left_alone(given_text: str) -> None:
    assert Redactor(include_environment=False).text(given_text) == given_text


def test_the_literal_value_of_a_secret_looking_environment_variable_is_hidden_anywhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACME_DEPLOY_TOKEN", "plain-looking-value-42")
    monkeypatch.setenv("ACME_COLOR", "plain-looking-colour")
    out = Redactor().text("deploy with plain-looking-value-42 in plain-looking-colour")
    assert out == f"deploy with {R} in plain-looking-colour"


@pytest.mark.parametrize(
    ("name", "secret"),
    [("api_key", True), ("githubToken", True), ("AWS_SECRET_ACCESS_KEY", True), ("AccountKey", True),
     ("x-api-key", True), ("SharedAccessSignature", True), ("Set-Cookie", True), ("dbPassword", True), ("csrf_token", True),
     ("max_tokens", False), ("token_count", False), ("sort_key", False), ("monkey", False), ("signature", False),
     ("aws_access_key_id", False), ("PWD", False), ("", False)],
)
def test_which_key_names_hold_secrets(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


# ----------------------------------------------------------------------------- through a real run

#: The part of each shape that must never be stored (for a DSN, the password only).
LEAKS = {
    "openai": "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl",
    "anthropic": "sk-ant-api03-AbCdEf0123456789-xyz_AAbbCC",
    "github ghp_": "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "github_pat_": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF",
    "slack": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "aws access key id": AWS_ID,
    "aws secret, credentials file": AWS_SECRET,
    "aws secret, CSV next to its key id": AWS_SECRET,
    "google": "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "pem private key": "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
    "bearer header": "abcdefgh12345678",
    "key: value": "hunter2",
    "stripe sk_live_": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "jwt": JWT,
    "hugging face": "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "gitlab": "glpat-xxxxxxxxxxxxxxxxxxxx1",
    "npm": "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "sendgrid": SENDGRID,
    "dsn password": "S3cr%40t-pass",
    "azure AccountKey": AZURE_KEY,
    "azure SharedAccessSignature": "sv=2022-11-02&ss=b&sig=abc%2Bdef%3D",
    "token=": "abc123&",
}
SHAPE_TEXT = {shape: given_text for shape, given_text, _ in SHAPES}


@tool
def note(text: str) -> str:
    """Keep a note.

    Args:
        text: What to remember.
    """
    return f"noted: {text}"


@pytest.mark.parametrize("shape", sorted(LEAKS))
async def test_a_secret_in_the_prompt_arguments_result_and_answer_never_reaches_the_database_or_an_export(
    tmp_path: Path, chat_server: ChatServer, shape: str
) -> None:
    carrier = SHAPE_TEXT[shape]
    chat_server.add(tools(call("note", {"text": f"remember {carrier}"})), text(f"I noted: {carrier}"))
    store = RunStore(tmp_path / "runs.db")
    agent = Agent(model=make_model(chat_server, "json"), tools=[note], store=store)
    run = await agent.arun(f"Please note this: {carrier}")
    assert run.status == RunStatus.completed
    assert LEAKS[shape] in (run.tools[0].result or "")  # the live run used the real value

    secret = LEAKS[shape].encode()
    on_disk = b"".join(p.read_bytes() for p in sorted(tmp_path.glob("runs.db*")))
    assert secret not in on_disk
    assert R.encode() in on_disk
    assert LEAKS[shape] not in export_json(store, run.run_id)
    assert LEAKS[shape] not in export_markdown(store, run.run_id)


# ----------------------------------------------------------------------------- hostile inputs

N = 100_000
GHP = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
_b64 = base64.b64encode(random.Random(9).randbytes(N * 3 // 4)).decode()

HOSTILE: list[tuple[str, str, str]] = [
    ("sk- repeated", "sk-" * (N // 3), "sk-" * (N // 3)),
    ("sk- repeated, then a key", "sk-" * (N // 3) + " " + GHP, "sk-" * (N // 3) + " " + R),
    ("key=key=...", "key=" * (N // 4) + " password=hunter2", "key=" * (N // 4) + f" password={R}"),
    ("password=password=...", "password=" * (N // 9), f"password={R}"),
    ("huge base64", _b64, _b64),
    ("nested escaped quotes", '{"token": "' + '\\"' * (N // 2) + '"}', f'{{"token": "{R}"}}'),
    ("escaped keys without values", '\\"password\\": \\"' * (N // 16), '\\"password\\": \\"' * (N // 16)),
    ("a_a_a... then a key", "a_" * (N // 2) + "token=abc12345", "a_" * (N // 2) + f"token={R}"),
    ("://... then a DSN", "://" * (N // 3) + " postgres://u:pw@h", "://" * (N // 3) + f" postgres://u:{R}@h"),
    ("PEM headers without an END", "-----BEGIN RSA PRIVATE KEY-----\n" * (N // 32), R * (N // 32)),
    ("Bearer Bearer ...", "Bearer " * (N // 7) + "abcdef123456", "Bearer " * (N // 7 - 1) + f"Bearer {R}"),
    ("eyJ. and SG. repeated", "eyJ." * (N // 8) + "SG." * (N // 6), "eyJ." * (N // 8) + "SG." * (N // 6)),
    ("pairs without values", "sig=&" * (N // 5), "sig=&" * (N // 5)),
    ("40-character words", " ".join(["Ab1" * 13 + "C"] * (N // 41)), " ".join(["Ab1" * 13 + "C"] * (N // 41))),
]


@pytest.mark.parametrize(("name", "hostile", "expected"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_text_is_redacted_correctly(name: str, hostile: str, expected: str) -> None:
    assert Redactor(include_environment=False).text(hostile) == expected


async def test_a_hostile_100_kb_tool_result_is_saved_as_it_was(tmp_path: Path, chat_server: ChatServer) -> None:
    """The case that froze the dashboard: a tool result of `sk-sk-sk-...` (10 s per 10 KB before)."""
    chat_server.add(tools(call("note", {"text": "sk-" * (N // 3)})), text("ok"))
    store = RunStore(tmp_path / "runs.db")
    run = await Agent(model=make_model(chat_server, "json"), tools=[note], store=store).arun("note it")
    assert run.status == RunStatus.completed
    saved = RunStore(tmp_path / "runs.db").load_run(run.run_id)
    assert saved is not None and saved.tools[0].result == "noted: " + "sk-" * (N // 3)


_FRAGMENTS = st.sampled_from(
    ["sk-", "key=", "password", ":", "=", '"', "'", "\\", "Bearer ", "token ", "://", "@", "eyJ", ".", "SG.",
     "AKIA", "-----BEGIN RSA PRIVATE KEY-----", "a", "0", " ", "\n", "_", "-", "{", "}", ",", "&", "Ab1" * 13 + "C"]
)


@settings(max_examples=300, deadline=None)
@given(before=st.lists(_FRAGMENTS, max_size=40), after=st.lists(_FRAGMENTS, max_size=40),
       secret=st.sampled_from([GHP, JWT, AWS_ID, SENDGRID, "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "glpat-xxxxxxxxxxxxxxxxxxxx1"]))
def test_no_surrounding_text_lets_a_credential_through(before: list[str], after: list[str], secret: str) -> None:
    out = Redactor(include_environment=False).text("".join(before) + " " + secret + " " + "".join(after))
    assert secret not in out


def test_redacting_a_whole_run_state_is_json_safe_with_a_hostile_key() -> None:
    state = {"messages": [{"role": "tool", "content": "x", "tool_calls": None}],
             "tools": [{"tool_args": {"a_" * 5000 + "token": "v" * 10, "path": "notes.txt"}, "status": "completed"}]}
    out = Redactor(include_environment=False).run_state(state)
    assert out["tools"][0]["tool_args"] == {"a_" * 5000 + "token": R, "path": "notes.txt"}
    json.dumps(out)


async def test_worker_threads_get_the_same_answers_as_the_event_loop() -> None:
    """The store redacts off the event loop (`asyncio.to_thread`): shared patterns and caches hold."""
    import asyncio

    texts = [given for _, given, _ in SHAPES] * 10 + [h for _, h, _ in HOSTILE[:4]]
    redactor = Redactor(include_environment=False)
    expected = [redactor.text(t) for t in texts]
    assert await asyncio.gather(*(asyncio.to_thread(redactor.text, t) for t in texts)) == expected
