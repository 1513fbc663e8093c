"""The nodes of one deployment: heartbeats with expiry, and a leader lease.

Each running process is an *instance* (node id + a random suffix), so a node restarted under the
same name is not mistaken for the one that died. An instance renews a Redis key with a short
expiry every second; an instance whose key has expired is dead, and the leader writes its
sockets off (CallCenter.nodes_lost). Exactly one instance at a time holds the leader lease and
does what is to be done once per deployment but is no matter of correctness: writing off lost
nodes, publishing the supervisors' board, wall and waiting line. The deadlines (offer timeouts,
grace windows) need no leader: every node fires those that are due (RedisLiveStore.tick). When
the leader dies the lease expires and another takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time

import structlog

from signaling.tasks import cancel_and_wait

from .redis_client import AsyncRedis

log = structlog.get_logger("cluster")

# Renew only if we still hold it (a paused leader whose lease lapsed must not steal it back).
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def new_instance(node_id: str) -> str:
    return f"{node_id}~{secrets.token_hex(4)}"


class LocalCluster:
    """Embedded mode: one process, always the leader, and the only node there is."""

    def __init__(self, node_id: str) -> None:
        self.instance = new_instance(node_id)
        self.is_leader = True
        self.settled = True

    async def alive(self, instances: set[str]) -> set[str]:
        return set(instances)

    async def beat(self) -> None: ...  # nobody to tell: the one process is alive and leads

    def start(self) -> None: ...

    async def stop(self) -> None: ...


class RedisCluster:
    def __init__(self, redis: AsyncRedis, node_id: str, prefix: str = "assist:", beat_s: float = 1.0, ttl_s: float = 4.0) -> None:
        self.redis = redis
        self.instance = new_instance(node_id)
        self.beat_s, self.ttl_ms = beat_s, int(ttl_s * 1000)
        self.k_node, self.k_leader = f"{prefix}node:", f"{prefix}leader"
        self._renew = redis.register_script(RENEW)
        self._release = redis.register_script(RELEASE)
        self.is_leader = False
        self._task: asyncio.Task | None = None
        self._healthy = True
        self._steady_since = 0.0  # since when this node has led with Redis answering

    @property
    def settled(self) -> bool:
        """Whether missing heartbeats mean dead nodes. Not right after this node took the lead
        or Redis came back (a restarted Redis forgets heartbeats that expired while it was
        down): every live node first gets a full heartbeat period to show itself again."""
        return self.is_leader and time.monotonic() - self._steady_since > self.ttl_ms / 1000 + self.beat_s

    async def alive(self, instances: set[str]) -> set[str]:
        names = sorted(instances)
        if not names:
            return set()
        found = await self.redis.mget([self.k_node + name for name in names])
        return {name for name, value in zip(names, found, strict=True) if value is not None}

    async def beat(self) -> None:
        await self.redis.set(self.k_node + self.instance, "1", px=self.ttl_ms)
        if self.is_leader:
            self.is_leader = bool(await self._renew(keys=[self.k_leader], args=[self.instance, self.ttl_ms]))
            if not self.is_leader:
                log.warning("leadership_lost", instance=self.instance)
        if not self.is_leader:
            self.is_leader = bool(await self.redis.set(self.k_leader, self.instance, nx=True, px=self.ttl_ms))
            if self.is_leader:
                self._steady_since = time.monotonic()
                log.info("leadership_taken", instance=self.instance)

    def start(self) -> None:
        self._task = asyncio.create_task(self._beat_forever(), name="cluster-heartbeat")

    async def _beat_forever(self) -> None:
        while True:
            try:
                await self.beat()
                if not self._healthy:
                    log.info("redis_back", instance=self.instance)
                    self._steady_since = time.monotonic()
                self._healthy = True
            except Exception as exc:  # noqa: BLE001 (Redis away, restarting: keep trying, say so once)
                self.is_leader = False  # a leader that cannot renew must stop acting as one
                if self._healthy:
                    log.warning("redis_unreachable", instance=self.instance, error=str(exc))
                self._healthy = False
            await asyncio.sleep(self.beat_s)

    async def stop(self) -> None:
        """Leave cleanly (SIGTERM): give up the lease and the heartbeat, so others take over now.
        Once: the drain leaves first, and the end of the cluster's lifecycle finds it gone."""
        if self._task is None:
            return
        task, self._task = self._task, None
        await cancel_and_wait(task)
        with contextlib.suppress(Exception):
            await self._release(keys=[self.k_leader], args=[self.instance])
            await self.redis.delete(self.k_node + self.instance)
        self.is_leader = False
