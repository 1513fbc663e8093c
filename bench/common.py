"""Helpers shared by the benchmarks: servers in subprocesses, percentiles, tables."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

BENCH_SECRET = "bench-secret-" + "b" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, …


def cpu_seconds(pid: int, tree: bool = False) -> float:
    """User + system CPU a process has used, from /proc (not wall time: the machine is shared).
    With `tree`, also its descendants, live ones and reaped ones (postgres's backends, nginx's
    workers), so the difference of two readings is what the whole tree used in between."""
    pids = [pid]
    if tree:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with suppress(OSError, IndexError):  # gone meanwhile
                    children.setdefault(int(_stat(int(entry))[1]), []).append(int(entry))
        i = 0
        while i < len(pids):
            pids += children.get(pids[i], [])
            i += 1
    total = 0
    for p in pids:
        try:
            fields = _stat(p)
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:13]) + (sum(int(x) for x in fields[13:15]) if tree else 0)
    return total / _TICK


def redis_cpu_seconds(client) -> float:
    """Redis's own CPU (user + system), from INFO: a redis.Redis client of a server this bench owns."""
    cpu = client.info("cpu")
    return float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"])


def raise_open_files() -> int:
    """Soft limit on open files up to the hard one (inherited by the servers this process
    starts); returns it."""
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def assist_server(var_dir: Path, **env_overrides: str):
    """`assist serve` in its own process on a free port; yields (base url, pid)."""
    port = free_port()
    env = (
        os.environ
        | {
            "ASSIST_VAR_DIR": str(var_dir),
            "ASSIST_JWT_SECRET": BENCH_SECRET,
            "ASSIST_LOG_LEVEL": "warning",
            "ASSIST_QUEUE_CAP": "5000",
            # The speech models (about 200 MB, loaded in the background) would blur memory figures.
            "ASSIST_VOICE": "0",
        }
        | env_overrides
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "assist.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def add_accounts(database_url: str, users: list[tuple[str, str]]) -> None:
    """The benches mint tokens (argon2 sign-ins would measure the hash), but a token is accepted
    only for an account that exists: create (username, role) accounts in one transaction. Their
    password hash is of a random string nobody knows."""
    import secrets

    from assist.auth import hash_password
    from assist.storage.sql import SqlRecords

    unknown = hash_password(secrets.token_urlsafe(24))
    records = SqlRecords(database_url)
    try:
        records.ensure_users(
            [
                {
                    "username": name,
                    "password_hash": unknown,
                    "role": role,
                    "display_name": name,
                    "badge": name.upper(),
                    "languages": ["zh", "en"],
                    "skills": [],
                    "active": True,
                }
                for name, role in users
            ]
        )
    finally:
        records.engine.dispose()


def sqlite_of(var_dir: Path) -> str:
    """The database of an `assist_server(var_dir)`."""
    return f"sqlite:///{var_dir / 'assist.db'}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


LATENCY_HEADER = ("measure", "n", "p50", "p95", "p99", "ratio")


def latency_row(measure: str, seconds: list[float], baseline: list[float]) -> tuple:
    """A row of a latency table (LATENCY_HEADER): how many, p50, p95, p99 in ms, and the
    ratio of the p99 to the baseline's p99."""
    ratio = percentile(seconds, 99) / percentile(baseline, 99)
    return (measure, len(seconds), *(percentile(seconds, q) * 1000.0 for q in (50, 95, 99)), f"{ratio:.2f}")


def print_table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    cells = [tuple(str(c) for c in header)] + [tuple(_fmt(c) for c in row) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    sys.stdout.flush()


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


class CountingProxy:
    """A loopback TCP proxy that counts the bytes each client connection sends, so a bench can
    measure what really crosses the wire (after WebSocket permessage-deflate, say)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.sent: dict[int, tuple[str, int]] = {}  # connection → (its first request line, bytes sent)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    def bytes_sent(self, request_prefix: str) -> int:
        return sum(n for line, n in self.sent.values() if line.startswith(request_prefix))

    def reset(self) -> None:
        self.sent = {k: (line, 0) for k, (line, _) in self.sent.items()}

    async def _handle(self, reader, writer) -> None:
        import asyncio

        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        key = id(writer)
        self.sent[key] = ("", 0)

        async def pipe(src, dst, count: bool) -> None:
            try:
                while data := await src.read(65536):
                    if count:
                        line, n = self.sent.get(key, ("", 0))
                        if not line:
                            line = data.split(b"\r\n", 1)[0].decode("latin-1")
                        self.sent[key] = (line, n + len(data))
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, upstream_writer, True), pipe(upstream_reader, writer, False))
