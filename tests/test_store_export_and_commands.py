"""Exports (JSON, Markdown; run and session) and the `history` / `export` CLI commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from durability_agent import PUBLISH, make_agent

from tui.agent import RunOutput, RunStatus
from tui.store import RunStore, open_store
from tui.cli.history import export_command, history_command
from tui.store.export import export_json, export_markdown, export_session_json, export_session_markdown


@pytest.fixture
async def finished(store_url: str) -> tuple[RunStore, RunOutput, RunOutput]:
    """A session with two runs: an edited-then-approved call, and a rejected one with a reason."""
    store = open_store(store_url)
    agent = make_agent(store)
    edited = await agent.arun(PUBLISH)
    edited.tools[0].confirm(args={"title": "Hello, world"})
    edited = await agent.acontinue_run(edited)
    rejected = await agent.arun('call publish_post {"title": "Draft ```v2```"}')
    rejected.tools[0].reject("Not before the review")
    rejected = await agent.acontinue_run(rejected)
    assert edited.status == rejected.status == RunStatus.completed
    return store, edited, rejected


async def test_the_json_export_holds_the_full_state_and_the_ledger(finished: tuple[RunStore, RunOutput, RunOutput]) -> None:
    store, edited, _ = finished
    doc = json.loads(export_json(store, edited.run_id))
    assert doc["format"] == "hitl-tui.run" and doc["version"] == 1
    assert RunOutput.model_validate(doc["run"]).model_dump_json() == edited.model_dump_json()
    [entry] = doc["ledger"]
    assert (entry["decision"], entry["decided_by"]) == ("edited", "user")
    assert entry["proposed_args"] == {"title": "Hello"} and entry["executed_args"] == {"title": "Hello, world"}


async def test_the_markdown_export_reads_as_a_transcript(finished: tuple[RunStore, RunOutput, RunOutput]) -> None:
    store, edited, rejected = finished
    md = export_markdown(store, edited.run_id)
    assert md.startswith(f"# Run {edited.run_id}\n")
    assert "- Status: completed" in md and "- Model: demo" in md
    assert '## Prompt\n\n> call publish_post {"title": "Hello"}' in md
    assert "## Assistant" in md and edited.content and edited.content.strip() in md
    assert f"### Tool call: publish_post (`{edited.tools[0].tool_call_id}`)" in md
    assert "- Decision: edited by user at " in md
    assert 'Proposed arguments:\n\n```json\n{\n  "title": "Hello"\n}\n```' in md
    assert 'Arguments after the edit:\n\n```json\n{\n  "title": "Hello, world"\n}\n```' in md
    assert "Result:\n\n```\npublished 'Hello, world'\n```" in md

    md = export_markdown(store, rejected.run_id)
    assert "- Decision: rejected by user" in md and "- Note: Not before the review" in md
    assert "- Tool calls: 1 (1 rejected)" in md
    assert "````json\n{\n  \"title\": \"Draft ```v2```\"\n}\n````" in md  # fences never break


async def test_a_whole_session_exports_oldest_run_first(finished: tuple[RunStore, RunOutput, RunOutput]) -> None:
    store, edited, rejected = finished
    doc = json.loads(export_session_json(store, edited.session_id))
    assert doc["format"] == "hitl-tui.session"
    assert [r["run"]["run_id"] for r in doc["runs"]] == [edited.run_id, rejected.run_id]
    assert [r["ledger"][0]["decision"] for r in doc["runs"]] == ["edited", "rejected"]
    md = export_session_markdown(store, edited.session_id)
    assert md.startswith(f"# Session {edited.session_id}\n") and "- Runs: 2" in md
    assert md.index(f"## Run {edited.run_id}") < md.index(f"## Run {rejected.run_id}")


async def test_a_paused_run_exports_what_it_waits_for(tmp_path: Path, store_url: str) -> None:
    store = open_store(store_url)
    run = await make_agent(store).arun(PUBLISH)
    md = export_markdown(store, run.run_id)
    assert "- Decision: waiting for a person" in md
    assert "The run is paused: `publish_post` await a decision." in md


async def test_history_prints_a_table_newest_first(
    finished: tuple[RunStore, RunOutput, RunOutput], capsys: pytest.CaptureFixture[str]
) -> None:
    store, edited, rejected = finished
    assert history_command(store) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["TIME", "RUN", "ID", "STATUS", "MODEL", "TOOLS", "REJ", "PROMPT"]
    assert rejected.run_id in lines[1] and edited.run_id in lines[2] and len(lines) == 3
    assert lines[1].split()[3:7] == ["completed", "demo", "1", "1"]
    assert lines[1].endswith('call publish_post {"title": "Draft ```v2```"}')


async def test_history_filters_limits_and_prints_json(
    finished: tuple[RunStore, RunOutput, RunOutput], capsys: pytest.CaptureFixture[str]
) -> None:
    store, edited, rejected = finished
    assert history_command(store, text="Draft", as_json=True) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["run_id"] == rejected.run_id and row["rejection_count"] == 1 and row["status"] == "completed"

    assert history_command(store, limit=1) == 0
    out = capsys.readouterr().out
    assert rejected.run_id in out and edited.run_id not in out and "(1 of 2 runs; use --limit to see more)" in out

    assert history_command(store, status="paused", tool="publish_post") == 0
    assert capsys.readouterr().out == "No runs match status='paused', tool='publish_post'.\n"


def test_history_of_an_empty_database_and_a_bad_status(tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(store_url)
    assert history_command(store) == 0
    assert capsys.readouterr().out == "No runs yet.\n"
    assert history_command(store, status="done") == 2
    assert "unknown run status 'done'" in capsys.readouterr().err


async def test_export_command_prints_markdown_or_json_for_a_run_or_a_session(
    finished: tuple[RunStore, RunOutput, RunOutput], capsys: pytest.CaptureFixture[str]
) -> None:
    store, edited, _ = finished
    assert export_command(store, edited.run_id, "md") == 0
    assert capsys.readouterr().out == export_markdown(store, edited.run_id)
    assert export_command(store, edited.run_id, "json") == 0
    assert json.loads(capsys.readouterr().out)["run"]["run_id"] == edited.run_id
    assert export_command(store, edited.session_id, "md") == 0
    assert capsys.readouterr().out.startswith(f"# Session {edited.session_id}")


def test_export_command_of_an_unknown_id_fails_on_stderr(tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(store_url)
    assert export_command(store, "run_missing", "md") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"hitl-tui: no run or session 'run_missing' in {store.path} (`hitl-tui history` lists them)\n"
    assert export_command(store, "run_missing", "pdf") == 2
    assert "unknown export format 'pdf': use md or json" in capsys.readouterr().err
