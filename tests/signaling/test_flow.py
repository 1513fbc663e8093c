"""The help flow end to end on a real server with real socket.io clients."""

from __future__ import annotations

import asyncio
import time

from signaling.domain.model import Policy

HELP = {"topic": "transfer", "edition": "standard", "language": "zh", "page": "/transfer/amount"}


async def pair(harness, customer="zhangsan", agent="agent01", help=HELP):
    """Customer asks, agent accepts: returns (customer, agent, session_started payloads)."""
    a = await harness.agent(agent)
    c = await harness.client(customer)
    assert (await c.call("help_request", help))["ok"]
    offer = await a.expect("offer")
    assert (await a.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]
    return c, a, await c.expect("session_started"), await a.expect("session_started")


async def test_full_flow_with_consent_relay_and_record(harness):
    customer = await harness.client("zhangsan")
    # Nobody is on shift: no place in a line that does not move, but a plain answer.
    reply = await customer.call("help_request", HELP)
    assert reply["ok"] and reply["unstaffed"] == {"language": "zh"} and "request" not in reply

    # On shift but on a break: a place in line, and no made-up estimate.
    agent = await harness.agent("agent01", available=False)
    reply = await customer.call("help_request", HELP)
    assert reply["ok"] and reply["request"]["position"] == 1 and reply["request"]["eta_s"] is None
    request_id = reply["request"]["request_id"]

    assert (await agent.call("agent_state", {"state": "available"}))["ok"]
    offer = await agent.expect("offer")
    assert offer["kind"] == "help" and offer["request"]["request_id"] == request_id
    assert offer["request"]["customer_name"] == "张三" and offer["request"]["page"] == "/transfer/amount"
    await customer.expect("queue_update", status="offered")
    assert (await agent.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]

    mine = await customer.expect("session_started")
    theirs = await agent.expect("session_started")
    assert mine["agent"] == {"name": "王晓敏", "badge": "A1024"}
    assert len(mine["code"]) == 4 and mine["code"].isdigit() and mine["code"] == theirs["code"]
    assert mine["state"] == "awaiting_consent" and "customer" not in mine
    sid = mine["session_id"]

    # Before consent no mirror or guidance flows; the call does (the agent reads the code aloud).
    refused = await customer.call("mirror", {"session_id": sid, "seq": 1, "events": [{"type": 2}]})
    assert refused["error"]["code"] == "not_sharing"
    refused = await agent.call("annotation", {"session_id": sid, "seq": 1, "kind": "clear"})
    assert refused["error"]["code"] == "not_sharing"
    assert (await agent.call("rtc_signal", {"session_id": sid, "seq": 1, "kind": "offer", "sdp": "v=0"}))["ok"]
    assert (await customer.expect("rtc_signal", seq=1))["sdp"] == "v=0"
    assert (await customer.call("rtc_signal", {"session_id": sid, "seq": 1, "kind": "answer", "sdp": "v=0"}))["ok"]
    await agent.expect("rtc_signal", kind="answer")

    # The agent asks to share; a "not now" keeps the call, and the agent may ask again.
    assert (await agent.call("ask_to_share", {"session_id": sid}))["ok"]
    await customer.expect("share_requested", session_id=sid)
    assert (await customer.call("consent", {"session_id": sid, "accept": False}))["ok"]
    await agent.expect("share_declined", session_id=sid)
    assert sid in harness.center().sessions and not agent.seen("session_ended")
    assert (await agent.call("ask_to_share", {"session_id": sid}))["ok"]
    await customer.expect("share_requested", session_id=sid)
    assert (await customer.call("consent", {"session_id": sid, "accept": True}))["ok"]
    await agent.expect("session_state", state="sharing")
    assert (await customer.call("mirror", {"session_id": sid, "seq": 1, "events": [{"type": 2, "data": {}}]}))["ok"]
    relayed = await agent.expect("mirror", seq=1)
    assert relayed["events"] == [{"type": 2, "data": {}}] and relayed["from"] == "customer"
    assert (
        await agent.call(
            "annotation", {"session_id": sid, "seq": 1, "kind": "highlight", "selector": "#next", "caption": "点这里"}
        )
    )["ok"]
    note = await customer.expect("annotation", seq=1)
    assert note["kind"] == "highlight" and note["caption"] == "点这里"
    # One tap stops sharing: from then on the server relays no screen (the call goes on).
    assert (await customer.call("stop_sharing", {"session_id": sid}))["ok"]
    await agent.expect("session_state", state="stopped")
    refused = await customer.call("mirror", {"session_id": sid, "seq": 2, "events": []})
    assert refused["error"]["code"] == "not_sharing"
    refused = await agent.call("annotation", {"session_id": sid, "seq": 2, "kind": "clear"})
    assert refused["error"]["code"] == "not_sharing"
    assert not customer.seen("annotation") and not agent.seen("mirror")
    assert (await agent.call("rtc_signal", {"session_id": sid, "seq": 2, "kind": "restart"}))["ok"]

    assert (await agent.call("end_session", {"session_id": sid}))["ok"]
    assert (await customer.expect("session_ended"))["reason"] == "agent_ended"
    await agent.expect("agent_state", state="wrap_up")
    assert (await agent.call("wrap_up", {"session_id": sid, "outcome": "resolved", "notes": "帮客户完成转账"}))["ok"]
    await agent.expect("agent_state", state="available")

    token = await harness.login("super01")
    status, row = await harness.http("GET", f"/api/requests/{request_id}", token)
    assert status == 200
    assert row["status"] == "served" and row["agent_id"] == "agent01" and row["session_id"] == sid
    assert row["end_reason"] == "agent_ended" and row["outcome"] == "resolved"
    assert row["notes"] == "帮客户完成转账"
    times = [row[k] for k in ("requested_at", "offered_at", "accepted_at", "consent_at", "ended_at", "wrapped_at")]
    assert all(times) and times == sorted(times)
    assert row["wait_s"] >= 0 and row["handle_s"] >= 0
    events = [e["event"] for e in row["timeline"]]
    assert events[:7] == ["requested", "offered", "accepted", "share_requested", "consent_declined", "share_requested", "consent"]
    assert "sharing_stopped" in events and events[-2:] == ["ended", "wrap_up"]


