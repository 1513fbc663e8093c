"""Several real nodes sharing Redis and PostgreSQL: pairing across nodes, one winner per race."""

from __future__ import annotations

import asyncio


async def test_customer_and_agent_on_different_nodes_pair_and_talk(deployment):
    d = await deployment(2)
    n1, n2 = d.nodes
    agent = await d.agent("agent01", node=n2)
    customer = await d.client("zhangsan", node=n1)
    supervisor = await d.client("super01", node=n1)
    asked = await customer.call(
        "help_request", {"topic": "transfer", "edition": "standard", "language": "zh", "page": "transfer"}
    )
    assert asked["ok"], asked
    offer = await agent.expect("offer")  # decided on n1, delivered on n2 through Redis
    assert offer["request"]["request_id"] == asked["request"]["request_id"]
    assert (await agent.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]
    started = await customer.expect("session_started")
    sid = started["session_id"]
    assert started["agent"]["badge"] == "A1024"
    assert (await customer.call("consent", {"session_id": sid, "accept": True}))["ok"]
    await agent.expect("session_state", state="sharing")
    snapshot = {"session_id": sid, "seq": 1, "events": [{"type": 4, "data": {"width": 390}}]}
    assert (await customer.call("mirror", snapshot))["ok"]
    assert (await agent.expect("mirror", seq=1))["events"][0]["type"] == 4
    # The supervisor joins on n1 and catches up from the shared keyframes; then the agent ends.
    joined = await supervisor.call("supervisor_join", {"session_id": sid})
    assert joined["ok"], joined
    assert (await supervisor.expect("mirror", seq=1))["events"][0]["data"] == {"width": 390}
    replayed = await customer.call("mirror", snapshot)  # the replay counter is shared too
    assert replayed["error"]["code"] == "out_of_sequence"
    assert (await agent.call("end_session", {"session_id": sid}))["ok"]
    await customer.expect("session_ended", session_id=sid)


async def test_hundred_concurrent_accepts_of_one_offer_from_three_nodes_one_wins(deployment):
    d = await deployment(3)
    d.add_users("agent", [f"racer{i}" for i in range(6)])
    # The offered agent has a console open on every node, other agents too; all accept at once.
    owner_tabs = [await d.client("agent01", node=node) for node in d.nodes]
    # Everyone signs in before the offer rings: sign-ins queue for their password hash (at low
    # priority), and the offer lapses after ASSIST_OFFER_TIMEOUT_S whatever they are doing.
    others = [await d.client(f"racer{i}", node=d.nodes[i % 3]) for i in range(6)]
    assert (await owner_tabs[0].call("agent_state", {"state": "available"}))["ok"]
    customer = await d.client("zhangsan", node=d.nodes[0])
    asked = await customer.call("help_request", {"topic": "t", "edition": "standard", "language": "zh", "page": "p"})
    offer = await owner_tabs[1].expect("offer")
    senders = [owner_tabs[i % 3] for i in range(70)] + [others[i % 6] for i in range(30)]
    answers = await asyncio.gather(*(s.call("offer_accept", {"offer_id": offer["offer_id"]}, timeout=20) for s in senders))
    winners = [a for a in answers if a["ok"]]
    assert len(winners) == 1, [a.get("error", {}).get("code") for a in answers]
    assert {a["error"]["code"] for a in answers if not a["ok"]} == {"not_found"}
    started = await customer.expect("session_started")
    await asyncio.sleep(1.0)
    assert not customer.seen("session_started"), "the customer was put into a second session"
    request = await d.record(asked["request"]["request_id"], lambda r: r["session_id"] is not None)
    accepted = [e for e in request["timeline"] if e["event"] == "accepted"]
    assert len(accepted) == 1 and request["session_id"] == started["session_id"]


