"""What the signaling service needs from the outside world: live state, records, delivery."""
from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from .domain.center import CallCenter
from .domain.notices import Notice, RecordUpdate


class LiveStore(Protocol):
    """Where the live call-center state lives (process memory, or Redis when scaled out).

    `transaction()` yields the state for one command; everything done inside is atomic with
    respect to every other transaction, on this node and on any other sharing the store."""

    def transaction(self) -> AbstractAsyncContextManager[CallCenter]: ...


class RecordSink(Protocol):
    """The durable record of requests and sessions (SQLite embedded, PostgreSQL scaled out)."""

    def submit(self, updates: Iterable[RecordUpdate]) -> None: ...


class Publisher(Protocol):
    """Delivers notices to users' sockets (on this node or, through the manager, any node)."""

    async def publish(self, notices: Iterable[Notice]) -> None: ...
