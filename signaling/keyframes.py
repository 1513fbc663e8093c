"""The supervisors' catch-up buffer: each live session's mirror since its last full snapshot.

Transport-free, so the socket.io adapter (signaling.sio) and the buffer shared in Redis
(assist.storage.redis_keyframes) both build on it without one importing the other.
"""

from __future__ import annotations

from collections import OrderedDict


def starts_recording(payload: dict) -> bool:
    """Whether a mirror batch begins a new rrweb recording (a full snapshot follows)."""
    first = (payload.get("events") or [None])[0]
    if not isinstance(first, dict):
        return False
    chunk = first.get("assistChunk")
    if isinstance(chunk, dict):  # a snapshot sent in pieces starts with its Meta event
        return chunk.get("index") == 0 and str(chunk.get("data", "")).startswith('[{"type":4')
    return first.get("type") == 4  # rrweb Meta: a new recording begins


class Keyframes:
    """Each live session's mirror since its last full snapshot, so a supervisor who joins
    mid-session sees the page at once, without asking the customer's device for anything.
    In this process's memory; assist.storage.redis_keyframes shares it between nodes."""

    MAX_SESSIONS = 500
    MAX_BYTES = 2_000_000  # past this the buffer is dropped; a joiner then waits for the next snapshot

    def __init__(self) -> None:
        self.buffers: OrderedDict[str, tuple[list[dict], int]] = OrderedDict()

    async def add(self, session_id: str, payload: dict, size: int) -> None:
        if starts_recording(payload):
            self.buffers[session_id] = ([], 0)
        if session_id not in self.buffers:
            return
        batches, total = self.buffers.pop(session_id)
        if total + size > self.MAX_BYTES:
            return
        batches.append(payload)  # in place: a copy per batch would cost the whole buffer each time
        self.buffers[session_id] = (batches, total + size)
        while len(self.buffers) > self.MAX_SESSIONS:
            self.buffers.popitem(last=False)

    async def get(self, session_id: str) -> list[dict]:
        return list(self.buffers.get(session_id, ([], 0))[0])

    async def forget(self, session_id: str) -> None:
        self.buffers.pop(session_id, None)
