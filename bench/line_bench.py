"""How a command's cost grows with the line: CPU per help request, per pairing and per idle
tick of the clock with N customers waiting, embedded (N = 100, 1,000, 10,000).

The service runs in this process on the memory store, as `make run` does, with a publisher that
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

from signaling.domain.center import CallCenter, unique_ids
from signaling.domain.model import Edition, Policy, Presence, Role
from signaling.service import Principal, SignalingService

from .common import print_table

SIZES = (100, 1_000, 10_000)
REPEATS = 3


class WirePublisher:
    """Encodes each notice as it would go on the socket, and counts them."""

    def __init__(self) -> None:
        self.notices = 0
        self.bytes = 0

    async def publish(self, notices) -> None:
        for notice in notices:
            self.notices += 1
            self.bytes += len(json.dumps([notice.event, notice.data], separators=(",", ":")))


class NoRecords:
    def submit(self, updates) -> None:
        for update in updates:
            json.dumps(update.fields, default=str)  # what the record writer would serialise


class OneNode:
    instance = "bench"
    is_leader = True
    settled = True

    async def alive(self, instances):
        return instances


def customer(i: int) -> Principal:
    return Principal(f"c{i:05d}", Role.CUSTOMER, f"customer {i}")


def agent(i: int) -> Principal:
    return Principal(f"a{i:03d}", Role.AGENT, f"agent {i}", f"A{i:03d}", ("zh", "en"), ())


async def measure(n: int) -> dict[str, float]:
    from assist.storage.memory import MemoryLiveStore

    policy = Policy(queue_cap=n + 1_000, max_wait_s=10 ** 9)
    publisher = WirePublisher()
    service = SignalingService(MemoryLiveStore(CallCenter(policy, unique_ids)), NoRecords(), publisher, OneNode(),
                               tick_s=3600)
    agents = [agent(i) for i in range(10)]
    for a in agents:  # on shift (so requests wait) but away: nobody is offered anything yet
        await service.connected(a)
    for i in range(n):
        p = customer(i)
        await service.connected(p)
        await service.request_help(p, "transfer", Edition.ELDERLY if i % 5 == 0 else Edition.STANDARD,
                                   "zh" if i % 3 else "en", "/transfer")
    await service.tick()
    await service.tick()

    # A help request (and its cancellation) at N waiting, with the next tick it causes.
    cpu = []
    for k in range(50):
        p = customer(n + k)
        await service.connected(p)
        t0 = time.process_time()
        view = await service.request_help(p, "transfer", Edition.STANDARD, "zh", "/transfer")
        await service.tick()
        cpu.append(time.process_time() - t0)
        await service.cancel(p, view["request"]["request_id"])
        await service.tick()
    request_ms = statistics.median(cpu) * 1000

    # Idle: the clock's tick when nothing happened.
    t0 = time.process_time()
    for _ in range(50):
        await service.tick()
    idle_ms = (time.process_time() - t0) / 50 * 1000

    # A pairing: an agent becomes available, is offered the head of the line and accepts; the
    # session ends and is wrapped up; the clock ticks. The line shrinks by one each time.
    worker = agents[0]
    sent_before, bytes_before = publisher.notices, publisher.bytes
    pairings = 50
    t0 = time.process_time()
    for k in range(pairings):
        center = service.store.center
        await service.set_presence(worker, Presence.AVAILABLE)
        offer_id = center.agents[worker.user_id].offer_id
        await service.accept(worker, offer_id, f"s{n}-{k}")
        await service.tick()
        await service.end_session(worker, f"s{n}-{k}")
        await service.wrap_up(worker, f"s{n}-{k}", "resolved", "")
        await service.set_presence(worker, Presence.AWAY)
        await service.tick()
    pairing_ms = (time.process_time() - t0) / pairings * 1000
    return {"request_ms": request_ms, "pairing_ms": pairing_ms, "idle_ms": idle_ms,
            "notices": (publisher.notices - sent_before) / pairings,
            "kb": (publisher.bytes - bytes_before) / pairings / 1024}


def run() -> None:
    from assist.logs import configure

    configure("warning")  # one log line per step would dominate the figures
    rows = []
    results: dict[int, dict[str, float]] = {}
    for n in SIZES:
        runs = [asyncio.run(measure(n)) for _ in range(REPEATS)]
        results[n] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        r = results[n]
        rows.append([f"{n:,}", f"{r['request_ms']:.3f}", f"{r['pairing_ms']:.3f}", f"{r['idle_ms']:.3f}",
                     f"{r['notices']:.1f}", f"{r['kb']:.2f}"])
    low, high = results[SIZES[0]], results[SIZES[-1]]
    rows.append([f"slope {SIZES[-1]:,}/{SIZES[0]:,}", *(f"{high[k] / low[k]:.2f}×" if low[k] else "-"
                 for k in ("request_ms", "pairing_ms", "idle_ms", "notices", "kb"))])
    print_table("Cost per operation with N customers waiting (embedded, CPU ms; medians of "
                f"{REPEATS} runs)", ("waiting", "help request CPU ms", "pairing CPU ms", "idle tick CPU ms",
                 "notices / pairing", "KB sent / pairing"), rows)


if __name__ == "__main__":
    run()
