"""Shared live state in Redis: the same CallCenter, one document, changed by compare-and-set.

Every node keeps a decoded copy of the state and the version it was read at. A command runs on
that copy, and its result is committed with one Lua script that writes the new document only if
the version in Redis is still the one the copy was read at. Otherwise the script answers with the
current document, the node decodes it and runs the command again: commands are pure functions of
the state (ports.LiveStore), so exactly one of two racing nodes wins each decision (offer,
accept, consent, end), and the loser re-decides on what the winner wrote.

A command that changed nothing (a view, a refusal) still checks that its copy was current, so no
node ever answers from a stale copy. In steady state a command costs one Redis round trip.

Relays are the hot path (every mirror batch): they only read the state, and their replay counter
lives in a small hash per session, checked and advanced by a script that also verifies the
version, so a relay can never slip through on a copy older than a stop or an end.
"""
from __future__ import annotations

import asyncio
import functools
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar, cast

import orjson  # the whole state is encoded on every change: several times faster than json
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from signaling.domain import snapshot
from signaling.domain.center import CallCenter, Route, out_of_sequence
from signaling.domain.errors import DomainError
from signaling.domain.model import Policy
from signaling.domain.notices import Effects

from .record_stream import encode_update

T = TypeVar("T")
Method = TypeVar("Method", bound=Callable[..., Awaitable[Any]])
log = structlog.get_logger("live_store")

# KEYS: version, state, record stream, lock. ARGV: expected version, new document, this node,
# then the command's record updates (JSON), appended to the stream in the same step: a state
# change and its record are one atomic write, so a node killed right after a decision cannot
# lose the decision's record.
# Returns {new version}; {current version, current document} when the copy was stale; {-1} when
# another node holds the lock (its turn comes first).
COMMIT = """
local holder = redis.call('GET', KEYS[4])
if holder and holder ~= ARGV[3] then return {-1} end
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v ~= tonumber(ARGV[1]) then
  return {v, redis.call('GET', KEYS[2]) or ''}
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[1], v + 1)
for i = 4, #ARGV do redis.call('XADD', KEYS[3], '*', 'u', ARGV[i]) end
if holder then redis.call('DEL', KEYS[4]) end
return {v + 1}
"""

# Under contention optimism turns into a retry storm (each retry re-reads a document another node
# has just replaced), so a node that lost once takes turns instead: the lock, with an expiry in
# case its holder dies. KEYS: lock, version, state. ARGV: this node, expiry ms, its copy's version.
# Returns {-1} (held by another), {version} (the copy is current) or {version, document}.
LOCK = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {-1} end
local v = tonumber(redis.call('GET', KEYS[2]) or '0')
if v == tonumber(ARGV[3]) then return {v} end
return {v, redis.call('GET', KEYS[3]) or ''}
"""
UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: version, the session's sequence hash. ARGV: expected version, field, seq, ttl seconds.
# Returns 1 (new), 0 (replayed or old), -1 (the copy was stale: reload and re-check the route).
ADVANCE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return -1 end
local last = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
if tonumber(ARGV[3]) <= last then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
return 1
"""

MAX_ATTEMPTS = 50  # racing nodes each win in turn; this many losses in a row means something is wrong
LOCK_TTL_MS = 2_000  # a dead holder blocks the others this long at most
LOCK_WAIT_S = 5.0  # waiting longer for a turn than this: refuse as busy
SEQ_TTL_S = 86_400  # a session's counters outlive any session, then clean themselves up


class StoreBusy(DomainError):
    def __init__(self) -> None:
        super().__init__("busy", "The service is busy; please try again.")


class StoreUnavailable(DomainError):
    """Redis does not answer (restarting, cut off): nothing was decided; the client may retry."""

    def __init__(self) -> None:
        super().__init__("unavailable", "The service is briefly unavailable; please try again.")


