"""Two nodes' stores racing on one real Redis (issue 16): what a lost race costs.

A node whose copy is stale learns what changed in the same answer that refuses its commit, so a
lost race is one wasted round trip, not two; and once it has seen another node writing, it
catches up before its next command instead of running it on a copy it expects to be stale. A
customer's socket, which reads only the customer's entities, commits over other nodes' changes
to other entities. One node claims each due deadline. Every loss is counted for /metrics
(assist_live_conflicts). A Redis of this module's own, so the commands counted are these
tests' only.
"""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from assist.metrics import Metrics
from assist.storage.redis_live import RedisLiveStore
from signaling.domain.center import unique_ids
from signaling.domain.model import Edition, Presence, Role
from signaling.service import Principal
from tests.signaling.test_clock import AGENT, POLICY, writes

pytestmark = pytest.mark.server  # a real redis-server (tests/conftest.py's tiers)


def online(user: str, node: str):
    return lambda c: c.socket_opened(user, Role.CUSTOMER, node, 1_000.0, None)


def users(c) -> set[str]:
    return set(dict.keys(c.online))


@pytest.fixture
async def nodes(own_redis):
    """Two nodes' stores on one Redis, as two nodes of one deployment; and the client."""
    prefix = f"race-{uuid.uuid4().hex[:10]}:"
    redis = Redis.from_url(own_redis.url)
    one = RedisLiveStore(redis, POLICY, prefix, unique_ids, owner="n1")
    two = RedisLiveStore(redis, POLICY, prefix, unique_ids, owner="n2")
    yield redis, one, two
    await redis.aclose()


async def test_a_lost_commit_catches_up_from_its_refusal_and_runs_again_once(nodes):
    redis, one, two = nodes
    await one.run(online("c1", "n1"))
    await two.run(online("c2", "n2"))  # two reads the state whole first: c1 is in it
    await one.run(online("c3", "n1"))  # one's copy was stale (c2): it lost once
    assert (one.conflicts, two.conflicts) == (1, 0)

    await redis.config_resetstat()
    await two.run(online("c4", "n2"))  # two's copy is stale (c3) and it has not seen one write
    calls = await writes(redis)
    # The commit that lost, then the one that won: no catch-up in between.
    assert calls.get("evalsha") == 2, calls
    assert (one.conflicts, two.conflicts) == (1, 1)
    assert two.center is not None and users(two.center) == {"c1", "c2", "c3", "c4"}  # caught up

    # two has now seen another node writing: it catches up first, and wins at once.
    await one.run(online("c5", "n1"))
    await redis.config_resetstat()
    await two.run(online("c6", "n2"))
    calls = await writes(redis)
    assert calls.get("evalsha") == 2, calls  # the catch-up, then a commit that won
    assert (one.conflicts, two.conflicts) == (1, 1)
    assert await one.read(users) == {f"c{i}" for i in range(1, 7)}


async def test_a_customer_socket_commits_over_other_entities_but_not_over_its_own(nodes):
    """A customer's socket opening reads only the customer's entities: a node whose copy is
    stale in other entities commits it in one round trip, over them, and takes them in; stale
    in the customer's own entity, it loses and runs again."""
    redis, one, two = nodes
    await one.run(online("c1", "n1"))
    await two.run(online("c2", "n2"))
    await one.run(online("c3", "n1"), commutes=True)  # stale (c2), in another entity
    await redis.config_resetstat()
    await two.run(online("c4", "n2"), commutes=True)  # stale (c3), in another entity
    assert (await writes(redis)).get("evalsha") == 1  # one commit, over the other's change
    assert (one.conflicts, two.conflicts) == (0, 0)
    assert two.center is not None and users(two.center) == {"c1", "c2", "c3", "c4"}  # taken in

    await one.run(online("c5", "n1"))
    await two.run(online("c5", "n2"), commutes=True)  # stale in c5 itself: runs again
    assert two.conflicts == 1
    sockets = await one.read(lambda c: dict(c.online["c5"].sockets))
    assert sockets == {"n1": 1, "n2": 1}
    for store in (one, two):  # both copies are the state in Redis
        assert await store.read(lambda c: (users(c), dict(c.node_users))) == (
            {f"c{i}" for i in range(1, 6)},
            {"n1": 3, "n2": 3},
        )


