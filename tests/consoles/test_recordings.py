"""Recordings: stored as they arrive, compressed, listed and replayed by who may, every view logged."""

from __future__ import annotations

import gzip
import time

import pytest

from assist.appkeys import RECORDINGS
from tests.signaling.test_flow import pair


async def recorded_session(harness, rating: str | None = None):
    """A shared, annotated session, ended and wrapped up; the customer rates it when `rating` is given."""
    customer, agent, started, _ = await pair(harness)
    sid = started["session_id"]
    await customer.call("consent", {"session_id": sid, "accept": True})
    for seq in range(1, 6):
        snapshot = {"type": 2 if seq == 1 else 3, "data": {"text": "转账页面 " * 50, "n": seq}, "timestamp": seq}
        assert (await customer.call("mirror", {"session_id": sid, "seq": seq, "events": [snapshot]}))["ok"]
    assert (
        await agent.call(
            "annotation", {"session_id": sid, "seq": 1, "kind": "highlight", "selector": "#next", "caption": "点这里"}
        )
    )["ok"]
    await agent.call("end_session", {"session_id": sid})
    await agent.call("wrap_up", {"session_id": sid, "outcome": "resolved", "notes": ""})
    if rating:
        assert (await customer.call("rate_session", {"session_id": sid, "rating": rating, "comment": "很耐心"}))["ok"]
    return sid


async def test_recording_is_stored_compressed_and_replayable(harness):
    sid = await recorded_session(harness)
    supervisor = await harness.login("super01")
    status, listing = await harness.http("GET", "/api/recordings", supervisor)
    assert status == 200 and [r["session_id"] for r in listing["recordings"]] == [sid]
    row = listing["recordings"][0]
    assert row["agents"] == ["agent01"] and row["customer_id"] == "zhangsan" and row["outcome"] == "resolved"
    assert row["events"] == 6 and row["rating"] is None  # not rated
    raw = (harness.config.var_dir / "recordings" / sid[:2] / f"{sid}.ndjson.gz").read_bytes()
    assert len(raw) == row["bytes"] and len(gzip.decompress(raw)) > 3 * len(raw)  # really compressed

    status, meta = await harness.http("GET", f"/api/recordings/{sid}", supervisor)
    assert status == 200 and [e["event"] for e in meta["timeline"]][:4] == ["requested", "offered", "accepted", "consent"]
    status, body = await harness.http("GET", f"/api/recordings/{sid}/events", supervisor)
    kinds = [e["kind"] for e in body["events"]]
    assert kinds == ["mirror"] * 5 + ["annotation"]
    assert [e["data"]["events"][0]["data"]["n"] for e in body["events"][:5]] == [1, 2, 3, 4, 5]
    assert body["events"][5]["data"]["caption"] == "点这里"
    status, views = await harness.http("GET", f"/api/recordings/{sid}/views", supervisor)
    assert [(v["viewer"], v["what"]) for v in views["views"]] == [("super01", "meta"), ("super01", "events")]


async def test_the_customers_rating_is_listed_with_the_recording(harness):
    sid = await recorded_session(harness, rating="satisfied")
    _, listing = await harness.http("GET", "/api/recordings", await harness.login("super01"))
    row = next(r for r in listing["recordings"] if r["session_id"] == sid)
    assert (row["rating"], row["rating_comment"]) == ("satisfied", "很耐心")


async def test_recording_authorization_table(harness):
    sid = await recorded_session(harness)
    tokens = {u: await harness.login(u) for u in ("super01", "agent01", "agent02", "zhangsan")}
    expected = {  # (role, path) → status
        ("super01", ""): 200,
        ("agent01", ""): 200,
        ("agent02", ""): 404,
        ("zhangsan", ""): 403,
        ("super01", "/events"): 200,
        ("agent01", "/events"): 200,
        ("agent02", "/events"): 404,
        ("zhangsan", "/events"): 403,
        ("super01", "/views"): 200,
        ("agent01", "/views"): 403,
    }
    for (user, suffix), status in expected.items():
        got, body = await harness.http("GET", f"/api/recordings/{sid}{suffix}", tokens[user])
        assert got == status, (user, suffix, body)
        if got == 404:
            assert "zhangsan" not in str(body) and sid not in str(body)
    assert (await harness.http("GET", f"/api/recordings/{sid}", None))[0] == 401
    _, mine = await harness.http("GET", "/api/recordings", tokens["agent02"])
    assert mine["recordings"] == []
    _, views = await harness.http("GET", f"/api/recordings/{sid}/views", tokens["super01"])
    assert {v["viewer"] for v in views["views"]} == {"super01", "agent01"}  # refused looks are not views


@pytest.mark.parametrize(
    "query,count",
    [
        ("?agent=agent01", 1),
        ("?agent=agent02", 0),
        ("?customer=zhangsan", 1),
        ("?customer=lisi", 0),
        ("?outcome=resolved", 1),
        ("?outcome=dropped", 0),
        (f"?from={time.time() + 3600}", 0),
        ("?to=0", 0),
    ],
)
async def test_recording_filters(harness, query, count):
    await recorded_session(harness)
    _, body = await harness.http("GET", f"/api/recordings{query}", await harness.login("super01"))
    assert len(body["recordings"]) == count


async def test_expired_recordings_are_deleted(harness):
    sid = await recorded_session(harness)
    store = harness.app[RECORDINGS]
    await store.flush()
    assert store.delete_expired() == 0
    assert store.delete_expired(now=time.time() + 91 * 86400) == 1
    assert not store.path(sid).exists()
    _, body = await harness.http("GET", "/api/recordings", await harness.login("super01"))
    assert body["recordings"] == []


async def test_a_guests_recording_is_listed_as_a_guest_not_by_an_id(harness):
    """A guest has no account to name them: the list says so (the consoles put it in their own
    language), never the internal id."""
    agent = await harness.agent("agent01")
    _, guest = await harness.http("POST", "/api/auth/guest")
    customer = await harness.client("guest", token=guest["token"])
    assert (await customer.call("help_request", {"topic": "transfer"}))["ok"]
    offer = await agent.expect("offer")
    assert (await agent.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]
    sid = (await agent.expect("session_started"))["session_id"]
    assert (await customer.call("consent", {"session_id": sid, "accept": True}))["ok"]
    snapshot = {"type": 2, "data": {"text": "转账页面"}, "timestamp": 1}
    assert (await customer.call("mirror", {"session_id": sid, "seq": 1, "events": [snapshot]}))["ok"]
    assert (await agent.call("end_session", {"session_id": sid}))["ok"]
    _, listing = await harness.http("GET", "/api/recordings", await harness.login("super01"))
    row = next(r for r in listing["recordings"] if r["session_id"] == sid)
    assert row["customer_name"] == "未登录客户" and not row["customer_name"].startswith("guest:")
