"""Silent monitoring, whisper and the monitoring audio's signaling, on a real server."""

from __future__ import annotations

import asyncio

from assist.appkeys import ADAPTER
from tests.signaling.test_flow import pair


async def test_monitor_is_silent_whisper_is_private_and_audio_signaling_flows(harness):
    customer, agent, started, _ = await pair(harness)
    sid = started["session_id"]
    await customer.call("consent", {"session_id": sid, "accept": True})
    supervisor = await harness.client("super01")
    assert (await supervisor.call("whisper", {"session_id": sid, "text": "x"}))["error"]["code"] == "not_found"
    joined = await supervisor.call("supervisor_join", {"session_id": sid, "mode": "monitor"})
    assert joined["ok"] and joined["session"]["code"] == started["code"]
    # The customer's mirror now reaches the supervisor too; nobody is told about the monitor.
    await customer.call("mirror", {"session_id": sid, "seq": 1, "events": [{"type": 3}]})
    await supervisor.expect("mirror")
    await agent.expect("mirror")
    assert (await supervisor.call("whisper", {"session_id": sid, "text": "问一下客户的转账用途"}))["ok"]
    whisper = await agent.expect("whisper")
    assert whisper == {"session_id": sid, "name": "刘主管", "text": "问一下客户的转账用途"}
    # The supervisor asks the agent's console for the call audio; the agent answers that supervisor.
    assert (await supervisor.call("monitor_signal", {"session_id": sid, "seq": 1, "kind": "restart"}))["ok"]
    asked = await agent.expect("monitor_signal")
    assert asked["sender"] == "super01" and asked["kind"] == "restart"
    reply = await agent.call(
        "monitor_signal", {"session_id": sid, "seq": 1, "kind": "offer", "sdp": "v=0", "supervisor": asked["sender"]}
    )
    assert reply["ok"]
    assert (await supervisor.expect("monitor_signal"))["sdp"] == "v=0"
    missing = await agent.call(
        "monitor_signal", {"session_id": sid, "seq": 2, "kind": "offer", "sdp": "v=0", "supervisor": "super99"}
    )
    assert missing["error"]["code"] == "not_found"
    refused = await customer.call("monitor_signal", {"session_id": sid, "seq": 1, "kind": "offer", "sdp": "v=0"})
    assert refused["error"]["code"] == "forbidden"
    await asyncio.sleep(0.2)
    names = {name for name, _ in customer.events}
    assert not names & {"whisper", "monitor_signal", "supervisor_joined"}


async def test_keyframes_are_kept_for_joiners_and_dropped_with_the_session(harness):
    customer, agent, started, _ = await pair(harness)
    sid = started["session_id"]
    await customer.call("consent", {"session_id": sid, "accept": True})
    await customer.call("mirror", {"session_id": sid, "seq": 1, "events": [{"type": 4, "data": {"width": 390}}]})
    await customer.call("mirror", {"session_id": sid, "seq": 2, "events": [{"type": 2, "data": {}}]})
    supervisor = await harness.client("super01")
    await supervisor.call("supervisor_join", {"session_id": sid})
    caught_up = [await supervisor.expect("mirror", seq=1), await supervisor.expect("mirror", seq=2)]
    assert [b["events"][0]["type"] for b in caught_up] == [4, 2]
    await agent.call("end_session", {"session_id": sid})
    await agent.expect("session_ended")
    assert await harness.app[ADAPTER].keyframes.get(sid) == []
