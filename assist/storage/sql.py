"""The durable record and the accounts, in SQL (SQLite embedded; PostgreSQL when scaled out).

Writes go through one background thread in batches, so a socket handler never waits on the
disk; `flush()` is the barrier readers use when they must see everything submitted so far.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
import structlog

from signaling.domain.notices import RecordUpdate

log = structlog.get_logger("records")
metadata = sa.MetaData()

users = sa.Table(
    "users", metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("badge", sa.String(32), nullable=False, default=""),
    sa.Column("languages", sa.JSON, nullable=False, default=list),
    sa.Column("skills", sa.JSON, nullable=False, default=list),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
)

help_requests = sa.Table(
    "help_requests", metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("customer_id", sa.String(64), index=True),
    sa.Column("topic", sa.String(32)),
    sa.Column("edition", sa.String(16)),
    sa.Column("language", sa.String(8)),
    sa.Column("page", sa.String(200)),
    sa.Column("status", sa.String(16), index=True),
    sa.Column("requested_at", sa.Float, index=True),
    sa.Column("offered_at", sa.Float),
    sa.Column("accepted_at", sa.Float),
    sa.Column("consent_at", sa.Float),
    sa.Column("ended_at", sa.Float),
    sa.Column("wrapped_at", sa.Float),
    sa.Column("wait_s", sa.Float),
    sa.Column("handle_s", sa.Float),
    sa.Column("session_id", sa.String(64), index=True),
    sa.Column("agent_id", sa.String(64), index=True),
    sa.Column("end_reason", sa.String(32)),
    sa.Column("outcome", sa.String(32)),
    sa.Column("notes", sa.Text),
    sa.Column("transcript", sa.Text),
)

request_events = sa.Table(
    "request_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), index=True, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("detail", sa.JSON),
)

COLUMNS = {c.name for c in help_requests.columns}
UNFINISHED = ("waiting", "offered")


class SqlRecords:
    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, future=True)
        if url.startswith("sqlite"):
            with self.engine.begin() as conn:  # readers never block the writer
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")

            # WAL with synchronous=NORMAL survives a crash of the process (not of the power
            # supply) without an fsync per batch; production records live in PostgreSQL.
            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn, _record) -> None:
                dbapi_conn.execute("PRAGMA synchronous=NORMAL")
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records")
        self._pending: list[RecordUpdate] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._writer: asyncio.Task | None = None

    # ------------------------------------------------------------------ lifecycle
    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def close_unfinished(self, reason: str = "server_restart") -> int:
        """Live state died with the previous process (embedded mode): close its open rows."""
        now = time.time()
        with self.engine.begin() as conn:
            result = conn.execute(
                help_requests.update()
                .where(sa.or_(help_requests.c.status.in_(UNFINISHED),
                              sa.and_(help_requests.c.status == "served", help_requests.c.ended_at.is_(None))))
                .values(ended_at=now, end_reason=reason,
                        status=sa.case((help_requests.c.status == "served", "served"), else_="abandoned")))
            return result.rowcount

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_forever(), name="records-writer")

    async def stop(self) -> None:
        await self.flush()
        if self._writer:
            self._writer.cancel()
        self._io.shutdown(wait=True)
        self.engine.dispose()

    # ------------------------------------------------------------------ writing
    @property
    def backlog(self) -> int:
        return len(self._pending)

    def submit(self, updates: Iterable[RecordUpdate]) -> None:
        self._pending.extend(updates)
        self._idle.clear()
        self._wake.set()

    async def flush(self) -> None:
        await self._idle.wait()

    async def _write_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if batch:
                try:
                    await loop.run_in_executor(self._io, self._write, batch)
                except Exception:
                    # Keep the batch: it is retried on the next wake rather than lost.
                    log.exception("record_write_failed", updates=len(batch))
                    self._pending[:0] = batch
                    await asyncio.sleep(0.5)
                    self._wake.set()
                    continue
            if not self._pending:
                self._idle.set()

    def _write(self, batch: list[RecordUpdate]) -> None:
        with self.engine.begin() as conn:
            for update in batch:
                fields = {k: v for k, v in update.fields.items() if k in COLUMNS}
                if fields:
                    done = conn.execute(help_requests.update()
                                        .where(help_requests.c.request_id == update.request_id)
                                        .values(**fields)).rowcount
                    if not done:
                        conn.execute(help_requests.insert().values(request_id=update.request_id, **fields))
                if update.timeline:
                    conn.execute(request_events.insert().values(
                        request_id=update.request_id, at=update.at or time.time(),
                        event=update.timeline, detail=update.detail))

    # ------------------------------------------------------------------ reading
    async def _read(self, fn, *args):
        await self.flush()
        return await asyncio.get_running_loop().run_in_executor(self._io, fn, *args)

    async def list_requests(self, agent_id: str | None = None, limit: int = 100) -> list[dict]:
        def read() -> list[dict]:
            query = help_requests.select().order_by(help_requests.c.requested_at.desc()).limit(limit)
            if agent_id is not None:
                query = query.where(help_requests.c.agent_id == agent_id)
            with self.engine.connect() as conn:
                return [dict(row._mapping) for row in conn.execute(query)]
        return await self._read(read)

    async def get_request(self, request_id: str) -> dict | None:
        def read() -> dict | None:
            with self.engine.connect() as conn:
                row = conn.execute(help_requests.select().where(help_requests.c.request_id == request_id)).first()
                if row is None:
                    return None
                timeline = conn.execute(request_events.select()
                                        .where(request_events.c.request_id == request_id)
                                        .order_by(request_events.c.id)).all()
                return dict(row._mapping) | {"timeline": [
                    {"at": e.at, "event": e.event, "detail": e.detail} for e in timeline]}
        return await self._read(read)

    # ------------------------------------------------------------------ accounts
    def get_user(self, username: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(users.select().where(users.c.username == username)).first()
            return dict(row._mapping) if row else None

    async def get_user_async(self, username: str) -> dict | None:
        return await asyncio.get_running_loop().run_in_executor(self._io, self.get_user, username)

    def ensure_users(self, accounts: Iterable[dict]) -> int:
        """Insert the accounts that are missing (demo seeding); existing ones are left alone."""
        added = 0
        with self.engine.begin() as conn:
            existing = {r.username for r in conn.execute(sa.select(users.c.username))}
            for account in accounts:
                if account["username"] not in existing:
                    conn.execute(users.insert().values(**account))
                    added += 1
        return added
