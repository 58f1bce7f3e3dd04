"""The approvals inbox API of the store: pending requests, first-wins decision records, change token.

Real SQLite files; a second `RunStore` on the same file plays the other terminal (the CLI, another
dashboard), and a real subprocess decides in one test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from chatserver import ChatServer, call, text, tools
from conftest import make_model

from tui.agent import Agent, RunStatus, tool
from tui.agent.decisions import args_digest
from tui.store import AlreadyDecided, ArgsChanged, DecisionRefused, RunNotFound, RunStore, open_store

ran: list[dict] = []


@tool(requires_confirmation=True)
def publish_post(title: str) -> str:
    """Publish a blog post.

    Args:
        title: The post's title.
    """
    ran.append({"publish_post": title})
    return f"published {title!r}"


@tool(user_input_fields=["to"])
def send_message(body: str, to: str) -> str:
    """Send a message to someone the user names.

    Args:
        body: The text.
        to: Who receives it.
    """
    ran.append({"send_message": (body, to)})
    return f"sent to {to}"


@tool(external_execution=True)
def run_shell_command(cmd: str) -> str:
    """Run a shell command on the user's machine.

    Args:
        cmd: The command.
    """
    raise AssertionError("external tools are never run by the agent")


TOOLS = [publish_post, send_message, run_shell_command]


async def paused_run(server: ChatServer, db: Path | str):
    server.add(
        tools(
            call("publish_post", {"title": "Hello"}, id="c_pub"),
            call("send_message", {"body": "hi"}, id="c_msg"),
            call("run_shell_command", {"cmd": "uname -a"}, id="c_sh"),
        ),
    )
    agent = Agent(model=make_model(server, "json"), tools=TOOLS, store=open_store(db), approver="ada@laptop")
    run = await agent.arun("do three things")
    assert run.is_paused
    return agent, run


async def test_pending_requests_list_every_waiting_call_with_a_short_id(chat_server: ChatServer, tmp_path: Path, store_url: str) -> None:
    db = store_url
    _, run = await paused_run(chat_server, db)
    inbox = open_store(db)  # another terminal
    pending = inbox.pending_requests()
    assert [(p.tool_name, p.kind) for p in pending] == [
        ("publish_post", "confirmation"), ("send_message", "user_input"), ("run_shell_command", "external"),
    ]
    assert len({p.id for p in pending}) == 3 and all(p.id.isdigit() for p in pending)
    first = pending[0]
    assert (first.run_id, first.session_id, first.args) == (run.run_id, run.session_id, {"title": "Hello"})
    assert first.args_digest == args_digest({"title": "Hello"})
    assert first.owner_alive and first.owner_pid is not None and first.run_status == "paused"
    assert pending[1].user_input_schema and pending[1].user_input_schema[0]["name"] == "to"
    assert inbox.pending_requests(run_id="run_other") == []


async def test_a_second_decision_is_refused_with_who_and_when_and_changes_nothing(chat_server: ChatServer, tmp_path: Path, store_url: str) -> None:
    db = store_url
    _, run = await paused_run(chat_server, db)
    cli, dashboard = open_store(db), open_store(db)
    request = cli.pending_requests()[0]
    record = cli.decide(request.id, "approve", approver="bob@desk", seen_digest=request.args_digest)
    assert (record.decision, record.approver, record.decided_by) == ("approved", "bob@desk", "user")

    with pytest.raises(AlreadyDecided, match=r"already decided \(approved\) by bob@desk \(user\) at 20\d\d-") as caught:
        dashboard.decide((run.run_id, "c_pub"), "reject", note="no", approver="carol@tablet")
    assert caught.value.record is not None and caught.value.record.approver == "bob@desk"
    [entry] = dashboard.ledger(run.run_id)
    assert (entry.decision, entry.approver, entry.note) == ("approved", "bob@desk", None)
    assert [p.tool_name for p in dashboard.pending_requests()] == ["send_message", "run_shell_command"]


async def test_a_decision_on_changed_arguments_is_refused(chat_server: ChatServer, tmp_path: Path, store_url: str) -> None:
    db = store_url
    _, run = await paused_run(chat_server, db)
    store = open_store(db)
    with pytest.raises(ArgsChanged, match="changed since they were shown: nothing was recorded"):
        store.decide((run.run_id, "c_pub"), "approve", seen_digest=args_digest({"title": "Goodbye"}))
    assert store.ledger(run.run_id) == []
    assert len(store.pending_requests()) == 3


async def test_decisions_that_do_not_fit_the_call_are_refused(chat_server: ChatServer, tmp_path: Path, store_url: str) -> None:
    db = store_url
    _, run = await paused_run(chat_server, db)
    store = open_store(db)
    with pytest.raises(DecisionRefused, match="needs user input; 'approve' does not apply"):
        store.decide((run.run_id, "c_msg"), "approve")
    with pytest.raises(DecisionRefused, match="needs the edited arguments"):
        store.decide((run.run_id, "c_pub"), "edit")
    with pytest.raises(RunNotFound, match="no pending request '999'"):
        store.decide("999", "approve")
    assert store.ledger(run.run_id) == []


async def test_decisions_from_another_process_reach_the_run_and_it_finishes(chat_server: ChatServer, tmp_path: Path, store_url: str) -> None:
    db = store_url
    agent, run = await paused_run(chat_server, db)
    token = open_store(db).change_token()
    script = (
        "import sys; from tui.store import open_store\n"
        "s = open_store(sys.argv[1])\n"
        "p = {r.tool_name: r for r in s.pending_requests()}\n"
        "s.decide(p['publish_post'].id, 'edit', args={'title': 'Hello, world'}, approver='bob@desk')\n"
        "s.decide(p['send_message'].id, 'input', values={'to': 'ada@example.org'})\n"
        "s.decide(p['run_shell_command'].id, 'result', result='Linux 6.1')\n"
    )
    subprocess.run([sys.executable, "-c", script, str(db)], check=True, timeout=60)
    assert open_store(db).change_token() > token  # a waiter polling the token wakes up
    assert open_store(db).pending_requests() == []

    ran.clear()
    chat_server.add(text("All three done."))
    done = await agent.acontinue_run(run)
    assert done.status == RunStatus.completed, done.error
    assert sorted(ran, key=str) == sorted([{"publish_post": "Hello, world"}, {"send_message": ("hi", "ada@example.org")}], key=str)
    results = {m["tool_call_id"]: m["content"] for m in chat_server.tool_messages()}
    assert "Linux 6.1" in results["c_sh"] and "Hello, world" in results["c_pub"]
    ledger = {e.tool_name: e for e in open_store(db).ledger(run.run_id)}
    assert (ledger["publish_post"].decision, ledger["publish_post"].approver) == ("edited", "bob@desk")
    assert ledger["publish_post"].executed_args == {"title": "Hello, world"}
    assert ledger["send_message"].decision == "input_provided" and ledger["run_shell_command"].decision == "result_provided"


async def test_an_inbox_decision_that_does_not_fit_the_tool_declines_the_call_and_the_model_hears_why(
    chat_server: ChatServer, tmp_path: Path, store_url: str
) -> None:
    db = store_url
    agent, run = await paused_run(chat_server, db)
    inbox = open_store(db)
    inbox.decide((run.run_id, "c_pub"), "edit", args={"headline": "no title"})  # the store has no schema
    inbox.decide((run.run_id, "c_msg"), "input", values={"to": ""})
    inbox.decide((run.run_id, "c_sh"), "result", result="Linux 6.1")
    ran.clear()
    chat_server.add(text("Understood."))
    done = await agent.acontinue_run(run)
    assert done.status == RunStatus.completed, done.error  # never wedged on a decision nobody can redo
    assert ran == []
    results = {m["tool_call_id"]: m["content"] for m in chat_server.tool_messages()}
    assert "was not run" in results["c_pub"] and "edited arguments are invalid" in results["c_pub"]
    assert "was not run" in results["c_msg"] and "to:" in results["c_msg"]
    assert [t.status for t in done.tools] == ["rejected", "rejected", "completed"]


async def test_a_run_left_running_by_this_process_after_a_store_failure_can_be_continued(
    chat_server: ChatServer, tmp_path: Path, store_url: str
) -> None:
    db = store_url
    agent, run = await paused_run(chat_server, db)
    store = open_store(db)
    fresh = store.load_run(run.run_id, exact=True)
    assert fresh is not None
    fresh.status = RunStatus.running  # what a run that lost its store mid-way leaves behind
    store.save_run(fresh)
    again = Agent(model=make_model(chat_server, "json"), tools=TOOLS, store=open_store(db))
    for t in fresh.tools:
        if t.tool_name == "publish_post":
            t.confirm()
    paused = await again.acontinue_run(fresh)  # same process, nobody drives it: settled, then continued
    assert paused.is_paused and [t.tool_name for t in paused.pending_tools] == ["send_message", "run_shell_command"]


def test_a_database_from_before_the_split_lists_its_waiting_calls_and_takes_decisions(tmp_path: Path) -> None:
    from test_store_schema import build_v1_database

    db = tmp_path / "runs.db"
    build_v1_database(db)
    store = RunStore(db)  # migrated: header, messages and one row per call; request ids assigned
    [request] = store.pending_requests()
    assert (request.run_id, request.tool_call_id, request.tool_name) == ("run_v1_paused", "c2", "publish_post")
    assert request.owner_alive is False  # written before owners were recorded
    store.decide(request.id, "approve", approver="ada@laptop")
    loaded = RunStore(db).load_run("run_v1_paused", exact=True)
    assert loaded is not None and loaded.tools[1].confirmed is True and loaded.tools[1].approver == "ada@laptop"
    assert loaded.tools[0].status == "rejected" and loaded.store_version == 1
