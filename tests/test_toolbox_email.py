"""send_email: a real mbox outbox by default, a real (tiny, local) SMTP server when configured."""

from __future__ import annotations

import base64
import mailbox
import socket
import threading
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Iterator

import pytest

from tui.agent import Agent, ToolError
from tui.agent.models import DemoModel
from tui.config import Settings
from tui.toolbox import builtin_tools, send_email
from tui.toolbox.email import check_address, make_send_email


def email_tool(**settings: Any):
    return make_send_email(Settings(**settings))


def messages(path: Path) -> list[mailbox.mboxMessage]:
    box = mailbox.mbox(str(path), create=False)
    try:
        return list(box)
    finally:
        box.close()


# ----------------------------------------------------------------------------- the mbox outbox


def test_sending_appends_a_proper_message_to_the_local_mbox(tmp_path: Path) -> None:
    outbox = tmp_path / "mail" / "outbox.mbox"
    tool = email_tool(outbox=outbox, smtp_from="Agent <agent@hitl.example>")
    result = tool("Hello", "Hello, world!\nSecond line.", "ada@example.com")
    assert result == (
        f"Sent email to ada@example.com with the subject 'Hello' (saved to the local outbox at {outbox}; "
        "set smtp_host to send through a mail server)."
    )
    [msg] = messages(outbox)
    assert msg["Subject"] == "Hello"
    assert msg["From"] == "Agent <agent@hitl.example>"
    assert msg["To"] == "ada@example.com"
    assert parsedate_to_datetime(msg["Date"]).tzinfo is not None
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@hitl.example>")
    assert msg.get_from().startswith("agent@hitl.example ")
    assert msg.get_payload(decode=True).decode() == "Hello, world!\nSecond line.\n"
    assert outbox.stat().st_mode & 0o777 == 0o600  # mail is private


def test_each_email_is_a_separate_message_with_its_own_id(tmp_path: Path) -> None:
    tool = email_tool(outbox=tmp_path / "outbox.mbox")
    tool("One", "first", "ada@example.com")
    tool("Two", "From the start of a line", "grace@example.org")
    first, second = messages(tmp_path / "outbox.mbox")
    assert (first["Subject"], second["Subject"]) == ("One", "Two")
    assert first["Message-ID"] != second["Message-ID"]
    # The mbox format's own escaping: a body line starting "From " is stored as ">From ".
    assert second.get_payload(decode=True).decode() == ">From the start of a line\n"


def test_non_ascii_text_survives(tmp_path: Path) -> None:
    tool = email_tool(outbox=tmp_path / "outbox.mbox")
    tool("Grüße 👋", "Ça marche — très bien.", "zoe@example.com")
    [msg] = messages(tmp_path / "outbox.mbox")
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Grüße 👋"
    assert parsed.get_content() == "Ça marche — très bien.\n"


def test_a_line_break_in_the_subject_cannot_add_headers(tmp_path: Path) -> None:
    tool = email_tool(outbox=tmp_path / "outbox.mbox")
    tool("Hi\r\nBcc: everyone@example.com", "body", "ada@example.com")
    [msg] = messages(tmp_path / "outbox.mbox")
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Hi Bcc: everyone@example.com"


@pytest.mark.parametrize(
    "address",
    ["", "   ", "ada", "ada@", "@example.com", "ada@@example.com", "ada example@x.com", "a@b.com\nBcc: x@y.z", "ada@exa mple.com", "ada..b@x.com"],
)
def test_an_invalid_address_is_refused_and_nothing_is_written(tmp_path: Path, address: str) -> None:
    outbox = tmp_path / "outbox.mbox"
    with pytest.raises(ToolError, match=r"is not an email address: expected something like name@example.com"):
        email_tool(outbox=outbox)("Hello", "body", address)
    assert not outbox.exists()


