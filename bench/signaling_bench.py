"""Signaling benchmark: pairing latency against the echo floor, a bare python-socketio server's
round trip measured in the same run.

The server runs in its own process (`assist serve`, embedded: memory store, SQLite); this
process is the load generator. Tokens are minted with the server's secret instead of argon2
sign-ins, which would measure the password hash, not signaling. (Memory and idle CPU per
connected socket: bench/socket_bench.py.)

How to read it. The baseline row is the floor: an acked `echo` on a bare python-socketio
server, one client, at the low-load pairings' own pace (Poisson, a few a second, the processes
idle in between). A pairing is help_request sent by the customer → offer received by an agent
(one trip in, the decision, one push out): under that low load its p99 over the paced echo's
p99 is the ratio the goal is about (≤ 3×). The same echo back to back is shown too: it is two to
three times faster, because nothing has gone idle between two round trips (measured here: p50
0.44 ms back to back, 1.0 ms at 20 a second, 1.2 ms at 5 a second), so a sparse pairing
compared with it would be charged for the machine waking up, not for signaling. The loaded rows
(50 arrivals a second) show how far queueing moves it, with an acked `sync` probe's round trip
on the same server for context. Latencies are wall time, so the shared machine's load shows in
them: compare rows of one run, not runs. The paced echo and the low-load pairing are measured
one after the other three times; the ratio is the median of the three rounds' ratios.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import socketio

from assist.auth import Tokens

from .common import BENCH_SECRET, add_accounts, assist_server, free_port, percentile, print_table, sqlite_of, wait_http

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


async def echo_round_trips(url: str, n: int = 2000, rate_per_s: float | None = None) -> list[float]:
    """`n` acked echoes: back to back, or at `rate_per_s` (Poisson) like the pairings."""
    client = await _connect(url, "unused")
    for _ in range(50):  # warm-up
        await client.call("echo", {"x": 1})
    samples = []
    for _ in range(n):
        if rate_per_s:
            await asyncio.sleep(random.expovariate(rate_per_s))
        t0 = time.perf_counter()
        await client.call("echo", {"request_id": "r123", "status": "offered"})
        samples.append(time.perf_counter() - t0)
    await client.disconnect()
    return samples


async def pairing_load(
    url: str,
    database_url: str,
    customers: int,
    agents: int,
    rate_per_s: float,
    handle_s: float,
    meter: Callable[[], dict[str, float]] | None = None,
    probe_every_s: float | None = 0.02,
    ready: Callable[[], Awaitable[object]] | None = None,
) -> dict:
    """`customers` arrive at `rate_per_s` (Poisson), each asks for help and is served by one of
    `agents` for about `handle_s`. With `meter`, it is read when the agents are on shift and the
    first customer is due, and again when the last has been served (CPU figures, say). A probe
    customer sends an acked `sync` every `probe_every_s` meanwhile (None: no probe, when its
    cost would blur a CPU figure). With `ready`, it is awaited once everyone is connected,
    before the first arrival (several loads side by side start together)."""
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
        while probe_every_s is not None and not done.is_set():
            t0 = time.perf_counter()
            await probe.call("sync", {})
            probe_rtts.append(time.perf_counter() - t0)
            await asyncio.sleep(probe_every_s)

    if ready:
        await ready()
    prober = asyncio.create_task(probing())
    metered = [meter()] if meter else []
    started = time.perf_counter()
    tasks = []
    for i in range(customers):
        tasks.append(asyncio.create_task(run_customer(f"c{i:04d}")))
        await asyncio.sleep(random.expovariate(rate_per_s))
    await asyncio.wait_for(done.wait(), timeout=600)
    elapsed = time.perf_counter() - started
    if meter:
        metered.append(meter())
    await asyncio.gather(*tasks)
    await prober
    for client in [*agent_clients, probe]:
        await client.disconnect()
    latencies = [offered[name] - sent[name] for name in sent if name in offered]
    return {"latencies": latencies, "served": len(latencies), "elapsed": elapsed, "probe": probe_rtts, "meter": metered}


ROUNDS = 3  # of the echo and the low-load pairing, for medians


def run(customers: int = 1000, agents: int = 100, quiet: int = 100, quiet_rate: float = 5.0) -> None:
    import statistics

    random.seed(7)
    echo_port = free_port()
    echo = subprocess.Popen(
        [sys.executable, "-m", "bench.echo_server", str(echo_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    rounds = []  # (paced echo round trips, low-load pairing latencies), measured one after the other
    hot: list[float] = []  # the echo back to back
    with tempfile.TemporaryDirectory() as tmp:
        try:
            wait_http(f"http://127.0.0.1:{echo_port}/healthz")
            hot = asyncio.run(echo_round_trips(f"http://127.0.0.1:{echo_port}"))
            for k in range(ROUNDS):
                echo_samples = asyncio.run(echo_round_trips(f"http://127.0.0.1:{echo_port}", quiet, quiet_rate))
                with assist_server(Path(tmp) / f"quiet{k}") as (url, _pid):
                    low = asyncio.run(
                        pairing_load(url, sqlite_of(Path(tmp) / f"quiet{k}"), quiet, 20, rate_per_s=quiet_rate, handle_s=0.5)
                    )
                rounds.append((echo_samples, low["latencies"]))
        finally:
            echo.terminate()
            echo.wait()
        with assist_server(Path(tmp) / "pairing") as (url, _pid):
            load = asyncio.run(
                pairing_load(url, sqlite_of(Path(tmp) / "pairing"), customers, agents, rate_per_s=50.0, handle_s=0.5)
            )

    ms = 1000.0

    echo_p99 = statistics.median(percentile(e, 99) for e, _ in rounds)
    ratio = statistics.median(percentile(p, 99) / percentile(e, 99) for e, p in rounds)
    rows = [
        (
            f"bare socket.io echo round trip at {quiet_rate:.0f}/s, as the pairings (baseline)",
            f"{ROUNDS} × {len(rounds[0][0])}",
            *(statistics.median(percentile(e, q) for e, _ in rounds) * ms for q in (50, 95, 99)),
            "1.00",
        ),
        (
            "the same echo back to back (nothing idle in between)",
            len(hot),
            *(percentile(hot, q) * ms for q in (50, 95, 99)),
            f"{percentile(hot, 99) / echo_p99:.2f}",
        ),
        (
            f"pairing at low load: help_request → offer on agent ({quiet} customers at {quiet_rate:.0f}/s, 20 agents)",
            f"{ROUNDS} × {quiet}",
            *(statistics.median(percentile(p, q) for _, p in rounds) * ms for q in (50, 95, 99)),
            f"{ratio:.2f}",
        ),
    ]
    for what, values in (
        ("context: an acked `sync` round trip on the assist server during the load", load["probe"]),
        (
            f"pairing under load: help_request → offer on agent ({customers} customers at 50/s, {agents} agents)",
            load["latencies"],
        ),
    ):
        rows.append(
            (what, len(values), *(percentile(values, q) * ms for q in (50, 95, 99)), f"{percentile(values, 99) / echo_p99:.2f}")
        )
    print_table(
        f"Signaling latency, ms (medians of {ROUNDS} rounds of echo + low-load pairing; ratio = p99 / the echo's p99 "
        "of the same round; goal: low-load pairing ≤ 3)",
        ("measure", "n", "p50", "p95", "p99", "ratio"),
        rows,
    )
    print("low-load p99 / echo p99 per round: " + ", ".join(f"{percentile(p, 99) / percentile(e, 99):.2f}" for e, p in rounds))
    print(
        f"served {load['served']}/{customers} in {load['elapsed']:.1f} s "
        f"({load['served'] / load['elapsed']:.1f} pairings/s at ~50 arrivals/s)"
    )


if __name__ == "__main__":
    run(
        int(os.environ.get("BENCH_CUSTOMERS", 1000)),
        int(os.environ.get("BENCH_AGENTS", 100)),
        int(os.environ.get("BENCH_QUIET", 100)),
        float(os.environ.get("BENCH_QUIET_RATE", 5.0)),
    )
