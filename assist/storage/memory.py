"""Embedded live state: one CallCenter in this process's memory."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from signaling.domain.center import CallCenter


class MemoryLiveStore:
    def __init__(self, center: CallCenter) -> None:
        self.center = center
        # Commands never await inside a transaction today, but the lock keeps the contract
        # (one command at a time) true if one ever does.
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[CallCenter]:
        async with self._lock:
            yield self.center
