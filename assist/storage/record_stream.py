"""Scaled out, record updates reach PostgreSQL through a Redis stream (an outbox).

The live store appends a command's record updates to the stream in the same atomic step as the
state change (redis_live.COMMIT), so what was decided is on record even if the node that decided
it is killed a microsecond later. Every node runs a pump: a member of one consumer group that
reads entries, hands them to the record writer (SqlRecords, which keeps them through a database
outage), and acknowledges them only once they are committed. Entries a dead node had read but
not acknowledged are claimed by another node after a while (XAUTOCLAIM) and written again; the
stream entry id travels as the update's key, so a timeline entry is still written once.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, cast

import structlog
from redis.exceptions import ResponseError

from signaling.domain.notices import RecordUpdate
from signaling.tasks import cancel_and_wait

from ..redis_client import AsyncRedis

if TYPE_CHECKING:
    from .sql import SqlRecords

log = structlog.get_logger("record_stream")

GROUP = "writers"
BATCH = 500
CLAIM_IDLE_MS = 15_000  # unacknowledged this long: its reader is presumed dead
CLAIM_EVERY_S = 5.0
LINGER_S = 0.2  # after a batch that was not full, before reading the next


def encode_update(update: RecordUpdate) -> str:
    at = update.at if update.at is not None else time.time()
    return json.dumps(
        {"r": update.request_id, "f": update.fields, "t": update.timeline, "a": at, "d": update.detail},
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


def decode_update(entry_id: str, raw: str) -> RecordUpdate:
    data = json.loads(raw)
    return RecordUpdate(data["r"], data["f"], data["t"], data["a"], data["d"], key=entry_id)


class RecordPump:
    def __init__(self, redis: AsyncRedis, records: SqlRecords, consumer: str, prefix: str = "assist:") -> None:
        self.redis = redis
        self.records = records  # SqlRecords: submit() then flush() once they are committed
        self.consumer = consumer
        self.key = f"{prefix}records"
        self._task: asyncio.Task | None = None
        self._claimed_at = 0.0
        self._healthy = True

    def start(self) -> None:
        self._task = asyncio.create_task(self._pump_forever(), name="record-pump")

    async def stop(self) -> None:
        if self._task:
            await cancel_and_wait(self._task)

    async def settle(self) -> None:
        """Until every entry in the stream now is committed (by this node's pump or another's:
        entries leave the stream once written). Readers bound the wait."""
        newest = await self.redis.xrevrange(self.key, count=1)
        target = newest[0][0] if newest else None
        if target is None:
            return
        while await self.redis.xrange(self.key, "-", target, count=1):
            await asyncio.sleep(0.01)

    async def _ensure_group(self) -> None:
        try:  # from the stream's start: entries added before any node was up are not skipped
            await self.redis.xgroup_create(self.key, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _pump_forever(self) -> None:
        while True:
            try:
                await self._ensure_group()
                while True:
                    written = await self.pump_once(block_ms=1000)
                    if not self._healthy:
                        log.info("record_stream_back")
                        self._healthy = True
                    if 0 < written < BATCH:
                        # Every node's pump waits on the stream, and Redis hands each new entry to
                        # a waiting one at once: three nodes wrote one or two updates per database
                        # transaction, three times as many transactions as one node. Lingering
                        # lets the next batch gather (a record is on disk a moment later; nobody
                        # waits on it). A full batch means a backlog: read on at once.
                        await asyncio.sleep(LINGER_S)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (Redis away: the entries wait in the stream; retry)
                if self._healthy:
                    log.warning("record_stream_unreachable", error=str(exc))
                self._healthy = False
                await asyncio.sleep(1.0)

    async def pump_once(self, block_ms: int = 0) -> int:
        entries: list[tuple[bytes, dict]] = []
        if time.monotonic() - self._claimed_at >= CLAIM_EVERY_S:
            self._claimed_at = time.monotonic()
            # Our own unacknowledged entries (a database outage interrupted us) and dead readers'.
            answer = await self.redis.xautoclaim(self.key, GROUP, self.consumer, CLAIM_IDLE_MS, "0-0", count=BATCH)
            entries += [e for e in answer[1] if e[1]]
        if not entries:
            read = await self.redis.xreadgroup(GROUP, self.consumer, {self.key: ">"}, count=BATCH, block=block_ms or None)
            # RESP2, the protocol the clients speak: [[stream, [(id, fields), ...]]]
            entries = cast(list, read)[0][1] if read else []
        if not entries:
            return 0
        ids = [entry_id for entry_id, _ in entries]
        updates = [decode_update(entry_id.decode(), fields[b"u"].decode()) for entry_id, fields in entries]
        self.records.submit(updates)
        await self.records.flush()  # committed (the writer keeps them through an outage)
        await self.redis.xack(self.key, GROUP, *ids)
        await self.redis.xdel(self.key, *ids)
        return len(ids)
