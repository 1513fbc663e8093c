"""Every waiting customer ends up told their true place and estimate, however the line moved.

Positions are not pushed to everyone on every change (issue 16): the first few of each line hear
at once, the rest in rounds of at most POSITION_BATCH per tick. This checks the promise that
comes with it, over generated histories (arrivals, cancellations, pairings, declines, ticks):
once the line stands still, within the ticks one round takes, what each waiting customer last
heard (their help request's reply, then each queue_update) is exactly what the line says now.
The service runs on the memory store, as embedded; what it publishes is kept per customer.
"""

from __future__ import annotations

import asyncio
import math

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from assist.cluster import LocalCluster
from assist.storage.memory import MemoryLiveStore
from signaling.domain import queries
from signaling.domain.center import CallCenter
from signaling.domain.model import Edition, Policy, Presence, Role
from signaling.service import POSITION_BATCH, POSITION_EVERY_S, Principal, SignalingService

AGENTS = [
    Principal("a0", Role.AGENT, "A0", "B0", ("zh", "en"), ()),
    Principal("a1", Role.AGENT, "A1", "B1", ("zh",), ()),
    Principal("a2", Role.AGENT, "A2", "B2", ("en",), ()),
]
TICK_S = 0.2


class Heard:
    """The delivery's end of the sockets: the last word each customer had on their wait."""

    def __init__(self) -> None:
        self.last: dict[str, dict] = {}

    def told(self, customer: str, request: dict) -> None:
        self.last[customer] = request

    async def send(self, to: str, message) -> None:
        if message.event == "queue_update":
            self.last[to.removeprefix("user:")] = message.wire()


class NoRecords:
    def submit(self, updates) -> None:
        pass


def customer(i: int) -> Principal:
    return Principal(f"c{i}", Role.CUSTOMER, f"c{i}")


async def history(initial: int, steps: list[tuple[str, int]]) -> None:
    center = CallCenter(Policy(queue_cap=10_000, max_wait_s=10**9, reoffer_after_s=10**9))
    heard = Heard()
    service = SignalingService(MemoryLiveStore(center), NoRecords(), heard, LocalCluster("n1"), tick_s=TICK_S)
    for agent in AGENTS:  # on shift, away: the line waits until a step pairs someone
        await service.connected(agent)
        await service.set_presence(agent, Presence.AWAY)
    arrived = 0

    async def arrive() -> None:
        nonlocal arrived
        p = customer(arrived)
        arrived += 1
        await service.connected(p)
        edition = Edition.ELDERLY if arrived % 4 == 0 else Edition.STANDARD
        view = await service.request_help(p, "transfer", edition, "en" if arrived % 3 == 0 else "zh", "/transfer")
        heard.told(p.user_id, view["request"])

    for _ in range(initial):
        await arrive()
    for step, pick in steps:
        waiting = [c for c, (kind, _) in center.by_customer.items() if kind == "request"]
        agent = AGENTS[pick % len(AGENTS)]
        if step == "arrive":
            await arrive()
        elif step == "cancel" and waiting:
            gone = waiting[pick % len(waiting)]
            await service.cancel(Principal(gone, Role.CUSTOMER, gone), center.by_customer[gone][1])
        elif step in ("pair", "decline"):
            await service.set_presence(agent, Presence.AVAILABLE)
            offer = center.agents[agent.user_id].offer_id
            if offer and step == "pair":
                await service.accept(agent, offer, f"s{pick}-{arrived}")
                await service.end_session(agent, f"s{pick}-{arrived}")
                await service.wrap_up(agent, f"s{pick}-{arrived}", "resolved", "")
            elif offer:
                await service.decline(agent, offer)
            await service.set_presence(agent, Presence.AWAY)
        elif step == "tick":
            await service.tick()

    # The line stands still now: two rounds at most (one may have begun before the last change).
    waiting_now = len(center.queue)
    rounds = math.ceil(waiting_now / min(POSITION_BATCH, max(1, math.ceil(waiting_now * TICK_S / POSITION_EVERY_S))))
    for _ in range(2 * rounds + 3):
        await service.tick()
    truth = queries.positions_of(center, center.queue)
    assert len(truth) == waiting_now
    for request_id, (who, seen) in truth.items():
        assert seen is not None
        last = heard.last[who]
        assert last["request_id"] == request_id
        assert {k: last.get(k) for k in seen} == seen, (who, last, seen)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    initial=st.sampled_from([0, 3, 40, 700]),
    steps=st.lists(
        st.tuples(st.sampled_from(["arrive", "cancel", "pair", "decline", "tick", "tick"]), st.integers(0, 10**6)), max_size=40
    ),
)
def test_every_waiting_customer_ends_up_told_their_true_place(initial, steps):
    asyncio.run(history(initial, steps))
