"""TURN for real: credentials minted by an Assist server, a relayed WebRTC call in Chromium
through a real coturn, and coturn refusing expired and forged credentials.

The page holds both peers (two RTCPeerConnections with `iceTransportPolicy: "relay"`), so the
only way they can reach each other is through coturn's relay ports.
"""

from __future__ import annotations

import time

from assist.config import IceConfig
from signaling.ice import turn_credential
from tests.browser import WEBRTC_ARGS, chromium

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>TURN</title>
<script src="/t/turn.js"></script></head><body><main>TURN</main></body></html>"""

# Both peers in one page; candidates trickle straight across. Resolves with what happened.
SCRIPT = r"""
window.relayCall = async (iceServers, waitMs) => {
  const config = {iceServers, iceTransportPolicy: "relay"};
  const a = new RTCPeerConnection(config), b = new RTCPeerConnection(config);
  const out = {candidates: [], errors: [], states: [], echoed: null};
  for (const [pc, other, name] of [[a, b, "a"], [b, a, "b"]]) {
    pc.onicecandidate = (e) => {
      if (!e.candidate) return;
      out.candidates.push({peer: name, type: e.candidate.type, address: e.candidate.address});
      other.addIceCandidate(e.candidate).catch(() => {});
    };
    pc.onicecandidateerror = (e) => out.errors.push({peer: name, code: e.errorCode, text: e.errorText, url: e.url});
    pc.onconnectionstatechange = () => out.states.push(`${name}:${pc.connectionState}`);
  }
  const gathered = (pc) => new Promise((ok) => {
    if (pc.iceGatheringState === "complete") return ok();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && ok());
  });
  const connected = new Promise((ok) => {
    a.addEventListener("connectionstatechange", () => a.connectionState === "connected" && ok(true));
    a.addEventListener("connectionstatechange", () => a.connectionState === "failed" && ok(false));
  });
  const channel = a.createDataChannel("ping");
  const opened = new Promise((ok) => { channel.onopen = ok; });
  b.ondatachannel = (e) => { e.channel.onmessage = (m) => e.channel.send("pong:" + m.data); };
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  const timeout = (ms) => new Promise((ok) => setTimeout(() => ok(false), ms));
  await Promise.race([Promise.all([gathered(a), gathered(b)]), timeout(waitMs)]);
  out.gathering = [a.iceGatheringState, b.iceGatheringState];
  // A peer that gathered nothing cannot connect: one more second to see that it does not.
  const both = new Set(out.candidates.map((c) => c.peer)).size === 2;
  out.connected = await Promise.race([connected, timeout(both ? waitMs : 1000)]);
  if (out.connected && await Promise.race([opened.then(() => true), timeout(waitMs)])) {
    const echo = new Promise((ok) => { channel.onmessage = (m) => ok(m.data); });
    channel.send("ping");
    out.echoed = await Promise.race([echo, timeout(waitMs)]);
  }
  // The pair ICE selected: the transport's selectedCandidatePairId (else the nominated, succeeded one).
  const stats = [...(await a.getStats()).values()];
  const byId = Object.fromEntries(stats.map((s) => [s.id, s]));
  const transport = stats.find((s) => s.type === "transport" && s.selectedCandidatePairId);
  const pair = transport ? byId[transport.selectedCandidatePairId]
                         : stats.find((s) => s.type === "candidate-pair" && s.nominated && s.state === "succeeded");
  if (pair) {
    out.pair = {state: pair.state, nominated: pair.nominated,
                local: byId[pair.localCandidateId]?.candidateType,
                remote: byId[pair.remoteCandidateId]?.candidateType,
                relayProtocol: byId[pair.localCandidateId]?.relayProtocol,
                url: byId[pair.localCandidateId]?.url};
  }
  out.connectionState = a.connectionState;
  a.close(); b.close();
  return out;
};
"""


async def relay_calls(harness, *configs: list[dict], wait_ms: int = 6000) -> list[dict]:
    """One call per ICE server list, all at once in one page of a fresh Chromium."""
    async with chromium(*WEBRTC_ARGS) as browser:
        page = await browser.new_page()
        await page.goto(f"{harness.base_url}/t/turn.html")
        return await page.evaluate(
            "([configs, ms]) => Promise.all(configs.map((servers) => relayCall(servers, ms)))", [list(configs), wait_ms]
        )


async def minted(start_server, coturn) -> tuple[object, list[dict]]:
    """A server configured with coturn's URL and secret; the ICE servers a customer waiting for
    help receives, the way the SDK gets them (`sync` over socket.io)."""
    harness = await start_server(
        pages={"/t/turn.html": PAGE, "/t/turn.js": SCRIPT},
        voice=False,
        ice=IceConfig(turn_urls=(coturn.url,), turn_secret=coturn.secret, turn_ttl_s=600),
    )
    await harness.agent("agent01", available=False)  # someone on shift, so the request waits
    assert (await harness.clients[-1].call("agent_state", {"state": "away"}))["ok"]
    client = await harness.client("zhangsan")
    # TURN credentials go to a party of a live request or session only.
    assert (
        await client.call("help_request", {"topic": "transfer", "edition": "standard", "language": "zh", "page": "/transfer"})
    )["ok"]
    servers = (await client.call("sync", {}))["ice_servers"]
    await client.close()
    return harness, servers


def turn_entry(servers: list[dict]) -> dict:
    [turn] = [s for s in servers if "username" in s]
    return turn


async def test_relayed_call_with_minted_credentials(start_server, coturn):
    harness, servers = await minted(start_server, coturn)
    turn = turn_entry(servers)
    assert turn["urls"] == [coturn.url]
    expiry, user = turn["username"].split(":")
    assert user == "zhangsan" and 590 <= int(expiry) - time.time() <= 600
    assert coturn.secret not in str(servers)

    [result] = await relay_calls(harness, servers)

    assert result["connected"] is True, result
    assert result["echoed"] == "pong:ping", result
    assert result["candidates"] and {c["type"] for c in result["candidates"]} == {"relay"}, result
    assert result["pair"]["state"] == "succeeded" and result["pair"]["nominated"], result
    assert result["pair"]["local"] == "relay" and result["pair"]["remote"] == "relay", result
    assert result["pair"]["url"] and result["pair"]["url"].startswith(f"turn:127.0.0.1:{coturn.port}"), result
    assert not result["errors"], result
    # coturn allocated for exactly this minted username and relayed the channel's traffic.
    assert coturn.wait_for_log(rf"user <{turn['username']}>: incoming packet ALLOCATE processed, success"), coturn.log()[-3000:]
    assert not coturn.refused(turn["username"])


async def test_expired_credentials_are_refused(start_server, coturn):
    harness, servers = await minted(start_server, coturn)
    # Same secret and user, but minted so that the expiry is already a minute past.
    username, credential = turn_credential(coturn.secret, "zhangsan", time.time() - 660, 600)
    assert int(username.split(":")[0]) < time.time()
    expired = [{"urls": turn_entry(servers)["urls"], "username": username, "credential": credential}]

    [result] = await relay_calls(harness, expired)

    assert_refused(result, coturn, username)


async def test_forged_credentials_are_refused(start_server, coturn):
    harness, servers = await minted(start_server, coturn)
    turn = turn_entry(servers)
    expiry, user = turn["username"].split(":")
    forgeries = {
        # A valid-looking credential made with another secret.
        "wrong secret": turn_credential("not-" + coturn.secret, user, int(expiry) - 600, 600),
        # The server's credential, but the username edited to last a year longer.
        "tampered expiry": (f"{int(expiry) + 365 * 86400}:{user}", turn["credential"]),
        # The server's credential presented for another customer.
        "tampered user": (f"{expiry}:lisi", turn["credential"]),
    }
    results = await relay_calls(
        harness,
        *(
            [{"urls": turn["urls"], "username": username, "credential": credential}]
            for username, credential in forgeries.values()
        ),
    )
    for (name, (username, _)), result in zip(forgeries.items(), results, strict=True):
        assert_refused(result, coturn, username, name)


def assert_refused(result: dict, coturn, username: str, what: str = "") -> None:
    assert not result["connected"] and result["echoed"] is None, (what, result)
    assert not [c for c in result["candidates"] if c["type"] == "relay"], (what, result)
    assert "pair" not in result or result["pair"]["state"] != "succeeded", (what, result)
    assert result["errors"] and {e["code"] for e in result["errors"]} == {401}, (what, result)
    assert coturn.wait_for_log(rf"user <{username}>: incoming packet message processed, error 401"), (what, coturn.log()[-3000:])
    assert not coturn.allocated(username), (what, coturn.log()[-3000:])
