"""What supervisors see and do, on a real server with memory and with Redis: the board's
phases, who is told of each coaching mode, and reassigning a waiting customer."""

from __future__ import annotations

import asyncio

from tests.signaling.test_flow import HELP, pair


def phases(board: dict) -> list[str]:
    return [row["phase"] for row in board["rows"]]


async def next_board(supervisor, want: list[str]) -> dict:
    """The first board that shows these phases (boards come within a tick of a change)."""
    while True:
        board = await supervisor.expect("board", timeout=5)
        if phases(board) == want:
            return board


async def on_break(harness, username: str):
    """An agent on shift but on a break: a customer may wait for them (nobody is offered yet)."""
    agent = await harness.agent(username, available=False)
    assert (await agent.call("agent_state", {"state": "away"}))["ok"]
    return agent


async def test_board_follows_every_phase(harness):
    supervisor = await harness.client("super01")
    agent = await on_break(harness, "agent01")
    customer = await harness.client("zhangsan")
    await customer.call("help_request", HELP)
    board = await next_board(supervisor, ["requested"])
    assert board["rows"][0]["customer_name"] == "张三" and board["rows"][0]["agent"] is None
    assert (await agent.call("agent_state", {"state": "available"}))["ok"]
    offer = await agent.expect("offer")
    await agent.call("offer_accept", {"offer_id": offer["offer_id"]})
    sid = (await customer.expect("session_started"))["session_id"]
    board = await next_board(supervisor, ["call"])
    assert board["rows"][0]["agent"]["name"] == "王晓敏"
    await customer.call("consent", {"session_id": sid, "accept": True})
    await next_board(supervisor, ["sharing"])
    await customer.call("stop_sharing", {"session_id": sid})
    await next_board(supervisor, ["paused"])
    await agent.call("end_session", {"session_id": sid})
    await next_board(supervisor, ["wrap_up"])
    await agent.call("wrap_up", {"session_id": sid, "outcome": "resolved", "notes": ""})
    await next_board(supervisor, [])
    view = (await supervisor.call("sync", {}))["view"]
    assert view["board"] == [] and [a["handled_today"] for a in view["wall"]["agents"]] == [1]


async def test_each_coaching_mode_tells_only_who_hears_it(harness):
    customer, agent, started, _ = await pair(harness)
    sid = started["session_id"]
    await customer.call("consent", {"session_id": sid, "accept": True})
    supervisor = await harness.client("super01")
    assert (await supervisor.call("supervisor_join", {"session_id": sid, "mode": "monitor"}))["ok"]
    assert (await supervisor.call("supervisor_join", {"session_id": sid, "mode": "whisper"}))["ok"]
    told = await agent.expect("supervisor_joined")
    assert told == {"session_id": sid, "name": "刘主管", "supervisor": "super01", "mode": "whisper"}
    assert (await supervisor.call("supervisor_join", {"session_id": sid, "mode": "barge"}))["ok"]
    assert (await customer.expect("supervisor_joined"))["mode"] == "barge"
    assert (await agent.expect("supervisor_joined"))["mode"] == "barge"
    # Back down to a silent monitor: the customer is told the supervisor left, and so is the agent.
    assert (await supervisor.call("supervisor_join", {"session_id": sid, "mode": "monitor"}))["ok"]
    await customer.expect("supervisor_left")
    await agent.expect("supervisor_left")
    await asyncio.sleep(0.2)
    assert [name for name, _ in customer.events if name.startswith("supervisor_")] == []
    assert [name for name, _ in agent.events if name.startswith("supervisor_")] == []


async def test_reassign_a_waiting_customer_to_an_eligible_agent(harness):
    supervisor = await harness.client("super01")
    agent01 = await on_break(harness, "agent01")  # speaks English: the customer may wait for them
    english = await harness.client("lisi")
    reply = await english.call("help_request", HELP | {"edition": "english", "language": "en"})
    request_id = reply["request"]["request_id"]
    agent02 = await harness.agent("agent02")  # Chinese only: cannot take an English customer
    refused = await supervisor.call("reassign", {"request_id": request_id, "to_agent": "agent02"})
    assert refused["error"]["code"] == "agent_unavailable"
    assert (await agent01.call("agent_state", {"state": "available"}))["ok"]
    offer = await agent01.expect("offer")
    assert (await agent01.call("offer_decline", {"offer_id": offer["offer_id"]}))["ok"]
    # Declined once, routing passes agent01 by; the supervisor can still hand it over.
    await asyncio.sleep(0.2)
    assert not agent01.seen("offer") and not agent02.seen("offer")
    assert (await supervisor.call("reassign", {"request_id": request_id, "to_agent": "agent01"}))["ok"]
    again = await agent01.expect("offer")
    assert again["request"]["request_id"] == request_id
    busy = await supervisor.call("reassign", {"request_id": request_id, "to_agent": "agent01"})
    assert busy["error"]["code"] == "agent_unavailable"  # ringing already: not free for another
    assert (await agent01.call("offer_accept", {"offer_id": again["offer_id"]}))["ok"]
    assert (await english.expect("session_started"))["agent"]["name"] == "王晓敏"
