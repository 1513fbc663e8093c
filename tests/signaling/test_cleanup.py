"""What is kept beside a session (catch-up buffer, replay counters, half-sent chunks, recording
state) is dropped when the session ends: because the command says the session ended (its
effects), not because a session_ended message happened to be sent. The service runs on the
memory store, as embedded; its delivery keeps what it was given."""

from __future__ import annotations

from assist.cluster import LocalCluster
from assist.storage.memory import MemoryLiveStore
from signaling.domain.center import CallCenter
from signaling.domain.model import Edition, Policy, Presence, Role
from signaling.service import Principal, SignalingService

AGENT = Principal("a1", Role.AGENT, "A1", "B1", ("zh",), ())
CUSTOMER = Principal("c1", Role.CUSTOMER, "c1")


class Sent:
    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []

    async def send(self, to: str, message) -> None:
        self.log.append((to, message.event))


class NoRecords:
    def submit(self, updates) -> None:
        pass


async def test_an_ended_session_is_cleaned_up_once_after_its_notices():
    center = CallCenter(Policy())
    sent = Sent()
    service = SignalingService(MemoryLiveStore(center), NoRecords(), sent, LocalCluster("n1"))
    cleaned: list[tuple[str, int]] = []

    async def broken(session_id: str) -> None:
        raise RuntimeError("a Redis hiccup")

    async def forget(session_id: str) -> None:
        cleaned.append((session_id, sum(event == "session_ended" for _, event in sent.log)))

    service.on_session_ended += [broken, forget]  # a failing step neither skips the next nor fails the end
    await service.connected(AGENT)
    await service.set_presence(AGENT, Presence.AVAILABLE)
    await service.connected(CUSTOMER)
    await service.request_help(CUSTOMER, "transfer", Edition.STANDARD, "zh", "/transfer")
    await service.accept(AGENT, center.agents["a1"].offer_id or "", "s1")
    assert not cleaned
    await service.end_session(AGENT, "s1")
    assert cleaned == [("s1", 2)]  # once, when both parties had been told
    await service.wrap_up(AGENT, "s1", "resolved", "")
    assert cleaned == [("s1", 2)]
