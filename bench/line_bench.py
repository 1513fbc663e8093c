"""How a command's cost grows with the line: CPU per help request, per pairing and per idle
tick of the clock with N customers waiting, embedded (N = 100, 1,000, 10,000).

The service runs in this process on the memory store, as `make run` does, with a delivery that
encodes every notice as socket.io would put it on the wire (JSON), so the figures include the
cost of what the service sends. CPU-seconds (process time), not wall time: the machine is shared
and noisy, and the cost per operation is what sizes a deployment. The slope is the N=10,000
figure over the N=100 one (the goal is under 1.5×: flat).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time

from assist.cluster import LocalCluster
from signaling.domain.center import CallCenter, unique_ids
from signaling.domain.model import Edition, Policy, Presence, Role
from signaling.ports import LiveStore
from signaling.service import Principal, SignalingService

from .common import print_table

SIZES = (100, 1_000, 10_000)
REPEATS = 3
TICK_S = 0.2  # as served


class WireDelivery:
    """Encodes each message as it would go on the socket, and counts them."""

    def __init__(self) -> None:
        self.notices = 0
        self.bytes = 0

    async def send(self, to: str, message) -> None:
        self.notices += 1
        self.bytes += len(json.dumps([message.event, message.wire()], separators=(",", ":")))


class NoRecords:
    def submit(self, updates) -> None:
        for update in updates:
            json.dumps(update.fields, default=str)  # what the record writer would serialise


def customer(i: int) -> Principal:
    return Principal(f"c{i:05d}", Role.CUSTOMER, f"customer {i}")


def agent(i: int) -> Principal:
    return Principal(f"a{i:03d}", Role.AGENT, f"agent {i}", f"A{i:03d}", ("zh", "en"), ())


class RedisMeter:
    """Redis's own CPU and the bytes it moved, from INFO (the server is this bench's alone)."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)

    def read(self) -> tuple[float, int]:
        cpu, stats = self.client.info("cpu"), self.client.info("stats")
        return (
            float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"]),
            int(stats["total_net_input_bytes"]) + int(stats["total_net_output_bytes"]),
        )


async def measure(n: int, redis_url: str | None = None) -> dict[str, float]:
    from assist.storage.memory import MemoryLiveStore

    policy = Policy(queue_cap=n + 1_000, max_wait_s=10**9)
    delivery = WireDelivery()
    store: LiveStore
    meter = None
    if redis_url:
        from redis.asyncio import Redis

        from assist.storage.redis_live import RedisLiveStore

        client = Redis.from_url(redis_url)
        await client.flushall()
        store = RedisLiveStore(client, policy, f"bench{n}:", unique_ids)
        meter = RedisMeter(redis_url)
    else:
        store = MemoryLiveStore(CallCenter(policy, unique_ids))
    service = SignalingService(
        store, NoRecords(), delivery, LocalCluster("bench"), tick_s=TICK_S
    )  # the ticker is not started: the bench ticks by hand

    def offer_of(agent_id: str) -> str:
        center = getattr(store, "center", None)  # both stores keep their copy there
        assert center is not None
        return dict.__getitem__(center.agents, agent_id).offer_id or ""

    agents = [agent(i) for i in range(10)]
    for a in agents:  # on shift (so requests wait) but away: nobody is offered anything yet
        await service.connected(a)
    for i in range(n):
        p = customer(i)
        await service.connected(p)
        await service.request_help(
            p, "transfer", Edition.ELDERLY if i % 5 == 0 else Edition.STANDARD, "zh" if i % 3 else "en", "/transfer"
        )
    await service.tick()
    await service.tick()

    await settle(service)

    # A help request at N waiting, and the first tick after it (the views it changes: the
    # supervisors' board and wall, the heads of the line; one slice of the refresh).
    command, views = [], []
    for k in range(50):
        p = customer(n + k)
        await service.connected(p)
        t0 = time.process_time()
        view = await service.request_help(p, "transfer", Edition.STANDARD, "zh", "/transfer")
        t1 = time.process_time()
        await service.tick()
        views.append(time.process_time() - t1)
        command.append(t1 - t0)
        await service.cancel(p, view["request"]["request_id"])
        await settle(service)
    request_ms, request_tick_ms = statistics.median(command) * 1000, statistics.median(views) * 1000

    # Idle: the clock's tick when nothing happened.
    idle = []
    for _ in range(50):
        t0 = time.process_time()
        await service.tick()
        idle.append(time.process_time() - t0)
    idle_ms = statistics.median(idle) * 1000

    # A pairing: an agent becomes available, is offered the head of the line and accepts; the
    # session ends and is wrapped up; then the first tick after it. The line shrinks by one.
    worker = agents[0]
    command, views, notices, sent, redis_cpu, redis_bytes = [], [], [], [], [], []
    for k in range(50):
        await settle(service)
        before = delivery.notices, delivery.bytes
        redis_before = meter.read() if meter else (0.0, 0)
        t0 = time.process_time()
        await service.set_presence(worker, Presence.AVAILABLE)
        await service.accept(worker, offer_of(worker.user_id), f"s{n}-{k}")
        await service.end_session(worker, f"s{n}-{k}")
        await service.wrap_up(worker, f"s{n}-{k}", "resolved", "")
        await service.set_presence(worker, Presence.AWAY)
        t1 = time.process_time()
        await service.tick()
        views.append(time.process_time() - t1)
        command.append(t1 - t0)
        notices.append(delivery.notices - before[0])
        sent.append(delivery.bytes - before[1])
        if meter:
            redis_after = meter.read()
            redis_cpu.append(redis_after[0] - redis_before[0])
            redis_bytes.append(redis_after[1] - redis_before[1])
    pairing_ms, pairing_tick_ms = statistics.median(command) * 1000, statistics.median(views) * 1000

    # Keeping the line informed after it moved: the ticks until every waiting customer heard
    # their new place once. Time-driven, not per pairing: the same whether one or a hundred
    # pairings moved the line meanwhile.
    ticks, told = 0, delivery.notices
    t0 = time.process_time()
    while service.positions_pending:
        await service.tick()
        ticks += 1
    refresh_cpu = time.process_time() - t0
    return {
        "request_ms": request_ms,
        "request_tick_ms": request_tick_ms,
        "pairing_ms": pairing_ms,
        "pairing_tick_ms": pairing_tick_ms,
        "idle_ms": idle_ms,
        "notices": statistics.median(notices),
        "kb": statistics.median(sent) / 1024,
        "refresh_ms_per_s": refresh_cpu / max(ticks * TICK_S, TICK_S) * 1000,
        "refresh_s": ticks * TICK_S,
        "told": delivery.notices - told,
        "redis_ms": statistics.median(redis_cpu) * 1000 if redis_cpu else 0.0,
        "redis_kb": statistics.median(redis_bytes) / 1024 if redis_bytes else 0.0,
    }


