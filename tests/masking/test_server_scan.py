"""The server's last line: a client that is not our SDK (a raw socket.io client here) sends
numbers in clear; they reach neither the agent nor the recording, and are counted. Byte limits
refuse a flood of batches that each keep to the message limits."""

from __future__ import annotations

import json
import re

from assist.appkeys import RECORDINGS
from assist.config import Limits
from tests.masking.leaks import find_leaks, strings
from tests.signaling.test_flow import pair

CARD = "6222 0211 4820 3957 164"
PATH = "M 12 3 L 20 6 L 20 12 C 20 17 16.5 20 12 21 C 7.5 20 4 17 4 12 Z"


def element(tag: str, node_id: int, children: list, **attributes) -> dict:
    return {"type": 2, "tagName": tag, "id": node_id, "attributes": attributes, "childNodes": children}


def text(node_id: int, value: str) -> dict:
    return {"type": 3, "id": node_id, "textContent": value}


def snapshot(words: str, title: str) -> dict:
    paragraph = element(
        "p",
        2,
        [element("span", 3, [text(4, "6222")]), text(5, " "), element("span", 6, [text(7, "0211 4820")]), text(8, words)],
        title=title,
    )
    icon = {**element("svg", 9, [{**element("path", 10, [], d=PATH), "isSVG": True}], viewBox="0 0 24 24"), "isSVG": True}
    return {"type": 2, "timestamp": 1, "data": {"node": {"type": 0, "id": 1, "childNodes": [paragraph, icon]}}}


async def violations(harness) -> dict[str, float]:
    _, text = await harness.http("GET", "/metrics", harness.config.metrics_token)
    return {m[0]: float(m[1]) for m in re.findall(r'assist_mask_violations_total\{stream="(\w+)"\} ([0-9.e+]+)', text)}


async def sharing_pair(harness):
    customer, agent, started, _ = await pair(harness)
    sid = started["session_id"]
    assert (await customer.call("consent", {"session_id": sid, "accept": True}))["ok"]
    return customer, agent, sid


async def test_numbers_from_a_client_that_is_not_our_sdk_are_hidden_and_counted(harness):
    customer, agent, sid = await sharing_pair(harness)
    events = [
        snapshot(f" 手机 138\u00a00913\u00a07746，卡 {CARD}", "６２２８４８８１０５６２９９３４０５７"),
        {
            "type": 3,
            "timestamp": 2,
            "data": {
                "source": 0,
                "texts": [{"id": 8, "value": "11010519491231581X"}],
                "attributes": [{"id": 2, "attributes": {"data-card": "6259.0319.1036.7731"}}],
                "adds": [],
                "removes": [],
            },
        },
        {"type": 3, "timestamp": 3, "data": {"source": 5, "id": 11, "text": "6217008830417725391"}},
        {"type": 5, "timestamp": 4, "data": {"tag": "assist-page", "payload": {"page": "#/t/6259101186254438"}}},
    ]
    assert (await customer.call("mirror", {"session_id": sid, "seq": 1, "events": events}))["ok"]
    received = await agent.expect("mirror")
    # The split across <span>s, the full-width title, the ID, the input, the page: all hidden.
    secrets = {
        "card": CARD,
        "phone": "13809137746",
        "title": "6228488105629934057",
        "id": "11010519491231581X",
        "dots": "6259.0319.1036.7731",
        "input": "6217008830417725391",
        "page": "6259101186254438",
        "split": "622202114820",
    }
    assert find_leaks(strings(received), secrets) == []
    assert received["events"][0]["data"]["node"]["childNodes"][1]["childNodes"][0]["attributes"]["d"] == PATH
    counted = await violations(harness)
    assert counted.get("mirror", 0) >= 6, counted

    await agent.call("end_session", {"session_id": sid})
    await harness.app[RECORDINGS].flush()
    stored = list(harness.app[RECORDINGS].read(sid))
    assert stored and find_leaks(strings(stored), secrets) == []


async def test_help_request_page_and_transcript_are_scrubbed_by_the_server_too(harness):
    agent = await harness.agent("agent01")
    customer = await harness.client("zhangsan")
    reply = await customer.call(
        "help_request",
        {"topic": "transfer", "page": "#/transfer/6259101186254438", "transcript": ["我的卡号是 6259 1112 9715 5539"]},
    )
    assert reply["ok"]
    offer = await agent.expect("offer")
    assert find_leaks(strings(offer), {"page": "6259101186254438", "said": "6259111297155539"}) == []
    assert offer["request"]["page"] == "#/transfer/****************"
    assert (await violations(harness)).get("help_request", 0) == 2