async def test_queue_positions_update_live_and_cancel(harness):
    harness.add_customers("c1", "c2", "c3")
    await harness.agent("agent02", available=False)  # on shift, on a break: the line can move
    c1, c2, c3 = [await harness.client(n) for n in ("c1", "c2", "c3")]
    replies = [await c.call("help_request", HELP) for c in (c1, c2, c3)]
    assert [r["request"]["position"] for r in replies] == [1, 2, 3]
    # c1 leaves the line: the others move up, and are told so without asking.
    assert (await c1.call("help_cancel", {"request_id": replies[0]["request"]["request_id"]}))["ok"]
    assert (await c1.expect("request_ended"))["reason"] == "cancelled"
    assert (await c2.expect("queue_update", position=1))["status"] == "waiting"
    await c3.expect("queue_update", position=2)
    # Someone becomes available: now there is an estimate (position × AHT / staffed agents).
    await harness.agent("agent02")
    # c2 went to agent02; c3 is next, with one agent on shift and no handle times yet (180 s).
    await c3.expect("queue_update", position=1, eta_s=180)
    # Cancelling somebody else's request is the same answer as an unknown one.
    other = await c3.call("help_cancel", {"request_id": replies[1]["request"]["request_id"]})
    assert other["error"]["code"] == "not_found"


async def test_double_tap_is_one_request(harness):
    await harness.agent("agent01", available=False)  # on shift, on a break: the line can move
    customer = await harness.client("zhangsan")
    first = await customer.call("help_request", HELP)
    second = await customer.call("help_request", HELP)
    assert first["request"]["request_id"] == second["request"]["request_id"]
    assert len(harness.center().requests) == 1


