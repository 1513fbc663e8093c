"""A real redis-server (Debian's) on a free loopback port, with append-only persistence so a
restart keeps the data, as a production Redis for Assist is configured (docs/deploy.md)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from .common import free_port, stop, wait_for_port


class RedisServer:
    def __init__(self, directory: Path | None = None, port: int | None = None) -> None:
        self.dir = Path(directory or tempfile.mkdtemp(prefix="assist-redis-"))
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--protected-mode",
                "no",
                "--logfile",
                str(self.dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.proc, what="redis-server")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)  # SIGTERM: Redis flushes its append-only file before it exits

    def restart(self) -> None:
        self.stop()
        self.start()

    def command(self, *args: str) -> str:
        return subprocess.run(
            ["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, check=True
        ).stdout.strip()