async def test_fields_the_walker_does_not_read_are_scanned_too(harness):
    """A client that is not our SDK can put a number anywhere rrweb would keep it: in a field of
    the event, of a node, of a mutation's entry, in an attribute's or a field's name, in a tag."""
    customer, agent, sid = await sharing_pair(harness)
    node = {**element("p", 2, [{**text(3, "hi"), "value": CARD}], **{"data-6259101186254438": "x"}), "cardNo": CARD}
    events = [
        {**snapshot("hi", "t"), "note": CARD},
        {"type": 2, "timestamp": 1, "data": {"node": {**node, "tagName": "x6259101186254438"}, "extra": CARD}},
        {
            "type": 3,
            "timestamp": 2,
            "data": {
                "source": 0,
                "texts": [{"id": 3, "value": "ok", "shadow": CARD}],
                "attributes": [{"id": 2, "attributes": {"title": "ok"}, "why": CARD}],
                "adds": [{"parentId": 2, "nextId": None, "node": text(9, "ok"), "label": CARD}],
                "removes": [],
            },
        },
        {"type": 3, "timestamp": 3, "data": {"source": 5, "id": 11, "text": "12.50", "hint": CARD}},
    ]
    assert (await customer.call("mirror", {"session_id": sid, "seq": 1, "events": events}))["ok"]
    received = await agent.expect("mirror")
    secrets = {"card": CARD, "name": "6259101186254438"}
    assert find_leaks(strings(received), secrets) == []
    assert "6259101186254438" not in json.dumps(received)  # names (keys) included
    assert received["events"][3]["data"]["text"] == "12.50"  # an amount field's value still shows


async def test_a_batch_nested_too_deeply_is_refused_and_the_server_goes_on(harness):
    customer, agent, sid = await sharing_pair(harness)
    deep: list = []
    for _ in range(300):  # within what a socket.io client encodes, past what the server's scan walks
        deep = [deep]
    reply = await customer.call("mirror", {"session_id": sid, "seq": 1, "events": [{"type": 5, "data": {"x": deep}}]})
    assert reply["error"]["code"] == "bad_payload", reply
    assert (await customer.call("mirror", {"session_id": sid, "seq": 2, "events": [snapshot("hi", "t")]}))["ok"]
    assert (await agent.expect("mirror"))["seq"] == 2


async def test_callback_requests_and_ratings_are_scrubbed_like_help_requests(harness):
    agent = await harness.agent("agent01", available=False)
    customer = await harness.client("zhangsan")
    reply = await customer.call(
        "callback_request", {"page": "#/transfer/new?acct=6259 1011 8625 4438", "transcript": ["卡号 6259111297155539"]}
    )
    assert reply["ok"], reply
    assert (await agent.call("agent_state", {"state": "available"}))["ok"]
    offer = await agent.expect("offer")
    assert find_leaks(strings(offer), {"page": "6259101186254438", "said": "6259111297155539"}) == []
    assert offer["transcript"] == ["卡号 ****************"]  # kept, as for a help request
    assert (await agent.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]
    sid = (await agent.expect("session_started"))["session_id"]
    assert (await agent.call("end_session", {"session_id": sid}))["ok"]
    comment = "卡 6222 0211 4820 3957 164 密码不对"
    assert (await customer.call("rate_session", {"session_id": sid, "rating": "unsatisfied", "comment": comment}))["ok"]
    _, listing = await harness.http("GET", "/api/requests", await harness.login("super01"))
    row = next(r for r in listing["requests"] if r["session_id"] == sid)
    assert row["rating_comment"] == "卡 **** **** **** **** *** 密码不对"
    assert (await violations(harness)).get("callback_request", 0) == 2
    assert (await violations(harness)).get("rating", 0) == 1


async def test_a_chunked_batch_is_joined_scanned_and_relayed_once_complete(harness):
    customer, agent, sid = await sharing_pair(harness)
    text = json.dumps([snapshot("卡 " + CARD, "t")], separators=(",", ":"))
    cut = text.index("0211") + 2  # the number is cut in two between the pieces
    parts = [text[:cut], text[cut:]]
    for i, part in enumerate(parts):
        reply = await customer.call(
            "mirror",
            {"session_id": sid, "seq": i + 1, "events": [{"assistChunk": {"id": "c1", "index": i, "total": 2, "data": part}}]},
        )
        assert reply["ok"], reply
    received = await agent.expect("mirror")
    assert [e["type"] for e in received["events"]] == [2]  # one ordinary batch
    assert find_leaks(strings(received), {"card": CARD}) == []
    assert len(agent.seen("mirror")) == 0  # nothing was relayed for the first piece

    # Out of order, or a piece of a batch that was never started: refused, nothing relayed.
    reply = await customer.call(
        "mirror", {"session_id": sid, "seq": 3, "events": [{"assistChunk": {"id": "c2", "index": 1, "total": 2, "data": "x"}}]}
    )
    assert reply["error"]["code"] == "bad_payload"
    reply = await customer.call(
        "mirror",
        {
            "session_id": sid,
            "seq": 4,
            "events": [{"assistChunk": {"id": "c3", "index": 0, "total": 2, "data": "["}}, {"type": 3, "data": {}}],
        },
    )
    assert reply["error"]["code"] == "bad_payload"


