"""File tools confined to one workspace folder: `write_file` (gated), `read_file`, `list_workspace`.

Writing asks for confirmation; reading and listing do not, which shows ungated calls running at
once next to gated ones. Every path is checked against the workspace after resolving symlinks, so
neither `..`, an absolute path nor a symlink can reach outside it.
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from pathlib import Path, PurePath

from tui.agent.preview import Preview
from tui.agent.tools import Function, ToolError, tool
from .settings import ToolboxSettings

from .settings_source import SettingsSource, settings_source

MAX_WRITE_BYTES = 1_000_000
MAX_READ_BYTES = 100_000
MAX_LISTED = 200
#: Files larger than this are not diffed in the confirmation (it would slow the dialog down).
MAX_DIFF_BYTES = 200_000


def _workspace(source: SettingsSource) -> Path:
    root = Path(source().workspace).expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
        return root.resolve(strict=True)
    except OSError as exc:
        raise ToolError(f"The workspace folder {root} cannot be used: {exc.strerror or exc}. Set HITL_TUI_WORKSPACE.") from None


def resolve_in_workspace(root: Path, path: str) -> Path:
    """The absolute location of `path` inside `root` (already resolved); ToolError if it would leave it."""
    text = (path or "").strip()
    if not text:
        raise ToolError("The path is empty: give a file name relative to the workspace, like notes.txt.")
    if "\x00" in text:
        raise ToolError("The path contains a NUL character.")
    pure = PurePath(text)
    if pure.is_absolute() or pure.drive or text.startswith(("/", "\\", "~")):
        raise ToolError(f"{text!r} is an absolute path. Use a path relative to the workspace, like notes/today.md.")
    if ".." in pure.parts or ".." in text.replace("\\", "/").split("/"):
        raise ToolError(f"{text!r} goes up with '..'. Paths must stay inside the workspace.")
    target = (root / pure).resolve(strict=False)  # follows every symlink that exists
    if target != root and root not in target.parents:
        raise ToolError(f"{text!r} leads outside the workspace (through a symbolic link). Nothing was done.")
    return target


def _relative(root: Path, target: Path) -> str:
    return target.relative_to(root).as_posix()


def write_in_workspace(root: Path, path: str, content: str) -> str:
    data = content.encode("utf-8")
    if len(data) > MAX_WRITE_BYTES:
        raise ToolError(f"The content is {len(data):,} bytes; files are limited to {MAX_WRITE_BYTES:,} bytes. Nothing was written.")
    target = resolve_in_workspace(root, path)
    if target == root or target.is_dir():
        raise ToolError(f"{path!r} is a folder; give a file name.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Check again once the folders exist: a symlink might have appeared along the way.
        parent = target.parent.resolve(strict=True)
        if parent != root and root not in parent.parents:
            raise ToolError(f"{path!r} leads outside the workspace. Nothing was written.")
        existed = target.exists()
        # Write a temporary file and rename it over the target: atomic, and a rename replaces a
        # symlink itself rather than writing through it.
        fd, tmp = tempfile.mkstemp(prefix=".hitl-", dir=parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, parent / target.name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except ToolError:
        raise
    except OSError as exc:
        raise ToolError(f"Could not write {path!r}: {exc.strerror or exc}.") from None
    verb = "Replaced" if existed else "Created"
    return f"{verb} {_relative(root, target)} ({len(data):,} bytes) in the workspace {root}."


def write_preview(root: Path, path: str, content: str) -> Preview:
    """What `write_file(path, content)` would change: a diff, "creates a new file", or why it is refused."""
    try:
        target = resolve_in_workspace(root, path)
    except ToolError as exc:
        return Preview(title=f"This call would be refused: {exc}")
    shown = _relative(root, target) if target != root else path
    new_lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
    if target.is_dir():
        return Preview(title=f"{shown} is a folder: the call would fail.")
    if not target.exists():
        size = len(content.encode("utf-8"))
        return Preview(
            title=f"Creates a new file {shown} ({size:,} byte{'s' if size != 1 else ''}, {new_lines} line{'s' if new_lines != 1 else ''})."
        )
    if target.is_symlink() or not target.is_file():
        return Preview(title=f"{shown} exists and is not a regular file: it would be replaced.")
    try:
        size = target.stat().st_size
        if size > MAX_DIFF_BYTES:
            return Preview(title=f"Replaces the existing file {shown} ({size:,} bytes; too large to show a diff here).")
        old = target.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return Preview(title=f"Replaces the existing file {shown}, which is not UTF-8 text ({size:,} bytes).")
    except OSError as exc:
        return Preview(title=f"Replaces the existing file {shown} (it cannot be read: {exc.strerror or exc}).")
    if old == content:
        return Preview(title=f"{shown} already holds exactly this content: nothing would change.")
    diff = list(
        difflib.unified_diff(old.splitlines(), content.splitlines(), f"{shown} (now)", f"{shown} (after)", lineterm="")
    )
    added = sum(1 for line in diff[2:] if line.startswith("+"))
    removed = sum(1 for line in diff[2:] if line.startswith("-"))
    if not added and not removed:  # only the final newline differs
        diff.append("(only the newline at the end of the file changes)")
    title = f"Replaces the existing file {shown}: {added} line{'s' if added != 1 else ''} added, {removed} removed."
    return Preview(title=title, text="\n".join(diff), kind="diff")


def read_in_workspace(root: Path, path: str) -> str:
    target = resolve_in_workspace(root, path)
    if not target.exists():
        raise ToolError(f"There is no file {path!r} in the workspace {root}.")
    if target.is_dir():
        raise ToolError(f"{path!r} is a folder; use list_workspace to see what it holds.")
    try:
        # O_NONBLOCK: opening a FIFO without a writer would block the tool's thread forever. The
        # kind is checked on the open descriptor, so swapping the file after a check cannot win.
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ToolError(f"Could not read {path!r}: {exc.strerror or exc}.") from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
            raise ToolError(f"{path!r} is {kind}, not a regular file: reading it could wait forever. Nothing was read.")
        try:
            data = fh.read(MAX_READ_BYTES + 1)
        except OSError as exc:
            raise ToolError(f"Could not read {path!r}: {exc.strerror or exc}.") from None
    truncated = len(data) > MAX_READ_BYTES
    data = data[:MAX_READ_BYTES]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not truncated or exc.start < len(data) - 4:
            raise ToolError(f"{path!r} is not a UTF-8 text file.") from None
        text = data[: exc.start].decode("utf-8")  # a character cut in half by the size limit
    if truncated:
        text += f"\n[… cut off after {MAX_READ_BYTES:,} bytes]"
    return text


def list_in_workspace(root: Path) -> str:
    entries: list[str] = []
    more = 0
    for dirpath, dirnames, filenames in os.walk(root):  # does not descend into symlinked folders
        dirnames.sort()
        here = Path(dirpath)
        for name in sorted(filenames) + [d + "/" for d in dirnames if (here / d).is_symlink()]:
            if name.startswith(".hitl-"):
                continue  # a write in progress
            if len(entries) >= MAX_LISTED:
                more += 1
                continue
            item = here / name.rstrip("/")
            rel = item.relative_to(root).as_posix()
            if item.is_symlink():
                entries.append(f"{rel} -> (symbolic link)")
                continue
            try:
                size = item.stat().st_size
            except OSError:
                size = 0
            entries.append(f"{rel} ({size:,} bytes)")
    if not entries:
        return f"The workspace {root} is empty."
    text = f"The workspace {root} holds {len(entries) + more} file(s):\n" + "\n".join(entries)
    if more:
        text += f"\n… and {more} more"
    return text


def make_file_tools(settings: ToolboxSettings | None = None) -> tuple[Function, Function, Function]:
    """Build (write_file, read_file, list_workspace); they read `workspace` at call time."""
    source = settings_source(settings)

    @tool(requires_confirmation=True)
    def write_file(path: str, content: str) -> str:
        """Write a text file in the user's workspace folder, creating folders as needed; replaces an existing file.

        Args:
            path: Where to write, relative to the workspace, like notes/today.md.
            content: The full text to write (UTF-8, at most 1 MB).
        """
        return write_in_workspace(_workspace(source), path, content)

    @tool
    def read_file(path: str) -> str:
        """Read a text file from the user's workspace folder.

        Args:
            path: The file to read, relative to the workspace, like notes/today.md.
        """
        return read_in_workspace(_workspace(source), path)

    @tool
    def list_workspace() -> str:
        """List the files in the user's workspace folder, with their sizes."""
        return list_in_workspace(_workspace(source))

    write_file.preview = lambda args: write_preview(
        _workspace(source), str(args.get("path", "")), str(args.get("content", ""))
    )
    return write_file, read_file, list_workspace


#: The tools with the current configuration (read per call).
write_file, read_file, list_workspace = make_file_tools()
