"""What a command produces besides the new state: messages to people and lines for the record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..outbound import Outbound

AGENTS = "agents"  # every connected agent
SUPERVISORS = "supervisors"  # every connected supervisor


def user(user_id: str) -> str:
    return f"user:{user_id}"


@dataclass(frozen=True, slots=True)
class Notice:
    """One event for one room: the message is a model of signaling/outbound.py."""

    to: str
    message: Outbound

    @property
    def event(self) -> str:
        return self.message.event

    @property
    def data(self) -> dict[str, Any]:
        """The payload as it goes on the socket (serialised each time it is read)."""
        return self.message.wire()


@dataclass(frozen=True)
class RecordUpdate:
    """An upsert of the durable help-request row, plus an optional timeline entry."""

    request_id: str
    fields: dict = field(default_factory=dict)
    timeline: str | None = None  # event name for the session timeline
    at: float | None = None
    detail: dict | None = None
    key: str | None = None  # unique per update when it travels through a stream (dedup on redelivery)


@dataclass
class Effects:
    notices: list[Notice] = field(default_factory=list)
    records: list[RecordUpdate] = field(default_factory=list)
    queue_changed: bool = False
    pairings: list[float] = field(default_factory=list)  # request → first offer, seconds
    answered: list[float] = field(default_factory=list)  # request → accepted, seconds
    ended: list[str] = field(default_factory=list)  # sessions that ended: what is kept beside them goes

    def notify(self, to: str, message: Outbound) -> None:
        self.notices.append(Notice(to, message))

    def record(
        self, request_id: str, timeline: str | None = None, at: float | None = None, detail: dict | None = None, **fields: Any
    ) -> None:
        self.records.append(RecordUpdate(request_id, fields, timeline, at, detail))
