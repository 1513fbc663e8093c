"""kill -9 of a node (the clock's leader) in the middle of live sessions and a queue; a Redis
restart; SIGTERM drain. Clients come back through nginx to the other nodes and carry on."""

from __future__ import annotations

import asyncio
import time

from tests.scale.deployment import Deployment, leader_node, live_state

HELP = {"topic": "transfer", "edition": "standard", "language": "zh", "page": "transfer"}
AGENTS = ["agent01", "a01", "a02", "a03"]
CUSTOMERS = [f"c{i:02d}" for i in range(12)]


async def _busy_call_center(d: Deployment):
    """Four sessions sharing the screen, eight customers waiting in line (in this order)."""
    d.add_users("agent", AGENTS[1:])
    d.add_users("customer", CUSTOMERS)
    agents = {name: await d.agent(name) for name in AGENTS}
    customers = {name: await d.client(name) for name in CUSTOMERS}
    requests, sessions = {}, {}
    for name in CUSTOMERS:
        asked = await customers[name].call("help_request", HELP)
        assert asked["ok"], asked
        requests[name] = asked["request"]["request_id"]
    for agent in agents.values():
        offer = await agent.expect("offer")
        assert (await agent.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]
    for name in CUSTOMERS[:4]:  # FIFO: the first four are served first
        started = await customers[name].expect("session_started")
        sid = started["session_id"]
        sessions[name] = sid
        assert (await customers[name].call("consent", {"session_id": sid, "accept": True}))["ok"]
        mirror = {"session_id": sid, "seq": 1, "events": [{"type": 4, "data": {"href": name}}]}
        assert (await customers[name].call("mirror", mirror))["ok"]
    agent_of = {}
    for name, agent in agents.items():
        got = await agent.expect("mirror", seq=1)
        agent_of[got["events"][0]["data"]["href"]] = name
    return agents, customers, requests, sessions, agent_of


def _where(d: Deployment) -> dict[str, set[str]]:
    """user → the node ids holding their sockets, from the shared state."""
    return {user: {instance.split("~")[0] for instance in online["sockets"]} for user, online in live_state(d)["online"].items()}


async def _all_back(clients, d: Deployment, dead: str, timeout: float = 30.0) -> float:
    """Until every client is connected again and no socket is left on the dead node."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        where = _where(d)
        if (
            all(c.sio.connected for c in clients)
            and not any(dead in nodes for nodes in where.values())
            and all(where.get(c.username) for c in clients)
        ):
            return time.monotonic() - start
        await asyncio.sleep(0.1)
    raise AssertionError(f"not everyone came back: {where}")


async def test_node_killed_mid_session_and_queue_nothing_lost_nothing_twice(deployment):
    d = await deployment(3)
    agents, customers, requests, sessions, agent_of = await _busy_call_center(d)
    line_before = [r["request_id"] for r in (await agents["agent01"].call("sync", {}))["view"]["queue"]]
    assert line_before == [requests[n] for n in CUSTOMERS[4:]]
    victim = leader_node(d)  # the node running the clock, to make it harder
    holders = _where(d)
    on_victim = [u for u, nodes in holders.items() if victim.node_id in nodes]
    assert on_victim, "round-robin put nobody on the victim node"

    await asyncio.sleep(1.0)  # recordings reach the disk every 0.5 s: a killed node loses at most that
    victim.kill()
    took = await _all_back([*agents.values(), *customers.values()], d, victim.node_id)
    print(f"\nkill -9 {victim.node_id} ({len(on_victim)} users on it) → all resumed in {took:.1f} s")
    assert leader_node(d) is not victim

    # Sessions carry on where they were: the next mirror batch and a pointer flow both ways.
    for name, sid in sessions.items():
        mirror = {"session_id": sid, "seq": 2, "events": [{"type": 3, "data": {"after": name}}]}
        assert (await customers[name].call("mirror", mirror))["ok"]
        got = await agents[agent_of[name]].expect("mirror", seq=2)
        assert got["events"][0]["data"] == {"after": name}
        pointer = {"session_id": sid, "seq": 1, "kind": "pointer", "point": {"x": 0.5, "y": 0.5}}
        assert (await agents[agent_of[name]].call("annotation", pointer))["ok"]
        await customers[name].expect("annotation", session_id=sid)
    # The line is the same line, in the same order; a second tap keeps the place.
    line_after = [r["request_id"] for r in (await agents["a01"].call("sync", {}))["view"]["queue"]]
    assert line_after == line_before
    again = await customers[CUSTOMERS[4]].call("help_request", HELP)
    assert again["request"]["request_id"] == requests[CUSTOMERS[4]] and again["request"]["position"] == 1

    # Serve everyone: end, wrap up, take the next offer; each customer exactly one session.
    served: dict[str, str] = dict(sessions)
    deadline = time.monotonic() + 60
    while (len(served) < len(CUSTOMERS) or sessions) and time.monotonic() < deadline:
        for name, sid in list(sessions.items()):
            agent = agents[agent_of.pop(name)]
            del sessions[name]
            assert (await agent.call("end_session", {"session_id": sid}))["ok"]
            assert (await agent.call("wrap_up", {"session_id": sid, "outcome": "resolved", "notes": ""}))["ok"]
        for agent in agents.values():
            for offer in _take(agent, "offer"):
                assert (await agent.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]
        for name, customer in customers.items():
            for started in _take(customer, "session_started"):
                assert name not in served, f"{name} was served twice"
                served[name] = sessions[name] = started["session_id"]
                agent_of[name] = next(
                    a
                    for a, c in agents.items()
                    if any(s["session_id"] == started["session_id"] for s in c.seen("session_started"))
                )
        await asyncio.sleep(0.2)
    assert len(set(served.values())) == len(CUSTOMERS)
    state = live_state(d)
    assert not state["requests"], "a request was left behind"

    for name in CUSTOMERS:
        record = await d.record(requests[name], lambda r: r["session_id"] is not None)
        events = [e["event"] for e in record["timeline"]]
        assert events.count("accepted") == 1, (name, events)
        assert events[0] == "requested" and record["session_id"] == served[name], (name, events)
    # Their recordings hold what came before the kill and after it (segments of several nodes).
    supervisor = await d.login("super01")
    for name in CUSTOMERS[:4]:
        sid = served[name]
        async with d._http.get(f"{d.url}/api/recordings/{sid}/events", headers={"Authorization": f"Bearer {supervisor}"}) as resp:
            assert resp.status == 200, await resp.text()
            events = (await resp.json())["events"]
        mirrored = [e["data"]["seq"] for e in events if e["kind"] == "mirror"]
        assert mirrored == [1, 2], (name, mirrored)
        assert [e["kind"] for e in events].count("annotation") == 1
    for name in CUSTOMERS[:4]:  # the sessions that lived through the kill: ended and wrapped once
        record = await d.record(requests[name], lambda r: r["outcome"] is not None)
        events = [e["event"] for e in record["timeline"]]
        assert events.count("ended") == 1 and events.count("wrap_up") == 1, (name, events)


def _take(client, event: str) -> list:
    """The `event`s received so far, removed from the client's list."""
    taken = [data for name, data in client.events if name == event]
    client.events = [(name, data) for name, data in client.events if name != event]
    return taken