async def settle(service: SignalingService) -> None:
    """Tick until the line's refresh round is over, so the next figure starts from rest."""
    await service.tick()
    while service.positions_pending:
        while service.positions_pending:
            await service.tick()
        await service.tick()  # a change during the round starts one more


COLUMNS = {  # key → heading
    "request_ms": "help request",
    "request_tick_ms": "its tick",
    "pairing_ms": "pairing",
    "pairing_tick_ms": "its tick",
    "idle_ms": "idle tick",
    "notices": "notices / pairing",
    "kb": "KB / pairing",
    "refresh_ms_per_s": "refresh CPU ms/s",
    "refresh_s": "refresh s",
    "told": "told in refresh",
}


REDIS_COLUMNS = {
    "request_ms": "help request",
    "pairing_ms": "pairing",
    "pairing_tick_ms": "its tick",
    "idle_ms": "idle tick",
    "redis_ms": "Redis CPU / pairing",
    "redis_kb": "Redis KB / pairing",
}


def table(title: str, columns: dict[str, str], redis_url: str | None = None) -> None:
    rows: list[tuple] = []
    results: dict[int, dict[str, float]] = {}
    for n in SIZES:
        runs = [asyncio.run(measure(n, redis_url)) for _ in range(REPEATS)]
        results[n] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        rows.append((f"{n:,}", *(f"{results[n][k]:.3f}" for k in columns)))
    low, high = results[SIZES[0]], results[SIZES[-1]]
    rows.append((f"slope {SIZES[-1]:,}/{SIZES[0]:,}", *(f"{high[k] / low[k]:.2f}×" if low[k] else "-" for k in columns)))
    print_table(title, ("waiting", *columns.values()), rows)


def run() -> None:
    import tempfile
    from pathlib import Path

    from assist.logs import configure
    from tests.servers.redis import RedisServer

    configure("warning")  # one log line per step would dominate the figures
    table(f"Cost per operation with N customers waiting (embedded; CPU ms; medians of {REPEATS} runs)", COLUMNS)
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp)).start()
        try:
            table(
                f"The same on one node sharing Redis (this node's CPU ms, and Redis's; medians of {REPEATS} runs)",
                REDIS_COLUMNS,
                server.url,
            )
        finally:
            server.stop()


if __name__ == "__main__":
    run()
