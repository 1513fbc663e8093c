"""Session recordings: every relayed mirror batch and annotation, stored as it arrives.

Blobs are append-only gzip files on local disk, one per session (each flush appends one gzip
member, and gzip readers read concatenated members as one stream); the index — who, when,
how big, until when it is kept — is a table in the records database, next to the viewing log.
Writes happen on one background thread every `flush_s`, so a crash loses at most that much.

The blob is appended first; the index row is then one atomic upsert that adds to its counters,
because several nodes may append to one session's recording. If the database is unreachable the
index changes wait (summed per session) and go with a later flush; the blobs are already safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa
import structlog

from . import upsert
from .sql import metadata, unreachable

log = structlog.get_logger("recordings")
AUDIO_GLOB = "audio-*.ogg"  # the call's audio segments (storage.call_audio), by start time in ms


def audio_dir(directory: Path, session_id: str) -> Path:
    return directory / session_id[:2] / session_id


def audio_segments(directory: Path, session_id: str) -> list[tuple[float, Path]]:
    """(start time, file) of each audio segment of the session, in order."""
    folder = audio_dir(directory, session_id)
    found = folder.glob(AUDIO_GLOB) if folder.is_dir() else []
    return sorted((int(p.stem.split("-", 1)[1]) / 1000, p) for p in found)


recordings = sa.Table(
    "recordings",
    metadata,
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
    "recording_views",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.String(64), index=True, nullable=False),
    sa.Column("viewer", sa.String(64), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("what", sa.String(16), nullable=False),  # "meta" or "events"
)


class RecordingStore:
    CAPPED = "capped"  # the mark left where a recording reached its size cap

    def __init__(
        self,
        engine: sa.Engine,
        directory: Path,
        retention_days: float,
        flush_s: float = 0.5,
        node: str = "",
        max_bytes: int = 50_000_000,
    ) -> None:
        self.engine = engine
        self.directory = directory
        # Scaled out, the nodes share the directory and each appends to its own segment of a
        # session (a killed node's half-written tail then spoils nothing but its own last flush).
        self.node = node
        self.retention_s = retention_days * 86400
        self.flush_s = flush_s
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recordings")
        self._pending: dict[str, list[dict]] = {}
        self._meta: dict[str, dict] = {}
        self._task: asyncio.Task | None = None
        self._flushing = asyncio.Lock()
        # Index changes not yet in the database (only touched on the writer thread).
        self._unindexed: dict[str, dict] = {}
        self._index_down = False  # logged once per outage
        # Bytes relayed into each live session's recording by this process, against max_bytes:
        # past it the recording stops with a mark (a flood cannot fill the disk).
        self.max_bytes = max_bytes
        self._sizes: dict[str, int] = {}

    def path(self, session_id: str) -> Path:
        """The session's file written by a single process (embedded mode, and older recordings)."""
        return self.directory / session_id[:2] / f"{session_id}.ndjson.gz"

    def segment(self, session_id: str) -> Path:
        """Where this process appends the session's events."""
        if not self.node:
            return self.path(session_id)
        return self.directory / session_id[:2] / session_id / f"{self.node}.ndjson.gz"

    def files(self, session_id: str) -> list[Path]:
        folder = self.directory / session_id[:2] / session_id
        segments = sorted(folder.glob("*.ndjson.gz")) if folder.is_dir() else []
        return [p for p in [self.path(session_id), *segments] if p.exists()]

    # ------------------------------------------------------------------ writing
    def append(
        self,
        session_id: str,
        kind: str,
        data: dict,
        *,
        request_id: str = "",
        customer_id: str = "",
        agent_id: str = "",
        size: int = 0,
    ) -> None:
        """Queue one relayed message (kind: mirror | annotation | mark) for the session's recording."""
        total = self._sizes.get(session_id, 0)
        if total > self.max_bytes:
            return
        self._sizes[session_id] = total = total + size
        if total > self.max_bytes:
            log.warning("recording_capped", session=session_id, max_bytes=self.max_bytes)
            kind, data = "mark", {"mark": self.CAPPED, "max_bytes": self.max_bytes}
        self._pending.setdefault(session_id, []).append({"t": time.time(), "kind": kind, "data": data})
        meta = self._meta.setdefault(session_id, {"request_id": request_id, "customer_id": customer_id, "agents": []})
        if agent_id and agent_id not in meta["agents"]:
            meta["agents"].append(agent_id)

    async def forget(self, session_id: str) -> None:
        """The session ended: its size no longer needs counting."""
        self._sizes.pop(session_id, None)

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._task = asyncio.create_task(self._flush_forever(), name="recordings-writer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.flush()
        self._io.shutdown(wait=True)
        if self._unindexed:  # the blobs are on disk; only their index rows could not be written
            log.error("recording_index_lost_at_shutdown", sessions=sorted(self._unindexed))

    async def flush(self) -> None:
        """Write everything appended so far; returns when it is on disk (readers call this)."""
        async with self._flushing:  # so a reader also waits for a write already under way
            batch, self._pending = self._pending, {}
            meta = {sid: self._meta.pop(sid, {}) for sid in batch}  # re-sent with every append
            if batch or self._unindexed:  # the latter: index changes waiting out an outage
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
        for session_id, items in batch.items():
            path = self.segment(session_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            lines = "".join(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n" for item in items)
            blob = gzip.compress(lines.encode(), compresslevel=6)
            with open(path, "ab") as f:
                f.write(blob)
            info = meta.get(session_id, {})
            change = self._unindexed.setdefault(
                session_id,
                {
                    "request_id": "",
                    "customer_id": "",
                    "agents": [],
                    "started_at": items[0]["t"],
                    "last_at": items[0]["t"],
                    "events": 0,
                    "bytes": 0,
                    "expires_at": now + self.retention_s,
                },
            )
            change["request_id"] = change["request_id"] or info.get("request_id", "")
            change["customer_id"] = change["customer_id"] or info.get("customer_id", "")
            change["agents"] += [a for a in info.get("agents", []) if a not in change["agents"]]
            change["last_at"] = max(change["last_at"], items[-1]["t"])
            change["events"] += len(items)
            change["bytes"] += len(blob)
        self._index()

    def _index(self) -> None:
        """Apply the pending index changes; while the database is away they stay for later."""
        if not self._unindexed:
            return
        dialect = self.engine.dialect.name
        try:
            with self.engine.begin() as conn:
                # In session-id order: two nodes' flushes lock shared rows in one order (no deadlock).
                for session_id, change in sorted(self._unindexed.items()):
                    conn.execute(_index_upsert(dialect, session_id, change))
        except sa.exc.SQLAlchemyError as exc:
            if not unreachable(exc):
                raise
            if not self._index_down:
                self._index_down = True
                log.warning(
                    "recording_index_deferred", sessions=len(self._unindexed), error=str(exc).strip().splitlines()[0][:200]
                )
            return
        if self._index_down:
            self._index_down = False
            log.warning("recording_index_caught_up", sessions=len(self._unindexed))
        self._unindexed.clear()

    # ------------------------------------------------------------------ reading
    def read(self, session_id: str) -> Iterator[dict]:
        """Every event of the session, from every node's segment, in time order."""
        events = [
            json.loads(line)
            for path in self.files(session_id)
            for line in _members(path.read_bytes()).splitlines()
            if line.strip()
        ]
        events.sort(key=lambda e: e["t"])  # stable: one node's events keep their order
        return iter(events)

    def delete_expired(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            expired = [
                r.session_id for r in conn.execute(sa.select(recordings.c.session_id).where(recordings.c.expires_at < now))
            ]
            for session_id in expired:
                for path in [*self.files(session_id), *(p for _, p in audio_segments(self.directory, session_id))]:
                    path.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    (self.directory / session_id[:2] / session_id).rmdir()
            if expired:
                conn.execute(recordings.delete().where(recordings.c.session_id.in_(expired)))
        return len(expired)


def _members(blob: bytes) -> str:
    """The gzip members of a file, up to the first incomplete one (a writer killed mid-append)."""
    out: list[bytes] = []
    while blob:
        member = zlib.decompressobj(wbits=31)
        try:
            data = member.decompress(blob)
        except zlib.error:
            break
        if not member.eof:
            break
        out.append(data)
        blob = member.unused_data
    return b"".join(out).decode("utf-8")


def _index_upsert(dialect: str, session_id: str, change: dict) -> sa.Executable:
    """Insert the session's index row, or add this change to it (counters add up, the time span
    widens, blanks fill, agents are appended once) — right whichever node writes first."""
    r = recordings.c
    insert = upsert.insert_for(dialect)(recordings).values(
        session_id=session_id,
        request_id=change["request_id"],
        customer_id=change["customer_id"],
        agent_ids=_joined(change["agents"]),
        started_at=change["started_at"],
        last_at=change["last_at"],
        events=change["events"],
        bytes=change["bytes"],
        expires_at=change["expires_at"],
    )
    new = insert.excluded
    agent_ids: sa.ColumnElement = r.agent_ids
    for agent in change["agents"]:  # each test looks at the stored list only: linear, not nested
        agent_ids = agent_ids + sa.case((r.agent_ids.contains(f",{agent},", autoescape=True), ""), else_=f"{agent},")
    return insert.on_conflict_do_update(
        index_elements=["session_id"],
        set_={
            "events": r.events + new.events,
            "bytes": r.bytes + new.bytes,
            "started_at": sa.case(
                (sa.or_(r.started_at.is_(None), new.started_at < r.started_at), new.started_at), else_=r.started_at
            ),
            "last_at": sa.case((sa.or_(r.last_at.is_(None), new.last_at > r.last_at), new.last_at), else_=r.last_at),
            "request_id": sa.case((sa.func.coalesce(r.request_id, "") == "", new.request_id), else_=r.request_id),
            "customer_id": sa.case((sa.func.coalesce(r.customer_id, "") == "", new.customer_id), else_=r.customer_id),
            "agent_ids": agent_ids,
            "expires_at": sa.func.coalesce(r.expires_at, new.expires_at),
        },
    )


def _joined(agents: list[str]) -> str:
    return "," + "".join(f"{a}," for a in agents)
