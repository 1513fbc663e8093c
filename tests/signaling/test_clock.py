"""The clock scaled out (issue 16): deadlines fire on any node, and only when one is due.

Two services share one real Redis, as two nodes do, with neither leading (their cluster never
beats). Between deadlines their ticks only look: Redis counts no write at all. When the offer
has rung too long both tick at once, and it lapses once. A Redis of this module's own, so the
commands it counts are these tests' only.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from assist.cluster import RedisCluster
from assist.storage.redis_live import RedisLiveStore
from signaling.domain.model import Edition, Policy, Presence, Role
from signaling.service import Principal, SignalingService

pytestmark = pytest.mark.server  # a real redis-server (tests/conftest.py's tiers)

AGENT = Principal("a1", Role.AGENT, "A1", "B1", ("zh",), ())
CUSTOMER = Principal("c1", Role.CUSTOMER, "C1")
POLICY = Policy(offer_timeout_s=15, grace_s=30, max_wait_s=600, reoffer_after_s=20)
# What a node may send while nothing is due: looks only (and ours, to read the counters).
READS = {"zrangebyscore", "get", "info", "config|resetstat", "hello", "client|setinfo", "ping"}


class Heard:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    async def send(self, to: str, message) -> None:  # the service's one delivery path
        self.events.append((to, message.event))


class NoRecords:
    def submit(self, updates) -> None:  # records ride the commit, into the record stream
        pass


async def writes(redis: Redis) -> dict[str, int]:
    stats = await redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}


async def test_ticks_with_nothing_due_write_nothing_and_a_due_offer_lapses_once(own_redis):
    prefix = f"clock-{uuid.uuid4().hex[:10]}:"
    redis = Redis.from_url(own_redis.url)
    now = [1_000_000.0]
    nodes = []
    for name in ("n1", "n2"):
        store = RedisLiveStore(redis, POLICY, prefix)
        cluster = RedisCluster(redis, name, prefix)  # never started: not the leader, nor trying
        heard = Heard()
        nodes.append((SignalingService(store, NoRecords(), heard, cluster, clock=lambda: now[0]), store, heard))
    (one, store1, heard1), (two, store2, heard2) = nodes
    try:
        await one.connected(AGENT)
        await one.set_presence(AGENT, Presence.AVAILABLE)
        await two.connected(CUSTOMER)
        await two.request_help(CUSTOMER, "transfer", Edition.STANDARD, "zh", "/")
        assert ("user:a1", "offer") in heard2.events  # decided on n2: offered there
        for service in (one, two):  # the wall's states settle (a deadline at once), then quiet
            await service.tick()
        version = int(await redis.get(prefix + "live:version"))

        await redis.config_resetstat()
        for _ in range(14):  # the offer rings for 15 s: 14 s of ticks on both nodes
            now[0] += 1.0
            await one.tick()
            await two.tick()
        calls = await writes(redis)
        assert calls.get("zrangebyscore", 0) >= 28, calls  # every tick looked
        assert "evalsha" not in calls and "eval" not in calls, calls  # and none committed
        assert set(calls) <= READS, calls
        assert int(await redis.get(prefix + "live:version")) == version
        assert ("user:a1", "offer_revoked") not in heard1.events + heard2.events

        now[0] += 1.5  # rung out: both nodes tick at the same moment; one decides
        await asyncio.gather(one.tick(), two.tick())
        revoked = [e for e in heard1.events + heard2.events if e == ("user:a1", "offer_revoked")]
        assert len(revoked) == 1, heard1.events + heard2.events
        assert int(await redis.get(prefix + "live:version")) > version
        assert await store1.read(lambda c: dict(c.offers)) == {}
        assert await store1.read(lambda c: c.agents["a1"].presence) is Presence.AWAY

        # Nothing is due any more: after one tick that clears what the lapse left due (the
        # agent's new state on the wall), the ticks are quiet again.
        for service in (one, two):
            now[0] += 0.2
            await service.tick()
        version = int(await redis.get(prefix + "live:version"))
        await redis.config_resetstat()
        for _ in range(5):
            now[0] += 0.2
            await asyncio.gather(one.tick(), two.tick())
        calls = await writes(redis)
        assert "evalsha" not in calls and set(calls) <= READS, calls
        assert int(await redis.get(prefix + "live:version")) == version
    finally:
        await redis.aclose()


async def test_a_node_started_on_a_state_without_deadlines_finds_them(own_redis):
    """A state written by a version that kept no deadlines (or a Redis that lost them): the
    first tick of a node that starts on it writes them from the whole state, then fires them."""
    prefix = f"clock-{uuid.uuid4().hex[:10]}:"
    redis = Redis.from_url(own_redis.url)
    now = [1_000_000.0]

    def node(name: str) -> tuple[SignalingService, Heard]:
        heard = Heard()
        store = RedisLiveStore(redis, POLICY, prefix)
        return SignalingService(store, NoRecords(), heard, RedisCluster(redis, name, prefix), clock=lambda: now[0]), heard

    try:
        (old, _), (new, heard) = node("old"), node("new")
        await old.connected(AGENT)
        await old.set_presence(AGENT, Presence.AVAILABLE)
        await old.connected(CUSTOMER)
        await old.request_help(CUSTOMER, "transfer", Edition.STANDARD, "zh", "/")
        await redis.delete(prefix + "live:due")
        now[0] += 16
        await new.tick()  # writes the deadlines from the state it reads whole, then fires them
        assert ("user:a1", "offer_revoked") in heard.events
        assert await redis.zcard(prefix + "live:due") >= 1  # the request's long wait is still ahead
    finally:
        await redis.aclose()
