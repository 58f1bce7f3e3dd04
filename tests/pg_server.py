"""A throwaway PostgreSQL server for the tests and benchmarks: `initdb` into a temporary folder,
`pg_ctl start` listening only on a unix socket in that folder, stopped and deleted afterwards.

PostgreSQL refuses to run as root: as root (CI containers) the server runs as the `postgres`
user that Debian's package creates, else as `nobody`. Durability is off (`fsync=off`): the data
is thrown away, and the tests are about semantics, not disks.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

PORT = 5432  # only names the socket file in our private folder: no TCP, no clash


class Unavailable(RuntimeError):
    """No PostgreSQL binaries (or no driver): the reason says which."""


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@dataclass
class Server:
    root: Path
    user: str | None
    pg_ctl: str
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))  # type: ignore[type-arg]
    _shared: str = ""

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://hitl@/{database}?host={self.socket_dir}&port={PORT}"

    def new_database(self, prefix: str = "t") -> str:
        """A fresh, empty database on this server; returns its URL (CREATE DATABASE: ~0.3 s)."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def new_schema(self, prefix: str = "s") -> str:
        """A fresh, empty schema in one shared database, as a URL whose search_path is that schema
        (a few ms, where a database takes ~0.3 s: what each test gets)."""
        import psycopg

        if not self._shared:
            self._shared = self.new_database("shared")
        name = f"{prefix}_{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(self._shared, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{self._shared}&options=-csearch_path%3D{name}"

    def stop(self) -> None:
        _run(self.user, [self.pg_ctl, "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _run(user: str | None, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    if user is not None:
        cmd = ["runuser", "-u", user, "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)


def start() -> Server:
    """Start a server (raises Unavailable with the reason when it cannot)."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise Unavailable(f"the psycopg driver is not installed (pip install -e '.[postgres]'): {exc}") from exc
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise Unavailable("PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql)")
    user: str | None = None
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            try:
                pwd.getpwnam(name)
                user = name
                break
            except KeyError:
                continue
        if user is None:
            raise Unavailable("running as root and there is no 'postgres' or 'nobody' user to run PostgreSQL as")
    root = Path(tempfile.mkdtemp(prefix="hitl-pg-"))
    (root / "sock").mkdir()
    if user is not None:
        info = pwd.getpwnam(user)
        for p in (root, root / "sock"):
            os.chown(p, info.pw_uid, info.pw_gid)
    data = root / "data"
    try:
        _run(user, [initdb, "-D", str(data), "-U", "hitl", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"])
        opts = (
            f"-k {root / 'sock'} -p {PORT} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=200"
        )
        _run(user, [pg_ctl, "-D", str(data), "-o", opts, "-l", str(root / "server.log"), "-w", "-t", "60", "start"])
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        out = getattr(exc, "stderr", "") or ""
        log = (root / "server.log").read_text(errors="replace")[-2000:] if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise Unavailable(f"could not start a throwaway PostgreSQL server: {exc} {out} {log}") from exc
    return Server(root=root, user=user, pg_ctl=pg_ctl)


if __name__ == "__main__":  # start one by hand: prints its URL, stops on Enter
    server = start()
    print(server.new_database())
    try:
        input("running; Enter stops it ")
    finally:
        server.stop()