async def test_ring_no_answer_passes_the_request_on_and_sets_agent_away(harness):
    slow = await harness.agent("agent01")
    customer = await harness.client("zhangsan")
    await customer.call("help_request", HELP)
    first = await slow.expect("offer")
    revoked = await slow.expect("offer_revoked", timeout=5)
    assert revoked == {"offer_id": first["offer_id"], "reason": "timeout"}
    await slow.expect("agent_state", state="away")
    # Late acceptance of the lapsed offer is refused and changes nothing.
    late = await slow.call("offer_accept", {"offer_id": first["offer_id"]})
    assert late["error"]["code"] == "not_found"
    other = await harness.agent("agent02")
    offer = await other.expect("offer")
    assert offer["request"]["customer_name"] == "张三"


async def test_decline_goes_to_the_next_agent(harness):
    a1 = await harness.agent("agent01")
    customer = await harness.client("zhangsan")
    await customer.call("help_request", HELP)
    offer = await a1.expect("offer")
    a2 = await harness.agent("agent02")
    assert (await a1.call("offer_decline", {"offer_id": offer["offer_id"]}))["ok"]
    moved = await a2.expect("offer")
    assert moved["request"]["customer_name"] == "张三"
    assert not a1.seen("offer")  # not offered straight back to the agent who declined


async def test_cancel_while_offered_revokes_the_offer(harness):
    agent = await harness.agent("agent01")
    customer = await harness.client("zhangsan")
    reply = await customer.call("help_request", HELP)
    offer = await agent.expect("offer")
    assert (await customer.call("help_cancel", {"request_id": reply["request"]["request_id"]}))["ok"]
    assert (await agent.expect("offer_revoked"))["reason"] == "cancelled"
    await agent.expect("agent_state", state="available")
    assert (await agent.call("offer_accept", {"offer_id": offer["offer_id"]}))["error"]["code"] == "not_found"


async def test_elderly_edition_is_served_first_and_by_elderly_care_agent(harness):
    harness.add_customers("std1", "old1")
    await harness.agent("agent02", available=False)  # on shift, on a break: the line can move
    std = await harness.client("std1")
    old = await harness.client("old1")
    assert (await std.call("help_request", HELP))["request"]["position"] == 1
    placed = await old.call("help_request", HELP | {"edition": "elderly"})
    assert placed["request"]["position"] == 1 and placed["request"]["status"] == "waiting"
    await std.expect("queue_update", position=2)  # moved back by the elderly customer, and told
    # Both agents become available: the elderly customer goes to agent01 (elderly-care skill).
    a2 = await harness.agent("agent02")
    offer2 = await a2.expect("offer")
    assert offer2["request"]["customer_name"] == "old1"  # served first, even by agent02 alone
    assert (await a2.call("offer_decline", {"offer_id": offer2["offer_id"]}))["ok"]
    a1 = await harness.agent("agent01")
    assert (await a1.expect("offer"))["request"]["customer_name"] == "old1"


async def test_english_request_waits_for_an_english_speaking_agent(harness):
    await harness.agent("agent01", available=False)  # on shift, on a break: the line can move
    customer = await harness.client("zhangsan")
    await customer.call("help_request", HELP | {"edition": "english", "language": "en"})
    zh_only = await harness.agent("agent02")
    await asyncio.sleep(0.3)
    assert not zh_only.seen("offer")
    bilingual = await harness.agent("agent01")
    assert (await bilingual.expect("offer"))["request"]["language"] == "en"


async def test_full_queue_says_try_later(start_server):
    harness = await start_server(policy=Policy(queue_cap=2, offer_timeout_s=1, grace_s=1))
    harness.add_customers("q1", "q2", "q3")
    await harness.agent("agent01", available=False)  # on shift, on a break: the line can move
    for name in ("q1", "q2"):
        assert (await (await harness.client(name)).call("help_request", HELP))["ok"]
    full = await (await harness.client("q3")).call("help_request", HELP)
    assert full["error"]["code"] == "queue_full" and "try again later" in full["error"]["message"]
    assert len(harness.center().requests) == 2


