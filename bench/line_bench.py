"""How a command's cost grows with the line: CPU per help request, per pairing and per idle
tick of the clock with N customers waiting, embedded (N = 100, 1,000, 10,000).

The service runs in this process on the memory store, as `make run` does, with a delivery that
encodes every notice as socket.io would put it on the wire (JSON), so the figures include the
cost of what the service sends. CPU-seconds (process time), not wall time: the machine is shared
and noisy, and the cost per operation is what sizes a deployment. The slope is the N=10,000
figure over the N=100 one (the goal is under 1.5×: flat).

After an hour: the same pairing at N = 1,000 waiting, on a state that holds what an hour of
serving leaves behind (HISTORY_RATE pairings a second for an hour): the per-minute figures of
the supervisor wall, the handle-time window, every session of the hour still rateable, and (on
Redis) a full change log. Every REAL_EVERY_S simulated seconds one customer is served through
the service on a clock set back an hour; the other sessions of those seconds are put straight
into the state as ending then (what `end_session` leaves), so building the hour costs seconds.
What it does not hold: the SQL records of the hour (no command reads them; the record writer
appends) and the record stream (trimmed as the writer consumes it).

How to read it: each row is CPU-seconds per operation (this process, and Redis's own from its
INFO), medians of three runs; "slope" and "× fresh" are ratios to the baseline measured in the
same run (N = 100, or the fresh state). Goals: slope under 1.5×, after an hour within 1.2×.
Operations are timed in bursts (see measure()). "Its tick" is the clock's next tick: the views
the commands changed, plus one slice of the line's refresh (up to POSITION_BATCH customers told
their new place), which is paid per tick, not per command, so it grows with the line until the
slice is full; "refresh CPU ms/s" is that refresh's whole cost per second.
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
# Each operation is timed as BURSTS bursts in a row (the figure is the median burst's mean).
BURSTS, REQUEST_BURST, PAIRING_BURST = 10, 50, 10
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
    return Principal(f"a{i:05d}", Role.AGENT, f"agent {i}", f"A{i:05d}", ("zh", "en"), ())


class RedisMeter:
    """Redis's own CPU and the bytes it moved, from INFO (the server is this bench's alone)."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        # Reading INFO moves bytes too (the INFO replies, ~1.5 KB), and they fall inside the
        # window between two reads: measured here on a window with nothing in it, and taken off.
        empty = []
        for _ in range(5):
            before = self.read()
            empty.append(self.read()[1] - before[1])
        self.overhead_bytes = statistics.median(empty)

    def read(self) -> tuple[float, int]:
        cpu, stats = self.client.info("cpu"), self.client.info("stats")
        return (
            float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"]),
            int(stats["total_net_input_bytes"]) + int(stats["total_net_output_bytes"]),
        )


HOUR_S = 3600.0
HISTORY_RATE = 20.0  # pairings a second over the hour of history
REAL_EVERY_S = 3.0  # one of them served through the service every this many simulated seconds


class Clock:
    """The service's clock: real time, or a time set by the bench (to replay an hour)."""

    def __init__(self) -> None:
        self.fixed: float | None = None

    def __call__(self) -> float:
        return time.time() if self.fixed is None else self.fixed


