"""Shared live state in Redis: the same CallCenter, one entry per entity, changed by
compare-and-set on a version.

Every node keeps a decoded copy of the state and the version it was read at. A command runs on
that copy; the entities it touched (entities.py tracks them) are re-encoded, and those that
changed are committed with one Lua script that writes them only if the version in Redis is still
the copy's, appends their keys to a change log and the command's record updates to the record
stream, all in one atomic step. A node that is behind reads the log since its version and fetches
just the entities named there (one script, so what it reads is one consistent version). A commit
that lost the race puts the few entities it changed back as they were and catches up on what
came back with the refusal (the same round trip): commands
are pure functions of the state (ports.LiveStore), so exactly one of two racing nodes wins each
decision (offer, accept, consent, end) and the loser re-decides on what the winner wrote.

So a command's cost, and what crosses the network, is the entities it touches and the changes
made since the node last looked, not the size of the call center (issue 16). The one document
of the first round cost every command O(everyone connected).

The clock needs no leader: each entity's earliest deadline (entities.due) is kept in a sorted
set, written by the same commit. Every node looks at its head on each tick and, only when
something is due, claims it (a short lease the other nodes' ticks pass by) and runs the tick
command (tick()); so a tick with nothing due writes nothing, and one node acts on each deadline.

Relays are the hot path (every mirror batch): they only read the state, and their replay counter
lives in a small hash per session, checked and advanced by a script that also verifies the
version, so a relay can never slip through on a copy older than a stop or an end.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, NoReturn, TypeVar, cast

import orjson
import structlog
from redis.exceptions import RedisError

from signaling.domain import snapshot
from signaling.domain.center import CallCenter, Route, out_of_sequence
from signaling.domain.errors import DomainError
from signaling.domain.model import Policy
from signaling.domain.notices import Effects

from ..redis_client import AsyncRedis
from . import entities
from .record_stream import encode_update

T = TypeVar("T")
Method = TypeVar("Method", bound=Callable[..., Awaitable[Any]])
log = structlog.get_logger("live_store")

LOG_MAX = 100_000  # change-log entries kept: a node further behind than this reads everything

CATCH_UP_MAX_KEYS = 20_000  # more changed entities than this since we looked: read everything

# What changed since a copy's version, appended to `out` (so every script that finds a copy
# stale brings it up to date in the same round trip): {version} when the copy is current,
# {version, 'reload'} (too far behind, or Redis lost its data: read everything), or
# {version, 'delta', key, JSON or false, …}: every entity changed since.
CHANGES_SINCE = """
local function changes_since(out, v, from, log_key, entities_key)
  if v == from then out[#out + 1] = v; return out end
  if from < 0 or v < from then out[#out + 1] = v; out[#out + 1] = 'reload'; return out end
  local entries = redis.call('XRANGE', log_key, '(' .. from .. '-1', '+')
  if #entries == 0 or entries[1][1] ~= (from + 1) .. '-1' then
    out[#out + 1] = v; out[#out + 1] = 'reload'; return out
  end
  local seen, keys = {}, {}
  for _, entry in ipairs(entries) do
    for key in string.gmatch(entry[2][2], '[^\\n]+') do
      if not seen[key] then seen[key] = true; keys[#keys + 1] = key end
    end
  end
  if #keys > MAX_KEYS then out[#out + 1] = v; out[#out + 1] = 'reload'; return out end
  out[#out + 1] = tonumber(entries[#entries][1]:match('^(%d+)'))
  out[#out + 1] = 'delta'
  for i = 1, #keys, 500 do
    local chunk = {}
    for j = i, math.min(i + 499, #keys) do chunk[#chunk + 1] = keys[j] end
    local values = redis.call('HMGET', entities_key, unpack(chunk))
    for j, key in ipairs(chunk) do out[#out + 1] = key; out[#out + 1] = values[j] end
  end
  return out
end
""".replace("MAX_KEYS", str(CATCH_UP_MAX_KEYS))


def _with_changes_since(body: str) -> str:
    return CHANGES_SINCE + body


# KEYS: version, entities hash, change log, record stream, lock, deadlines. ARGV: expected
# version, this node, n, m, 'all' to replace every deadline ('' otherwise), r, k, then n (entity
# key, JSON or '' for gone) pairs, then m (entity key, due time or '' for none) pairs, then k
# (entity key, JSON of what to add) pairs for the entities commits add to (entities.merged: a
# minute's counters, {line: [numbers]}), then r keys the command read (r > 0 only for a
# command that reads nothing but its entities: it may go over other nodes' changes to other
# entities), then the command's record updates.
# The log entry's id is the new version, so a reader asks for "everything after mine"; a
# commit of deadlines alone changes no version (the live state is the same).
# Returns {new version, 1, (key, JSON) for each entity added to, as it is now}; {current
# version, 0, changes since the copy's version…} when the copy was stale (a lost race costs no
# extra round trip to catch up); {new version, 2, changes since the copy's version…, then the
# entities added to} when it was stale in entities the command did not read, and it was
# committed over them; {-1} when another node holds the lock (its turn comes first).
COMMIT = _with_changes_since("""
local holder = redis.call('GET', KEYS[5])
if holder and holder ~= ARGV[2] then return {-1} end
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
local n, m, r, k = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6]), tonumber(ARGV[7])
local first = 8 + 2 * n
local adds = first + 2 * m
local reads = adds + 2 * k
local records = reads + r
local over = nil
if v ~= tonumber(ARGV[1]) then
  local found = changes_since({v, 0}, v, tonumber(ARGV[1]), KEYS[3], KEYS[2])
  if r == 0 or found[4] ~= 'delta' then return found end
  local read = {}
  for i = reads, records - 1 do read[ARGV[i]] = true end
  for i = 5, #found, 2 do
    if read[found[i]] then return found end
  end
  over = found
end
if ARGV[5] == 'all' then redis.call('DEL', KEYS[6]) end
for i = 0, m - 1 do
  local key, due = ARGV[first + 2 * i], ARGV[first + 1 + 2 * i]
  if due == '' then redis.call('ZREM', KEYS[6], key) else redis.call('ZADD', KEYS[6], due, key) end
end
local sums = {}
if n > 0 or k > 0 or records <= #ARGV - 1 then
  local changed = {}
  for i = 0, n - 1 do
    local key, value = ARGV[8 + 2 * i], ARGV[9 + 2 * i]
    if value == '' then redis.call('HDEL', KEYS[2], key) else redis.call('HSET', KEYS[2], key, value) end
    changed[#changed + 1] = key
  end
  for i = 0, k - 1 do
    local key = ARGV[adds + 2 * i]
    local raw = redis.call('HGET', KEYS[2], key)
    local value = raw and cjson.decode(raw) or {}
    for line, add in pairs(cjson.decode(ARGV[adds + 1 + 2 * i])) do
      local have = value[line] or {}
      for j = 1, #add do have[j] = (have[j] or 0) + add[j] end
      value[line] = have
    end
    raw = cjson.encode(value)
    redis.call('HSET', KEYS[2], key, raw)
    changed[#changed + 1] = key
    sums[#sums + 1] = key
    sums[#sums + 1] = raw
  end
  v = v + 1
  redis.call('SET', KEYS[1], v)
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[#ARGV], v .. '-1', 'k', table.concat(changed, '\\n'))
  for i = records, #ARGV - 1 do redis.call('XADD', KEYS[4], '*', 'u', ARGV[i]) end
end
if holder then redis.call('DEL', KEYS[5]) end
local out = over or {v, 1}
if over then out[1] = v; out[2] = 2 end
for i = 1, #sums do out[#out + 1] = sums[i] end
return out
""")


# KEYS: version, change log, entities hash. ARGV: the copy's version (-1: none). Returns the
# changes since (CHANGES_SINCE).
CATCH_UP = _with_changes_since("""
return changes_since({}, tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(ARGV[1]), KEYS[2], KEYS[3])
""")

# KEYS: version, entities hash. Returns {version, key, JSON, …}: everything, as one version.
READ_ALL = """
local out = {tonumber(redis.call('GET', KEYS[1]) or '0')}
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all do out[#out + 1] = all[i] end
return out
"""

# Under contention optimism turns into a retry storm, so a node that lost twice takes turns
# instead: the lock, with an expiry in case its holder dies. KEYS: lock, version, change log,
# entities hash. ARGV: this node, expiry ms, the copy's version. Returns {-1} (held by
# another) or the changes since the copy's version (CHANGES_SINCE): current under the lock.
LOCK = _with_changes_since("""
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {-1} end
return changes_since({}, tonumber(redis.call('GET', KEYS[2]) or '0'), tonumber(ARGV[3]), KEYS[3], KEYS[4])
""")
# KEYS: deadlines. ARGV: now, the lease's end. Every entity due by now, each pushed to the
# lease's end (the claimer's commit then writes its real next deadline): returns their keys.
CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, key in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], key) end
return due
"""
UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: version, the session's sequence hash, change log, entities hash. ARGV: expected
# version, field, seq, ttl seconds. Returns {1} (new), {0} (replayed or old), or {-1, changes
# since the copy's version…} (the copy was stale: re-check the route on the changes).
ADVANCE = _with_changes_since("""
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v ~= tonumber(ARGV[1]) then return changes_since({-1}, v, tonumber(ARGV[1]), KEYS[3], KEYS[4]) end
local last = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
if tonumber(ARGV[3]) <= last then return {0} end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
return {1}
""")

CLAIM_LEASE_S = 3.0  # what a node claims to act on is passed by the others' ticks this long
OPTIMISTIC_TRIES = 2  # commits tried without the lock before taking turns under it
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
        except RedisError as exc:
            self.center = None  # whatever was in flight may or may not have landed: re-read
            log.warning("live_store_unavailable", error=str(exc)[:200])
            raise StoreUnavailable() from None

    return cast(Method, guarded)  # the same signature as the method it guards


class RedisLiveStore:
    records_in_commit = True  # the service must not write records itself: they ride the commit

    def __init__(
        self,
        redis: AsyncRedis,
        policy: Policy,
        prefix: str = "assist:",
        new_id: Callable[[str], str] | None = None,
        owner: str = "",
    ) -> None:
        self.redis = redis
        self.policy = policy
        self.new_id = new_id
        self.k_version, self.k_entities = f"{prefix}live:version", f"{prefix}live:entities"
        self.k_log, self.k_old_state = f"{prefix}live:log", f"{prefix}live:state"
        self.k_seq = f"{prefix}live:seq:"
        self.k_records = f"{prefix}records"
        self.k_lock = f"{prefix}live:lock"
        self.k_due = f"{prefix}live:due"  # sorted set: entity key → when the clock must look at it
        self._commit = redis.register_script(COMMIT)
        self._catch_up_script = redis.register_script(CATCH_UP)
        self._read_all = redis.register_script(READ_ALL)
        self._take_lock = redis.register_script(LOCK)
        self._unlock = redis.register_script(UNLOCK)
        self._claim = redis.register_script(CLAIM)
        self._advance = redis.register_script(ADVANCE)
        self._lock = asyncio.Lock()  # one command at a time on this node's copy
        self.touched: set[str] = set()  # what the command running now reached (entities.py)
        # The copy (None: read it whole before the next command), the version it is at (-1:
        # never read, so the first command reads it all), and each entity as Redis holds it at
        # that version (to see what a command changed).
        self.center: CallCenter | None = entities.build({}, policy, new_id, self.touched)
        self.version = -1
        self._stored: dict[str, bytes] = {}
        self._holding = False
        self.conflicts = 0  # commits lost to another node (then re-run), for the benchmark
        self._others_write = False  # whether another node had written when we last looked
        self.owner = owner or secrets.token_hex(8)  # who holds the lock, when this node does
        # The deadlines are to be rewritten from a copy read whole: at this node's first tick
        # (so the first node of a version that keeps them finds every deadline of the state),
        # and whenever it reads the state whole again.
        self._reseed = True

    @property
    def _commit_keys(self) -> list[str]:
        return [self.k_version, self.k_entities, self.k_log, self.k_records, self.k_lock, self.k_due]

    # ------------------------------------------------------------------ the copy
    async def _load_all(self) -> CallCenter:
        answer = await self._read_all(keys=[self.k_version, self.k_entities])
        version, flat = int(answer[0]), answer[1:]
        if version and not flat and await self.redis.exists(self.k_old_state):
            return await self._upgrade(version)
        self._stored = {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}
        items = {key: orjson.loads(raw) for key, raw in self._stored.items()}
        self.center = entities.build(items, self.policy, self.new_id, self.touched)
        self.version = version
        # Read whole: at start, after an error, or far behind. The deadlines are then written
        # anew from it (a Redis that lost them, or a state written before they were kept).
        self._reseed = True
        return self.center

    async def _upgrade(self, version: int) -> CallCenter:
        """A state written by the first round (one document): carried over to entities, once."""
        document = await self.redis.get(self.k_old_state)
        old = snapshot.load(orjson.loads(document) if document else {}, self.policy, self.new_id)
        center = entities.build({}, self.policy, self.new_id, self.touched)
        for key in entities.all_keys(old):  # plain dictionaries: all_keys reads them as they are
            entities.apply(center, key, entities.encode(old, key))
        changes = {key: orjson.dumps(entities.encode(center, key)) for key in entities.all_keys(center)}
        self.center, self.version, self._stored = center, version, {}
        answer = await self._commit(
            keys=self._commit_keys, args=[version, self.owner, len(changes), 0, "", 0, 0, *_flat(changes), LOG_MAX]
        )
        if len(answer) != 2 or int(answer[1]) != 1:
            self.center = None
            raise StoreBusy()
        await self.redis.delete(self.k_old_state)
        self.version, self._stored, self._reseed = version + 1, changes, True
        log.info("live_state_upgraded", entities=len(changes))
        return center

    async def _catch_up(self) -> CallCenter:
        """Bring the copy to the latest version: only the entities changed since, usually."""
        await self._sync()
        assert self.center is not None
        return self.center

    async def _sync(self) -> bool:
        """Bring the copy to the latest version; whether it was current already."""
        if self.center is None or self.version < 0:
            await self._load_all()
            return False
        answer = await self._catch_up_script(keys=[self.k_version, self.k_log, self.k_entities], args=[self.version])
        return await self._absorb(answer)

    async def _sync_if_others_write(self) -> None:
        """Catch up before a command when other nodes were writing at our last look. Alone, a
        node's copy is current after its own commits, and optimism costs one round trip. With
        other nodes committing, the copy is usually stale by the next command (three nodes at
        20 visits a second lost the first try of two commands in three): asking for the changes
        first cut the lost commits by a third, and so the turns taken under the lock, which
        grow with the number of nodes. (In CPU per visit at that rate the two ways measured
        even, within the scale bench's noise.)"""
        if self._others_write and self.center is not None:
            await self._sync()

    async def _absorb(self, changes: list) -> bool:
        """Apply what a script found changed since the copy's version (CHANGES_SINCE); whether
        the copy was current already."""
        if len(changes) == 1:
            self._others_write = False
            return True
        if changes[1] == b"reload" or self.center is None:  # read whole: current, whoever wrote
            await self._load_all()
            return False
        self._others_write = True
        center = self.center
        for i in range(2, len(changes), 2):
            key, raw = changes[i].decode(), changes[i + 1]
            self._put(center, key, raw)
        self.version = int(changes[0])
        return False

    def _put(self, center: CallCenter, key: str, raw: bytes | None) -> None:
        entities.apply(center, key, orjson.loads(raw) if raw else None)
        if raw:
            self._stored[key] = raw
        else:
            self._stored.pop(key, None)

    def _changes(self, center: CallCenter) -> tuple[dict[str, bytes], dict[str, bytes]]:
        """The touched entities whose encoding differs from Redis's at the copy's version, and
        what the command added to those that commits add to (entities.merged)."""
        changes, adds = {}, {}
        for key in {*self.touched, entities.META}:
            data = entities.encode(center, key)
            if data is not None and entities.merged(key):
                stored = self._stored.get(key)
                added = entities.added(orjson.loads(stored) if stored else None, data)
                if added is not None:
                    adds[key] = orjson.dumps(added)
                continue
            raw = orjson.dumps(data) if data is not None else b""
            if raw != self._stored.get(key, b""):
                changes[key] = raw
        # The lines the command changed: names with no value, logged so that a commuting
        # command on another node that read one of them runs again (entities.TrackedQueue).
        changes.update(dict.fromkeys(entities.lines_changed(center), b""))
        return changes, adds

    def _dues(self, center: CallCenter, keys: Iterable[str], after: float | None) -> dict[str, str]:
        """The deadlines of these entities, as the commit writes them ('' for none). After a
        tick at `after` nothing is due by then any more: what still would be is dropped (so a
        deadline the tick could not act on cannot make every tick run)."""
        dues = {}
        for key in keys:
            at = entities.due(center, key, after)
            dues[key] = "" if at is None or (after is not None and at <= after) else repr(float(at))
        return dues

    def _undo(self, center: CallCenter, changes: Iterable[str]) -> None:
        """Put the copy back as it was before a command whose commit lost the race."""
        for key in changes:
            self._put(center, key, self._stored.get(key))

    # ------------------------------------------------------------------ commands
    @_redis_errors_are_refusals
    async def run(self, command: Callable[[CallCenter], T], commutes: bool = False) -> T:
        async with self._lock:
            # Optimistic first (one round trip when the copy is current). A lost race leaves the
            # copy caught up, so one more optimistic try usually wins without a lock; after a
            # second loss, in turn under the lock (no retry storm between nodes). A command
            # that commutes (ports.LiveStore.run) commits over other nodes' changes to other
            # entities: no catching up first.
            for attempt in range(OPTIMISTIC_TRIES if self.center is not None else 0):
                if attempt == 0 and not commutes:
                    await self._sync_if_others_write()
                outcome = await self._attempt(command, locked=False, commutes=commutes)
                if outcome is not None:
                    return outcome()
                if self.center is None:
                    break
            for _ in range(MAX_ATTEMPTS):
                outcome = await self._in_turn(command)
                if outcome is not None:
                    return outcome()
            raise StoreBusy()

    async def _in_turn(self, command: Callable[[CallCenter], T], **attempt: Any) -> Callable[[], T] | None:
        """One attempt holding the lock (so no other node commits meanwhile), released after."""
        await self._acquire()
        outcome = None
        try:
            outcome = await self._attempt(command, locked=True, **attempt)
        finally:
            if outcome is None or self._holding:
                await self._release()
        return outcome

    @_redis_errors_are_refusals
    async def tick(self, command: Callable[[CallCenter], T], now: float) -> T | None:
        """The clock: one look at the earliest deadline, and nothing more when none is due by
        `now`. Otherwise this node claims what is due (CLAIM: a lease, so the other nodes'
        ticks pass it by) and runs the tick as a command (the first try optimistic, then in
        turn): its commit writes the next deadline of every entity that was due (changed or
        not: a request whose re-offer came to nothing still has its long wait ahead), which
        replaces the lease. Without the claim every node ran the tick for the same deadline
        and all but one lost the race: work per deadline that grew with the number of nodes.
        A node that dies holding a claim delays those deadlines by the lease, no more."""
        async with self._lock:
            if self._reseed:
                await self._write_all_deadlines()
            if not await self.redis.zrangebyscore(self.k_due, "-inf", repr(float(now)), start=0, num=1):
                return None  # a look, no write: a quiet tick costs Redis one read
            claimed = await self._claim(keys=[self.k_due], args=[repr(float(now)), repr(float(now) + CLAIM_LEASE_S)])
            due = {cast(bytes, key).decode() for key in claimed}
            if not due:
                return None  # another node claimed them a moment before
            for attempt in range(MAX_ATTEMPTS):
                if attempt == 0 and self.center is not None:
                    await self._sync_if_others_write()
                    outcome = await self._attempt(command, locked=False, tick=(now, due))
                else:
                    outcome = await self._in_turn(command, tick=(now, due))
                if outcome is not None:
                    return outcome()
            raise StoreBusy()

    async def _write_all_deadlines(self) -> None:
        """Replace the deadlines with those of a copy that is current (checked by the commit):
        after this node read the state whole, which is rare. Lost to another node's commit, it
        is tried again on the next tick."""
        await self._sync()
        center = self.center
        if center is None or self.version < 0:
            return
        dues = {key: at for key, at in self._dues(center, entities.all_keys(center), None).items() if at}
        answer = await self._commit(
            keys=self._commit_keys, args=[self.version, self.owner, 0, len(dues), "all", 0, 0, *_flat(dues), LOG_MAX]
        )
        if len(answer) == 2 and int(answer[1]) == 1:
            self._reseed = False
            log.info("deadlines_written", count=len(dues))

    @_redis_errors_are_refusals
    async def read(self, view: Callable[[CallCenter], T]) -> T:
        """A view of the latest state; nothing is written (ports.LiveStore)."""
        async with self._lock:
            center = await self._catch_up()  # one round trip: nothing comes back when current
            self.touched.clear()
            try:
                return view(center)
            finally:
                center.settle()

    async def _attempt(
        self,
        command: Callable[[CallCenter], T],
        locked: bool,
        tick: tuple[float, set[str]] | None = None,
        commutes: bool = False,
    ) -> Callable[[], T] | None:
        """Run the command on the copy and commit it. Returns the outcome, which gives the
        result or raises the refusal; None means another node changed the state first (in
        what the command read, when it commutes)."""
        center = self.center
        assert center is not None, "commands run on a loaded copy (run() and _acquire() see to it)"
        outcome: Callable[[], T]
        self.touched.clear()
        entities.lines_changed(center)  # (none of an earlier try's)
        try:
            result = command(center)
            outcome, effects = _returner(result), _effects_of(result)
            center.settle()
        except DomainError as exc:
            center.settle()
            if exc.effects is None:
                # A plain refusal leaves the state untouched; it is final only if the copy was
                # current (always so under the lock), else it is re-decided on the latest state.
                if locked or await self._sync():
                    return _raiser(exc)
                return None
            outcome, effects = _raiser(exc), exc.effects  # refused *and* changed something (a lapsed offer)
        except BaseException:
            self.center = None  # a bug may have left the copy half-changed: read it whole again
            raise
        changes, adds = self._changes(center)
        records = [encode_update(u) for u in effects.records] if effects else []
        # Nothing to write: done. A command that changes no state may still have lines for the
        # record (a whisper, a request to share); those ride a commit like any other. A tick
        # (its time, the entities due by then) that changed nothing still writes their next
        # deadlines: what was due has been seen.
        if not changes and not adds and not records and tick is None:
            if locked or await self._sync():
                return outcome
            return None
        after, due = tick if tick is not None else (None, set())
        dues = self._dues(center, {*changes, *adds, *due}, after)
        # What a commuting command read: every entity it reached, but those it only added to
        # (whatever other nodes added meanwhile, the sum is right). The counters in `meta` are
        # not tracked, so a command that changed them does not commute.
        reads = []
        if commutes and entities.META not in changes and self.version >= 0:
            reads = sorted(key for key in {*self.touched, *changes} if not entities.merged(key))
        answer = await self._commit(
            keys=self._commit_keys,
            args=[
                self.version,
                self.owner,
                len(changes),
                len(dues),
                "",
                len(reads),
                len(adds),
                *_flat(changes),
                *_flat(dues),
                *_flat(adds),
                *reads,
                *records,
                LOG_MAX,
            ],
        )
        verdict = int(answer[1]) if len(answer) > 1 else -1  # -1: another node holds the lock
        if verdict == 2:
            # Committed over other nodes' changes to entities it did not read: take them in
            # (they cannot touch what it wrote; the sums added to come last, as they are now),
            # then it is at the version it wrote.
            await self._absorb(answer[2:])
        if verdict in (1, 2):
            self.version = int(answer[0])
            for key, raw in changes.items():
                if raw:
                    self._stored[key] = raw
                else:
                    self._stored.pop(key, None)
            if verdict == 1:  # the sums added to, as they are now (other nodes' counts too)
                for i in range(2, len(answer), 2):
                    self._put(center, answer[i].decode(), answer[i + 1])
            self._holding = False  # the commit released the lock
            return outcome
        if self.version < 0:  # never read: it ran on an empty copy; read the real one whole
            self.center = None
            return None
        self.conflicts += 1
        self._undo(center, {*changes, *adds})  # the copy ran ahead of the shared state
        if int(answer[0]) >= 0:
            await self._absorb(answer[2:])  # what the winner wrote came back with the refusal
        return None

    async def _acquire(self) -> None:
        """This node's turn: the lock, and a copy that is current under it."""
        deadline = asyncio.get_running_loop().time() + LOCK_WAIT_S
        pause = 0.0005
        while True:
            answer = await self._take_lock(
                keys=[self.k_lock, self.k_version, self.k_log, self.k_entities],
                args=[self.owner, LOCK_TTL_MS, self.version if self.center is not None else -1],
            )
            if int(answer[0]) >= 0:
                self._holding = True
                await self._absorb(answer)  # current under the lock, with no second round trip
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
                center = self.center if self.center is not None else await self._catch_up()
                self.touched.clear()
                try:
                    found = route(center)
                except DomainError:
                    if await self._sync():
                        raise
                    continue
                verdict = await self._advance(
                    keys=[self.k_version, self.k_seq + session_id, self.k_log, self.k_entities],
                    args=[self.version, key, seq, SEQ_TTL_S],
                )
                if verdict[0] == 1:
                    return found
                if verdict[0] == 0:
                    raise out_of_sequence()
                await self._absorb(verdict[1:])  # stale: the changes came with the answer
            raise StoreBusy()

    def nodes_of(self, user_id: str) -> set[str] | None:
        """The node instances holding the user's sockets, as this node's copy has them; None
        when there is no copy to go by (never read, or dropped after an error). The copy is
        current right after a command or a relay (both check its version), which is when
        notices and relays are sent (assist.delivery routes them by this)."""
        center = self.center
        if center is None or self.version < 0:
            return None
        online = dict.get(center.online, user_id)  # a look, not part of any command
        return set(online.sockets) if online is not None else set()

    async def forget_session(self, session_id: str) -> None:
        await self.redis.delete(self.k_seq + session_id)


def _flat(changes: Mapping[str, bytes | str]) -> list[str | bytes]:
    return [item for key, raw in changes.items() for item in (key, raw)]


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
