"""Which process owns a running run, and whether that process is still alive.

A run saved as `running` names its writer: host name, boot id, pid and the pid's start time. When
another process opens the store it can tell a live run from one whose process died (SIGKILL, power
cut, closed laptop lid followed by a reboot) without any lock files:

- another host: unknown, so assumed alive (a shared database on a network drive is left alone);
- same host, another boot: dead;
- same boot: dead if the pid is gone or a zombie, or if the pid now belongs to a newer process
  (its start time differs: the pid was reused).

Linux gives all four facts through /proc. Elsewhere the boot id and start time are unknown and the
check falls back to "does this pid exist".
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Owner:
    host: str
    boot: str | None
    pid: int
    started: str | None


@lru_cache(maxsize=1)
def _host() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return "localhost"


@lru_cache(maxsize=1)
def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state letter, start time in clock ticks since boot) from /proc/PID/stat, or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 2 (comm) is in parentheses and may contain spaces: split after the last ')'.
    rest = raw[raw.rfind(")") + 2 :].split()
    if len(rest) < 20:
        return None
    return rest[0], rest[19]


_started_cache: dict[int, str | None] = {}


def current_owner() -> Owner:
    pid = os.getpid()
    if pid not in _started_cache:  # cached per pid, so a forked child gets its own
        stat = _proc_stat(pid)
        _started_cache[pid] = stat[1] if stat else None
    return Owner(host=_host(), boot=_boot_id(), pid=pid, started=_started_cache[pid])


def is_alive(owner: Owner) -> bool:
    """False only when we can tell that the owning process is gone."""
    if owner.host != _host():
        return True
    if owner.boot and _boot_id() and owner.boot != _boot_id():
        return False
    if owner.pid == os.getpid():
        me = current_owner()
        return owner.started is None or me.started is None or owner.started == me.started
    if owner.pid <= 0:
        return False
    stat = _proc_stat(owner.pid)
    if stat is not None:
        state, started = stat
        if state in ("Z", "X"):  # zombie or dead: killed, not yet reaped by its parent
            return False
        return owner.started is None or started == owner.started
    return _pid_exists(owner.pid)


def _pid_exists(pid: int) -> bool:
    if sys.platform == "win32":
        return _windows_pid_exists(pid)
    if Path("/proc/self/stat").exists():
        return False  # /proc is mounted and has no entry for this pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return True
    return True


def _windows_pid_exists(pid: int) -> bool:  # pragma: no cover - not exercised on Linux CI
    # os.kill(pid, 0) would *terminate* the process on Windows: ask the kernel instead.
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
