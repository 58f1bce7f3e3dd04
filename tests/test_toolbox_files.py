"""write_file / read_file / list_workspace: real files, confined to the workspace folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.agent import Agent, ToolError
from tui.agent.models import DemoModel
from tui.config import Settings
from tui.toolbox import builtin_tools, write_file
from tui.toolbox.files import MAX_WRITE_BYTES, make_file_tools


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "workspace"


@pytest.fixture
def tools(workspace: Path):
    return make_file_tools(Settings(workspace=workspace))


def test_write_file_needs_confirmation_and_reading_does_not(tools) -> None:
    write, read, listing = tools
    assert write.requires_confirmation
    for ungated in (read, listing):
        assert not (ungated.requires_confirmation or ungated.requires_user_input or ungated.external_execution)
    assert listing.parameters["properties"] == {}


def test_writes_inside_the_workspace_creating_folders(tools, workspace: Path) -> None:
    write, _, _ = tools
    result = write("notes/2024/today.md", "# Today\n")
    assert (workspace / "notes/2024/today.md").read_text() == "# Today\n"
    assert result == f"Created notes/2024/today.md (8 bytes) in the workspace {workspace.resolve()}."
    assert write("notes/2024/today.md", "again").startswith("Replaced notes/2024/today.md (5 bytes)")
    assert (workspace / "notes/2024/today.md").read_text() == "again"


@pytest.mark.parametrize(
    "path, message",
    [
        ("/etc/passwd", "is an absolute path"),
        ("~/evil.txt", "is an absolute path"),
        ("../evil.txt", "goes up with '..'"),
        ("notes/../../evil.txt", "goes up with '..'"),
        ("notes\\..\\..\\evil.txt", "goes up with '..'"),
        ("", "The path is empty"),
    ],
)
def test_write_file_refuses_paths_that_leave_the_workspace(tools, tmp_path: Path, path: str, message: str) -> None:
    write, _, _ = tools
    with pytest.raises(ToolError, match=message):
        write(path, "pwned")
    assert not (tmp_path / "evil.txt").exists()


def test_a_symlinked_folder_cannot_lead_outside(tools, workspace: Path, tmp_path: Path) -> None:
    write, read, _ = tools
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    workspace.mkdir()
    os.symlink(outside, workspace / "link")
    with pytest.raises(ToolError, match="leads outside the workspace"):
        write("link/evil.txt", "pwned")
    with pytest.raises(ToolError, match="leads outside the workspace"):
        read("link/secret.txt")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_a_symlinked_file_cannot_be_written_through(tools, workspace: Path, tmp_path: Path) -> None:
    write, _, _ = tools
    target = tmp_path / "victim.txt"
    target.write_text("original")
    workspace.mkdir()
    os.symlink(target, workspace / "innocent.txt")
    os.symlink(tmp_path / "not-yet.txt", workspace / "dangling.txt")
    with pytest.raises(ToolError, match="leads outside the workspace"):
        write("innocent.txt", "pwned")
    with pytest.raises(ToolError, match="leads outside the workspace"):
        write("dangling.txt", "pwned")
    assert target.read_text() == "original"
    assert not (tmp_path / "not-yet.txt").exists()


def test_a_symlink_that_stays_inside_is_fine(tools, workspace: Path) -> None:
    write, read, _ = tools
    (workspace / "real").mkdir(parents=True)
    os.symlink(workspace / "real", workspace / "alias")
    write("alias/a.txt", "hi")
    assert (workspace / "real/a.txt").read_text() == "hi"
    assert read("alias/a.txt") == "hi"


def test_content_is_capped(tools, workspace: Path) -> None:
    write, _, _ = tools
    with pytest.raises(ToolError, match=r"limited to 1,000,000 bytes. Nothing was written"):
        write("big.txt", "x" * (MAX_WRITE_BYTES + 1))
    assert not (workspace / "big.txt").exists()
    write("just-right.txt", "x" * MAX_WRITE_BYTES)


def test_a_folder_cannot_be_overwritten(tools, workspace: Path) -> None:
    write, _, _ = tools
    (workspace / "notes").mkdir(parents=True)
    with pytest.raises(ToolError, match="is a folder"):
        write("notes", "x")


def test_read_file_reads_text_and_explains_what_it_cannot(tools, workspace: Path) -> None:
    write, read, _ = tools
    write("a.txt", "héllo")
    assert read("a.txt") == "héllo"
    with pytest.raises(ToolError, match="There is no file 'missing.txt' in the workspace"):
        read("missing.txt")
    (workspace / "bin.dat").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ToolError, match="not a UTF-8 text file"):
        read("bin.dat")
    with pytest.raises(ToolError, match="goes up"):
        read("../a.txt")


def test_list_workspace_lists_files_with_sizes(tools, workspace: Path) -> None:
    write, _, listing = tools
    assert listing() == f"The workspace {workspace.resolve()} is empty."
    write("b.txt", "bb")
    write("notes/a.md", "a")
    assert listing().splitlines()[1:] == ["b.txt (2 bytes)", "notes/a.md (1 bytes)"]


def test_the_workspace_comes_from_the_environment_at_call_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HITL_TUI_WORKSPACE", str(tmp_path / "env-ws"))
    write_file("x.txt", "y")
    assert (tmp_path / "env-ws" / "x.txt").read_text() == "y"


async def test_a_rejected_write_writes_nothing(workspace: Path) -> None:
    agent = Agent(model=DemoModel(delay=0), tools=builtin_tools(Settings(workspace=workspace)))
    run = await agent.arun("Write a file named notes.txt with 'hello'")
    assert run.is_paused and run.tools[0].tool_args == {"path": "notes.txt", "content": "hello"}
    run.tools[0].reject("wrong file")
    run = await agent.acontinue_run(run)
    assert not (workspace / "notes.txt").exists()
    assert "wrong file" in run.content


async def test_ungated_calls_run_at_once_beside_a_gated_one(workspace: Path) -> None:
    (workspace / "notes").mkdir(parents=True)
    (workspace / "notes" / "old.txt").write_text("old")
    agent = Agent(model=DemoModel(delay=0), tools=builtin_tools(Settings(workspace=workspace)))
    run = await agent.arun("Write a file named new.txt with 'fresh' and list the files")
    assert run.is_paused
    write, listing = run.tools
    assert (write.tool_name, write.status) == ("write_file", "pending")
    assert (listing.tool_name, listing.status) == ("list_workspace", "completed")
    assert "notes/old.txt" in listing.result
    write.confirm()
    run = await agent.acontinue_run(run)
    assert (workspace / "new.txt").read_text() == "fresh"
    assert "Created new.txt" in run.content and "notes/old.txt" in run.content
