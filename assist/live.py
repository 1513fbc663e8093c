"""Where live state lives: this process (embedded, the default) or Redis (scaled out).

Both give the same parts with the same interfaces, so the service, the adapter and the tests do
not know which one they run on: the store of the call-center state (and its deadlines), the
cluster (heartbeats and a leader lease), the supervisors' catch-up buffer and python-socketio's
client manager (assist.delivery: an emit to a user's room reaches the node holding their
socket, and only it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from signaling.domain.center import CallCenter, unique_ids
from signaling.keyframes import Keyframes
from signaling.ports import LiveStore

from .cluster import LocalCluster, RedisCluster
from .config import Config
from .storage.memory import MemoryLiveStore

if TYPE_CHECKING:
    from .delivery import StreamManager
    from .redis_client import AsyncRedis


@dataclass
class Live:
    store: LiveStore  # the composition root: each store is checked against the port here
    cluster: LocalCluster | RedisCluster  # both are ports.Cluster (SignalingService checks)
    keyframes: Keyframes
    client_manager: StreamManager | None = None
    redis: AsyncRedis | None = None  # the shared Redis client (or cluster client), when scaled out
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        for close in self.closers:
            await close()


def build_live(config: Config) -> Live:
    node_id = config.resolved_node_id()
    if not config.redis_url:
        return Live(MemoryLiveStore(CallCenter(config.policy, unique_ids)), LocalCluster(node_id), Keyframes())

    from .delivery import StreamManager
    from .redis_client import async_client
    from .storage.redis_keyframes import RedisKeyframes
    from .storage.redis_live import RedisLiveStore

    prefix = config.redis_prefix
    # Short timeouts and retries: a Redis restart shows as refusals for its duration, not hangs.
    redis = async_client(
        config.redis_url, config.redis_cluster, socket_timeout=5, socket_connect_timeout=2, health_check_interval=10
    )
    cluster = RedisCluster(redis, node_id, prefix)
    store = RedisLiveStore(redis, config.policy, prefix, unique_ids, owner=cluster.instance)
    # Messages to a user go only to the nodes holding their sockets, through streams that keep
    # them across a Redis restart (assist.delivery).
    manager = StreamManager(config.redis_url, prefix, cluster.instance, store.nodes_of, cluster=config.redis_cluster)
    return Live(store, cluster, RedisKeyframes(redis, prefix), manager, redis, [manager.close, redis.aclose])
