"""Memory and idle CPU per connected socket, embedded server in its own process, at 1,000 and
10,000 signed-in customer sockets.

Each size gets a fresh `assist serve` (memory store, SQLite). Its idle CPU is read from /proc
over a window with no socket, then the sockets connect (raw socket.io-over-WebSocket clients,
each signed in with its own token, spread over several client processes so the load generator
does not hold them all), and after a settling pause its CPU is read over a second window of
the same length. The window is longer than engine.io's ping interval (25 s), so each socket's
ping/pong is in it, as are the clock's ticks (5 a second).

How to read it. *RSS per socket* is the server's resident memory after the sockets connected
minus before, over the number of sockets: what sizes a node's memory (goal: 5,000 sockets in
under 1 GiB, so under ~200 KiB each with the process's own ~100 MiB). *Idle CPU per socket*
is (CPU per second with the sockets − CPU per second without) / sockets, in µs of CPU per
second per socket: 1,000 µs/s is one core per 1,000 idle sockets. CPU-seconds, not wall time,
so the busy shared machine does not change them much; one window each (a window is 30 s, so
medians of three would triple the bench's length). The slope is the 10,000 figure over the
1,000 one: above ~1.2× something costs more per socket as sockets are added.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import (
    BENCH_SECRET,
    add_accounts,
    assist_server,
    cpu_seconds,
    print_table,
    raise_open_files,
    rss_bytes,
    sqlite_of,
)

SIZES = (1_000, 10_000)
PER_PROCESS = 2_500  # sockets per client process
WINDOW_S = float(os.environ.get("BENCH_WINDOW_S", "30"))
SETTLE_S = 5.0


async def _hold(url: str, first: int, count: int) -> None:
    """Client process: `count` sockets signed in as idle<first>…, answering pings, until stdin closes."""
    import aiohttp

    from assist.auth import Tokens

    from .signaling_bench import _token

    tokens = Tokens(BENCH_SECRET, 3600)
    ws_url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    gate = asyncio.Semaphore(100)
    failed = 0

    async def keep(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT and msg.data == "2":
                await ws.send_str("3")

    async def connect(i: int) -> None:
        nonlocal failed
        async with gate:
            try:
                ws = await session.ws_connect(ws_url, timeout=aiohttp.ClientWSTimeout(ws_close=5), max_msg_size=0)
                opened = await ws.receive_str(timeout=30)
                assert opened.startswith("0"), opened
                await ws.send_str("40" + json.dumps({"token": _token(tokens, f"idle{i}", "customer")}))
                while True:  # the connect answer, maybe after the first pushes
                    reply = await ws.receive_str(timeout=30)
                    if reply.startswith("40"):
                        break
                    assert not reply.startswith("44"), reply
            except (TimeoutError, OSError, AssertionError, aiohttp.ClientError, TypeError):
                failed += 1
                return
        sockets.append(ws)
        readers.append(asyncio.create_task(keep(ws)))

    readers: list[asyncio.Task] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(connect(i) for i in range(first, first + count)))
        print(f"ready {len(sockets)} {failed}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the bench is done
        os._exit(0)  # the server is gone by then: no goodbyes to wait for


def measure(root: Path, n: int) -> dict[str, float]:
    with assist_server(root) as (url, pid):
        add_accounts(sqlite_of(root), [(f"idle{i}", "customer") for i in range(n)])
        time.sleep(SETTLE_S)
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(WINDOW_S)
        empty_cpu_per_s = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
        rss_before = rss_bytes(pid)
        cpu_connect, t_connect = cpu_seconds(pid), time.monotonic()
        clients = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.socket_bench", "hold", url, str(first), str(min(PER_PROCESS, n - first))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for first in range(0, n, PER_PROCESS)
        ]
        try:
            connected = failed = 0
            for client in clients:
                assert client.stdout is not None
                words = client.stdout.readline().split()
                assert words and words[0] == "ready", words
                connected += int(words[1])
                failed += int(words[2])
            connect_s = time.monotonic() - t_connect
            connect_cpu = cpu_seconds(pid) - cpu_connect
            time.sleep(SETTLE_S)
            rss_after = rss_bytes(pid)
            cpu1, t1 = cpu_seconds(pid), time.monotonic()
            time.sleep(WINDOW_S)
            held_cpu_per_s = (cpu_seconds(pid) - cpu1) / (time.monotonic() - t1)
            rss_end = rss_bytes(pid)
        finally:
            # Its shutdown with thousands of sockets is not what this measures (and takes long).
            os.kill(pid, signal.SIGKILL)
            for client in clients:
                assert client.stdin is not None
                client.stdin.close()
            for client in clients:
                client.wait(timeout=60)
    return {
        "n": n,
        "connected": connected,
        "failed": failed,
        "rss_before": rss_before,
        "rss_after": max(rss_after, rss_end),
        "empty_cpu_per_s": empty_cpu_per_s,
        "held_cpu_per_s": held_cpu_per_s,
        "connect_s": connect_s,
        "connect_cpu": connect_cpu,
    }


def run(sizes: tuple[int, ...] = SIZES) -> None:
    limit = raise_open_files()
    if limit < max(sizes) + 1_000:
        raise SystemExit(f"ulimit -Hn is {limit}: the server needs a descriptor per socket ({max(sizes)})")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            results.append(measure(Path(tmp) / f"s{n}", n))
            print(f"{n}: {results[-1]}", flush=True)
    rows: list[tuple] = []
    for r in results:
        held = max(1, r["connected"])
        r["kib"] = (r["rss_after"] - r["rss_before"]) / held / 1024
        r["us"] = (r["held_cpu_per_s"] - r["empty_cpu_per_s"]) / held * 1e6
        rows.append(
            (
                f"{r['n']:,}",
                f"{r['connected']:,} ({r['failed']} failed)",
                r["rss_before"] / 2**20,
                r["rss_after"] / 2**20,
                r["kib"],
                r["empty_cpu_per_s"] * 1000,
                r["held_cpu_per_s"] * 1000,
                r["us"],
                r["connect_s"],
                r["connect_cpu"] / held * 1000,
            )
        )
    if len(results) > 1:
        lo, hi = results[0], results[-1]
        rows.append(
            (
                f"slope {hi['n']:,}/{lo['n']:,}",
                "",
                "",
                "",
                f"{hi['kib'] / lo['kib']:.2f}×",
                "",
                "",
                f"{hi['us'] / lo['us']:.2f}×" if lo["us"] > 0 else "-",
                "",
                "",
            )
        )
    print_table(
        f"Connected idle customer sockets on one embedded server (CPU from /proc over {WINDOW_S:.0f} s windows)",
        (
            "sockets",
            "connected",
            "RSS before MiB",
            "RSS after MiB",
            "KiB / socket",
            "CPU ms/s, no sockets",
            "CPU ms/s, sockets held",
            "idle CPU µs/s per socket",
            "connect s (wall)",
            "CPU ms per connect",
        ),
        rows,
    )
    big = results[-1]
    print(
        f"Projected: 100,000 idle sockets ≈ {big['kib'] * 100_000 / 2**20:.1f} GiB and "
        f"{big['us'] * 100_000 / 1e6:.2f} cores of idle CPU, plus each process's own ~{big['rss_before'] / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["hold"]:
        raise_open_files()
        asyncio.run(_hold(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
    else:
        env = os.environ.get("BENCH_SOCKETS")
        run(tuple(int(x) for x in env.split(",")) if env else SIZES)
