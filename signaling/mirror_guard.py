"""What the server does to a mirror batch before anyone sees it: join, scan, bound.

The SDK sends a batch too large for one message (a full snapshot of a big page) as string
pieces. The server joins them here before relaying anything, so the last-line scan
(signaling/scrub.py) reads the whole batch — a number split across two pieces cannot slip
through — and the agent receives one ordinary batch. A batch never completed is dropped: one
open batch per session, at most `max_bytes`, completed within `max_age_s`.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .domain.errors import DomainError


class ChunkError(DomainError):
    pass


@dataclass(frozen=True)
class Joined:
    """A chunked batch, complete but not parsed yet: parsing a big one (and scanning it) is left
    to a thread by the caller, so the event loop serves everyone else meanwhile."""

    text: str
    size: int  # bytes

    def events(self) -> list[Any]:
        try:
            joined = json.loads(self.text)
        except (ValueError, RecursionError):
            joined = None
        if not isinstance(joined, list):
            raise ChunkError("bad_payload", "The joined chunks are not a list of events.")
        return joined


@dataclass
class _Open:
    chunk_id: str
    total: int
    started: float
    parts: list[str] = field(default_factory=list)
    size: int = 0


class ChunkAssembler:
    def __init__(self, max_bytes: int = 16_000_000, max_age_s: float = 30.0, max_sessions: int = 2000) -> None:
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.max_sessions = max_sessions
        self.open: OrderedDict[str, _Open] = OrderedDict()
        self.dropped = 0  # batches given up on (too big, too slow, out of order, superseded)

    def feed(self, session_id: str, events: list[Any], now: float) -> list[Any] | Joined | None:
        """The events to relay for this batch: as they are, the pieces joined once the last one
        arrives (to be parsed: Joined.events), or None while a chunked batch is still incomplete.
        Refuses malformed pieces."""
        self._expire(now)
        pieces = [e for e in events if isinstance(e, dict) and "assistChunk" in e]
        if not pieces:
            return events
        if len(events) != 1:
            raise ChunkError("bad_payload", "A chunk travels alone in its batch.")
        piece = pieces[0]["assistChunk"]
        if not (
            isinstance(piece, dict)
            and isinstance(piece.get("id"), str)
            and 0 < len(piece["id"]) <= 64
            and isinstance(piece.get("index"), int)
            and isinstance(piece.get("total"), int)
            and 0 <= piece["index"] < piece["total"] <= 10_000
            and isinstance(piece.get("data"), str)
        ):
            raise ChunkError("bad_payload", "A chunk needs id, index < total and string data.")
        current = self.open.get(session_id)
        if piece["index"] == 0:
            if self.open.pop(session_id, None) is not None:
                self.dropped += 1  # superseded by a new batch: the old one can never complete now
            current = self.open[session_id] = _Open(piece["id"], piece["total"], now)  # oldest first
            while len(self.open) > self.max_sessions:
                self.open.popitem(last=False)
                self.dropped += 1
        elif (
            current is None
            or current.chunk_id != piece["id"]
            or piece["index"] != len(current.parts)
            or piece["total"] != current.total
        ):
            self._drop(session_id)
            raise ChunkError("bad_payload", "Chunk out of order; the batch was dropped.")
        current.parts.append(piece["data"])
        current.size += len(piece["data"].encode())
        if current.size > self.max_bytes:
            self._drop(session_id)
            raise ChunkError("payload_too_large", f"A chunked batch may not exceed {self.max_bytes} bytes.")
        if len(current.parts) < current.total:
            return None
        del self.open[session_id]
        return Joined("".join(current.parts), current.size)

    def forget(self, session_id: str) -> None:
        self.open.pop(session_id, None)

    def _drop(self, session_id: str) -> None:
        if self.open.pop(session_id, None) is not None:
            self.dropped += 1

    def _expire(self, now: float) -> None:
        while self.open and now - next(iter(self.open.values())).started > self.max_age_s:
            self.open.popitem(last=False)
            self.dropped += 1
