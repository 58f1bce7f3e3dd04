"""read_file refuses what is not a regular file (a FIFO would block its thread forever)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.agent import ToolError
from tui.config import Settings
from tui.toolbox.files import make_file_tools

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")


@pytest.fixture
def read_file(tmp_path: Path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    _, read, _ = make_file_tools(Settings(workspace=workspace))
    return read, workspace


@pytest.mark.timeout(10)
def test_reading_a_fifo_is_refused_at_once_with_a_clear_error(read_file) -> None:
    read, workspace = read_file
    os.mkfifo(workspace / "pipe")
    with pytest.raises(ToolError, match=r"'pipe' is a named pipe \(FIFO\), not a regular file.*Nothing was read"):
        read("pipe")  # without the check this blocks forever (no writer): the timeout fails the test


def test_a_regular_file_still_reads(read_file) -> None:
    read, workspace = read_file
    (workspace / "notes.txt").write_text("hello", encoding="utf-8")
    assert read("notes.txt") == "hello"