async def test_customer_dropping_while_waiting_is_abandoned_after_grace(harness):
    await harness.agent("agent01", available=False)  # on shift, on a break: the line can move
    customer = await harness.client("zhangsan")
    reply = await customer.call("help_request", HELP)
    await customer.close()
    await asyncio.sleep(1.6)
    assert not harness.center().requests
    token = await harness.login("super01")
    _, row = await harness.http("GET", f"/api/requests/{reply['request']['request_id']}", token)
    assert row["status"] == "abandoned" and row["end_reason"] == "abandoned"


async def test_customer_reconnecting_inside_grace_keeps_place_in_line(harness):
    await harness.agent("agent01", available=False)  # on shift, on a break: the line can move
    customer = await harness.client("zhangsan")
    reply = await customer.call("help_request", HELP)
    await customer.close()
    await asyncio.sleep(0.3)
    again = await harness.client("zhangsan", token=customer.token)
    synced = await again.call("sync", {})
    assert synced["view"]["request"]["request_id"] == reply["request"]["request_id"]
    assert synced["view"]["request"]["position"] == 1
    await asyncio.sleep(1.2)  # past the grace window: still there, since they came back
    assert reply["request"]["request_id"] in harness.center().requests


async def test_session_survives_a_blip_inside_grace(harness):
    customer, agent, started, _ = await pair(harness)
    sid = started["session_id"]
    await customer.call("consent", {"session_id": sid, "accept": True})
    await customer.close()
    assert (await agent.expect("peer_status"))["status"] == "reconnecting"
    back = await harness.client("zhangsan", token=customer.token)
    assert (await agent.expect("peer_status"))["status"] == "back"
    view = (await back.call("sync", {}))["view"]["session"]
    assert view["session_id"] == sid and view["state"] == "sharing" and view["code"] == started["code"]
    assert (await back.call("mirror", {"session_id": sid, "seq": 1, "events": []}))["ok"]
    await agent.expect("mirror")


async def test_session_past_grace_ends_as_dropped(harness):
    customer, agent, started, _ = await pair(harness)
    await customer.close()
    ended = await agent.expect("session_ended", timeout=5)
    assert ended == {"session_id": started["session_id"], "reason": "dropped"}


async def test_agent_dropping_past_grace_ends_session_for_customer(harness):
    customer, agent, started, _ = await pair(harness)
    await agent.close()
    assert (await customer.expect("peer_status"))["status"] == "reconnecting"
    ended = await customer.expect("session_ended", timeout=5)
    assert ended["reason"] == "dropped"


async def test_an_agent_console_reloaded_resumes_the_call_clock_and_the_wrap_up(harness):
    """A reload (a second tab's sync shows the same) keeps how long the call has run and what the
    pending wrap-up is about, not "the customer · the session ended" with a clock from zero."""
    customer, agent, started, _ = await pair(harness)
    sid = started["session_id"]
    await asyncio.sleep(0.3)
    reloaded = await harness.client("agent01")
    view = (await reloaded.call("sync", {}))["view"]
    assert view["sessions"][0]["session_id"] == sid
    # The call's age as the server counts it (what the console's clock resumes from), not a speed:
    # at least the 0.3 s slept since it was accepted, where a restarted clock would say 0.
    age = view["sessions"][0]["elapsed_s"]
    assert age >= 0.3
    assert (await agent.call("end_session", {"session_id": sid}))["ok"]
    view = (await reloaded.call("sync", {}))["view"]
    assert view["wrap_ups"] == [sid]
    assert view["wrap_up_about"] == {sid: {"customer_name": "张三", "reason": "agent_ended"}}