async def hour_of_history(service: SignalingService, center: CallCenter, clock: Clock) -> int:
    """Serve an hour of customers (see the module's docstring); returns how many."""
    worker = agent(999)
    start = time.time() - HOUR_S
    clock.fixed = start
    await service.connected(worker)
    served = 0
    t = start
    while t < start + HOUR_S:
        clock.fixed = t
        p = Principal(f"h{served:07d}", Role.CUSTOMER, "history")
        await service.connected(p)
        await service.request_help(p, "transfer", Edition.STANDARD, "zh" if served % 3 else "en", "/transfer")
        await service.set_presence(worker, Presence.AVAILABLE)
        offer = dict.__getitem__(center.agents, worker.user_id).offer_id or ""
        clock.fixed = t + 1
        await service.accept(worker, offer, f"hs{served}")
        clock.fixed = t + 2
        await service.end_session(worker, f"hs{served}")
        await service.wrap_up(worker, f"hs{served}", "resolved", "")
        await service.set_presence(worker, Presence.AWAY)
        await service.disconnected(p)
        await service.tick()
        served += 1
        for _ in range(round(HISTORY_RATE * REAL_EVERY_S) - 1):  # the others that ended meanwhile
            center.rateable[f"hs{served}"] = (f"h{served:07d}", f"hr{served}", t + 2)
            center.stats.record_answered(t + 1, 1.0)
            center.stats.record_handled(t + 2, 1.0, 0.0)
            served += 1
        t += REAL_EVERY_S
    clock.fixed = None
    await service.tick()
    return served


async def write_entities(client, prefix: str, center: CallCenter) -> None:
    """Put a center in Redis as the store keeps it, with a change log as full as an hour's."""
    import orjson

    from assist.storage import entities
    from assist.storage.redis_live import LOG_MAX

    keys = entities.all_keys(center)
    for i in range(0, len(keys), 5_000):
        chunk = {key: orjson.dumps(entities.encode(center, key)) for key in keys[i : i + 5_000]}
        await client.hset(f"{prefix}live:entities", mapping=chunk)
    for first in range(1, LOG_MAX + 1, 10_000):
        pipe = client.pipeline(transaction=False)
        for v in range(first, min(LOG_MAX, first + 9_999) + 1):
            pipe.xadd(f"{prefix}live:log", {"k": "meta"}, id=f"{v}-1", maxlen=LOG_MAX, approximate=True)
        await pipe.execute()
    await client.set(f"{prefix}live:version", LOG_MAX)


async def measure(n: int, redis_url: str | None = None, history: bool = False, agents_n: int = 10) -> dict[str, float]:
    from assist.storage.memory import MemoryLiveStore

    policy = Policy(queue_cap=n + 1_000, max_wait_s=10**9)
    delivery = WireDelivery()
    clock = Clock()
    memory = MemoryLiveStore(CallCenter(policy, unique_ids))
    store: LiveStore = memory
    service = SignalingService(
        store, NoRecords(), delivery, LocalCluster("bench"), tick_s=TICK_S, clock=clock
    )  # the ticker is not started: the bench ticks by hand
    served = await hour_of_history(service, memory.center, clock) if history else 0
    meter = None
    if redis_url:
        from redis.asyncio import Redis

        from assist.storage.redis_live import RedisLiveStore

        client = Redis.from_url(redis_url)
        await client.flushall()
        if history:
            await write_entities(client, f"bench{n}:", memory.center)
        store = RedisLiveStore(client, policy, f"bench{n}:", unique_ids)
        meter = RedisMeter(redis_url)
        service = SignalingService(store, NoRecords(), delivery, LocalCluster("bench"), tick_s=TICK_S, clock=clock)

    def offer_of(agent_id: str) -> str:
        center = getattr(store, "center", None)  # both stores keep their copy there
        assert center is not None
        return dict.__getitem__(center.agents, agent_id).offer_id or ""

    agents = [agent(i) for i in range(agents_n)]
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

    # Help requests at N waiting, and the first tick after them (the views they change: the
    # supervisors' board and wall, the heads of the line; one slice of the refresh). Timed as
    # bursts of REQUEST_BURST commands, not one at a time: a command timed alone right after the line's
    # refresh round (which walks every waiting customer, and is measured on its own below) runs
    # on caches that round has just emptied, and at N = 10,000 that cold start was most of the
    # figure (0.17 ms alone against 0.033 ms in a burst) though the command's work is the same.
    command, views = [], []
    for b in range(BURSTS):
        people = [customer(n + b * REQUEST_BURST + k) for k in range(REQUEST_BURST)]
        for p in people:
            await service.connected(p)
        t0 = time.process_time()
        made = [await service.request_help(p, "transfer", Edition.STANDARD, "zh", "/transfer") for p in people]
        t1 = time.process_time()
        await service.tick()
        views.append(time.process_time() - t1)
        command.append((t1 - t0) / REQUEST_BURST)
        for p, view in zip(people, made, strict=True):
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

    # Pairings: an agent becomes available, is offered the head of the line and accepts; the
    # session ends and is wrapped up; then the first tick after them. The line shrinks by one
    # each. Timed in bursts, as the requests above.
    worker = agents[0]
    command, views, notices, sent, redis_cpu, redis_bytes = [], [], [], [], [], []
    for b in range(BURSTS):
        await settle(service)
        before = delivery.notices, delivery.bytes
        redis_before = meter.read() if meter else (0.0, 0)
        t0 = time.process_time()
        for k in range(PAIRING_BURST):
            session_id = f"s{n}-{b}-{k}"
            await service.set_presence(worker, Presence.AVAILABLE)
            await service.accept(worker, offer_of(worker.user_id), session_id)
            await service.end_session(worker, session_id)
            await service.wrap_up(worker, session_id, "resolved", "")
            await service.set_presence(worker, Presence.AWAY)
        t1 = time.process_time()
        # What the commands sent and moved through Redis; the tick's refresh slice is time-driven
        # and measured on its own below.
        notices.append((delivery.notices - before[0]) / PAIRING_BURST)
        sent.append((delivery.bytes - before[1]) / PAIRING_BURST)
        if meter:
            redis_after = meter.read()
            redis_cpu.append((redis_after[0] - redis_before[0]) / PAIRING_BURST)
            moved = redis_after[1] - redis_before[1] - meter.overhead_bytes  # the meter's own taken off
            redis_bytes.append(moved / PAIRING_BURST)
        t2 = time.process_time()
        await service.tick()
        views.append(time.process_time() - t2)
        command.append((t1 - t0) / PAIRING_BURST)
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
        "history": served,
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