async def test_an_offer_rings_out_on_time_while_the_leader_is_paused(deployment):
    """No leader is needed for the clock: with the leader frozen (SIGSTOP) and its lease held
    for a minute, the other node still lapses the offer when it has rung its 2 s."""
    import os
    import signal

    import redis

    from tests.scale.deployment import leader_node

    d = await deployment(2, ASSIST_OFFER_TIMEOUT_S="2")
    leader = leader_node(d)
    other = next(n for n in d.nodes if n is not leader)
    agent = await d.agent("agent01", node=other)
    customer = await d.client("zhangsan", node=other)
    client = redis.Redis.from_url(d.redis.url)
    assert leader.proc is not None
    os.kill(leader.proc.pid, signal.SIGSTOP)
    try:
        # Frozen, its lease would lapse in 4 s and the other node would take the clock over:
        # held for a minute instead, only a clock that needs no leader can ring the offer out.
        holder = client.get(d.prefix + "leader")
        assert holder and holder.decode().startswith(leader.node_id + "~")
        client.pexpire(d.prefix + "leader", 60_000)
        asked = await customer.call("help_request", {"topic": "t", "edition": "standard", "language": "zh", "page": "p"})
        assert asked["ok"], asked
        offer = await agent.expect("offer")
        # Rung out well inside the minute the frozen leader still holds the lease.
        revoked = await agent.expect("offer_revoked", timeout=10)
        assert revoked["offer_id"] == offer["offer_id"] and revoked["reason"] == "timeout"
        assert client.get(d.prefix + "leader") == holder  # the paused leader led throughout
        await agent.expect("agent_state", state="away")
    finally:
        os.kill(leader.proc.pid, signal.SIGCONT)
        client.close()


async def test_every_key_of_a_deployment_is_in_its_one_hash_slot(postgres, tmp_path):
    """Ready for Redis Cluster: the live state, the deadlines, the record stream, heartbeats and
    the lease, the delivery streams, keyframes, replay counters and sign-in throttling all live
    under the deployment's prefix, whose hash tag puts them in one slot (so every script, which
    is given all its keys, runs on one shard). A Redis of its own, so every key in it is ours."""
    import redis
    from redis.crc import key_slot

    from tests.scale.deployment import Deployment
    from tests.servers.redis import RedisServer

    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis").start()
    d = Deployment(tmp_path / "deployment", server, postgres.url(), 2, {})
    try:
        await d.start()
        n1, n2 = d.nodes
        agent = await d.agent("agent01", node=n2)
        customer = await d.client("zhangsan", node=n1)
        supervisor = await d.client("super01", node=n1)
        asked = await customer.call("help_request", {"topic": "t", "edition": "standard", "language": "zh", "page": "p"})
        offer = await agent.expect("offer")
        assert (await agent.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]
        sid = (await customer.expect("session_started"))["session_id"]
        assert (await customer.call("consent", {"session_id": sid, "accept": True}))["ok"]
        snapshot = {"session_id": sid, "seq": 1, "events": [{"type": 4, "data": {"width": 390}}]}
        assert (await customer.call("mirror", snapshot))["ok"]
        assert (await supervisor.call("supervisor_join", {"session_id": sid}))["ok"]
        await d.record(asked["request"]["request_id"], lambda r: r["session_id"] is not None)
        assert d._http is not None  # a wrong password: counted by the sign-in throttle
        async with d._http.post(f"{d.url}/api/auth/login", json={"username": "zhangsan", "password": "nope"}) as resp:
            assert resp.status != 200
        client = redis.Redis.from_url(server.url)
        try:
            keys = [key.decode() for key in client.scan_iter(count=1000)]
        finally:
            client.close()
        outside = [key for key in keys if not key.startswith(d.prefix)]
        assert not outside, outside
        names = {key.removeprefix(d.prefix).split(":")[0] for key in keys}
        assert {"live", "records", "node", "leader", "sio", "keyframes", "signin"} <= names, sorted(keys)
        assert {key_slot(key.encode()) for key in keys} == {key_slot(d.prefix.encode())}, sorted(keys)
    finally:
        await d.stop()
        server.stop()
