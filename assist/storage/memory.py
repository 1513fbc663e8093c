"""Embedded live state: one CallCenter in this process's memory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from signaling.domain.center import CallCenter, Route

T = TypeVar("T")


class MemoryLiveStore:
    version = 0  # only this process changes the state: nothing to notice from elsewhere
    records_in_commit = False  # records go to the record sink, written by the service

    def __init__(self, center: CallCenter) -> None:
        self.center = center
        # Commands are synchronous, so the event loop alone serializes them; the lock keeps the
        # contract (one command at a time) explicit.
        self._lock = asyncio.Lock()

    async def run(self, command: Callable[[CallCenter], T], commutes: bool = False) -> T:
        async with self._lock:  # one process, one copy: nothing to commute with
            return self._settled(command)

    async def tick(self, command: Callable[[CallCenter], T], now: float) -> T | None:
        """The clock runs on every tick here, as it always did: a look costs nothing."""
        async with self._lock:
            return self._settled(command)

    async def read(self, view: Callable[[CallCenter], T]) -> T:
        async with self._lock:
            return self._settled(view)

    def _settled(self, command: Callable[[CallCenter], T]) -> T:
        """Run it, then let the center's indexes take in what it changed (CallCenter.settle)."""
        try:
            return command(self.center)
        finally:
            self.center.settle()

    async def relay(self, route: Callable[[CallCenter], Route], session_id: str, key: str, seq: int) -> Route:
        async with self._lock:
            found = route(self.center)
            self.center.take_seq(session_id, key, seq)
            return found

    async def forget_session(self, session_id: str) -> None:
        """Sequence numbers live in the session itself here, and go with it."""