HISTORY_COLUMNS = {
    "request_ms": "help request",
    "pairing_ms": "pairing",
    "pairing_tick_ms": "its tick",
    "idle_ms": "idle tick",
    "kb": "KB / pairing",
}

REDIS_COLUMNS = {
    "request_ms": "help request",
    "pairing_ms": "pairing",
    "pairing_tick_ms": "its tick",
    "idle_ms": "idle tick",
    "redis_ms": "Redis CPU / pairing",
    "redis_kb": "Redis KB / pairing",
}


def table(title: str, columns: dict[str, str], redis_url: str | None = None, agents: bool = False) -> dict[int, dict[str, float]]:
    """One row per size: N waiting (10 agents), or with `agents`, M agents signed in (all on
    shift, away but for the one who serves) with AGENTS_WAITING customers waiting."""
    rows: list[tuple] = []
    results: dict[int, dict[str, float]] = {}
    for n in SIZES:
        waiting, signed_in = (AGENTS_WAITING, n) if agents else (n, 10)
        runs = [asyncio.run(measure(waiting, redis_url, agents_n=signed_in)) for _ in range(REPEATS)]
        results[n] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        rows.append((f"{n:,}", *(f"{results[n][k]:.3f}" for k in columns)))
    low, high = results[SIZES[0]], results[SIZES[-1]]
    rows.append((f"slope {SIZES[-1]:,}/{SIZES[0]:,}", *(f"{high[k] / low[k]:.2f}×" if low[k] else "-" for k in columns)))
    print_table(title, ("agents" if agents else "waiting", *columns.values()), rows)
    return results


# The same sizes as agents signed in, with this many customers waiting: routing, the wait
# estimate and the on-shift check once walked every agent (a command cost O(agents)).
AGENTS_WAITING = 1_000
AGENT_COLUMNS = {
    "request_ms": "help request",
    "pairing_ms": "pairing",
    "pairing_tick_ms": "its tick",
    "idle_ms": "idle tick",
}


HISTORY_N = 1_000


