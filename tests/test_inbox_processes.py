"""The approvals inbox across real processes on one SQLite file.

A headless agent process (tests/inbox_agent.py) pauses and waits with `wait_for_decisions`; a
second process lists the call with `hitl-tui pending --json` and decides it with
`hitl-tui approve / reject / input`; the first process continues, and the tool runs once.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from chatserver import ChatServer, call, text, tools
from inbox_support import AgentProcess, hitl, hitl_async, pending_json

from tui.store import RunStore

PUBLISH = 'call publish_post {"title": "Hello"}'
REPORT = 'call print_report {"name": "q3"}'


def effects(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_call_paused_in_one_process_is_approved_from_the_shell_and_runs_once(tmp_path: Path) -> None:
    db, fx = tmp_path / "runs.db", tmp_path / "effects.txt"
    with AgentProcess(db, PUBLISH, "--effects", str(fx)) as agent:
        run_id = agent.expect("PAUSED")
        [item] = pending_json(db)
        assert item["run_id"] == run_id
        assert (item["tool"], item["kind"], item["args"]) == ("publish_post", "confirmation", {"title": "Hello"})
        assert item["agent"] == "inbox-test-agent"
        assert item["owner"]["pid"] == agent.pid and item["owner"]["alive"] is True
        assert item["age_seconds"] is not None and item["age_seconds"] >= 0

        done = hitl(db, "approve", item["id"], "--as", "alice")
        assert done.returncode == 0, done.stderr
        assert "Approved publish_post" in done.stdout
        decided_at = time.monotonic()
        agent.expect("DECIDED", timeout=10)
        woke_after = time.monotonic() - decided_at
        status = agent.expect("DONE")
    assert woke_after < 1.0, f"the waiting agent woke {woke_after:.2f} s after the decision"
    assert status.startswith("completed")
    assert "published 'Hello'" in status
    assert effects(fx) == [f"publish_post Hello pid={agent.pid}"]  # exactly once, by its owner
    assert pending_json(db) == []
    [entry] = RunStore(db).ledger(run_id)
    assert (entry.decision, entry.approver) == ("approved", "alice")
    exported = hitl(db, "export", run_id, "--format", "md")
    assert "(approver: alice)" in exported.stdout  # the audit names the approver


def test_a_rejection_with_a_reason_from_the_shell_reaches_the_model(tmp_path: Path) -> None:
    db, fx = tmp_path / "runs.db", tmp_path / "effects.txt"
    with ChatServer() as server:
        server.add(tools(call("publish_post", {"title": "Hello"})), text("Understood, not publishing."))
        with AgentProcess(db, "publish it", "--base-url", server.url, "--effects", str(fx)) as agent:
            agent.expect("PAUSED")
            [item] = pending_json(db)
            done = hitl(db, "reject", item["id"], "--reason", "not on a Friday")
            assert done.returncode == 0, done.stderr
            status = agent.expect("DONE")
        [tool_message] = server.tool_messages()
    assert status.startswith("completed")
    assert "declined" in tool_message["content"] and "Reason given: not on a Friday" in tool_message["content"]
    assert effects(fx) == []  # a rejected call never runs


def test_an_invalid_input_value_names_the_field_and_the_run_stays_paused(tmp_path: Path) -> None:
    db, fx = tmp_path / "runs.db", tmp_path / "effects.txt"
    with AgentProcess(db, REPORT, "--effects", str(fx)) as agent:
        run_id = agent.expect("PAUSED")
        [item] = pending_json(db)
        assert item["kind"] == "user_input"
        assert [(f["name"], f["type"]) for f in item["fields"]] == [("copies", "int")]

        bad = hitl(db, "input", item["id"], "copies=many")
        assert bad.returncode == 1
        assert "copies: must be a whole number" in bad.stderr
        missing = hitl(db, "input", item["id"], "pages=3")
        assert missing.returncode == 1
        assert "pages: no such field" in missing.stderr and "copies: a value is required" in missing.stderr
        assert [p["id"] for p in pending_json(db)] == [item["id"]]  # still waiting
        assert RunStore(db).get_summary(run_id).status == "paused"  # type: ignore[union-attr]
        assert agent.lines.empty()  # nothing woke the agent up

        good = hitl(db, "input", item["id"], "copies=3")
        assert good.returncode == 0, good.stderr
        status = agent.expect("DONE")
    assert status.startswith("completed")
    assert effects(fx) == ["print_report q3 x3"]


def test_unknown_ids_wrong_commands_and_second_decisions_are_refused_clearly(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with AgentProcess(db, PUBLISH) as agent:
        agent.expect("PAUSED")
        [item] = pending_json(db)
        unknown = hitl(db, "approve", "9999")
        assert unknown.returncode == 1 and "no pending request" in unknown.stderr
        wrong = hitl(db, "input", item["id"], "x=1")
        assert wrong.returncode == 1 and "needs approve ID, or reject ID" in wrong.stderr
        first = hitl(db, "approve", item["id"], "--as", "alice")
        assert first.returncode == 0, first.stderr
        second = hitl(db, "reject", item["id"], "--as", "bob")
        assert second.returncode == 1
        assert "already decided (approved) by alice" in second.stderr
        agent.expect("DONE")


def test_two_approvers_at_once_one_wins_and_the_other_is_told_who(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with AgentProcess(db, PUBLISH) as agent:
        agent.expect("PAUSED")
        [item] = pending_json(db)
        procs = {
            name: hitl_async(db, verb, item["id"], "--as", name)
            for name, verb in (("alice", "approve"), ("bob", "reject"))
        }
        results = {name: (p.wait(60), p.stdout.read(), p.stderr.read()) for name, p in procs.items()}  # type: ignore[union-attr]
        winners = [name for name, (code, _, _) in results.items() if code == 0]
        assert len(winners) == 1, results
        [loser] = [name for name in results if name not in winners]
        code, _, err = results[loser]
        assert code == 1 and f"by {winners[0]}" in err and "already decided" in err
        status = agent.expect("DONE")
    ran = "published 'Hello'" in status
    assert ran == (winners[0] == "alice")  # what the winner decided is what happened
    [entry] = RunStore(db).ledger(json.loads(json.dumps(item))["run_id"])
    assert entry.approver == winners[0]


def test_the_result_of_an_external_call_is_given_from_the_shell(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with AgentProcess(db, 'call run_on_my_machine {"command": "uname -a"}') as agent:
        agent.expect("PAUSED")
        listing = hitl(db, "pending")  # the table a person reads
        assert listing.returncode == 0
        assert "run_on_my_machine" in listing.stdout and "external" in listing.stdout
        assert "inbox-test-agent" in listing.stdout and f"/{agent.pid}" in listing.stdout
        [item] = pending_json(db)
        empty = hitl(db, "result", item["id"], "   ")
        assert empty.returncode == 1 and "the result is empty" in empty.stderr
        done = hitl(db, "result", item["id"], "Linux box 6.1", env={"HITL_TUI_APPROVER": "frank"})
        assert done.returncode == 0, done.stderr
        status = agent.expect("DONE")
    assert status.startswith("completed") and "Linux box 6.1" in status
    [entry] = RunStore(db).ledger(item["run_id"])
    assert (entry.decision, entry.approver) == ("result_provided", "frank")  # the approver setting


def test_a_hostile_agent_name_cannot_drive_the_terminal_that_lists_the_inbox(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with AgentProcess(db, PUBLISH, "--name", "evil\x1b]2;pwned\x07\x1b[31m") as agent:
        agent.expect("PAUSED")
        listing = hitl(db, "pending")
        assert listing.returncode == 0
        assert "\x1b" not in listing.stdout and "\x07" not in listing.stdout
        assert "evil" in listing.stdout and "pwned" in listing.stdout  # shown, defused
        [item] = pending_json(db)
        assert item["agent"] == "evil\x1b]2;pwned\x07\x1b[31m"  # JSON keeps it exact (escaped)