async def test_a_commuting_socket_sees_a_request_made_meanwhile_on_another_node(nodes):
    """What a commuting command checked for and did not find is a read as well: a customer's
    socket closing on a copy that has not seen their help request must not commit over it
    (their request would wait on with no grace window running)."""
    _, one, two = nodes
    await two.run(online("c9", "n2"))
    await one.run(lambda c: c.socket_opened("a1", Role.AGENT, "n1", 1_000.0, AGENT.agent_profile()))  # on shift
    await one.run(lambda c: c.request_help("c9", "C9", "transfer", Edition.STANDARD, "zh", "/", 1_000.0))
    await two.run(lambda c: c.socket_closed("c9", "n2", 1_001.0), commutes=True)  # stale: no request
    assert two.conflicts == 1  # it had looked for the customer's request: it ran again
    assert await one.read(lambda c: dict.get(c.dropped_at, "c9")) == 1_001.0  # the grace window runs


async def test_a_node_alone_commits_in_one_round_trip(nodes):
    redis, store, _ = nodes
    await store.run(online("c1", "n1"))  # the first command reads the state whole
    await redis.config_resetstat()
    for i in range(2, 6):
        await store.run(online(f"c{i}", "n1"))
    calls = await writes(redis)
    assert calls.get("evalsha") == 4, calls  # one commit each, nothing else
    assert store.conflicts == 0


async def test_a_due_deadline_is_claimed_by_one_node_and_its_lease_outlives_a_failure(nodes):
    """The node that claims a deadline acts on it; the others' ticks pass it by rather than run
    the same tick only to lose the race. A claimer that fails before acting delays the
    deadline by the lease, and then another node acts on it."""
    from assist.storage.redis_live import CLAIM_LEASE_S

    redis, one, two = nodes
    t = 1_000.0
    await one.run(lambda c: c.socket_opened("a1", Role.AGENT, "n1", t, AGENT.agent_profile()))
    await one.run(lambda c: c.set_presence("a1", Presence.AVAILABLE, t))
    await two.run(lambda c: c.socket_opened("c1", Role.CUSTOMER, "n2", t, None))
    await two.run(lambda c: c.request_help("c1", "C1", "transfer", Edition.STANDARD, "zh", "/", t))
    for store in (one, two):  # the wall's states settle (due at once): then only the offer
        await store.tick(lambda c: c.tick(t + 0.2), t + 0.2)
    assert await one.read(lambda c: len(c.offers)) == 1

    ran: list[str] = []
    rung_out = t + POLICY.offer_timeout_s + 1

    def crash(c):  # the claimer dies between its claim and its commit
        ran.append("n1")
        raise RuntimeError("node lost")

    def tick(at: float):
        def command(c):
            ran.append("n2")
            return c.tick(at)

        return command

    with pytest.raises(RuntimeError):
        await one.tick(crash, rung_out)
    assert await two.tick(tick(rung_out), rung_out) is None  # claimed: passed by
    assert ran == ["n1"] and await two.read(lambda c: len(c.offers)) == 1
    later = rung_out + CLAIM_LEASE_S + 0.1
    await two.tick(tick(later), later)  # the lease is over: the offer lapses, once
    assert ran == ["n1", "n2"]
    assert await two.read(lambda c: (len(c.offers), c.agents["a1"].presence)) == (0, Presence.AWAY)


async def test_two_nodes_pairing_at_once_neither_lose_a_race_nor_a_count(nodes):
    """A session's steps (accept, end) read only the session, offer, request and agent they
    name and add to the wall's minute: two nodes taking them for different customers at the
    same moment, each on a copy that has not seen the other's, both commit at once, and the
    minute counts both. Wrapping up reads who waits (it may offer the line), so it does not
    commute; the handle times it adds are summed as well."""
    redis, one, two = nodes
    t = 1_000.0
    for store, agent in ((one, "a1"), (two, "a2")):
        profile = Principal(agent, Role.AGENT, agent.upper(), "B" + agent, ("zh",), ()).agent_profile()
        await store.run(lambda c, a=agent, p=profile, n=store.owner: c.socket_opened(a, Role.AGENT, n, t, p))
    await one.run(lambda c: c.set_presence("a1", Presence.AVAILABLE, t))
    await two.run(lambda c: c.set_presence("a2", Presence.AVAILABLE, t))
    for store, customer in ((one, "c1"), (two, "c2")):
        await store.run(lambda c, cu=customer, n=store.owner: c.socket_opened(cu, Role.CUSTOMER, n, t, None))
        await store.run(lambda c, cu=customer: c.request_help(cu, cu, "transfer", Edition.STANDARD, "zh", "/", t))
    offers = await one.read(lambda c: {o.agent_id: o.offer_id for o in dict.values(c.offers)})
    assert set(offers) == {"a1", "a2"}
    await two.read(users)  # both copies current, then neither sees the other's steps
    lost = (one.conflicts, two.conflicts)

    await one.run(lambda c: c.accept_offer("a1", offers["a1"], t + 1, "s1"), commutes=True)
    await redis.config_resetstat()
    await two.run(lambda c: c.accept_offer("a2", offers["a2"], t + 1, "s2"), commutes=True)
    assert (await writes(redis)).get("evalsha") == 1  # one commit, over the other node's accept
    await one.run(lambda c: c.end_session("c1", Role.CUSTOMER, "s1", t + 2), commutes=True)
    await two.run(lambda c: c.end_session("c2", Role.CUSTOMER, "s2", t + 3), commutes=True)
    assert (one.conflicts, two.conflicts) == lost  # no race lost

    await one.run(lambda c: c.wrap_up("a1", "s1", "resolved", "", t + 4))
    await two.run(lambda c: c.wrap_up("a2", "s2", "resolved", "", t + 6))
    for store in (one, two):  # each copy, and Redis, counts both
        figures = await store.read(lambda c: c.stats.figures(t + 10))
        assert (figures["answered"], figures["average_speed_of_answer_s"]) == (2, 1.0)
        assert figures["average_handle_time_s"] == 4.0  # talk and wrap-up: (1 + 2) and (2 + 3)
    fresh = RedisLiveStore(redis, POLICY, one.k_version.removesuffix("live:version"), unique_ids, owner="n3")
    assert (await fresh.read(lambda c: c.stats.figures(t + 10)))["answered"] == 2


