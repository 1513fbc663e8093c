"""Assist nodes as real `assist serve` processes sharing one Redis, one PostgreSQL and one
recordings directory: the scaled-out deployment of docker/compose.yaml, on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_SECRET

from .common import free_port, stop, wait_for_port

ASSIST = str(Path(sys.executable).with_name("assist"))


class AssistNode:
    def __init__(self, node_id: str, directory: Path, env: dict[str, str]) -> None:
        self.node_id = node_id
        self.dir = directory
        self.port = free_port()
        self.env = env
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AssistNode:
        self.dir.mkdir(parents=True, exist_ok=True)
        env = os.environ | self.env | {"ASSIST_NODE_ID": self.node_id, "ASSIST_VAR_DIR": str(self.dir)}
        self.log = open(self.dir / "node.log", "ab")  # noqa: SIM115 (kept open for the process)
        self.proc = subprocess.Popen(
            [ASSIST, "serve", "--port", str(self.port)], env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port(self.port, self.proc, timeout=60, what=f"assist node {self.node_id}")
        except (RuntimeError, TimeoutError) as exc:  # say why: the node's own last words
            raise RuntimeError(f"{exc}\n--- {self.node_id} log ---\n{self.output()[-3000:]}") from None
        return self

    def kill(self) -> None:
        """kill -9: no goodbye, no drain; the others must notice by the missing heartbeat."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM: the node drains and exits; returns its exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
        if getattr(self, "log", None):
            self.log.close()

    def output(self) -> str:
        return (self.dir / "node.log").read_text(errors="replace")


def node_env(redis_url: str, prefix: str, database_url: str, recordings: Path, **extra: str) -> dict[str, str]:
    """What every node of one deployment shares (docs/deploy.md), with the tests' short timers."""
    return {
        "ASSIST_REDIS_URL": redis_url,
        "ASSIST_REDIS_PREFIX": prefix,
        "ASSIST_DATABASE_URL": database_url,
        "ASSIST_RECORDINGS_DIR": str(recordings),
        "ASSIST_JWT_SECRET": TEST_SECRET,
        "ASSIST_VOICE": "0",
        "ASSIST_LOG_LEVEL": "warning",
        "ASSIST_OFFER_TIMEOUT_S": "5",
        "ASSIST_GRACE_S": "20",
        "ASSIST_QUEUE_CAP": "500",
        **extra,
    }
