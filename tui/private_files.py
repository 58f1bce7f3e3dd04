"""Private files: what hitl-tui creates is readable by its owner only (files 0600, folders 0700).

Standard library only, so every layer (runtime, store, toolbox, UI) may use it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# ----------------------------------------------------------------------------- private files
#
# The history database holds prompts, tool results and (while a call waits) the exact arguments
# a person approved; exports, the rules file and the outbox are as personal. So what hitl-tui
# creates is readable by its owner only: files 0600, folders 0700. Folders and files that
# already exist are left as they are: the user chose their modes (a shared team folder, say).
# These helpers import nothing but the standard library, so every layer may use them.

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def make_private_dir(folder: Path) -> Path:
    """Create `folder` and any missing parents 0700 (whatever the umask); existing ones are untouched."""
    folder = Path(folder)
    missing: list[Path] = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for candidate in reversed(missing):
        try:
            os.mkdir(candidate, PRIVATE_DIR)
        except FileExistsError:  # created meanwhile by someone else: theirs, not ours
            continue
        os.chmod(candidate, PRIVATE_DIR)  # the umask may have taken bits away (or a weird one added none)
    return folder


def create_private_file(path: Path) -> Path:
    """Create an empty `path` 0600 (and its missing folders 0700) unless it exists already.

    SQLite gives a database's -wal and -shm files the database file's mode, so creating the
    database file this way before connecting keeps all three private.
    """
    path = Path(path)
    make_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return path
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return path


def write_private_text(path: Path, text: str) -> Path:
    """Write `text` to `path` atomically, as a 0600 file (a temporary file renamed over it)."""
    path = Path(path)
    make_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # 0600 less the umask
    try:
        os.fchmod(fd, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def append_private_text(path: Path, text: str) -> Path:
    """Append `text` to `path`, creating it 0600 (in 0700 folders) first if it is missing."""
    path = create_private_file(Path(path))
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)
    return path
