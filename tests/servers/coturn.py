"""coturn (Debian's `turnserver`) on free loopback ports, with the TURN REST-API shared secret.

Started with `-n` (no /etc/turnserver.conf: Debian's sends the log to syslog) and moderate
verbosity, so the log file under the temp dir records every allocation and every refusal:

    session …: realm <assist.test> user <1767225600:zhangsan>: incoming packet ALLOCATE processed, success
    session …: realm <assist.test> user <1767225600:zhangsan>: incoming packet message processed, error 401: Unauthorized
"""

from __future__ import annotations

import random
import re
import subprocess
import time
from pathlib import Path

from tests.servers.common import free_port, stop, wait_for_port

TURNSERVER = "/usr/bin/turnserver"
REALM = "assist.test"


class Coturn:
    def __init__(self, workdir: Path, secret: str, *, realm: str = REALM, relay_ports: int = 200) -> None:
        self.workdir = workdir
        self.secret = secret
        self.realm = realm
        self.port = free_port()
        # A private relay range, away from Linux's ephemeral ports (32768–60999 by default would
        # also do: coturn skips a port in use), so parallel servers rarely pick the same ports.
        self.min_port = random.randrange(20_000, 30_000 - relay_ports)
        self.max_port = self.min_port + relay_ports - 1
        self.log_path = workdir / "turn.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def command(self) -> list[str]:
        return [
            TURNSERVER,
            "-n",
            "-v",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={self.port}",
            f"--min-port={self.min_port}",
            f"--max-port={self.max_port}",
            "--use-auth-secret",
            f"--static-auth-secret={self.secret}",
            f"--realm={self.realm}",
            "--no-cli",
            "--no-tls",
            "--no-dtls",
            "--allow-loopback-peers",  # loopback-only host: without it, 403 Forbidden IP
            f"--log-file={self.log_path}",
            "--simple-log",
            f"--pidfile={self.workdir / 'turnserver.pid'}",
            f"--userdb={self.workdir / 'turndb'}",
        ]

    def start(self) -> Coturn:
        self.workdir.mkdir(parents=True, exist_ok=True)
        out = open(self.workdir / "turnserver.out", "wb")  # noqa: SIM115 - the process keeps it
        self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        wait_for_port(self.port, self.proc, what="turnserver")  # UDP too, but TCP is what we can probe
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, pattern: str, timeout: float = 5.0) -> re.Match | None:
        """The first match of `pattern` in the log, waiting up to `timeout` for it; else None."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.log())
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)

    def allocated(self, username: str) -> bool:
        return f"user <{username}>: incoming packet ALLOCATE processed, success" in self.log()

    def refused(self, username: str) -> bool:
        return f"user <{username}>: incoming packet message processed, error 401" in self.log()
