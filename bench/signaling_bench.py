"""Signaling benchmark: pairing latency under load vs a bare socket.io echo, and idle sockets.

The server runs in its own process (`assist serve`); this process is the load generator.
Tokens are minted with the server's secret instead of 1,100 argon2 sign-ins, which would
measure the password hash, not signaling.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import socketio

from assist.auth import Tokens

from .common import (
    BENCH_SECRET,
    LATENCY_HEADER,
    add_accounts,
    assist_server,
    free_port,
    latency_row,
    print_table,
    rss_bytes,
    sqlite_of,
    wait_http,
)

HELP = {"topic": "transfer", "edition": "standard", "language": "zh", "page": "/transfer"}


def _token(tokens: Tokens, username: str, role: str) -> str:
    return tokens.issue(
        {
            "username": username,
            "role": role,
            "display_name": username,
            "badge": username.upper(),
            "languages": ["zh", "en"],
            "skills": [],
        }
    )


async def _connect(url: str, token: str) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
    return client


async def echo_round_trips(url: str, n: int = 2000) -> list[float]:
    client = await _connect(url, "unused")
    for _ in range(50):  # warm-up
        await client.call("echo", {"x": 1})
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        await client.call("echo", {"request_id": "r123", "status": "offered"})
        samples.append(time.perf_counter() - t0)
    await client.disconnect()
    return samples


async def pairing_load(url: str, database_url: str, customers: int, agents: int, rate_per_s: float, handle_s: float) -> dict:
    tokens = Tokens(BENCH_SECRET, 3600)
    add_accounts(
        database_url,
        [(f"a{i:03d}", "agent") for i in range(agents)]
        + [(f"c{i:04d}", "customer") for i in range(customers)]
        + [("probe", "customer")],
    )
    sent: dict[str, float] = {}
    offered: dict[str, float] = {}
    done = asyncio.Event()
    ended = 0
    agent_clients = []

    async def run_agent(name: str) -> None:
        client = await _connect(url, _token(tokens, name, "agent"))

        async def on_offer(data):
            offered.setdefault(data["request"]["customer_name"], time.perf_counter())
            await client.emit("offer_accept", {"offer_id": data["offer_id"]})

        async def on_session(data):
            await asyncio.sleep(handle_s * random.uniform(0.5, 1.5))
            await client.call("end_session", {"session_id": data["session_id"]})
            await client.call("wrap_up", {"session_id": data["session_id"], "outcome": "resolved"})

        client.on("offer", on_offer)
        client.on("session_started", lambda data: asyncio.ensure_future(on_session(data)))
        await client.call("agent_state", {"state": "available"})
        agent_clients.append(client)

    async def run_customer(name: str) -> None:
        nonlocal ended
        client = await _connect(url, _token(tokens, name, "customer"))
        finished = asyncio.Event()
        client.on("session_ended", lambda data: finished.set())
        sent[name] = time.perf_counter()
        reply = await client.call("help_request", HELP, timeout=60)
        assert reply["ok"], reply
        await finished.wait()
        await client.disconnect()
        ended += 1
        if ended == customers:
            done.set()

    await asyncio.gather(*(run_agent(f"a{i:03d}") for i in range(agents)))
    # A probe: the round trip of a cheap acked event on the same server while the load runs.
    probe = await _connect(url, _token(tokens, "probe", "customer"))
    probe_rtts: list[float] = []

    async def probing() -> None:
        while not done.is_set():
            t0 = time.perf_counter()
            await probe.call("sync", {})
            probe_rtts.append(time.perf_counter() - t0)
            await asyncio.sleep(0.02)

    prober = asyncio.create_task(probing())
    started = time.perf_counter()
    tasks = []
    for i in range(customers):
        tasks.append(asyncio.create_task(run_customer(f"c{i:04d}")))
        await asyncio.sleep(random.expovariate(rate_per_s))
    await asyncio.wait_for(done.wait(), timeout=600)
    elapsed = time.perf_counter() - started
    await asyncio.gather(*tasks)
    await prober
    for client in [*agent_clients, probe]:
        await client.disconnect()
    latencies = [offered[name] - sent[name] for name in sent if name in offered]
    return {"latencies": latencies, "served": len(latencies), "elapsed": elapsed, "probe": probe_rtts}


async def idle_sockets(url: str, database_url: str, pid: int, n: int) -> dict:
    tokens = Tokens(BENCH_SECRET, 3600)
    add_accounts(database_url, [(f"idle{i}", "customer") for i in range(n)])
    before = rss_bytes(pid)
    clients: list[socketio.AsyncClient] = []
    t0 = time.perf_counter()
    for start in range(0, n, 250):
        batch = await asyncio.gather(
            *(_connect(url, _token(tokens, f"idle{i}", "customer")) for i in range(start, min(n, start + 250)))
        )
        clients.extend(batch)
    connect_s = time.perf_counter() - t0
    await asyncio.sleep(2)
    after = rss_bytes(pid)
    await asyncio.gather(*(c.disconnect() for c in clients))
    return {"n": n, "before": before, "after": after, "connect_s": connect_s}


def run(customers: int = 1000, agents: int = 100, idle: int = 5000) -> None:
    random.seed(7)
    echo_port = free_port()
    echo = subprocess.Popen(
        [sys.executable, "-m", "bench.echo_server", str(echo_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_http(f"http://127.0.0.1:{echo_port}/healthz")
        echo_samples = asyncio.run(echo_round_trips(f"http://127.0.0.1:{echo_port}"))
    finally:
        echo.terminate()
        echo.wait()

    with tempfile.TemporaryDirectory() as tmp:
        with assist_server(Path(tmp) / "pairing") as (url, _pid):
            load = asyncio.run(
                pairing_load(url, sqlite_of(Path(tmp) / "pairing"), customers, agents, rate_per_s=50.0, handle_s=0.5)
            )
        with assist_server(Path(tmp) / "idle") as (url, pid):
            held = asyncio.run(idle_sockets(url, sqlite_of(Path(tmp) / "idle"), pid, idle))

    pair = load["latencies"]
    probe = load["probe"]
    rows = [
        latency_row("bare socket.io echo round trip (baseline)", echo_samples, echo_samples),
        latency_row("context: an acked `sync` round trip on the assist server during the load", probe, echo_samples),
        latency_row(f"pairing: help_request → offer on agent ({customers} customers, {agents} agents)", pair, echo_samples),
    ]
    print_table("Signaling latency, ms (ratio = p99 / baseline p99; goal ≤ 3)", LATENCY_HEADER, rows)
    print(
        f"served {load['served']}/{customers} in {load['elapsed']:.1f} s "
        f"({load['served'] / load['elapsed']:.1f} pairings/s at ~50 arrivals/s)"
    )
    per_socket = (held["after"] - held["before"]) / held["n"]
    print_table(
        "Idle customer sockets on one process (goal: 5,000 in < 1 GiB)",
        ("sockets", "RSS before MiB", "RSS after MiB", "KiB per socket", "connect s"),
        [(held["n"], held["before"] / 2**20, held["after"] / 2**20, per_socket / 1024, held["connect_s"])],
    )


if __name__ == "__main__":
    run(
        int(os.environ.get("BENCH_CUSTOMERS", 1000)),
        int(os.environ.get("BENCH_AGENTS", 100)),
        int(os.environ.get("BENCH_IDLE", 5000)),
    )
