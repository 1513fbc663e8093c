"""Delivery between nodes: python-socketio's pub/sub manager, carried by one Redis stream per node.

python-socketio's AsyncRedisManager PUBLISHes every emit on one channel that every node
subscribes to: a message for one user is received and decoded by all N nodes, and a PUBLISH
while a node's subscription is down (Redis restarting, the listener asleep before it retries)
is lost without an error, after the command was already acknowledged `ok`.

This manager keeps python-socketio's machinery (AsyncPubSubManager: local rooms, the message
format, cross-node callbacks and disconnects) and replaces only its transport:

- Every node reads its own stream, `<prefix>sio:node:<instance>` (XREAD, blocking). An emit to
  `user:<id>` is XADDed only to the streams of the nodes holding that user's sockets (where the
  live state says they are, `locate`); everything else (the `agents` and `supervisors` rooms, a
  disconnect of a socket held elsewhere) is XADDed to every live node's stream, by one script.
- A stream keeps a message until it is read: a reader cut off by a Redis restart carries on
  from the last entry it read, so nothing acknowledged in between is lost, and nothing is read
  twice. An XADD that fails (Redis away) is kept in order in this node's outbox and sent when
  Redis answers again; so `ok` means delivered, or queued for delivery, never dropped.
- Entries older than RETENTION_MS are trimmed; a node that has not read for that long has
  been written off by the cluster (its heartbeat lapsed) and its clients resynchronise on
  their reconnect (`sync`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Collection
from typing import Any

import structlog
from redis.exceptions import RedisError
from socketio.async_pubsub_manager import AsyncPubSubManager

from signaling.tasks import cancel_and_wait

from .redis_client import async_client

log = structlog.get_logger("delivery")

USER_ROOM = "user:"
RETENTION_MS = 60_000  # a stream keeps what its node has not read for this long
MEMBER_WINDOW_MS = 60_000  # a node that has not announced itself for this long gets no broadcasts
ANNOUNCE_S = 1.0
BLOCK_MS = 1_000
OUTBOX_MAX = 10_000  # messages held while Redis is away; beyond that the oldest go (logged)
SEEN_MAX = 4_096  # message ids remembered, so a send retried after a lost reply is read once

# KEYS: the target nodes' streams. ARGV: the message, retention ms.
SEND = """
local t = redis.call('TIME')
local oldest = (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) - tonumber(ARGV[2])
for _, stream in ipairs(KEYS) do
  redis.call('XADD', stream, 'MINID', '~', oldest, '*', 'm', ARGV[1])
  redis.call('PEXPIRE', stream, ARGV[2])