async def test_an_agent_gone_past_grace_has_their_wrap_up_closed(harness):
    """Nobody will fill it in: closed as "other", so the wall stops showing an agent wrapping up
    for minutes after they left, and the next sign-in starts on a clear desk."""
    customer, agent, started, _ = await pair(harness)
    sid = started["session_id"]
    assert (await agent.call("end_session", {"session_id": sid}))["ok"]
    await customer.expect("session_ended")
    await agent.close()
    token = await harness.login("super01")
    for _ in range(100):
        _, listing = await harness.http("GET", "/api/requests", token)
        row = next(r for r in listing["requests"] if r["session_id"] == sid)
        if row["outcome"]:
            break
        await asyncio.sleep(0.05)
    assert row["outcome"] == "other"
    back = await harness.client("agent01")
    synced = await back.call("sync", {})
    assert synced["ok"], synced
    assert synced["view"]["wrap_ups"] == [] and synced["view"]["state"] == "away"


async def test_transfer_to_another_agent_keeps_consent(harness):
    customer, a1, started, _ = await pair(harness)
    sid = started["session_id"]
    await customer.call("consent", {"session_id": sid, "accept": True})
    a2 = await harness.agent("agent02")
    assert (await a1.call("transfer", {"session_id": sid, "to_agent": "agent02"}))["ok"]
    offer = await a2.expect("offer", kind="transfer")
    assert offer["from_agent"] == "王晓敏"
    assert (await a2.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]
    changed = await customer.expect("agent_changed")
    assert changed["agent"] == {"name": "陈立", "badge": "A2048"} and changed["state"] == "sharing"
    assert (await a2.expect("session_started"))["code"] == changed["code"]
    await a1.expect("session_transferred")
    # The mirror now goes to the new agent only.
    assert (await customer.call("mirror", {"session_id": sid, "seq": 1, "events": []}))["ok"]
    await a2.expect("mirror")
    assert not a1.seen("mirror")
    assert (await a1.call("wrap_up", {"session_id": sid, "outcome": "transferred"}))["ok"]
    refused = await a1.call("end_session", {"session_id": sid})
    assert refused["error"]["code"] == "not_found"


async def test_transfer_to_busy_agent_is_refused(harness):
    customer, a1, started, _ = await pair(harness)
    await harness.agent("agent02", available=False)
    reply = await a1.call("transfer", {"session_id": started["session_id"], "to_agent": "agent02"})
    assert reply["error"]["code"] == "agent_unavailable"


async def test_invite_supervisor_and_barge_in(harness):
    customer, agent, started, _ = await pair(harness)
    sid = started["session_id"]
    supervisor = await harness.client("super01")
    assert (await agent.call("invite_supervisor", {"session_id": sid, "note": "客户要求投诉"}))["ok"]
    invite = await supervisor.expect("supervisor_invited")
    assert invite["session_id"] == sid and invite["note"] == "客户要求投诉"
    joined = await supervisor.call("supervisor_join", {"session_id": sid, "mode": "barge"})
    assert joined["ok"] and joined["session"]["customer"]["customer_name"] == "张三"
    assert (await customer.expect("supervisor_joined"))["name"] == "刘主管"
    await agent.expect("supervisor_joined")
    await customer.call("consent", {"session_id": sid, "accept": True})
    await customer.call("mirror", {"session_id": sid, "seq": 1, "events": [{"type": 3}]})
    await supervisor.expect("mirror")


async def test_a_supervisor_joining_mid_stream_misses_no_mirror_batch(harness):
    """A supervisor who joins while the customer's page streams sees every batch since the last
    full snapshot, from the catch-up buffer or live. It used to lose the batch whose relay had
    read its recipients before the join and buffered it after the join read the buffer: a blank
    monitor until the next snapshot."""
    customer, agent, started, _ = await pair(harness)
    sid = started["session_id"]
    assert (await customer.call("consent", {"session_id": sid, "accept": True}))["ok"]
    supervisor = await harness.client("super01")
    acked: list[int] = []

    async def send(seq: int, events: list) -> None:
        reply = await customer.call("mirror", {"session_id": sid, "seq": seq, "events": events})
        assert reply["ok"], reply
        acked.append(seq)

    await send(1, [{"type": 4, "data": {"href": "app", "width": 390, "height": 844}}])  # a recording begins

    async def stream(first: int, count: int) -> None:
        for seq in range(first, first + count):
            await send(seq, [{"type": 3, "data": {"source": 0, "i": seq}}])

    for round_ in range(12):
        first = 2 + round_ * 20
        streaming = asyncio.create_task(stream(first, 20))
        await asyncio.sleep(0.002 * round_)  # land the join at a different point of the stream each round
        assert (await supervisor.call("supervisor_join", {"session_id": sid, "mode": "monitor"}))["ok"]
        await streaming
        await supervisor.expect("mirror", seq=acked[-1])
        got = {m["seq"] for m in supervisor.seen("mirror")} | {acked[-1]}
        assert set(acked) <= got, f"round {round_}: missed {sorted(set(acked) - got)}"
        assert (await supervisor.call("supervisor_leave", {"session_id": sid}))["ok"]
        supervisor.events.clear()


