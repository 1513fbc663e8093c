"""A real Redis Cluster from Debian's redis-server: three masters on free loopback ports (each
with its cluster bus port, +10000), joined by `redis-cli --cluster create`."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .common import free_port, stop, wait_for_port


def _cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


class RedisClusterServers:
    def __init__(self, directory: Path | None = None, masters: int = 3) -> None:
        self.dir = Path(directory or tempfile.mkdtemp(prefix="assist-redis-cluster-"))
        self.ports = [_cluster_port() for _ in range(masters)]
        self.procs: list[subprocess.Popen] = []

    def start(self) -> RedisClusterServers:
        for port in self.ports:
            where = self.dir / str(port)
            where.mkdir(parents=True, exist_ok=True)
            self.procs.append(
                subprocess.Popen(
                    ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(where)]
                    + ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--save", ""]
                    + ["--appendonly", "no", "--protected-mode", "no", "--logfile", str(where / "redis.log")],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port, proc in zip(self.ports, self.procs, strict=True):
            wait_for_port(port, proc, what="redis-server (cluster)")
        subprocess.run(
            ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports)]
            + ["--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while not all("cluster_state:ok" in self.command(port, "cluster", "info") for port in self.ports):
            if time.monotonic() > deadline:
                raise TimeoutError("the Redis Cluster did not come up")
            time.sleep(0.2)
        return self

    @property
    def url(self) -> str:
        """One node's address: a cluster client finds the others (and the slots) from it."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def command(self, port: int, *args: str) -> str:
        return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, check=True).stdout

    def stop(self) -> None:
        for proc in self.procs:
            stop(proc)
