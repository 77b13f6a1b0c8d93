"""A throwaway PostgreSQL cluster for tests: initdb in a temp dir, pg_ctl start, pg_ctl stop.

The server refuses to run as root, so when the tests run as root the cluster belongs to the
``postgres`` system user and every server command runs through ``runuser`` (or ``su``). It
listens on 127.0.0.1 on a free port and on a unix socket in its temp dir, with trust auth.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PostgresCluster", "PostgresUnavailable", "find_bin_dir"]

_PREFERRED_MAJOR = "15"
_TIMEOUT_S = 60


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


def find_bin_dir() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``: PATH first, then /usr/lib/postgresql."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    candidates.sort(key=lambda d: d.parent.name != _PREFERRED_MAJOR)  # 15 first, then newest
    for bin_dir in candidates:
        if (bin_dir / "pg_ctl").exists() and (bin_dir / "initdb").exists():
            return bin_dir
    raise PostgresUnavailable("no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresCluster:
    """One cluster: ``start()`` it, connect to ``url``, ``stop()`` it (which deletes it)."""

    bin_dir: Path
    root: Path
    port: int
    user: str | None  # run server commands as this system user (None: as ourselves)

    @classmethod
    def create(cls) -> PostgresCluster:
        bin_dir = find_bin_dir()
        user = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root and no 'postgres' user") from None
            user = "postgres"
        # Not pytest's tmp_path: its parents are 0700 root, which the postgres user cannot enter.
        root = Path(tempfile.mkdtemp(prefix="landau-pg-"))
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        return cls(bin_dir=bin_dir, root=root, port=_free_port(), user=user)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.user is not None:
            if shutil.which("runuser"):
                command = ["runuser", "-u", self.user, "--", *command]
            else:
                command = ["su", self.user, "-s", "/bin/sh", "-c", shlex.join(command)]
        try:
            done = subprocess.run(
                command, cwd=self.root, capture_output=True, text=True, timeout=_TIMEOUT_S
            )
        except (OSError, subprocess.SubprocessError) as exc:  # e.g. timeout, no runuser
            raise PostgresUnavailable(f"{args[0]} failed: {exc}") from exc
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
            detail = (done.stderr or done.stdout or tail).strip().splitlines()
            raise PostgresUnavailable(f"{args[0]} failed: {detail[-1] if detail else '?'}")

    def start(self) -> None:
        data = str(self.root / "data")
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")  # fmt: skip
        self._run("pg_ctl", "-D", data, "-l", str(self.root / "server.log"), "-o", options,
                  "-w", "-t", str(_TIMEOUT_S), "start")  # fmt: skip

    def stop(self) -> None:
        try:
            if (self.root / "data" / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
