"""Embedded live state: one CallCenter in this process's memory."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from signaling.domain.center import CallCenter

T = TypeVar("T")


class MemoryLiveStore:
    def __init__(self, center: CallCenter) -> None:
        self.center = center
        # Commands are synchronous, so the event loop alone serializes them; the lock keeps the
        # contract (one command at a time) explicit.
        self._lock = asyncio.Lock()

    async def run(self, command: Callable[[CallCenter], T]) -> T:
        async with self._lock:
            return command(self.center)
