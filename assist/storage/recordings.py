"""Session recordings: every relayed mirror batch and annotation, stored as it arrives.

Blobs are append-only gzip files on local disk, one per session (each flush appends one gzip
member, and gzip readers read concatenated members as one stream); the index — who, when,
how big, until when it is kept — is a table in the records database, next to the viewing log.
Writes happen on one background thread every `flush_s`, so a crash loses at most that much.
"""
from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa
import structlog

from .sql import metadata

log = structlog.get_logger("recordings")

recordings = sa.Table(
    "recordings", metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("request_id", sa.String(64), index=True),
    sa.Column("customer_id", sa.String(64), index=True),
    # Everyone who handled it, as ",agent01,agent02," so "is this agent's" is one portable LIKE.
    sa.Column("agent_ids", sa.String(400), nullable=False, default=","),
    sa.Column("started_at", sa.Float, index=True),
    sa.Column("last_at", sa.Float),
    sa.Column("events", sa.Integer, nullable=False, default=0),
    sa.Column("bytes", sa.Integer, nullable=False, default=0),
    sa.Column("expires_at", sa.Float, index=True),
)

recording_views = sa.Table(
    "recording_views", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.String(64), index=True, nullable=False),
    sa.Column("viewer", sa.String(64), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("what", sa.String(16), nullable=False),  # "meta" or "events"
)


class RecordingStore:
    def __init__(self, engine: sa.Engine, directory: Path, retention_days: float, flush_s: float = 0.5) -> None:
        self.engine = engine
        self.directory = directory
        self.retention_s = retention_days * 86400
        self.flush_s = flush_s
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recordings")
        self._pending: dict[str, list[dict]] = {}
        self._meta: dict[str, dict] = {}
        self._task: asyncio.Task | None = None
        self._flushing = asyncio.Lock()

    def path(self, session_id: str) -> Path:
        return self.directory / session_id[:2] / f"{session_id}.ndjson.gz"

    # ------------------------------------------------------------------ writing
    def append(self, session_id: str, kind: str, data: dict, *, request_id: str = "", customer_id: str = "",
               agent_id: str = "") -> None:
        """Queue one relayed message (kind: mirror | annotation | mark) for the session's recording."""
        self._pending.setdefault(session_id, []).append({"t": time.time(), "kind": kind, "data": data})
        meta = self._meta.setdefault(session_id, {"request_id": request_id, "customer_id": customer_id, "agents": []})
        if agent_id and agent_id not in meta["agents"]:
            meta["agents"].append(agent_id)

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._task = asyncio.create_task(self._flush_forever(), name="recordings-writer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.flush()
        self._io.shutdown(wait=True)

    async def flush(self) -> None:
        """Write everything appended so far; returns when it is on disk (readers call this)."""
        async with self._flushing:  # so a reader also waits for a write already under way
            batch, self._pending = self._pending, {}
            meta = {sid: self._meta.pop(sid, {}) for sid in batch}  # re-sent with every append
            if batch:
                await asyncio.get_running_loop().run_in_executor(self._io, self._write, batch, meta)

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_s)
            try:
                await self.flush()
            except Exception:
                log.exception("recording_flush_failed")

    def _write(self, batch: dict[str, list[dict]], meta: dict[str, dict]) -> None:
        now = time.time()
        with self.engine.begin() as conn:
            for session_id, items in batch.items():
                path = self.path(session_id)
                path.parent.mkdir(parents=True, exist_ok=True)
                lines = "".join(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n" for item in items)
                blob = gzip.compress(lines.encode(), compresslevel=6)
                with open(path, "ab") as f:
                    f.write(blob)
                info = meta.get(session_id, {})
                row = conn.execute(sa.select(recordings.c.agent_ids)
                                   .where(recordings.c.session_id == session_id)).first()
                agents = _split(row.agent_ids) if row else []
                agents += [a for a in info.get("agents", []) if a not in agents]
                if row:
                    conn.execute(recordings.update().where(recordings.c.session_id == session_id).values(
                        last_at=items[-1]["t"], events=recordings.c.events + len(items),
                        bytes=recordings.c.bytes + len(blob), agent_ids=_joined(agents)))
                else:
                    conn.execute(recordings.insert().values(
                        session_id=session_id, request_id=info.get("request_id", ""),
                        customer_id=info.get("customer_id", ""), agent_ids=_joined(agents),
                        started_at=items[0]["t"], last_at=items[-1]["t"], events=len(items),
                        bytes=len(blob), expires_at=now + self.retention_s))

    # ------------------------------------------------------------------ reading
    def read(self, session_id: str) -> Iterator[dict]:
        path = self.path(session_id)
        if not path.exists():
            return iter(())
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return iter([json.loads(line) for line in f])

    def delete_expired(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            expired = [r.session_id for r in conn.execute(
                sa.select(recordings.c.session_id).where(recordings.c.expires_at < now))]
            for session_id in expired:
                self.path(session_id).unlink(missing_ok=True)
            if expired:
                conn.execute(recordings.delete().where(recordings.c.session_id.in_(expired)))
        return len(expired)


def _joined(agents: list[str]) -> str:
    return "," + "".join(f"{a}," for a in agents)


def _split(joined: str) -> list[str]:
    return [a for a in joined.split(",") if a]
