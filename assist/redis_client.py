"""Every Redis client a node (or the CLI) makes comes from here: a plain client for one Redis
(or one behind Sentinel's address), or redis-py's cluster client for Redis Cluster
(`ASSIST_REDIS_CLUSTER`). Both take the same commands and scripts; the cluster client routes
each by its keys' slot, and the deployment's hash tag (`assist:{prod}:`) puts every key in one.

The callers keep their own options (timeouts, health checks): the cluster client passes them
on to its connection to each shard.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import redis
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import RedisCluster

# What the stores, the cluster and the delivery take: either client, the same commands.
AsyncRedis: TypeAlias = Redis | RedisCluster


def async_client(url: str, cluster: bool = False, **options: Any) -> AsyncRedis:
    """An asyncio client for `url` (with the cluster, any one of its nodes: it finds the rest)."""
    if cluster:
        return RedisCluster.from_url(url, **options)
    return Redis.from_url(url, **options)


def sync_client(url: str, cluster: bool = False, **options: Any) -> redis.Redis | redis.RedisCluster:
    """A blocking client, for the commands an operator runs (`assist users`)."""
    if cluster:
        return redis.RedisCluster.from_url(url, **options)
    return redis.Redis.from_url(url, **options)


async def subscribed(client: AsyncRedis, *channels: str) -> PubSub:
    """A pub/sub connection subscribed to `channels` (the caller closes it).

    On a cluster PUBLISH is broadcast over the cluster bus to every node, so a subscription on
    any one node hears every message: redis-py's cluster pub/sub subscribes on the node that
    owns the first channel's slot (with a tagged prefix, the deployment's shard). It finds that
    node in the client's slot map, which redis-py 8.1 fills on the client's first command but
    not for pub/sub (a fresh client's subscribe fails with a KeyError): so it is filled first."""
    if isinstance(client, RedisCluster):
        await client.initialize()
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(*channels)
    except BaseException:
        await pubsub.aclose()
        raise
    return pubsub
