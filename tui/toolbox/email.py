"""`send_email`: the user-input-flow example tool. The recipient is a field only the user fills.

Delivery is real by default, and needs no server: the message is appended, as a proper RFC 5322
message, to a local mbox file (Settings.outbox) that any mail client can open. When an SMTP server
is configured (Settings.smtp_host) the message goes there instead.
"""

from __future__ import annotations

import mailbox
import os
import re
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from tui.agent.tools import Function, ToolError, tool
from tui.private_files import create_private_file

from .settings import ToolboxSettings

from .settings_source import settings_source

#: Seconds allowed for the SMTP connection and each command.
SMTP_TIMEOUT = 15.0
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$")


def check_address(address: str) -> str:
    """Return the address stripped of spaces, or raise ToolError if it is not like name@domain."""
    value = (address or "").strip()
    if not _ADDRESS.match(value) or ".." in value or value.startswith(".") or ".@" in value:
        raise ToolError(
            f"{value!r} is not an email address: expected something like name@example.com. "
            "Nothing was sent."
        )
    return value


def _valid_address(value: str) -> str:
    try:
        return check_address(value)
    except ToolError:
        raise ValueError("must be an email address like name@example.com") from None


#: A str checked as an address where it is typed: the form shows the error on the field itself.
EmailAddress = Annotated[str, AfterValidator(_valid_address)]


def build_message(subject: str, body: str, to_address: str, sender: str) -> EmailMessage:
    """A complete message with Date and Message-ID, ready for an mbox or an SMTP server."""
    msg = EmailMessage()
    # A header may not contain line breaks (that is how header injection works): fold them away.
    msg["Subject"] = " ".join(subject.split())
    msg["From"] = sender
    msg["To"] = to_address
    msg["Date"] = formatdate(localtime=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "hitl-tui.localhost"
    # An explicit domain: make_msgid would otherwise ask DNS for this host's name (slow offline).
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["X-Mailer"] = "hitl-tui"
    msg.set_content(body)
    return msg


def save_to_mbox(msg: EmailMessage, path: Path) -> None:
    """Append `msg` to the mbox at `path`, holding the mbox lock while writing."""
    try:
        create_private_file(path)  # mail is private: a new outbox is 0600, in 0700 folders
        box = mailbox.mbox(str(path), create=True)
        try:
            box.lock()
            try:
                entry = mailbox.mboxMessage(msg)
                entry.set_from(parseaddr(str(msg["From"]))[1] or "MAILER-DAEMON", time.gmtime())
                box.add(entry)
                box.flush()
            finally:
                box.unlock()
        finally:
            box.close()
    except mailbox.ExternalClashError:
        raise ToolError(f"The outbox {path} is locked by another program; try again in a moment.") from None
    except OSError as exc:
        raise ToolError(f"Could not write the outbox {path}: {exc.strerror or exc}. Set HITL_TUI_OUTBOX to another file.") from None


def send_via_smtp(msg: EmailMessage, settings: ToolboxSettings) -> None:
    """Deliver through settings.smtp_host. Every failure becomes a ToolError that says what to check."""
    host, port = settings.smtp_host or "", settings.smtp_port
    where = f"the SMTP server {host}:{port}"
    password = None
    if settings.smtp_user:
        password = os.environ.get(settings.smtp_password_env)
        if not password:
            raise ToolError(
                f"smtp_user is set but the password variable {settings.smtp_password_env} is empty. "
                "Nothing was sent."
            )
    try:
        if port == 465:
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
        with client:
            client.ehlo()
            if settings.smtp_starttls and port != 465:
                if not client.has_extn("starttls"):
                    raise ToolError(
                        f"{where} does not offer STARTTLS. Set smtp_starttls = false (HITL_TUI_SMTP_STARTTLS=false) "
                        "only if the server is trusted. Nothing was sent."
                    )
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if settings.smtp_user:
                client.login(settings.smtp_user, password or "")
            refused = client.send_message(msg)
    except ToolError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise ToolError(f"{where} rejected the login for {settings.smtp_user} ({_smtp_text(exc)}). Check smtp_user and {settings.smtp_password_env}.") from None
    except smtplib.SMTPRecipientsRefused as exc:
        details = "; ".join(f"{addr}: {_smtp_text(err)}" for addr, err in exc.recipients.items())
        raise ToolError(f"{where} refused the recipient ({details}). Nothing was sent.") from None
    except smtplib.SMTPSenderRefused as exc:
        raise ToolError(f"{where} refused the sender {exc.sender} ({_smtp_text(exc)}). Check smtp_from.") from None
    except smtplib.SMTPResponseException as exc:
        raise ToolError(f"{where} failed with {_smtp_text(exc)}. The email may not have been sent.") from None
    except (smtplib.SMTPException, ssl.SSLError) as exc:
        raise ToolError(f"{where} failed: {exc}. The email may not have been sent.") from None
    except (socket.timeout, TimeoutError):
        raise ToolError(f"{where} did not answer within {SMTP_TIMEOUT:g} s. Nothing was sent.") from None
    except OSError as exc:
        raise ToolError(f"Could not connect to {where}: {exc.strerror or exc}. Check smtp_host and smtp_port. Nothing was sent.") from None
    if refused:
        raise ToolError(f"{where} refused some recipients: {refused}.")


def _smtp_text(exc: Exception | tuple[int, bytes]) -> str:
    code = getattr(exc, "smtp_code", None)
    error = getattr(exc, "smtp_error", b"")
    if isinstance(exc, tuple):  # entries of SMTPRecipientsRefused.recipients are (code, msg)
        code, error = exc
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    return f"{code} {text}".strip() if code else text


def deliver(subject: str, body: str, to_address: str, settings: ToolboxSettings) -> str:
    """Validate, build and deliver; returns the sentence the model sees."""
    address = check_address(to_address)
    msg = build_message(subject, body, address, settings.smtp_from)
    if settings.smtp_host:
        send_via_smtp(msg, settings)
        return f"Sent email to {address} with the subject {msg['Subject']!r} through {settings.smtp_host}:{settings.smtp_port}."
    outbox = Path(settings.outbox).expanduser()
    save_to_mbox(msg, outbox)
    return (
        f"Sent email to {address} with the subject {msg['Subject']!r} "
        f"(saved to the local outbox at {outbox}; set smtp_host to send through a mail server)."
    )


def make_send_email(settings: ToolboxSettings | None = None) -> Function:
    """Build the tool. It reads outbox / smtp_* from `settings` (or the current config) at call time."""
    source = settings_source(settings)

    @tool(requires_user_input=True, user_input_fields=["to_address"])
    def send_email(subject: str, body: str, to_address: EmailAddress) -> str:
        """Send an email. The user supplies the recipient's address; you supply the subject and body.

        Args:
            subject: The subject line of the email.
            body: The plain-text body of the email.
            to_address: The recipient's email address, like name@example.com.
        """
        return deliver(subject, body, to_address, source())

    return send_email


#: The tool with the current configuration (read per call).
send_email = make_send_email()
