"""Telling someone a call waits: a webhook from the process whose run paused, and desktop notices.

The webhook goes to a real HTTP server on 127.0.0.1. It must never block or fail a run: an
unreachable, hanging or failing endpoint changes nothing else.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from durability_agent import PUBLISH, make_agent
from local_hn_server import closed_port_url
from webhook_server import WebhookServer

from tui.agent.notify import Webhook
from tui.desktop_notify import detect, sequence
from tui.store import RunStore


def _pending_ids(store: RunStore, run_id: str) -> dict[str, str]:
    lister = getattr(store, "pending_requests", None)
    if lister is None:
        return {}
    return {str(p.tool_call_id): str(p.id) for p in lister(run_id=run_id)}


async def test_a_paused_run_posts_the_request_id_tool_args_and_how_to_decide(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.db")
    agent = make_agent(store)
    with WebhookServer() as hook_server:
        hook = Webhook(hook_server.url, store=store)
        agent.on_pause.append(hook)
        run = await agent.arun(PUBLISH)
        assert run.is_paused
        hook.join(10)
        assert len(hook_server.bodies) == 1
    body = hook_server.bodies[0]
    tool = run.tools[0]
    expected_id = _pending_ids(store, run.run_id).get(tool.tool_call_id, f"{run.run_id}:{tool.tool_call_id}")
    assert body["id"] == expected_id
    assert body["tool"] == "publish_post"
    assert body["args"] == 'title="Hello"'
    assert body["kind"] == "confirmation"
    assert body["decide"] == f"hitl-tui approve {expected_id}"
    assert "hitl-tui approve" in body["message"]
    assert hook.deliveries[-1][1] is None


async def test_an_unreachable_webhook_changes_nothing_else(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.db")
    agent = make_agent(store)
    hook = Webhook(closed_port_url(), store=store, timeout=2)
    agent.on_pause.append(hook)
    run = await agent.arun(PUBLISH)
    assert run.is_paused and len(run.pending_tools) == 1
    run.tools[0].confirm()
    agent.save_decisions(run)
    await agent.acontinue_run(run)
    hook.join(10)
    assert run.status == "completed"
    assert run.tools[0].result == "published 'Hello'"
    assert store.load_run(run.run_id).status == "completed"
    assert hook.deliveries and hook.deliveries[0][1] is not None  # the failure was noted, not raised


async def test_a_hanging_webhook_never_holds_the_run(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.db")
    agent = make_agent(store)
    with WebhookServer(hold=True) as hook_server:
        hook = Webhook(hook_server.url, store=store, timeout=30)
        agent.on_pause.append(hook)
        # The run returns paused while the endpoint still holds the request unanswered.
        run = await asyncio.wait_for(agent.arun(PUBLISH), 20)
        assert run.is_paused
        assert await asyncio.to_thread(hook_server.received.wait, 10)
        assert not hook.deliveries  # still in flight: nobody waited for it
        hook_server.release.set()
        hook.join(10)
    assert hook.deliveries[-1][1] is None


async def test_a_failing_endpoint_and_a_raising_hook_are_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = RunStore(tmp_path / "runs.db")
    agent = make_agent(store)

    def broken(run, tools) -> None:
        raise RuntimeError("hook bug")

    with WebhookServer(status=500) as hook_server:
        hook = Webhook(hook_server.url, store=store)
        agent.on_pause.extend([broken, hook])
        run = await agent.arun(PUBLISH)
        hook.join(10)
    assert run.is_paused and store.load_run(run.run_id).status == "paused"
    assert "HTTP Error 500" in (hook.deliveries[-1][1] or "")
    assert "pause notification hook failed" in caplog.text


def test_a_webhook_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        Webhook("file:///etc/passwd")


# ---------------------------------------------------------------------------- desktop notifications


def test_terminals_that_show_desktop_notifications_get_their_escape() -> None:
    assert detect({"TERM_PROGRAM": "iTerm.app"}) == "osc9"
    assert detect({"TERM_PROGRAM": "WezTerm"}) == "osc9"
    assert detect({"TERM": "xterm-kitty"}) == "osc9"
    assert detect({"TERM": "foot"}) == "osc777"
    assert detect({"TERM": "rxvt-unicode-256color"}) == "osc777"
    assert detect({"TERM": "xterm-256color"}) is None  # unknown: nothing is sent
    assert sequence("hitl-tui", "write_file waits", env={"TERM_PROGRAM": "iTerm.app"}) == "\x1b]9;hitl-tui: write_file waits\x07"
    assert sequence("hitl-tui", "x", env={"TERM": "foot"}) == "\x1b]777;notify;hitl-tui;x\x07"
    assert sequence("hitl-tui", "x", "off", env={"TERM": "foot"}) is None
    assert sequence("hitl-tui", "x", "osc9", env={}) == "\x1b]9;hitl-tui: x\x07"


def test_a_hostile_tool_name_cannot_break_out_of_the_notification() -> None:
    seq = sequence("hitl-tui", "evil\x07\x1b]2;pwned\x07 waits", "osc777", env={})
    assert seq is not None
    assert seq.count("\x07") == 1 and seq.count("\x1b") == 1  # one sequence, nothing smuggled in


def test_inside_tmux_the_notification_is_wrapped_for_passthrough() -> None:
    seq = sequence("hitl-tui", "x", "osc9", env={"TMUX": "/tmp/tmux-1000/default,1,0"})
    assert seq == "\x1bPtmux;\x1b\x1b]9;hitl-tui: x\x07\x1b\\"


async def test_the_dashboard_posts_to_the_configured_webhook_when_its_run_pauses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from durability_agent import publish_post
    from ui_support import WIDE, make_app, settle, type_text

    with WebhookServer() as hook_server:
        monkeypatch.setenv("HITL_TUI_WEBHOOK_URL", hook_server.url)
        app = make_app(db=tmp_path / "runs.db", tools=[publish_post])
        async with app.run_test(size=WIDE) as pilot:
            await type_text(pilot, PUBLISH)
            await pilot.press("enter")
            await settle(pilot, app)
            [hook] = [h for h in app.agent.on_pause if isinstance(h, Webhook)]
            await asyncio.to_thread(hook.join, 10)
    [body] = hook_server.bodies
    assert body["tool"] == "publish_post" and body["decide"] == f"hitl-tui approve {body['id']}"


async def test_a_webhook_never_carries_a_secret_argument(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.db")
    agent = make_agent(store)
    secret = "sk-proj-abcdefghijklmnopqrstuvwxyz123456"
    with WebhookServer() as hook_server:
        hook = Webhook(hook_server.url, store=store)
        agent.on_pause.append(hook)
        run = await agent.arun('call publish_post {"title": "key ' + secret + '"}')
        hook.join(10)
        no_store = Webhook(hook_server.url)  # no store to redact with: names only
        no_store(run, run.pending_tools)
        no_store.join(10)
    assert run.tools[0].tool_args["title"] == f"key {secret}"  # the call itself keeps it exact
    first, second = hook_server.bodies
    assert secret not in str(first) and "[REDACTED]" in first["args"]
    assert secret not in str(second) and second["args"] == "title=…"