@pytest.mark.parametrize("address", ["ada@example.com", " grace.hopper+navy@mail.example.org ", "root@localhost"])
def test_ordinary_addresses_are_accepted(tmp_path: Path, address: str) -> None:
    email_tool(outbox=tmp_path / "o.mbox")("s", "b", address)
    assert messages(tmp_path / "o.mbox")[0]["To"] == address.strip()


def test_the_outbox_comes_from_the_environment_at_call_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HITL_TUI_OUTBOX", str(tmp_path / "env.mbox"))
    send_email("Hello", "from the env", "ada@example.com")
    assert messages(tmp_path / "env.mbox")[0]["Subject"] == "Hello"


def test_an_unwritable_outbox_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ToolError, match=r"Could not write the outbox .*HITL_TUI_OUTBOX"):
        email_tool(outbox=blocker / "outbox.mbox")("s", "b", "ada@example.com")


def test_the_model_cannot_see_or_fill_the_address() -> None:
    tool = builtin_tools()[1]
    assert tool.name == "send_email"
    assert set(tool.parameters["properties"]) == {"subject", "body"}
    [field] = tool.user_input_schema()
    assert (field.name, field.field_type) == ("to_address", str)
    assert "name@example.com" in (field.description or "")


async def test_the_reference_prompt_pauses_for_the_address_then_delivers(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.mbox"
    agent = Agent(model=DemoModel(delay=0), tools=builtin_tools(Settings(outbox=outbox)))
    run = await agent.arun("Send an email with the subject 'Hello' and the body 'Hello, world!'")
    assert run.is_paused and not outbox.exists()
    [tool] = run.tools_requiring_user_input
    assert tool.tool_args == {"subject": "Hello", "body": "Hello, world!"}
    [field] = tool.user_input_schema
    field.value = "ada@example.com"  # the Agno way
    run = await agent.acontinue_run()
    assert run.status == "completed"
    assert "Sent email to ada@example.com" in run.content
    [msg] = messages(outbox)
    assert (msg["Subject"], msg["To"]) == ("Hello", "ada@example.com")


async def test_an_invalid_address_is_refused_on_the_field_and_nothing_is_sent(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.mbox"
    agent = Agent(model=DemoModel(delay=0), tools=builtin_tools(Settings(outbox=outbox)))
    run = await agent.arun("Send an email with the subject 'Hello' and the body 'Hi'")
    assert run.tools[0].provide_user_input({"to_address": "nobody"}) == {
        "to_address": "must be an email address like name@example.com"
    }
    run = await agent.acontinue_run(run)
    assert run.is_paused and run.tools[0].status == "pending"
    # the tool itself still refuses a bad address if one ever reaches it
    with pytest.raises(ToolError, match="'nobody' is not an email address"):
        check_address("nobody")
    assert not outbox.exists()


# ----------------------------------------------------------------------------- SMTP


class TinySMTPServer:
    """Just enough SMTP (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) on 127.0.0.1, over real sockets."""

    def __init__(self, *, auth: tuple[str, str] | None = None, refuse: set[str] | None = None) -> None:
        self.auth = auth
        self.refuse = refuse or set()
        self.received: list[dict[str, Any]] = []
        self.logins: list[tuple[str, str]] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen()
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self._sock.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as rfile:
            def reply(line: str) -> None:
                conn.sendall(line.encode() + b"\r\n")

            reply("220 tiny.test ESMTP ready")
            envelope: dict[str, Any] = {"rcpt": []}
            authed = self.auth is None
            for raw in rfile:
                line = raw.decode().rstrip("\r\n")
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    reply("250-tiny.test" + ("\r\n250-AUTH PLAIN" if self.auth else "") + "\r\n250 8BITMIME")
                elif verb == "AUTH":
                    _, user, password = base64.b64decode(line.split()[2]).decode().split("\x00")
                    self.logins.append((user, password))
                    authed = (user, password) == self.auth
                    reply("235 ok" if authed else "535 5.7.8 bad credentials")
                elif verb == "MAIL":
                    if not authed:
                        reply("530 5.7.0 authentication required")
                        continue
                    envelope["from"] = line.split(":", 1)[1].split()[0].strip("<>")
                    reply("250 ok")
                elif verb == "RCPT":
                    rcpt = line.split(":", 1)[1].strip().strip("<>")
                    if rcpt in self.refuse:
                        reply("550 5.1.1 no such user here")
                    else:
                        envelope["rcpt"].append(rcpt)
                        reply("250 ok")
                elif verb == "DATA":
                    reply("354 go ahead")
                    data = b""
                    for chunk in rfile:
                        if chunk == b".\r\n":
                            break
                        data += chunk
                    envelope["data"] = data.decode()
                    self.received.append(envelope)
                    envelope = {"rcpt": []}
                    reply("250 queued")
                elif verb == "QUIT":
                    reply("221 bye")
                    return
                else:
                    reply("250 ok")


@pytest.fixture
def smtp() -> Iterator[TinySMTPServer]:
    server = TinySMTPServer()
    yield server
    server.close()


def test_with_smtp_host_set_the_email_goes_to_the_server(smtp: TinySMTPServer, tmp_path: Path) -> None:
    tool = email_tool(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False,
                      smtp_from="agent@hitl.example", outbox=tmp_path / "outbox.mbox")
    result = tool("Hello", "Hello, world!", "ada@example.com")
    assert result == f"Sent email to ada@example.com with the subject 'Hello' through 127.0.0.1:{smtp.port}."
    [envelope] = smtp.received
    assert envelope["from"] == "agent@hitl.example" and envelope["rcpt"] == ["ada@example.com"]
    assert "Subject: Hello\r\n" in envelope["data"] and "Message-ID: <" in envelope["data"]
    assert "Hello, world!" in envelope["data"]
    assert not (tmp_path / "outbox.mbox").exists()


def test_smtp_login_uses_the_password_from_the_named_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = TinySMTPServer(auth=("agent", "s3cret"))
    try:
        monkeypatch.setenv("MY_SMTP_PASSWORD", "s3cret")
        tool = email_tool(smtp_host="127.0.0.1", smtp_port=server.port, smtp_starttls=False,
                          smtp_user="agent", smtp_password_env="MY_SMTP_PASSWORD")
        tool("Hi", "body", "ada@example.com")
        assert server.logins == [("agent", "s3cret")] and len(server.received) == 1

        monkeypatch.setenv("MY_SMTP_PASSWORD", "wrong")
        with pytest.raises(ToolError, match=r"rejected the login for agent \(535 5\.7\.8 bad credentials\)"):
            tool("Hi", "body", "ada@example.com")

        monkeypatch.delenv("MY_SMTP_PASSWORD")
        with pytest.raises(ToolError, match=r"password variable MY_SMTP_PASSWORD is empty"):
            tool("Hi", "body", "ada@example.com")
    finally:
        server.close()


def test_a_refused_recipient_is_a_clear_error(tmp_path: Path) -> None:
    server = TinySMTPServer(refuse={"ghost@example.com"})
    try:
        tool = email_tool(smtp_host="127.0.0.1", smtp_port=server.port, smtp_starttls=False)
        with pytest.raises(ToolError, match=r"refused the recipient \(ghost@example.com: 550 5\.1\.1 no such user here\)"):
            tool("Hi", "body", "ghost@example.com")
        assert server.received == []
    finally:
        server.close()


def test_starttls_is_required_unless_turned_off(smtp: TinySMTPServer) -> None:
    tool = email_tool(smtp_host="127.0.0.1", smtp_port=smtp.port)  # smtp_starttls defaults to True
    with pytest.raises(ToolError, match=r"does not offer STARTTLS.*Nothing was sent"):
        tool("Hi", "body", "ada@example.com")
    assert smtp.received == []


def test_an_unreachable_smtp_server_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tool = email_tool(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    with pytest.raises(ToolError, match=rf"Could not connect to the SMTP server 127\.0\.0\.1:{port}: .*Check smtp_host and smtp_port"):
        tool("Hi", "body", "ada@example.com")
