"""Whatever the runtime produces can be saved: the run finishes, the history holds it, export works.

Before this, a tool result holding a lone surrogate (a workspace file whose name is not UTF-8,
listed by the built-in `list_workspace`), or arguments nested 900 levels deep, stopped the run
with "could not save run": the database kept saying `running` and the result was lost. Each case
here drives a real run (the real chat-completions server and openai client, a real SQLite file),
then reads the run back from a fresh store and exports it through the `hitl-tui` command line.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from chatserver import ChatServer, call, text, tools
from conftest import make_model

from tui.agent import Agent, RunOutput, RunStatus, tool
from tui.agent.bounds import DEPTH_MARKER, MAX_CHARS, MAX_DEPTH, bound_value, clean_text, cut_marker
from tui.cli import main
from tui.config import Settings
from tui.store import RunStore
from tui.toolbox.files import make_file_tools

received: list[Any] = []


@tool
def echo(data: Any = None) -> str:
    """Echo what it was given.

    Args:
        data: Anything at all.
    """
    received.append(data)
    return f"got {type(data).__name__}"


@tool
def nul_result() -> str:
    """Return text holding NUL bytes, as a binary file read as text would."""
    return "before\x00after"


@tool
def huge_result() -> str:
    """Return 10 MB of text."""
    return "x" * 10_000_000


@tool
def deep_result() -> Any:
    """Return a value nested 900 levels deep."""
    value: Any = "bottom"
    for _ in range(900):
        value = [value]
    return value


@tool(external_execution=True)
def run_elsewhere(command: str) -> str:
    """A command the user runs themselves and reports on.

    Args:
        command: The command.
    """
    raise AssertionError("never run here")


@tool(user_input_fields=["label"])
def tag(item: str, label: str) -> str:
    """Tag an item with a label the user types.

    Args:
        item: What to tag.
        label: The label.
    """
    received.append(label)
    return f"tagged {item} as {label}"


def stored(db: Path, run_id: str) -> RunOutput:
    """The run as a fresh process would read it, after checking its status row agrees."""
    with sqlite3.connect(db) as conn:
        [(status,)] = conn.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchall()
    run = RunStore(db).load_run(run_id)
    assert run is not None and run.status.value == status
    return run


def exported(db: Path, run_id: str, capsys: pytest.CaptureFixture[str], fmt: str = "json") -> str:
    capsys.readouterr()
    assert main(["export", run_id, "--format", fmt, "--db", str(db)]) == 0
    return capsys.readouterr().out


def agent_for(server: ChatServer, db: Path, *extra: Any, mode: str = "json") -> Agent:
    return Agent(model=make_model(server, mode), tools=[echo, *extra], store=RunStore(db))


# ----------------------------------------------------------------------------- tool results


@pytest.mark.parametrize("mode", ["json", "sse"])
async def test_a_workspace_file_whose_name_is_not_utf8_is_listed_with_a_marker_and_the_run_finishes(
    tmp_path: Path, chat_server: ChatServer, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    with open(os.path.join(os.fsencode(workspace), b"bad\xff.txt"), "wb") as fh:  # not valid UTF-8
        fh.write(b"hello")
    (workspace / "good.txt").write_text("fine")
    _, _, list_workspace = make_file_tools(Settings(workspace=workspace))
    chat_server.add(tools(call("list_workspace", {})), text("Two files."))
    db = tmp_path / "runs.db"

    run = await agent_for(chat_server, db, list_workspace, mode=mode).arun("What is in my workspace?")

    assert run.status == RunStatus.completed, run.error
    assert run.content == "Two files."
    [listing] = chat_server.tool_messages()
    assert "bad\u27e8U+DCFF\u27e9.txt (5 bytes)" in listing["content"]  # the model saw the marker...
    saved = stored(db, run.run_id)
    assert saved.status == RunStatus.completed
    assert saved.tools[0].result == listing["content"]  # ...and the history holds the same text
    assert "good.txt (4 bytes)" in (saved.tools[0].result or "")
    assert "bad\u27e8U+DCFF\u27e9.txt" in json.loads(exported(db, run.run_id, capsys))["run"]["tools"][0]["result"]
    assert "bad\u27e8U+DCFF\u27e9.txt" in exported(db, run.run_id, capsys, "md")


async def test_nul_bytes_in_a_result_are_shown_as_a_marker(
    tmp_path: Path, chat_server: ChatServer, capsys: pytest.CaptureFixture[str]
) -> None:
    chat_server.add(tools(call("nul_result", {})), text("Read it."))
    db = tmp_path / "runs.db"
    run = await agent_for(chat_server, db, nul_result).arun("read the binary file")
    assert run.status == RunStatus.completed
    assert stored(db, run.run_id).tools[0].result == "before\u27e8U+0000\u27e9after"
    assert "before\u27e8U+0000\u27e9after" in exported(db, run.run_id, capsys, "md")


async def test_a_10_mb_result_is_cut_with_a_visible_marker(
    tmp_path: Path, chat_server: ChatServer, capsys: pytest.CaptureFixture[str]
) -> None:
    chat_server.add(tools(call("huge_result", {})), text("That was long."))
    db = tmp_path / "runs.db"
    run = await agent_for(chat_server, db, huge_result).arun("dump everything")
    assert run.status == RunStatus.completed
    expected = "x" * MAX_CHARS + cut_marker(10_000_000 - MAX_CHARS)
    assert chat_server.tool_messages()[0]["content"] == expected  # the model got the cut text
    assert stored(db, run.run_id).tools[0].result == expected
    assert "[... 8,000,000 more characters cut]" in exported(db, run.run_id, capsys)


async def test_a_result_nested_900_levels_deep_is_cut_at_the_depth_limit(
    tmp_path: Path, chat_server: ChatServer, capsys: pytest.CaptureFixture[str]
) -> None:
    chat_server.add(tools(call("deep_result", {})), text("Deep."))
    db = tmp_path / "runs.db"
    run = await agent_for(chat_server, db, deep_result).arun("go deep")
    assert run.status == RunStatus.completed
    result = stored(db, run.run_id).tools[0].result or ""
    assert json.loads(result) == bound_value(deep_result.entrypoint()).value  # type: ignore[attr-defined]
    assert result.startswith("[" * MAX_DEPTH + json.dumps(DEPTH_MARKER))
    assert DEPTH_MARKER in exported(db, run.run_id, capsys)


# ----------------------------------------------------------------------------- arguments from the model


async def test_arguments_nested_900_levels_deep_are_refused_with_a_clear_error_and_the_run_finishes(
    tmp_path: Path, chat_server: ChatServer, capsys: pytest.CaptureFixture[str]
) -> None:
    received.clear()
    raw = '{"data": ' + "[" * 900 + "]" * 900 + "}"
    chat_server.add(tools(call("echo", raw)), text("Sorry, too deep."))
    db = tmp_path / "runs.db"
    run = await agent_for(chat_server, db).arun("nest")

    assert run.status == RunStatus.completed, run.error
    assert received == []  # a cut argument is never run
    [message] = chat_server.tool_messages()
    assert "too large to run (nested deeper than 64 levels)" in message["content"]
    saved = stored(db, run.run_id).tools[0]
    assert saved.status == "error" and saved.result == message["content"]
    depth, value = 0, saved.tool_args["data"]
    while isinstance(value, list):
        depth, value = depth + 1, value[0]
    assert (depth, value) == (MAX_DEPTH - 1, DEPTH_MARKER)
    assert DEPTH_MARKER in exported(db, run.run_id, capsys)


async def test_arguments_nested_beyond_the_json_parser_get_a_clear_error(tmp_path: Path, chat_server: ChatServer) -> None:
    raw = '{"data": ' + "[" * 100_000 + "]" * 100_000 + "}"
    chat_server.add(tools(call("echo", raw)), text("Sorry."))
    db = tmp_path / "runs.db"
    run = await agent_for(chat_server, db).arun("nest harder")
    assert run.status == RunStatus.completed, run.error
    assert "nested too deeply to read" in (stored(db, run.run_id).tools[0].result or "")


async def test_a_10_mb_argument_is_refused_and_stored_cut(
    tmp_path: Path, chat_server: ChatServer, capsys: pytest.CaptureFixture[str]
) -> None:
    received.clear()
    chat_server.add(tools(call("echo", {"data": "y" * 10_000_000})), text("Too big, sorry."))
    db = tmp_path / "runs.db"
    run = await agent_for(chat_server, db).arun("send a lot")
    assert run.status == RunStatus.completed
    assert received == []
    saved_run = stored(db, run.run_id)
    saved = saved_run.tools[0]
    assert saved.tool_args["data"].endswith(cut_marker(10_000_000 - MAX_CHARS))
    # The model's raw arguments in the stored conversation are bounded too (still valid JSON).
    [assistant] = [m for m in saved_run.messages if m.tool_calls]
    raw = assistant.tool_calls[0]["function"]["arguments"]  # type: ignore[index]
    assert len(raw) < MAX_CHARS + 1000 and "more characters cut]" in json.loads(raw)["data"]
    assert "a value of 10,000,000 characters (the limit is 2,000,000)" in (saved.result or "")
    assert exported(db, run.run_id, capsys, "md")


async def test_a_lone_surrogate_in_the_arguments_runs_with_a_marker(tmp_path: Path, chat_server: ChatServer) -> None:
    received.clear()
    chat_server.add(tools(call("echo", '{"data": "name\\udc80.txt"}')), text("Done."))
    db = tmp_path / "runs.db"
    run = await agent_for(chat_server, db).arun("echo it")
    assert run.status == RunStatus.completed, run.error
    assert received == ["name\u27e8U+DC80\u27e9.txt"]  # what ran is what is stored and shown
    assert stored(db, run.run_id).tools[0].tool_args == {"data": "name\u27e8U+DC80\u27e9.txt"}


async def test_a_lone_surrogate_in_the_models_answer_is_stored_with_a_marker(
    tmp_path: Path, chat_server: ChatServer, capsys: pytest.CaptureFixture[str]
) -> None:
    chat_server.add(text("The file is bad\udcff.txt"))
    db = tmp_path / "runs.db"
    run = await agent_for(chat_server, db).arun("which file?")
    assert run.status == RunStatus.completed, run.error
    assert stored(db, run.run_id).content == "The file is bad\u27e8U+DCFF\u27e9.txt"
    assert "bad\u27e8U+DCFF\u27e9.txt" in exported(db, run.run_id, capsys, "md")


# ----------------------------------------------------------------------------- what people hand in


async def test_an_external_result_and_a_typed_value_with_lone_surrogates_are_saved_with_markers(
    tmp_path: Path, chat_server: ChatServer, capsys: pytest.CaptureFixture[str]
) -> None:
    received.clear()
    chat_server.add(
        tools(call("run_elsewhere", {"command": "ls"}), call("tag", {"item": "report"})),
        text("All done."),
    )
    db = tmp_path / "runs.db"
    agent = agent_for(chat_server, db, run_elsewhere, tag)
    run = await agent.arun("list and tag")
    assert run.is_paused
    outside, typed = run.tools
    outside.set_result("bad\udcff.txt\x00")
    assert typed.provide_user_input({"label": "caf\udce9"}) == {}
    run = await agent.acontinue_run(run)

    assert run.status == RunStatus.completed, run.error
    assert received == ["caf\u27e8U+DCE9\u27e9"]
    saved = stored(db, run.run_id)
    assert saved.tools[0].result == "bad\u27e8U+DCFF\u27e9.txt\u27e8U+0000\u27e9"
    assert saved.tools[1].result == "tagged report as caf\u27e8U+DCE9\u27e9"
    assert "bad\u27e8U+DCFF\u27e9.txt" in exported(db, run.run_id, capsys, "md")


def test_a_typed_value_too_large_to_keep_is_refused_with_a_clear_error() -> None:
    from tui.agent import ToolExecution

    t = ToolExecution(tool_call_id="c1", tool_name="tag", requires_user_input=True)
    t.user_input_schema = tag.user_input_schema()
    errors = t.provide_user_input({"label": "z" * (MAX_CHARS + 1)})
    assert errors == {"label": "the value is too large (a value of 2,000,001 characters (the limit is 2,000,000))"}
    assert t.user_input_schema[0].value is None


# ----------------------------------------------------------------------------- the helpers themselves


def test_clean_text_marks_each_unstorable_character_and_leaves_good_text_alone() -> None:
    assert clean_text("plain") == "plain"
    assert clean_text("caf\u00e9 \u2603") == "caf\u00e9 \u2603"
    assert clean_text("a\ud800b\udfffc\x00") == "a\u27e8U+D800\u27e9b\u27e8U+DFFF\u27e9c\u27e8U+0000\u27e9"
    assert clean_text("abcdef", limit=4) == "abcd[... 2 more characters cut]"
    clean_text("\udcff").encode("utf-8")  # storable


def test_bound_value_reports_what_it_changed() -> None:
    deep: Any = "x"
    for _ in range(100):
        deep = {"k": deep}
    report = bound_value({"a": ("t", "\udc80"), "deep": deep, "\x00key": 1})
    assert report.value["a"] == ["t", "\u27e8U+DC80\u27e9"]
    assert report.value["\u27e8U+0000\u27e9key"] == 1
    assert report.replaced == 2 and report.cut_deep == 1 and report.was_cut
    assert not bound_value({"fine": [1, 2.5, None, True]}).was_cut