async def _session_and_line(d: Deployment):
    """agent01 helping zhangsan (sharing), lisi waiting in line."""
    agent = await d.agent("agent01")
    customer, waiting = await d.client("zhangsan"), await d.client("lisi")
    assert (await customer.call("help_request", HELP))["ok"]
    offer = await agent.expect("offer")
    assert (await agent.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]
    sid = (await customer.expect("session_started"))["session_id"]
    assert (await customer.call("consent", {"session_id": sid, "accept": True}))["ok"]
    line = await waiting.call("help_request", HELP)
    assert line["request"]["position"] == 1
    return agent, customer, waiting, sid, line["request"]["request_id"]


async def _carries_on(agent, customer, waiting, sid: str, request_id: str, seq: int) -> None:
    """The session relays, the waiting customer keeps their request, and is served next."""
    mirror = {"session_id": sid, "seq": seq, "events": [{"type": 3, "data": {"n": seq}}]}
    assert (await customer.call("mirror", mirror))["ok"]
    assert (await agent.expect("mirror", seq=seq))["events"][0]["data"] == {"n": seq}
    again = await waiting.call("help_request", HELP)
    assert again["request"]["request_id"] == request_id and again["request"]["position"] == 1
    assert (await agent.call("end_session", {"session_id": sid}))["ok"]
    assert (await agent.call("wrap_up", {"session_id": sid, "outcome": "resolved", "notes": ""}))["ok"]
    offer = await agent.expect("offer", timeout=10)
    assert offer["request"]["request_id"] == request_id
    assert (await agent.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]
    await waiting.expect("session_started")


async def test_redis_restart_is_survived(deployment, redis_server):
    d = await deployment(2)
    agent, customer, waiting, sid, request_id = await _session_and_line(d)
    mirror = {"session_id": sid, "seq": 1, "events": [{"type": 4, "data": {}}]}
    assert (await customer.call("mirror", mirror))["ok"]
    redis_server.stop()
    # While Redis is away, decisions are refused plainly (nothing half-done), sockets stay up.
    refused = await customer.call("mirror", {**mirror, "seq": 2})
    assert refused["error"]["code"] == "unavailable"
    await asyncio.sleep(2)
    redis_server.start()  # same data directory: the append-only file brings the state back
    await asyncio.sleep(6)  # heartbeats come back before anyone is judged gone
    assert all(c.sio.connected for c in (agent, customer, waiting))
    where = _where(d)
    assert where["zhangsan"] and where["lisi"] and where["agent01"], where
    await _carries_on(agent, customer, waiting, sid, request_id, seq=2)
    record = await d.record(request_id, lambda r: r["session_id"] is not None)
    assert [e["event"] for e in record["timeline"]].count("accepted") == 1


async def test_sigterm_drains_a_node_and_its_clients_move(deployment):
    d = await deployment(2)
    agent, customer, waiting, sid, request_id = await _session_and_line(d)
    victim = leader_node(d)
    on_victim = [u for u, nodes in _where(d).items() if victim.node_id in nodes]
    started = time.monotonic()
    assert victim.terminate(timeout=20) == 0
    stopped_s = time.monotonic() - started
    # It said goodbye: its sockets are off the books and another node leads, without waiting
    # for a heartbeat to expire; its clients are back through nginx on the other node.
    took = await _all_back([agent, customer, waiting], d, victim.node_id)
    assert leader_node(d) is not victim
    print(f"\nSIGTERM {victim.node_id} ({len(on_victim)} users): exited in {stopped_s:.1f} s, all resumed {took:.1f} s later")
    await _carries_on(agent, customer, waiting, sid, request_id, seq=1)
