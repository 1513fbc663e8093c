"""Sign-in storm benchmark: /healthz and a socket's round trip while 200 sign-ins run at once,
against the same without the storm (ratio = p99 under the storm / p99 quiet; goal ≤ 3).

The server runs in its own process (`assist serve`), the storm in another (so its client work
does not slow the probes' own event loop), the probes here. The storm keeps 200 sign-ins in flight,
each from its own loopback address with a random username and a wrong password, as the report's
attacker did; a client told to wait (503 busy, 429) waits as told, so the server stays saturated
with password hashing, which is what this measures.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import secrets
import tempfile
import time
from multiprocessing.queues import Queue
from pathlib import Path

import aiohttp
import socketio

from .common import LATENCY_HEADER, assist_server, latency_row, percentile, print_table

IN_FLIGHT = 200
QUIET_S = 8.0
STORM_S = 10.0


def _storm(url: str, seconds: float, results: Queue[dict]) -> None:
    # The attacker's own CPU is not the server's: on this one machine the load generator yields
    # to the server and the probes, so what is measured is the server under the storm.
    os.nice(19)

    async def storm() -> None:
        deadline = time.monotonic() + seconds
        counts: dict[int, int] = {}
        latencies: list[float] = []

        async def one(i: int) -> None:
            address = f"127.0.{1 + i // 250}.{1 + i % 250}"
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0))) as http:
                while time.monotonic() < deadline:
                    t0 = time.perf_counter()
                    async with http.post(
                        f"{url}/api/auth/login", json={"username": secrets.token_hex(6), "password": "wrong password"}
                    ) as r:
                        await r.read()
                        counts[r.status] = counts.get(r.status, 0) + 1
                        wait = float(r.headers.get("Retry-After", 0))
                    if r.status == 401:
                        latencies.append(time.perf_counter() - t0)
                    await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))

        await asyncio.gather(*(one(i) for i in range(IN_FLIGHT)))
        results.put({"counts": counts, "latencies": latencies})

    asyncio.run(storm())


async def _probe(url: str, token: str, seconds: float) -> dict:
    """/healthz and an acked `sync` on a socket, one after the other, every 20 ms."""
    health, rtt = [], []
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
    async with aiohttp.ClientSession() as http:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            async with http.get(f"{url}/healthz") as r:
                await r.read()
            health.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await client.call("sync", {}, timeout=60)
            rtt.append(time.perf_counter() - t0)
            await asyncio.sleep(0.02)
    await client.disconnect()
    return {"health": health, "rtt": rtt}


async def _login(url: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/api/auth/login", json={"username": "zhangsan", "password": "demo1234"}) as r,
    ):
        return (await r.json())["token"]


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp, assist_server(Path(tmp) / "auth") as (url, _pid):
        token = asyncio.run(_login(url))
        quiet = asyncio.run(_probe(url, token, QUIET_S))
        results: Queue[dict] = multiprocessing.Queue()
        storm = multiprocessing.Process(target=_storm, args=(url, STORM_S + 2.0, results))
        storm.start()
        time.sleep(1.0)  # let the storm fill the pool's queue
        stormy = asyncio.run(_probe(url, token, STORM_S))
        outcome = results.get(timeout=120)
        storm.join()

    ms = 1000.0
    print(f"machine load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    rows = [
        latency_row(f"{name}, {label}", data[key], quiet[key])
        for name, key in (("/healthz", "health"), ("socket round trip (acked sync)", "rtt"))
        for label, data in (("quiet", quiet), (f"{IN_FLIGHT} sign-ins in flight", stormy))
    ]
    print_table("Sign-in storm: latency of everything else, ms (ratio = p99 / quiet p99; goal ≤ 3)", LATENCY_HEADER, rows)
    counts, hashed = outcome["counts"], outcome["latencies"]
    print_table(
        "The storm's sign-ins (each a random username, wrong password)",
        ("answers", "401 (hashed)", "503 busy", "429 throttled", "401 latency p50 ms", "p99 ms"),
        [
            (
                sum(counts.values()),
                counts.get(401, 0),
                counts.get(503, 0),
                counts.get(429, 0),
                percentile(hashed, 50) * ms,
                percentile(hashed, 99) * ms,
            )
        ],
    )


if __name__ == "__main__":
    run()
