"""Telling someone that a call waits for them, from the process whose run paused.

`Agent.on_pause` holds hooks called with (run, waiting calls) each time a run pauses. A hook is a
side job: it never blocks the run and never fails it (errors are logged and swallowed).

`Webhook(url)` POSTs one JSON object per waiting call, for ntfy, chat tools or anything that takes
a webhook:

    {"id": "12", "run_id": "run_...", "tool": "write_file", "kind": "confirmation",
     "args": "path=\"notes.txt\", content=\"hello\"", "agent": "nightly-report",
     "decide": "hitl-tui approve 12", "reject": "hitl-tui reject 12 --reason TEXT",
     "message": "write_file waits for your confirmation: hitl-tui approve 12"}

The POST runs on a daemon thread with a short timeout: a slow, unreachable or failing endpoint
changes nothing else.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from typing import Any, Callable, Iterable

from .run import RunOutput, ToolExecution

log = logging.getLogger("tui.notify")

PauseHook = Callable[[RunOutput, list[ToolExecution]], None]


def call_hooks(hooks: Iterable[PauseHook], run: RunOutput, waiting: list[ToolExecution]) -> None:
    """Run every pause hook; a hook that raises is logged, never passed on to the run."""
    for hook in list(hooks):
        try:
            hook(run, waiting)
        except Exception:  # the side job never fails the main job
            log.exception("a pause notification hook failed (the run is not affected)")


def summarize_args(args: dict[str, Any] | None, limit: int = 200) -> str:
    """`name="x", n=2` on one line, cut at `limit` characters (a notification, not the audit)."""
    parts = []
    for name, value in (args or {}).items():
        try:
            shown = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            shown = repr(value)
        parts.append(f"{name}={shown}")
    text = ", ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_HOW = {
    "confirmation": ("confirmation", "approve {id}"),
    "user_input": ("input", "input {id} FIELD=VALUE ..."),
    "external": ("result", "result {id} TEXT"),
}


def describe_request(
    tool: ToolExecution,
    run: RunOutput,
    request_id: str | None,
    command: str = "hitl-tui",
    shown_args: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON a webhook receives for one waiting call.

    `shown_args` are the arguments as the store shows them (secrets redacted). Without them only
    the argument names are sent: a webhook leaves the machine, exact arguments never do.
    """
    kind = tool.kind if tool.kind != "auto" else "confirmation"
    what, how = _HOW.get(kind, _HOW["confirmation"])
    ref = request_id if request_id is not None else f"{run.run_id}:{tool.tool_call_id}"
    decide = f"{command} {how.format(id=ref)}"
    return {
        "id": ref,
        "run_id": run.run_id,
        "tool_call_id": tool.tool_call_id,
        "tool": tool.tool_name,
        "kind": kind,
        "args": summarize_args(shown_args) if shown_args is not None else ", ".join(f"{k}=…" for k in tool.tool_args),
        "agent": run.agent_name,
        "decide": decide,
        "reject": f"{command} reject {ref} --reason TEXT",
        "message": f"{tool.tool_name} waits for your {what}: {decide}",
    }


class Webhook:
    """A pause hook that POSTs each waiting call as JSON to `url` (never blocking, never failing)."""

    def __init__(self, url: str, *, store: Any = None, timeout: float = 5.0, command: str = "hitl-tui") -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the webhook URL must start with http:// or https://, not {url!r}")
        self.url = url
        self.store = store
        self.timeout = timeout
        self.command = command
        self._threads: list[threading.Thread] = []
        #: (payload, error or None) of every delivery attempt, newest last (for status and tests).
        self.deliveries: list[tuple[dict[str, Any], str | None]] = []

    def _requests(self, run: RunOutput) -> dict[str, Any]:
        """The store's pending requests of the run, by call id (their ids and redacted arguments)."""
        pending = getattr(self.store, "pending_requests", None)
        if pending is None:
            return {}
        try:
            return {str(p.tool_call_id): p for p in pending(run_id=run.run_id)}
        except Exception:
            log.exception("could not read the pending requests for a webhook")
            return {}

    def __call__(self, run: RunOutput, waiting: list[ToolExecution]) -> None:
        requests = self._requests(run)
        payloads = []
        for t in waiting:
            req = requests.get(t.tool_call_id)
            rid = str(req.id) if req is not None else None
            shown = getattr(req, "args", None) if req is not None else None
            payloads.append(describe_request(t, run, rid, self.command, shown))
        if not payloads:
            return
        thread = threading.Thread(target=self._send_all, args=(payloads,), name="hitl-webhook", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    def _send_all(self, payloads: list[dict[str, Any]]) -> None:
        for payload in payloads:
            error = None
            try:
                self.post(payload)
            except Exception as exc:  # unreachable, refused, 5xx, timeout: logged, nothing else
                error = f"{type(exc).__name__}: {exc}"
                log.warning("webhook %s failed: %s", self.url, error)
            self.deliveries.append((payload, error))

    def post(self, payload: dict[str, Any]) -> int:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": "application/json", "User-Agent": "hitl-tui"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - the user's own URL
            return int(response.status)

    def join(self, timeout: float | None = None) -> None:
        """Wait for deliveries in flight (tests, and a script that exits right after pausing)."""
        for thread in list(self._threads):
            thread.join(timeout)
