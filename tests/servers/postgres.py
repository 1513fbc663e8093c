"""A real PostgreSQL (Debian's package) on a free loopback port, one throwaway cluster per run.

initdb and postgres refuse to run as root, so when the tests run as root the server runs as
the `postgres` user, in a data directory under /tmp that this user can reach (a pytest tmp_path
sits below a 0700 directory). Authentication is `trust` on loopback: a test-only server.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from .common import free_port, stop, wait_for_port

SUPERUSER = "postgres"


def bin_dir() -> Path | None:
    """The newest installed server's bin directory (/usr/lib/postgresql/<major>/bin), if any."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


class Postgres:
    """One cluster: `start()`, `stop()` (same data directory and port, for outage tests), `url(db)`."""

    def __init__(self, binaries: Path) -> None:
        self.bin = binaries
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="assist-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.proc: subprocess.Popen | None = None
        self.log = self.root / "postgres.log"
        # As root: run as `postgres` directly (not through runuser, which would not pass our
        # signals on), so `proc` is the postmaster itself and stop() really stops it.
        self._as_user: dict = {}
        if os.geteuid() == 0:
            account = pwd.getpwnam(SUPERUSER)
            os.chmod(self.root, 0o755)
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as_user = {
                "user": account.pw_uid,
                "group": account.pw_gid,
                "extra_groups": [],
                "env": {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"},
            }
        subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            **self._as_user,
        )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        # Same port every time: clients reconnect to the address they were configured with.
        cmd = [
            str(self.bin / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-k",
            str(self.root),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **self._as_user)
        wait_for_port(self.port, self.proc, what="postgres")
        self._wait_ready()

    def _wait_ready(self) -> None:
        """The port opens a moment before the server accepts sessions (startup recovery)."""
        deadline = time.monotonic() + 20
        while True:
            try:
                psycopg.connect(self.dsn("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline or not self.running:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Fast shutdown (SIGINT): clients are disconnected at once, the data stays."""
        if self.proc is not None:
            stop(self.proc, signal.SIGINT)
            self.proc = None

    def dsn(self, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={dbname}"

    def url(self, dbname: str | None = None) -> str:
        """A fresh, empty database (named `dbname`, or a unique name) and its SQLAlchemy URL."""
        dbname = dbname or "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