async def test_a_wrap_up_commits_over_others_but_not_over_a_customer_joining_its_line(nodes):
    """A wrap-up frees its agent and offers them the head of their lines: it commits over other
    nodes' changes to other entities, but a help request that joined a line it read empty on a
    stale copy makes it run again, and the customer is offered at once (not left waiting
    beside a free agent until something else happens)."""
    redis, one, two = nodes
    t = 1_000.0
    profile = Principal("a1", Role.AGENT, "A1", "B1", ("zh",), ()).agent_profile()
    await one.run(lambda c: c.socket_opened("a1", Role.AGENT, "n1", t, profile))
    await one.run(lambda c: c.set_presence("a1", Presence.AVAILABLE, t))
    for customer in ("c1", "c2", "c3"):
        await one.run(lambda c, cu=customer: c.socket_opened(cu, Role.CUSTOMER, "n1", t, None))
    await one.run(lambda c: c.request_help("c1", "C1", "transfer", Edition.STANDARD, "zh", "/", t))
    offer = await one.read(lambda c: c.agents["a1"].offer_id)
    await one.run(lambda c: c.accept_offer("a1", offer, t + 1, "s1"), commutes=True)
    await one.run(lambda c: c.end_session("a1", Role.AGENT, "s1", t + 2), commutes=True)

    # Another node changes someone else: the wrap-up commits over it, at once.
    await two.run(lambda c: c.socket_closed("c3", "n1", t + 3), commutes=True)
    await redis.config_resetstat()
    await one.run(lambda c: c.wrap_up("a1", "s1", "resolved", "", t + 4), commutes=True)
    assert (await writes(redis)).get("evalsha") == 1 and one.conflicts == 0
    assert await one.read(lambda c: c.agents["a1"].state().value) == "available"

    # Busy again; another node's customer joins the line while this node's copy has not seen it.
    await two.run(lambda c: c.request_help("c2", "C2", "transfer", Edition.STANDARD, "zh", "/", t + 5))
    offer = await two.read(lambda c: c.agents["a1"].offer_id)
    await two.run(lambda c: c.accept_offer("a1", offer, t + 5, "s2"), commutes=True)
    await two.run(lambda c: c.end_session("a1", Role.AGENT, "s2", t + 6), commutes=True)
    await one.read(users)  # current: a1 wraps up s2
    await two.run(lambda c: c.socket_opened("c4", Role.CUSTOMER, "n2", t + 7, None), commutes=True)
    await two.run(lambda c: c.request_help("c4", "C4", "transfer", Edition.STANDARD, "zh", "/", t + 7))
    assert await two.read(lambda c: list(c.queue)) != []  # c4 waits: a1 is wrapping up
    await one.run(lambda c: c.wrap_up("a1", "s2", "resolved", "", t + 8), commutes=True)
    assert one.conflicts == 1  # it had read the zh line empty: it ran again on the latest state
    offered = await two.read(lambda c: (c.agents["a1"].offer_id, list(c.queue)))
    assert offered[0] is not None and offered[1] == []  # c4 is offered to a1 at once


def test_lost_commits_are_on_metrics():
    lost = [0]
    metrics = Metrics(lambda: {"waiting_by_class": {}, "agents_by_state": {}, "sessions_active": 0})
    metrics.watch_conflicts(lambda: lost[0])
    lost[0] = 7
    assert "assist_live_conflicts_total 7.0" in metrics.render().decode()