def history_table(title: str, columns: dict[str, str], fresh: dict[str, float], redis_url: str | None = None) -> None:
    """The pairing after an hour of traffic against the fresh figure of the same run."""
    runs = [asyncio.run(measure(HISTORY_N, redis_url, history=True)) for _ in range(REPEATS)]
    after = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    rows = [
        ("fresh (baseline)", *(f"{fresh[k]:.3f}" for k in columns)),
        (f"after an hour ({after['history']:,.0f} served)", *(f"{after[k]:.3f}" for k in columns)),
        ("× fresh", *(f"{after[k] / fresh[k]:.2f}×" if fresh[k] else "-" for k in columns)),
    ]
    print_table(title, ("state", *columns.values()), rows)


def reconnecting_table() -> None:
    """The clock with N users inside their grace window (after a node loss, everyone on it):
    a tick with none of those windows run out used to walk all of them."""
    rows, ticks = [], {}
    for n in SIZES:
        samples = []
        for _ in range(REPEATS):
            center = CallCenter(Policy(queue_cap=n + 1, grace_s=60.0, offer_timeout_s=600.0))
            center.socket_opened(agent(0).user_id, Role.AGENT, "n1", 0.0, agent(0).agent_profile())
            center.set_presence(agent(0).user_id, Presence.AVAILABLE, 0.0)
            for i in range(n):  # waiting, then their app lost its connection
                center.socket_opened(customer(i).user_id, Role.CUSTOMER, "n1", 0.0)
                center.request_help(customer(i).user_id, "c", "transfer", Edition.STANDARD, "zh", "/", 0.0)
            for i in range(n):
                center.socket_closed(customer(i).user_id, "n1", 1.0)
            center.settle()
            started = time.process_time()
            for k in range(200):
                center.tick(2.0 + k * TICK_S)
                center.settle()
            samples.append((time.process_time() - started) / 200 * 1000)
        ticks[n] = statistics.median(samples)
        rows.append((f"{n:,}", f"{ticks[n]:.3f}"))
    rows.append((f"slope {SIZES[-1]:,}/{SIZES[0]:,}", f"{ticks[SIZES[-1]] / ticks[SIZES[0]]:.2f}×"))
    title = f"A tick with N customers reconnecting, none due (embedded; CPU ms; medians of {REPEATS} runs)"
    print_table(title, ("reconnecting", "tick"), rows)


def run() -> None:
    import tempfile
    from pathlib import Path

    from assist.logs import configure
    from tests.servers.redis import RedisServer

    configure("warning")  # one log line per step would dominate the figures
    embedded = table(f"Cost per operation with N customers waiting (embedded; CPU ms; medians of {REPEATS} runs)", COLUMNS)
    history_title = (
        f"Cost per operation after an hour of traffic ({HISTORY_RATE:.0f} pairings/s), {HISTORY_N:,} waiting, {{}} "
        f"(CPU ms; medians of {REPEATS} runs; goal ≤ 1.2× fresh)"
    )
    history_table(history_title.format("embedded"), HISTORY_COLUMNS, embedded[HISTORY_N])
    agents_title = (
        f"Cost per operation with M agents signed in, {AGENTS_WAITING:,} waiting, {{}} (CPU ms; medians of {REPEATS} runs)"
    )
    table(agents_title.format("embedded"), AGENT_COLUMNS, agents=True)
    reconnecting_table()
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp)).start()
        try:
            shared = table(
                f"The same on one node sharing Redis (this node's CPU ms, and Redis's; medians of {REPEATS} runs)",
                REDIS_COLUMNS,
                server.url,
            )
            history_table(history_title.format("one node sharing Redis"), REDIS_COLUMNS, shared[HISTORY_N], server.url)
            redis_agents = AGENT_COLUMNS | {"redis_ms": "Redis CPU / pairing"}
            table(agents_title.format("one node sharing Redis"), redis_agents, server.url, agents=True)
        finally:
            server.stop()


if __name__ == "__main__":
    run()
