"""Chaos under live load: three nodes behind nginx, sessions relaying both ways and supervisors
whispering, while Redis is restarted (twice) and the clock's leader is killed (kill -9); then
every session is ended while Redis restarts once more.

The rule (issue 16): an acknowledgement is the truth. Every relay and notice acknowledged `ok`
reaches its receiver exactly once, unless the receiver's connection was down when it was sent or
dropped before it could arrive (the receiver reconnects and resynchronises with `sync`, as the SDK
and the consoles do). Never twice. python-socketio's pub/sub manager fails this: what is
acknowledged while its subscription reconnects after a Redis restart never arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field

from tests.conftest import Client
from tests.scale.deployment import Deployment, leader_node

HELP = {"topic": "transfer", "edition": "standard", "language": "zh", "page": "transfer"}
PAIRS = 3
SETTLE_S = 30.0  # how long the receivers are given to get what was acknowledged (not a timing check)


@dataclass
class Party:
    """A client, and when (by its own clock) it lost its connection and got it back."""

    client: Client
    drops: list[float] = field(default_factory=list)
    connects: list[float] = field(default_factory=list)
    resyncs: set[asyncio.Task] = field(default_factory=set)

    def watch(self) -> None:
        async def resync() -> None:
            with contextlib.suppress(Exception):  # dropped again: the next connect syncs
                await self.client.call("sync", {})  # as the SDK does on every (re)connect

        def connected() -> None:
            self.connects.append(time.monotonic())
            task = asyncio.get_running_loop().create_task(resync())
            self.resyncs.add(task)
            task.add_done_callback(self.resyncs.discard)

        def disconnected(*reason) -> None:
            self.drops.append(time.monotonic())

        self.client.sio.on("connect", connected)
        self.client.sio.on("disconnect", disconnected)


@dataclass
class Sent:
    """Acknowledged messages to one party: key → when the call that sent it was made."""

    to: Party
    event: str
    at: dict[object, float] = field(default_factory=dict)

    def received(self) -> dict[object, int]:
        counts: dict[object, int] = {}
        for name, data in self.to.client.events:
            if name == self.event:
                counts[_key(name, data)] = counts.get(_key(name, data), 0) + 1
        return counts

    def missing(self) -> list:
        got = self.received()
        delivered = sorted(self.at[k] for k in got if k in self.at)
        return [k for k, at in self.at.items() if not got.get(k) and not self._lost_with_the_link(at, delivered)]

    def _lost_with_the_link(self, sent_at: float, delivered: list[float]) -> bool:
        """Excused only where the receiver's connection was down: sent while it was away (it
        resyncs on its reconnect), or the tail before a drop, with nothing sent after it
        arriving before the drop (a message lost in the middle of a working link never is)."""
        party = self.to
        away = any(drop <= sent_at and not any(drop < back <= sent_at for back in party.connects) for drop in party.drops)
        return away or any(drop > sent_at and not any(sent_at < at < drop for at in delivered) for drop in party.drops)

    def explain(self, key: object) -> str:
        return (
            f"{key} sent {self.at[key]:.3f}, drops {[round(d, 3) for d in self.to.drops]}, "
            f"connects {[round(c, 3) for c in self.to.connects]}"
        )

    def excused(self) -> int:
        got = self.received()
        return sum(1 for k in self.at if not got.get(k)) - len(self.missing())

    def twice(self) -> list:
        return [k for k, n in self.received().items() if n > 1]


def _key(event: str, data) -> object:
    if event == "whisper":
        return data["text"]
    if event == "session_ended":
        return data["session_id"]
    return (data["session_id"], data["seq"])


async def _call(party: Party, event: str, payload: dict) -> dict | None:
    """The acknowledgement, or None when there was none (connection lost, node killed)."""
    try:
        return await party.client.call(event, payload, timeout=5)
    except Exception:  # noqa: BLE001 (TimeoutError, BadNamespaceError while reconnecting)
        return None


async def _sessions(d: Deployment):
    agents = [f"ca{i}" for i in range(PAIRS)]
    customers = [f"cc{i}" for i in range(PAIRS)]
    supervisors = [f"cs{i}" for i in range(PAIRS)]
    d.add_users("agent", agents)
    d.add_users("customer", customers)
    d.add_users("supervisor", supervisors)
    pairs = []
    for agent_name, customer_name, supervisor_name in zip(agents, customers, supervisors, strict=True):
        agent = Party(await d.agent(agent_name))
        customer = Party(await d.client(customer_name))
        supervisor = Party(await d.client(supervisor_name))
        assert (await customer.client.call("help_request", HELP))["ok"]
        offer = await agent.client.expect("offer")
        assert (await agent.client.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]
        sid = (await customer.client.expect("session_started"))["session_id"]
        assert (await customer.client.call("consent", {"session_id": sid, "accept": True}))["ok"]
        assert (await supervisor.client.call("supervisor_join", {"session_id": sid}))["ok"]
        for party in (agent, customer, supervisor):
            party.watch()
        pairs.append((sid, agent, customer, supervisor))
    return pairs


async def _load(sid: str, agent: Party, customer: Party, supervisor: Party, stop: asyncio.Event, ledger: list[Sent]) -> None:
    mirrors, pointers, whispers = Sent(agent, "mirror"), Sent(customer, "annotation"), Sent(agent, "whisper")
    ledger += [mirrors, pointers, whispers]

    async def mirror() -> None:
        for seq in itertools.count(1):  # a fresh seq per attempt: an unacknowledged one may have landed
            if stop.is_set():
                return
            at = time.monotonic()
            answer = await _call(
                customer, "mirror", {"session_id": sid, "seq": seq, "events": [{"type": 3, "data": {"seq": seq}}]}
            )
            if answer and answer["ok"]:
                mirrors.at[(sid, seq)] = at
            await asyncio.sleep(0.05)

    async def pointer() -> None:
        for seq in itertools.count(1):
            if stop.is_set():
                return
            at = time.monotonic()
            answer = await _call(
                agent, "annotation", {"session_id": sid, "seq": seq, "kind": "pointer", "point": {"x": 0.5, "y": 0.5}}
            )
            if answer and answer["ok"]:
                pointers.at[(sid, seq)] = at
            await asyncio.sleep(0.05)

    async def whisper() -> None:
        for n in itertools.count(1):
            if stop.is_set():
                return
            text, at = f"{sid}/{n}", time.monotonic()
            answer = await _call(supervisor, "whisper", {"session_id": sid, "text": text})
            if answer and answer["ok"]:
                whispers.at[text] = at
            elif answer and answer["error"]["code"] == "not_found":  # left while away: join again
                await _call(supervisor, "supervisor_join", {"session_id": sid})
            await asyncio.sleep(0.1)

    await asyncio.gather(mirror(), pointer(), whisper())


async def _restart_redis(redis_server) -> None:
    redis_server.stop()
    await asyncio.sleep(0.12)
    redis_server.start()


async def _end(sid: str, agent: Party, customer: Party, ledger: list[Sent]) -> None:
    """The agent ends the session, trying again while refused (Redis away) or unanswered."""
    ended = Sent(customer, "session_ended")
    ledger.append(ended)
    for _ in range(100):
        at = time.monotonic()
        answer = await _call(agent, "end_session", {"session_id": sid})
        if answer and answer["ok"]:
            ended.at[sid] = at
            return
        if answer and answer["error"]["code"] == "not_found":
            return  # an attempt without an answer ended it: nothing acknowledged to check
        await asyncio.sleep(0.1)
    raise AssertionError(f"{sid} could not be ended")


async def _settled(ledger: list[Sent], parties: list[Party]) -> None:
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        if all(p.client.sio.connected for p in parties) and not any(s.missing() for s in ledger):
            return
        await asyncio.sleep(0.2)


async def test_acknowledged_means_delivered_through_redis_restarts_and_a_node_kill(deployment, redis_server):
    d = await deployment(3)
    pairs = await _sessions(d)
    parties = [p for _, *three in pairs for p in three]
    ledger: list[Sent] = []
    stop = asyncio.Event()
    load = asyncio.gather(*(_load(*pair, stop, ledger) for pair in pairs))

    await asyncio.sleep(1.5)
    await _restart_redis(redis_server)
    await asyncio.sleep(3.0)
    leader_node(d).kill()  # the clock's leader, with its share of the sockets
    await asyncio.sleep(4.0)
    await _restart_redis(redis_server)
    await asyncio.sleep(3.0)
    stop.set()
    await load
    # Every session is ended while Redis restarts: each `ok` must reach the customer.
    await asyncio.gather(_restart_redis(redis_server), *(_end(sid, a, c, ledger) for sid, a, c, _ in pairs))
    await _settled(ledger, parties)

    acknowledged = {s.event: 0 for s in ledger}
    for sent in ledger:
        acknowledged[sent.event] += len(sent.at)
    excused = sum(s.excused() for s in ledger)
    print(f"\nacknowledged {acknowledged}; {excused} of them lost with their receiver's connection (resynced)")
    assert all(acknowledged[e] for e in ("mirror", "annotation", "whisper")), acknowledged
    assert all(p.client.sio.connected for p in parties), "a client did not come back"
    lost = {f"{s.to.client.username} {s.event}": [s.explain(k) for k in s.missing()] for s in ledger if s.missing()}
    assert not lost, f"acknowledged but never delivered to a connected receiver: {lost}"
    doubled = {f"{s.to.client.username} {s.event}": s.twice() for s in ledger if s.twice()}
    assert not doubled, f"delivered twice: {doubled}"
