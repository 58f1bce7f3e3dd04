"""What hitl-tui creates is its owner's only: files 0600, folders 0700, whatever the umask.

The history database (and the -wal and -shm files SQLite keeps beside it), exports, the rules file
and the email outbox hold conversations, tool results and arguments awaiting approval. Folders
that already existed keep the mode the user gave them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterator

import pytest

from tui.agent import RunOutput, RunStatus
from tui.agent.rules import RulesPolicy
from tui.config import Settings
from tui.paths import create_private_file, make_private_dir, write_private_text
from tui.store import RunStore
from tui.toolbox.email import deliver


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000, 0o277], ids=["umask 022", "umask 000", "umask 277"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """A usual umask, one that takes nothing away, and one that would take the owner's bits."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_the_database_and_its_wal_and_shm_are_0600_in_0700_folders(tmp_path: Path, umask: int) -> None:
    os.chmod(tmp_path, 0o755)
    db = tmp_path / "data" / "hitl-tui" / "runs.db"
    store = RunStore(db)
    store.save_run(RunOutput(input="hello", status=RunStatus.completed))
    files = sorted(db.parent.glob("runs.db*"))
    assert [p.name for p in files] == ["runs.db", "runs.db-shm", "runs.db-wal"]  # all three, while open
    assert {p.name: mode(p) for p in files} == {"runs.db": 0o600, "runs.db-shm": 0o600, "runs.db-wal": 0o600}
    assert mode(db.parent) == 0o700 and mode(db.parent.parent) == 0o700  # the folders it created
    assert mode(tmp_path) == 0o755  # a folder that was there already is left alone
    store.close()


def test_an_existing_folder_and_database_keep_their_modes(tmp_path: Path, umask: int) -> None:
    shared = tmp_path / "team"
    shared.mkdir()
    os.chmod(shared, 0o750)
    RunStore(shared / "runs.db").close()
    assert mode(shared) == 0o750
    assert mode(shared / "runs.db") == 0o600


def test_exports_from_the_history_screen_are_0600_in_a_0700_folder(tmp_path: Path, umask: int) -> None:
    from tui.screens.history_screen import HistoryScreen

    store = RunStore(tmp_path / "runs.db")
    run = RunOutput(input="export me", status=RunStatus.completed)
    store.save_run(run)
    folder = tmp_path / "exports" / "today"
    paths = HistoryScreen(store, export_dir=folder).export_run(run.run_id)
    assert sorted(p.name for p in paths) == [f"{run.run_id}.json", f"{run.run_id}.md"]
    assert [mode(p) for p in paths] == [0o600, 0o600]
    assert "export me" in paths[1].read_text()
    assert mode(folder) == 0o700 and mode(folder.parent) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)  # no temporary left


def test_the_rules_file_is_created_0600_in_a_0700_folder(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "config" / "hitl-tui" / "rules.toml"
    policy = RulesPolicy.from_file(path)
    policy.save_rule("write_file", "allow")
    policy.save_rule("read_file", "deny")
    assert mode(path) == 0o600 and mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    assert [r.tool for r in RulesPolicy.from_file(path).rules] == ["write_file", "read_file"]


def test_the_outbox_is_created_0600_in_a_0700_folder(tmp_path: Path, umask: int) -> None:
    outbox = tmp_path / "mail" / "outbox.mbox"
    deliver("Hi", "Hello there", "ada@example.com", Settings(outbox=outbox))
    assert mode(outbox) == 0o600 and mode(outbox.parent) == 0o700
    assert b"Hello there" in outbox.read_bytes()


def test_a_written_config_file_is_0600_even_when_it_replaces_a_readable_one(tmp_path: Path, umask: int) -> None:
    config = tmp_path / "config.toml"
    config.write_text("theme = 'old'\n")
    os.chmod(config, 0o644)
    write_private_text(config, "theme = 'textual-light'\n")
    assert config.read_text() == "theme = 'textual-light'\n" and mode(config) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]


def test_the_helpers_never_loosen_or_tighten_what_exists(tmp_path: Path) -> None:
    existing = tmp_path / "mine.db"
    existing.write_text("x")
    os.chmod(existing, 0o640)
    create_private_file(existing)
    assert mode(existing) == 0o640 and existing.read_text() == "x"
    os.chmod(tmp_path, 0o711)
    make_private_dir(tmp_path)
    assert mode(tmp_path) == 0o711