async def test_a_flood_of_allowed_size_batches_is_refused_in_bytes(start_server):
    # Message limits generous enough that only the byte budget can stop this flood.
    harness = await start_server(
        limits=Limits(relay_rate=1000, relay_burst=1000, relay_bytes_rate=200_000, relay_bytes_burst=1_000_000)
    )
    customer, agent, sid = await sharing_pair(harness)
    filler = {
        "type": 3,
        "timestamp": 1,
        "data": {"source": 0, "texts": [{"id": 1, "value": "页面内容" * 25_000}], "attributes": [], "adds": [], "removes": []},
    }  # ~300 kB
    replies = [await customer.call("mirror", {"session_id": sid, "seq": seq, "events": [filler]}) for seq in range(1, 11)]
    codes = [r["ok"] or r["error"]["code"] for r in replies]
    assert codes[:3] == [True, True, True] and "rate_limited" in codes, codes
    relayed = sum(1 for c in codes if c is True)
    await agent.expect("mirror")
    assert relayed <= 4  # 1 MB of burst, then 200 kB a second


async def test_a_recording_stops_at_its_size_cap_with_a_mark(start_server):
    harness = await start_server(recording_max_bytes=150_000)
    customer, agent, sid = await sharing_pair(harness)
    batch = {
        "type": 3,
        "timestamp": 1,
        "data": {"source": 0, "texts": [{"id": 1, "value": "页面" * 10_000}], "attributes": [], "adds": [], "removes": []},
    }  # ~60 kB as UTF-8
    for seq in range(1, 7):
        assert (await customer.call("mirror", {"session_id": sid, "seq": seq, "events": [batch]}))["ok"]
    assert len([await agent.expect("mirror") for _ in range(6)]) == 6  # the live relay is not capped
    await harness.app[RECORDINGS].flush()
    kinds = [(e["kind"], e["data"].get("mark")) for e in harness.app[RECORDINGS].read(sid)]
    assert kinds[:2] == [("mirror", None), ("mirror", None)]
    assert kinds[2:] == [("mark", "capped")]


async def test_the_agent_console_stays_bounded_under_a_flood_and_recovers(start_server):
    """Far more changes than a live replay keeps (a client that is not our SDK never takes a
    fresh snapshot): the console stops at its bound, says so, and comes back with the next one."""
    from playwright.async_api import expect

    from tests.browser import chromium
    from tests.customer.pages import open_agent

    harness = await start_server(limits=Limits(relay_rate=1000, relay_burst=1000))
    async with chromium() as browser:
        agent = await open_agent(await browser.new_context(viewport={"width": 1366, "height": 768}), harness.base_url)
        customer = await harness.client("zhangsan")
        assert (await customer.call("help_request", {"topic": "transfer"}))["ok"]
        await agent.click("#accept-offer")
        sid = (await customer.expect("session_started"))["session_id"]
        assert (await customer.call("consent", {"session_id": sid, "accept": True}))["ok"]

        meta = {"type": 4, "timestamp": 1, "data": {"href": "http://bank/", "width": 390, "height": 844}}
        full = {
            "type": 2,
            "timestamp": 2,
            "data": {
                "initialOffset": {"left": 0, "top": 0},
                "node": {
                    "type": 0,
                    "id": 1,
                    "childNodes": [
                        {
                            "type": 2,
                            "tagName": "html",
                            "id": 2,
                            "attributes": {},
                            "childNodes": [
                                {
                                    "type": 2,
                                    "tagName": "body",
                                    "id": 3,
                                    "attributes": {},
                                    "childNodes": [
                                        {
                                            "type": 2,
                                            "tagName": "p",
                                            "id": 4,
                                            "attributes": {"id": "t"},
                                            "childNodes": [{"type": 3, "id": 5, "textContent": "开始"}],
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                },
            },
        }
        seq = 1
        assert (await customer.call("mirror", {"session_id": sid, "seq": seq, "events": [meta, full]}))["ok"]
        await expect(agent.frame_locator(REPLAY).locator("#t")).to_have_text("开始")
        for batch in range(50):  # 25,000 changes, 500 a batch
            seq += 1
            events = [
                {
                    "type": 3,
                    "timestamp": 3,
                    "data": {
                        "source": 0,
                        "texts": [{"id": 5, "value": f"第{batch}批{i}"}],
                        "attributes": [],
                        "adds": [],
                        "removes": [],
                    },
                }
                for i in range(500)
            ]
            reply = await customer.call("mirror", {"session_id": sid, "seq": seq, "events": events})
            assert reply["ok"], reply
        await agent.wait_for_selector("#replay-paused:not([hidden])")
        state = await agent.evaluate(
            "({since: window.assistConsole.mirror.sinceSnapshot, replaying: !!window.assistConsole.mirror.replayer})"
        )
        assert state == {"since": 20_000, "replaying": False}
        seq += 1  # the next full snapshot brings the view back
        assert (await customer.call("mirror", {"session_id": sid, "seq": seq, "events": [meta, full]}))["ok"]
        await expect(agent.frame_locator(REPLAY).locator("#t")).to_have_text("开始")
        await agent.wait_for_selector("#replay-paused", state="hidden")


REPLAY = "#replay-root iframe"
