"""What the signaling service needs from the outside world: live state, records, delivery."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from .domain.center import CallCenter
from .domain.notices import Notice, RecordUpdate

T = TypeVar("T")


class LiveStore(Protocol):
    """Where the live call-center state lives (process memory, or Redis when scaled out).

    `run(command)` applies one command to the state atomically with respect to every other
    command, on this node and on any other sharing the store. A store with optimistic
    concurrency may call `command` more than once (on a fresh copy each time), so commands are
    pure functions of the state: they return their effects instead of performing them."""

    async def run(self, command: Callable[[CallCenter], T]) -> T: ...


class RecordSink(Protocol):
    """The durable record of requests and sessions (SQLite embedded, PostgreSQL scaled out)."""

    def submit(self, updates: Iterable[RecordUpdate]) -> None: ...


class Publisher(Protocol):
    """Delivers notices to users' sockets (on this node or, through the manager, any node)."""

    async def publish(self, notices: Iterable[Notice]) -> None: ...