async def test_declining_to_share_keeps_the_call(harness):
    customer, agent, started, _ = await pair(harness)
    assert (await customer.call("consent", {"session_id": started["session_id"], "accept": False}))["ok"]
    await agent.expect("share_declined")
    assert harness.center().sessions[started["session_id"]].state.value == "awaiting_consent"
    assert not agent.seen("session_ended")


async def test_records_survive_a_restart(start_server, tmp_path, live_backend):
    var = tmp_path / "persist"
    first = await start_server(var_dir=var)
    customer, agent, started, _ = await pair(first)
    await agent.call("end_session", {"session_id": started["session_id"]})
    await agent.call("wrap_up", {"session_id": started["session_id"], "outcome": "needs_follow_up", "notes": "回访"})
    waiting = await first.client("lisi")
    pending = await waiting.call("help_request", HELP)
    await first.close()
    await first.server.close()  # the process goes away, the database stays

    second = await start_server(var_dir=var)
    token = await second.login("super01")
    _, listing = await second.http("GET", "/api/requests", token)
    rows = {r["customer_id"]: r for r in listing["requests"]}
    assert rows["zhangsan"]["outcome"] == "needs_follow_up" and rows["zhangsan"]["notes"] == "回访"
    assert rows["zhangsan"]["session_id"] == started["session_id"]
    assert rows["lisi"]["request_id"] == pending["request"]["request_id"]
    if live_backend == "memory":
        # The request that was waiting when the only process died is closed, not left dangling.
        assert rows["lisi"]["status"] == "abandoned" and rows["lisi"]["end_reason"] == "server_restart"
        return
    # In Redis the live state outlives the process: the new one carries the request on, and its
    # clock ends it when the grace windows (1 s here) run out: the customer's (abandoned), or
    # first the only agent's, who left with everyone else (unstaffed: nobody could serve it).
    for _ in range(50):
        _, listing = await second.http("GET", "/api/requests", token)
        lisi = {r["customer_id"]: r for r in listing["requests"]}["lisi"]
        if lisi["status"] != "waiting":
            break
        await asyncio.sleep(0.1)
    assert lisi["status"] in ("abandoned", "unstaffed") and lisi["end_reason"] == lisi["status"]


async def test_agents_see_only_their_own_records(harness):
    customer, agent, started, _ = await pair(harness)
    await agent.call("end_session", {"session_id": started["session_id"]})
    mine = await harness.login("agent01")
    other = await harness.login("agent02")
    _, listing = await harness.http("GET", "/api/requests", mine)
    request_id = listing["requests"][0]["request_id"]
    assert (await harness.http("GET", f"/api/requests/{request_id}", mine))[0] == 200
    status, body = await harness.http("GET", f"/api/requests/{request_id}", other)
    assert status == 404 and "zhangsan" not in str(body)
    assert (await harness.http("GET", "/api/requests", other))[1]["requests"] == []
    customer_token = await harness.login("zhangsan")
    assert (await harness.http("GET", "/api/requests", customer_token))[0] == 403
    assert (await harness.http("GET", "/api/requests", None))[0] == 401


