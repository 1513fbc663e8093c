"""The durable record and the accounts, in SQL (SQLite embedded; PostgreSQL when scaled out).

Writes go through one background thread in batches, so a socket handler never waits on the
disk; `flush()` is the barrier readers use when they must see everything submitted so far.

Several nodes may write the same help request at once, each from its own writer and in its own
order, so a write is one atomic upsert (`upsert.py`) in which the newest update wins per field.
When the database is unreachable the writer keeps every update, in order, and retries with
backoff (`writer_status()` feeds the metrics; docs/metrics.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar, TypeVarTuple

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects import postgresql

from signaling.domain.notices import RecordUpdate

from . import upsert

if TYPE_CHECKING:
    from assist.migrations import Outcome

R = TypeVar("R")
Args = TypeVarTuple("Args")

log = structlog.get_logger("records")
metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("badge", sa.String(32), nullable=False, default=""),
    sa.Column("languages", sa.JSON, nullable=False, default=list),
    sa.Column("skills", sa.JSON, nullable=False, default=list),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    # Bumped by sign-out, disabling, a password reset and a role change: every token carries the
    # generation it was issued under, and one from an older generation is refused (assist/accounts.py).
    sa.Column("token_generation", sa.Integer, nullable=False, default=0),
    sa.Column("demo", sa.Boolean, nullable=False, default=False),  # seeded by demo mode
    sa.Column("changed_at", sa.Float, nullable=True, index=True),  # when token_generation last moved
)

help_requests = sa.Table(
    "help_requests",
    metadata,
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
    sa.Column("callback", sa.Boolean),
    sa.Column("rating", sa.String(16)),
    sa.Column("rating_comment", sa.Text),
    sa.Column("scam_warning_at", sa.Float),
    # Bookkeeping of the upsert (never shown): the newest update's time, and per field the time
    # of the update that set it ({"status": 1732.5, …}), so an older update never overwrites it.
    sa.Column("updated_at", sa.Float),
    sa.Column("field_at", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
)

request_events = sa.Table(
    "request_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), index=True, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("detail", sa.JSON),
    # Set when the update came through the Redis record stream: a redelivery is written once.
    sa.Column("event_key", sa.String(64), nullable=True),
    sa.Index("ux_request_events_event_key", "event_key", unique=True),
)

BOOKKEEPING = ("updated_at", "field_at")
COLUMNS = {c.name for c in help_requests.columns} - {"request_id", *BOOKKEEPING}
PUBLIC = [c for c in help_requests.columns if c.name not in BOOKKEEPING]
UNFINISHED = ("waiting", "offered")

BATCH = 500  # updates per transaction
RETRY_FIRST_S, RETRY_MAX_S = 0.2, 2.0  # backoff while the database is unreachable
PROBE_S = 5.0  # an idle writer checks the database this often (for assist_database_up)
MAX_PENDING = 200_000  # updates held while the database is away (~100 MB); beyond: dropped, loudly
STOP_WAIT_S = 8.0  # at shutdown, how long to keep trying (within the server's 10 s per shutdown step)
READ_WAIT_S = 5.0  # a reader waits this long for earlier writes, then reads what is there


def unreachable(exc: BaseException) -> bool:
    """A lost or refused connection (retry later), as opposed to an update the database refuses."""
    return (isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)) and not conflict(exc)) or (
        isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated
    )


def conflict(exc: BaseException) -> bool:
    """PostgreSQL gave up on the transaction to let a concurrent one through (deadlock or
    serialization failure): retry it, the database itself is fine."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in ("40P01", "40001")


@dataclass(frozen=True)
class WriterStatus:
    pending: int  # submitted, not yet committed (including the batch being written)
    write_failures: int  # failed write attempts since start
    dropped: int  # updates given up (refused by the database, or over MAX_PENDING), each logged
    database_up: bool