def _redis_errors_are_refusals(method: Method) -> Method:
    @functools.wraps(method)
    async def guarded(self: RedisLiveStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except RedisError:
            self.center = None  # whatever was in flight may or may not have landed: re-read
            raise StoreUnavailable() from None
    return cast(Method, guarded)  # the same signature as the method it guards


class RedisLiveStore:
    records_in_commit = True  # the service must not write records itself: they ride the commit

    def __init__(self, redis: Redis, policy: Policy, prefix: str = "assist:",
                 new_id: Callable[[str], str] | None = None, owner: str = "") -> None:
        self.redis = redis
        self.policy = policy
        self.new_id = new_id
        self.k_version, self.k_state = f"{prefix}live:version", f"{prefix}live:state"
        self.k_seq = f"{prefix}live:seq:"
        self.k_records = f"{prefix}records"
        self.k_lock = f"{prefix}live:lock"
        self._commit = redis.register_script(COMMIT)
        self._take_lock = redis.register_script(LOCK)
        self._unlock = redis.register_script(UNLOCK)
        self._advance = redis.register_script(ADVANCE)
        self._lock = asyncio.Lock()  # one command at a time on this node's copy
        # The copy; version -1 means "never read", so the first command loads the real one.
        self.center: CallCenter | None = snapshot.load({}, policy, new_id)
        self.version = -1
        self._document = ""
        self._holding = False
        self.conflicts = 0  # commits lost to another node (then re-run), for the benchmark
        self.owner = owner or secrets.token_hex(8)  # who holds the lock, when this node does

    # ------------------------------------------------------------------ the copy
    def _adopt(self, version: int, document: str) -> CallCenter:
        self.center = center = snapshot.load(orjson.loads(document) if document else {}, self.policy, self.new_id)
        self.version, self._document = version, document
        return center

    async def _reload(self) -> CallCenter:
        version, document = await self.redis.mget(self.k_version, self.k_state)
        return self._adopt(int(version or 0), document.decode() if isinstance(document, bytes) else document or "")

    async def _current(self) -> bool:
        """Whether the copy is still the latest (it may have been written by another node)."""
        return int(await self.redis.get(self.k_version) or 0) == self.version

    # ------------------------------------------------------------------ commands
    @_redis_errors_are_refusals
    async def run(self, command: Callable[[CallCenter], T]) -> T:
        async with self._lock:
            # Optimistic first (one round trip); after losing a race, in turn under the lock.
            if self.center is not None:
                outcome = await self._attempt(command, locked=False)
                if outcome is not None:
                    return outcome()
            for _ in range(MAX_ATTEMPTS):
                await self._acquire()
                outcome = None
                try:
                    outcome = await self._attempt(command, locked=True)
                finally:
                    if outcome is None or self._holding:
                        await self._release()
                if outcome is not None:
                    return outcome()
            raise StoreBusy()

    async def _attempt(self, command: Callable[[CallCenter], T], locked: bool) -> Callable[[], T] | None:
        """Run the command on the copy and commit it. Returns the outcome, which gives the
        result or raises the refusal; None means another node changed the state first."""
        center = self.center
        assert center is not None, "commands run on a loaded copy (run() and _acquire() see to it)"
        outcome: Callable[[], T]
        try:
            result = command(center)
            outcome, effects = _returner(result), _effects_of(result)
        except DomainError as exc:
            if exc.effects is None:
                # A plain refusal leaves the state untouched; it is final only if the copy was
                # current (always so under the lock), else it is re-decided on the latest state.
                if locked or await self._current():
                    return _raiser(exc)
                self.center = None
                return None
            outcome, effects = _raiser(exc), exc.effects  # refused *and* changed something (a lapsed offer)
        except BaseException:
            self.center = None  # a bug may have left the copy half-changed: drop it
            raise
        document = orjson.dumps(snapshot.dump(center)).decode()
        records = [encode_update(u) for u in effects.records] if effects else []
        # Nothing to write: done. A command that changes no state may still have lines for the
        # record (a whisper, a request to share); those ride a commit like any other.
        if document == self._document and not records:
            if locked or await self._current():
                return outcome
            self.center = None
            return None
        answer = await self._commit(keys=[self.k_version, self.k_state, self.k_records, self.k_lock],
                                    args=[self.version, document, self.owner, *records])
        if len(answer) == 1 and int(answer[0]) >= 0:
            self.version, self._document = int(answer[0]), document
            self._holding = False  # the commit released the lock
            return outcome
        self.conflicts += 1
        self.center = None  # the copy ran ahead of the shared state: never use it again
        if len(answer) == 2:
            self._adopt(int(answer[0]), answer[1].decode())
        return None

    async def _acquire(self) -> None:
        """This node's turn: the lock, and a copy that is current under it."""
        deadline = asyncio.get_running_loop().time() + LOCK_WAIT_S
        pause = 0.0005
        while True:
            answer = await self._take_lock(keys=[self.k_lock, self.k_version, self.k_state],
                                           args=[self.owner, LOCK_TTL_MS, self.version if self.center else -1])
            if int(answer[0]) >= 0:
                self._holding = True
                if len(answer) == 2:
                    self._adopt(int(answer[0]), answer[1].decode())
                return
            if asyncio.get_running_loop().time() > deadline:
                raise StoreBusy()
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.01)

    async def _release(self) -> None:
        self._holding = False
        await self._unlock(keys=[self.k_lock], args=[self.owner])

    @_redis_errors_are_refusals
    async def relay(self, route: Callable[[CallCenter], Route], session_id: str, key: str, seq: int) -> Route:
        async with self._lock:
            for _ in range(MAX_ATTEMPTS):
                center = self.center if self.center is not None else await self._reload()
                try:
                    found = route(center)
                except DomainError:
                    if await self._current():
                        raise
                    self.center = None
                    continue
                verdict = await self._advance(keys=[self.k_version, self.k_seq + session_id],
                                              args=[self.version, key, seq, SEQ_TTL_S])
                if verdict == 1:
                    return found
                if verdict == 0:
                    raise out_of_sequence()
                self.center = None
            raise StoreBusy()

    def nodes_of(self, user_id: str) -> set[str] | None:
        """The node instances holding the user's sockets, as this node's copy has them; None
        when there is no copy to go by (never read, or dropped after an error). The copy is
        current right after a command or a relay (both check its version), which is when
        notices and relays are sent (assist.delivery routes them by this)."""
        center = self.center
        if center is None or self.version < 0:
            return None
        online = center.online.get(user_id)
        return set(online.sockets) if online is not None else set()

    async def forget_session(self, session_id: str) -> None:
        await self.redis.delete(self.k_seq + session_id)


def _effects_of(result: object) -> Effects | None:
    if isinstance(result, Effects):
        return result
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], Effects):
        return result[1]
    return None


def _raiser(refusal: DomainError) -> Callable[[], NoReturn]:
    def outcome() -> NoReturn:
        raise refusal
    return outcome


def _returner(result: T) -> Callable[[], T]:
    def outcome() -> T:
        return result
    return outcome