async def test_ice_servers_carry_time_limited_turn_credentials(start_server):
    from assist.config import IceConfig
    from signaling.ice import turn_credential

    harness = await start_server(
        ice=IceConfig(
            stun_urls=("stun:127.0.0.1:3478",), turn_urls=("turn:127.0.0.1:3478",), turn_secret="coturn-shared", turn_ttl_s=600
        )
    )
    agent = await harness.agent("agent01", available=False)  # on shift but away: the request waits
    assert (await agent.call("agent_state", {"state": "away"}))["ok"]
    client = await harness.client("zhangsan")
    # Before asking for help: STUN only, no TURN credentials to hand out to anyone signed in.
    assert (await client.call("sync", {}))["ice_servers"] == [{"urls": ["stun:127.0.0.1:3478"]}]
    assert (await client.call("help_request", HELP))["ok"]
    servers = (await client.call("sync", {}))["ice_servers"]
    turn = servers[1]
    expiry, user = turn["username"].split(":")
    assert user == "zhangsan" and int(expiry) > 0
    assert turn["credential"] == turn_credential("coturn-shared", "zhangsan", int(expiry) - 600, 600)[1]
    assert "coturn-shared" not in str(servers)
    # Never longer than the token it was asked with (here 60 s, against TURN's 600).
    short = await start_server(token_ttl_s=60, ice=harness.config.ice)
    await short.agent("agent01")  # available: the request is offered, still live
    customer = await short.client("lisi")
    assert (await customer.call("help_request", HELP))["ok"]
    [_, turn] = (await customer.call("sync", {}))["ice_servers"]
    assert int(turn["username"].split(":")[0]) - time.time() <= 60


async def test_health_and_metrics(harness):
    customer, agent, started, _ = await pair(harness)
    await customer.call("no_such_event", {})
    await asyncio.sleep(0.3)  # one tick refreshes the live gauges
    status, body = await harness.http("GET", "/healthz")
    assert status == 200 and body == {"status": "ok"}
    status, text = await harness.http("GET", "/metrics", harness.config.metrics_token)
    assert 'assist_agents{state="busy"} 1.0' in text
    assert "assist_sessions_active 1.0" in text
    assert "assist_pairing_seconds_count 1.0" in text and "assist_wait_seconds_count 1.0" in text
    assert 'assist_events_rejected_total{code="unknown_event",event="unknown"} 1.0' in text
    assert 'assist_events_received_total{event="help_request"} 1.0' in text
    if harness.config.redis_url:  # scaled out: the node reads its delivery stream, nothing waits
        assert "assist_delivery_up 1.0" in text and "assist_delivery_outbox 0.0" in text
        assert "assist_delivery_dropped_total 0.0" in text


async def test_production_config_has_no_demo_accounts(start_server):
    harness = await start_server(demo=False)
    status, body = await harness.http("POST", "/api/auth/login", json={"username": "agent01", "password": "demo1234"})
    assert status == 401 and body["error"]["code"] == "bad_credentials"


async def test_a_declined_request_comes_back_to_the_only_agent(start_server):
    harness = await start_server(policy=Policy(reoffer_after_s=0.5, offer_timeout_s=1))
    agent = await harness.agent("agent01")
    customer = await harness.client("zhangsan")
    await customer.call("help_request", HELP)
    first = await agent.expect("offer")
    assert (await agent.call("offer_decline", {"offer_id": first["offer_id"]}))["ok"]
    # Nobody else can take it: after the cool-down it rings again for the same agent.
    again = await agent.expect("offer", timeout=5)
    assert again["request"]["request_id"] == first["request"]["request_id"]
    # Let it ring out: the agent is set away; back available, it is offered once more.
    await agent.expect("offer_revoked", reason="timeout", timeout=5)
    await agent.expect("agent_state", state="away")
    assert (await agent.call("agent_state", {"state": "available"}))["ok"]
    third = await agent.expect("offer", timeout=5)  # expect consumes: this is a new offer
    assert third["request"]["request_id"] == first["request"]["request_id"]