class SqlRecords:
    def __init__(
        self,
        url: str,
        *,
        retry_first_s: float = RETRY_FIRST_S,
        retry_max_s: float = RETRY_MAX_S,
        probe_s: float = PROBE_S,
        max_pending: int = MAX_PENDING,
    ) -> None:
        # pre_ping: after a database restart, pooled connections are dead; test before use.
        sqlite = url.startswith("sqlite")
        self.engine = sa.create_engine(url, pool_pre_ping=not sqlite, connect_args={} if sqlite else {"connect_timeout": 5})
        self.dialect = self.engine.dialect.name
        # Scaled out, updates reach this writer through a Redis stream: readers first wait for
        # what is in the stream now (RecordPump.settle), so they read their own writes.
        self.upstream: Callable[[], Awaitable[None]] | None = None
        if sqlite:
            with self.engine.begin() as conn:  # readers never block the writer
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")

            # WAL with synchronous=NORMAL survives a crash of the process (not of the power
            # supply) without an fsync per batch; production records live in PostgreSQL.
            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: object) -> None:
                dbapi_conn.execute("PRAGMA synchronous=NORMAL")

        self.retry_first_s, self.retry_max_s, self.probe_s = retry_first_s, retry_max_s, probe_s
        self.max_pending = max_pending
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records")
        # Submitted and not yet committed, oldest first; a batch leaves only once committed.
        self._pending: list[RecordUpdate] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._writer: asyncio.Task | None = None
        self._up = True
        self._down_since: float | None = None
        self._failures = 0
        self._dropped = 0
        self._dropping = False  # over MAX_PENDING right now (logged once per episode)

    # ------------------------------------------------------------------ lifecycle
    def create_schema(self, migrate: bool = True) -> Outcome | None:
        """Bring the schema to the newest migration (or, with `migrate` off, insist it is there)."""
        from assist import migrations

        if not migrate:
            migrations.check(self.engine)
            return None
        outcome = migrations.upgrade(self.engine)
        if outcome.applied or outcome.adopted:
            log.info(
                "database_migrated",
                before=outcome.before,
                after=outcome.after,
                applied=list(outcome.applied),
                adopted=outcome.adopted,
            )
        return outcome

    def close_unfinished(self, reason: str = "server_restart") -> int:
        """Live state died with the previous process (embedded mode): close its open rows."""
        now = time.time()
        at = sa.literal(now, sa.Float)
        with self.engine.begin() as conn:
            result = conn.execute(
                help_requests.update()
                .where(
                    sa.or_(
                        help_requests.c.status.in_(UNFINISHED),
                        sa.and_(help_requests.c.status == "served", help_requests.c.ended_at.is_(None)),
                    )
                )
                .values(
                    ended_at=now,
                    end_reason=reason,
                    updated_at=now,
                    status=sa.case((help_requests.c.status == "served", "served"), else_="abandoned"),
                    # Stamped like any update, so a late update from before cannot reopen it.
                    field_at=upsert.with_stamps(help_requests, self.dialect, {"ended_at": at, "end_reason": at, "status": at}),
                )
            )
            return result.rowcount

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_forever(), name="records-writer")

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.flush(), STOP_WAIT_S)
        except TimeoutError:
            # Nowhere left to keep them: say exactly how many, never lose them quietly.
            log.error(
                "records_lost_at_shutdown",
                pending=len(self._pending),
                request_ids=sorted({u.request_id for u in self._pending})[:50],
            )
        if self._writer:
            self._writer.cancel()
        self._io.shutdown(wait=True)
        self.engine.dispose()

    # ------------------------------------------------------------------ writing
    @property
    def backlog(self) -> int:
        return len(self._pending)

    def writer_status(self) -> WriterStatus:
        return WriterStatus(len(self._pending), self._failures, self._dropped, self._up)

    def submit(self, updates: Iterable[RecordUpdate]) -> None:
        now = time.time()
        # Stamped now if the domain gave no time: the stamp orders this update against others.
        stamped = [u if u.at is not None else replace(u, at=now) for u in updates]
        room = self.max_pending - len(self._pending)
        if len(stamped) > room:
            self._drop(stamped[max(room, 0) :])
            stamped = stamped[: max(room, 0)]
        self._pending.extend(stamped)
        self._idle.clear()
        self._wake.set()

    def _drop(self, updates: list[RecordUpdate]) -> None:
        self._dropped += len(updates)
        if not self._dropping:
            self._dropping = True
            log.error(
                "records_dropped_queue_full",
                max_pending=self.max_pending,
                database_up=self._up,
                note="updates beyond max_pending are dropped until the backlog shrinks; see assist_records_dropped_total",
            )

    async def flush(self) -> None:
        await self._idle.wait()

    async def _write_forever(self) -> None:
        delay = self.retry_first_s
        while True:
            try:
                if not self._pending:
                    self._idle.set()
                    try:  # idle: look at the database now and then, so an outage shows without writes
                        await asyncio.wait_for(self._wake.wait(), self.probe_s if self._up else delay)
                        self._wake.clear()
                        continue
                    except TimeoutError:
                        written = await self._attempt(self._probe) is not None
                else:
                    self._wake.clear()
                    written = await self._write_batch()
            except Exception:  # never let the writer die: log, wait, go on
                log.exception("record_writer_error", pending=len(self._pending))
                written = False
            if written:
                delay = self.retry_first_s
            else:  # the database is away: everything stays queued, in order; try again later
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max_s)

    async def _write_batch(self) -> bool:
        """Write the oldest updates; they leave the queue only once committed."""
        batch = self._pending[:BATCH]
        try:
            done = await self._attempt(self._write, batch)
        except sa.exc.SQLAlchemyError:
            # The database refused something in this batch (not a lost connection): write the
            # updates one by one, so only the refused ones are given up, each one logged.
            done = await self._attempt(self._write_each, batch)
        if done is None:
            return False
        del self._pending[:done]
        if self._dropping and len(self._pending) < self.max_pending // 2:
            self._dropping = False
            log.warning("records_queue_has_room", dropped_total=self._dropped)
        return done == len(batch)

    async def _attempt(self, fn: Callable[[*Args], R], *args: *Args) -> R | Literal[True] | None:
        """Run a database call on the writer's thread: its result, or None when the database is
        unreachable (an outage begins). Other errors are counted and propagate."""
        try:
            result = await asyncio.get_running_loop().run_in_executor(self._io, fn, *args)
        except Exception as exc:
            self._failures += 1
            if conflict(exc):
                log.info("record_write_conflict_retried", error=str(exc).strip().splitlines()[0][:200])
                return None
            if not unreachable(exc):
                raise
            if self._up:
                self._up, self._down_since = False, time.time()
                log.warning("database_down", error=str(exc).strip().splitlines()[0][:300], pending=len(self._pending))
            return None
        if not self._up:
            log.warning(
                "database_up",
                down_s=round(time.time() - (self._down_since or time.time()), 1),
                pending=len(self._pending),
                write_failures=self._failures,
            )
            self._up, self._down_since = True, None
        return True if result is None else result

    def _probe(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def _write(self, batch: list[RecordUpdate]) -> int:
        with self.engine.begin() as conn:
            # Rows in request-id order (the sort is stable: a request's own updates keep theirs),
            # so two nodes' batches lock the rows they share in the same order and cannot
            # deadlock; newest-wins merging does not depend on the order across requests.
            for update in sorted(batch, key=lambda u: u.request_id):
                self._upsert(conn, update)
            for update in batch:
                self._append_event(conn, update)
        return len(batch)

    def _write_each(self, batch: list[RecordUpdate]) -> int:
        """One transaction per update; returns how many are done (written or refused)."""
        for done, update in enumerate(batch):
            try:
                with self.engine.begin() as conn:
                    self._write_one(conn, update)
            except Exception as exc:
                if unreachable(exc):
                    if done:  # keep what is committed out of the queue (no duplicate events)
                        return done
                    raise
                self._dropped += 1
                log.error(
                    "record_refused",
                    request_id=update.request_id,
                    timeline=update.timeline,
                    fields=sorted(update.fields),
                    error=str(exc).strip().splitlines()[0][:300],
                )
        return len(batch)

    def _write_one(self, conn: sa.Connection, update: RecordUpdate) -> None:
        self._upsert(conn, update)
        self._append_event(conn, update)

    def _upsert(self, conn: sa.Connection, update: RecordUpdate) -> None:
        fields = {k: v for k, v in update.fields.items() if k in COLUMNS}
        if fields:
            assert update.at is not None, "submit() stamps every update it queues"
            conn.execute(*upsert.newest_wins(help_requests, self.dialect, {"request_id": update.request_id}, fields, update.at))

    def _append_event(self, conn: sa.Connection, update: RecordUpdate) -> None:
        if not update.timeline:
            return
        values = {"request_id": update.request_id, "at": update.at, "event": update.timeline, "detail": update.detail}
        if update.key is None:  # the timeline is append-only: a plain insert never conflicts
            conn.execute(request_events.insert().values(**values))
        else:  # delivered again after a writer died before acknowledging: already there
            conn.execute(
                upsert.insert_for(self.dialect)(request_events)
                .values(**values, event_key=update.key)
                .on_conflict_do_nothing(index_elements=["event_key"])
            )

    # ------------------------------------------------------------------ reading
    async def _read(self, fn: Callable[[*Args], R], *args: *Args) -> R:
        # Wait for earlier writes, but not for ever: while the database is away, a reader gets
        # an answer (or the database's error) rather than a request that hangs.
        try:
            async with asyncio.timeout(READ_WAIT_S):
                if self.upstream is not None:  # updates still on their way here (a Redis stream)
                    await self.upstream()
                await self.flush()
        except TimeoutError:
            pass
        return await asyncio.get_running_loop().run_in_executor(self._io, fn, *args)

    async def list_requests(self, agent_id: str | None = None, limit: int = 100) -> list[dict]:
        def read() -> list[dict]:
            query = sa.select(*PUBLIC).order_by(help_requests.c.requested_at.desc()).limit(limit)
            if agent_id is not None:
                query = query.where(help_requests.c.agent_id == agent_id)
            with self.engine.connect() as conn:
                return [dict(row._mapping) for row in conn.execute(query)]

        return await self._read(read)

    async def get_request(self, request_id: str) -> dict | None:
        def read() -> dict | None:
            with self.engine.connect() as conn:
                row = conn.execute(sa.select(*PUBLIC).where(help_requests.c.request_id == request_id)).first()
                if row is None:
                    return None
                timeline = conn.execute(
                    request_events.select()
                    .where(request_events.c.request_id == request_id)
                    # Time order: events from several nodes commit in any order.
                    .order_by(request_events.c.at, request_events.c.id)
                ).all()
                return dict(row._mapping) | {"timeline": [{"at": e.at, "event": e.event, "detail": e.detail} for e in timeline]}

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
            for account in accounts:
                # ON CONFLICT DO NOTHING: several nodes may seed one database at the same moment.
                added += conn.execute(
                    upsert.insert_for(self.dialect)(users).values(**account).on_conflict_do_nothing(index_elements=["username"])
                ).rowcount
        return added