end
return #KEYS
"""
# KEYS: the members (sorted set: instance → last announced, ms). ARGV: the member window ms.
# Returns the instances announced within it (by Redis's clock). A broadcast then SENDs to their
# streams: every key a script touches comes in KEYS (Redis Cluster routes a script by them).
MEMBERS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf')
"""
# KEYS: the members. ARGV: this instance, the member window ms (older members are dropped).
ANNOUNCE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
return now
"""

# The nodes holding a user's sockets (instances), or None when unknown (then: every node).
Locate = Callable[[str], Collection[str] | None]
ALL: None = None


class StreamManager(AsyncPubSubManager):
    name = "assist-streams"

    def __init__(
        self,
        redis_url: str,
        prefix: str,
        instance: str,
        locate: Locate,
        redis_options: dict[str, Any] | None = None,
        cluster: bool = False,
    ) -> None:
        super().__init__(channel=f"{prefix}sio")
        self.host_id = instance  # python-socketio routes cross-node callbacks back by host id
        self.instance = instance
        self.locate = locate
        self.k_members = f"{prefix}sio:nodes"
        self.k_stream = f"{prefix}sio:node:"
        options = {"socket_connect_timeout": 2, "socket_timeout": 5, **(redis_options or {})}
        self.redis = async_client(redis_url, cluster, **options)
        # The reader blocks in XREAD for up to BLOCK_MS: its own connection, a longer timeout.
        self.reader = async_client(redis_url, cluster, **(options | {"socket_timeout": BLOCK_MS / 1000 + 5}))
        self._send = self.redis.register_script(SEND)
        self._members = self.redis.register_script(MEMBERS)
        self._announce = self.redis.register_script(ANNOUNCE)
        self._ids = itertools.count(1)
        self._outbox: collections.deque[tuple[tuple[str, ...] | None, str]] = collections.deque()
        self._flusher: asyncio.Task | None = None
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._announced = 0.0
        self.reading = True  # false from a failed read of the stream until one works again
        self.received = 0  # messages read from this node's stream (the benchmark counts them)
        self.dropped = 0  # messages given up because the outbox was full (each logged)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Announce this node before it takes sockets, so broadcasts include it from the start."""
        await self._announce(keys=[self.k_members], args=[self.instance, MEMBER_WINDOW_MS])
        self._announced = asyncio.get_running_loop().time()

    async def close(self) -> None:
        listener = getattr(self, "thread", None)
        if listener is not None:
            await cancel_and_wait(listener)
        if self._flusher is not None:
            await cancel_and_wait(self._flusher)
        with contextlib.suppress(RedisError, OSError):
            await self.redis.zrem(self.k_members, self.instance)
        await self.reader.aclose()
        await self.redis.aclose()

    @property
    def queued(self) -> int:
        """Messages waiting in the outbox for Redis to answer."""
        return len(self._outbox)

    # ------------------------------------------------------------------ sending
    def _targets(self, message: dict) -> tuple[str, ...] | None:
        """The nodes a message is for (None: every node)."""
        method = message.get("method")
        if method == "callback":
            return (message["host_id"],)
        room = message.get("room")
        if method == "emit" and isinstance(room, str) and room.startswith(USER_ROOM):
            nodes = self.locate(room[len(USER_ROOM) :])
            if nodes is not ALL:
                return tuple(sorted(node for node in nodes if node != self.instance))
        return ALL

    async def _publish(self, data: dict) -> None:
        targets = self._targets(data)
        if targets == ():
            return  # only this node holds the user: delivered locally already
        message = self.json.dumps({**data, "uid": f"{self.instance}/{next(self._ids)}"})
        if not self._outbox:
            try:
                await self._deliver(targets, message)
                return
            except (RedisError, OSError) as exc:
                log.warning("delivery_queued", error=str(exc))
        if len(self._outbox) >= OUTBOX_MAX:
            self._outbox.popleft()
            self.dropped += 1
            log.error("delivery_outbox_full", dropped=1)
        self._outbox.append((targets, message))  # behind what already waits: order is kept
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="delivery-outbox")

    async def _deliver(self, targets: tuple[str, ...] | None, message: str) -> None:
        if targets is ALL:
            members = await self._members(keys=[self.k_members], args=[MEMBER_WINDOW_MS])
            nodes = [node.decode() if isinstance(node, bytes) else node for node in members]
            streams = [self.k_stream + node for node in nodes if node != self.instance]
            if streams:
                await self._send(keys=streams, args=[message, RETENTION_MS])
        else:
            await self._send(keys=[self.k_stream + node for node in targets], args=[message, RETENTION_MS])

    async def _flush(self) -> None:
        """What could not be sent while Redis was away, in order, as soon as it answers."""
        pause = 0.02
        while self._outbox:
            targets, message = self._outbox[0]
            try:
                await self._deliver(targets, message)
            except (RedisError, OSError):
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.5)
                continue
            self._outbox.popleft()
            pause = 0.02
        log.info("delivery_outbox_flushed")

    # ------------------------------------------------------------------ receiving
    async def _listen(self) -> AsyncIterator[dict]:
        """This node's stream, from its start (the instance is new), resuming after any break
        at the last entry read."""
        stream, last = self.k_stream + self.instance, "0-0"
        loop = asyncio.get_running_loop()
        pause = 0.02
        while True:
            try:
                if loop.time() - self._announced >= ANNOUNCE_S:
                    await self._announce(keys=[self.k_members], args=[self.instance, MEMBER_WINDOW_MS])
                    self._announced = loop.time()
                reply: Any = await self.reader.xread({stream: last}, count=512, block=BLOCK_MS)
            except (RedisError, OSError) as exc:
                if self.reading:
                    log.warning("delivery_read_failed", error=str(exc))
                self.reading = False
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.5)
                continue
            if not self.reading:
                log.info("delivery_resumed", stream=stream, after=last)
            self.reading, pause = True, 0.02
            for _, entries in reply or ():
                for entry_id, fields in entries:
                    last = entry_id
                    try:
                        message = self.json.loads(fields[b"m"])
                    except (KeyError, ValueError):
                        log.error("delivery_unreadable", entry=entry_id)
                        continue
                    if self._repeated(message.get("uid")):
                        continue
                    self.received += 1
                    yield message  # decoded: python-socketio's listener takes it as it is

    def _repeated(self, uid: str | None) -> bool:
        """A send retried after its reply was lost (Redis restarting) may be in the stream twice."""
        if uid is None:
            return False
        if uid in self._seen:
            return True
        self._seen[uid] = None
        if len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)
        return False