async def test_the_line_ends_plainly_when_the_last_agent_signs_off(harness):
    agent = await harness.agent("agent01", available=False)
    customer = await harness.client("zhangsan")
    reply = await customer.call("help_request", HELP)
    request_id = reply["request"]["request_id"]
    assert (await agent.call("agent_state", {"state": "offline"}))["ok"]
    ended = await customer.expect("request_ended")
    assert ended == {"request_id": request_id, "reason": "unstaffed"}
    token = await harness.login("super01")
    _, row = await harness.http("GET", f"/api/requests/{request_id}", token)
    assert row["status"] == "unstaffed" and row["end_reason"] == "unstaffed"


async def test_a_callback_outlives_the_app_and_is_served_like_a_request(harness):
    customer = await harness.client("zhangsan")
    assert "unstaffed" in await customer.call("help_request", HELP)
    reply = await customer.call("callback_request", HELP)
    assert reply["ok"] and reply["request"]["callback"] is True
    request_id = reply["request"]["request_id"]
    await customer.close()  # a callback needs no open app
    supervisor = await harness.client("super01")
    synced = await supervisor.call("sync", {})
    assert [(r["request_id"], r["callback"]) for r in synced["view"]["queue"]] == [(request_id, True)]
    agent = await harness.agent("agent01")
    offer = await agent.expect("offer", timeout=5)
    assert offer["request"]["request_id"] == request_id and offer["request"]["callback"] is True
    assert (await agent.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]
    await agent.expect("session_started")
    token = await harness.login("super01")
    _, row = await harness.http("GET", f"/api/requests/{request_id}", token)
    assert row["callback"] is True and row["status"] == "served"


async def test_a_long_wait_offers_a_callback_that_keeps_the_place(start_server):
    harness = await start_server(policy=Policy(max_wait_s=0.5))
    await harness.agent("agent01", available=False)
    customer = await harness.client("zhangsan")
    reply = await customer.call("help_request", HELP)
    assert reply["request"]["long_wait"] is False
    told = await customer.expect("queue_update", long_wait=True, timeout=5)
    assert told["request_id"] == reply["request"]["request_id"] and told["position"] == 1
    kept = await customer.call("callback_request", HELP)
    assert kept["request"]["request_id"] == told["request_id"] and kept["request"]["callback"] is True


async def test_the_customer_rates_the_session_once_and_it_is_on_the_record(harness):
    customer, agent, started, _ = await pair(harness)
    sid = started["session_id"]
    early = await customer.call("rate_session", {"session_id": sid, "rating": "satisfied"})
    assert early["error"]["code"] == "not_found"  # not before it ended
    assert (await agent.call("end_session", {"session_id": sid}))["ok"]
    await customer.expect("session_ended")
    rated = {"session_id": sid, "rating": "neutral", "comment": "等了一会儿"}
    assert (await customer.call("rate_session", rated))["ok"]
    assert (await customer.call("rate_session", rated))["error"]["code"] == "not_found"
    token = await harness.login("super01")
    _, listing = await harness.http("GET", "/api/requests", token)
    row = next(r for r in listing["requests"] if r["session_id"] == sid)
    assert row["rating"] == "neutral" and row["rating_comment"] == "等了一会儿"


async def test_the_scam_warning_step_reaches_the_agent_and_the_record_without_details(harness):
    customer, agent, started, _ = await pair(harness)
    sid = started["session_id"]
    assert (await customer.call("customer_step", {"session_id": sid, "step": "scam_warning"}))["ok"]
    assert await agent.expect("customer_step") == {"session_id": sid, "step": "scam_warning"}
    refused = await customer.call("customer_step", {"session_id": sid, "step": "scam_warning", "payee": "6222"})
    assert refused["error"]["code"] == "bad_payload"  # nothing but the step's name travels
    token = await harness.login("super01")
    _, listing = await harness.http("GET", "/api/requests", token)
    row = next(r for r in listing["requests"] if r["session_id"] == sid)
    assert row["scam_warning_at"] and "scam_warning" in [
        e["event"] for e in (await harness.http("GET", f"/api/requests/{row['request_id']}", token))[1]["timeline"]
    ]
