"""The live state, the deadlines, the heartbeats, the keyframes and the delivery scripts on a
real Redis Cluster (three masters), through redis-py's cluster client: with a hash-tagged prefix
every script runs on the one shard that holds the deployment's slot. Without a tag the commit
script's keys scatter over the shards and the cluster refuses it (CROSSSLOT).

These are the parts one by one; tests/scale/test_redis_cluster_nodes.py runs whole nodes on a
cluster (`ASSIST_REDIS_CLUSTER`), which make their clients with assist.redis_client.
"""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster as ClusterClient
from redis.crc import key_slot
from redis.exceptions import ClusterCrossSlotError

from assist.cluster import RedisCluster
from assist.delivery import ANNOUNCE, MEMBER_WINDOW_MS, MEMBERS, RETENTION_MS, SEND
from assist.redis_client import async_client, subscribed
from assist.storage.redis_keyframes import RedisKeyframes
from assist.storage.redis_live import RedisLiveStore
from signaling.domain.model import Edition, Presence
from signaling.service import SignalingService
from tests.signaling.test_clock import AGENT, CUSTOMER, POLICY, Heard, NoRecords

pytestmark = pytest.mark.server  # real redis-servers (tests/conftest.py's tiers)


async def test_live_state_clock_heartbeats_delivery_scripts_on_a_cluster_with_a_hash_tag(redis_cluster):
    client = ClusterClient(host="127.0.0.1", port=redis_cluster.ports[0])
    prefix = "assist:{clustered}:"
    now = [1_000_000.0]
    try:
        nodes = []
        for name in ("n1", "n2"):
            cluster = RedisCluster(client, name, prefix)
            await cluster.beat()  # heartbeat and lease: the first takes the lead
            store = RedisLiveStore(client, POLICY, prefix, owner=cluster.instance)
            nodes.append((SignalingService(store, NoRecords(), Heard(), cluster, clock=lambda: now[0]), store))
        (one, store1), (two, store2) = nodes
        assert await one.cluster.alive({one.cluster.instance, two.cluster.instance}) == {
            one.cluster.instance,
            two.cluster.instance,
        }
        await one.connected(AGENT)
        await one.set_presence(AGENT, Presence.AVAILABLE)
        await two.connected(CUSTOMER)
        await two.request_help(CUSTOMER, "transfer", Edition.STANDARD, "zh", "/")
        assert await store1.read(lambda c: len(c.offers)) == 1  # caught up through the change log
        now[0] += 16  # rung out: both tick, one decides, on the cluster's one shard for the tag
        await one.tick()
        await two.tick()
        assert await store2.read(lambda c: (len(c.offers), c.agents["a1"].presence)) == (0, Presence.AWAY)
        keyframes = RedisKeyframes(client, prefix)
        batch = {"session_id": "s1", "seq": 1, "events": [{"type": 4, "data": {"width": 390}}]}
        await keyframes.add("s1", batch, 10)
        assert await keyframes.get("s1") == [batch]
        # The delivery scripts, with the streams of two nodes (a broadcast is members, then send).
        await client.register_script(ANNOUNCE)(keys=[prefix + "sio:nodes"], args=["n1~a", MEMBER_WINDOW_MS])
        members = await client.register_script(MEMBERS)(keys=[prefix + "sio:nodes"], args=[MEMBER_WINDOW_MS])
        assert members == [b"n1~a"]
        streams = [prefix + "sio:node:n1~a", prefix + "sio:node:n2~b"]
        assert await client.register_script(SEND)(keys=streams, args=["hello", RETENTION_MS]) == 2
        keys = [key async for key in _scan(client, prefix)]
        assert {"live:version", "live:entities", "live:log", "live:due", "leader"} <= {k.removeprefix(prefix) for k in keys}
        assert {key_slot(key.encode()) for key in keys} == {key_slot(prefix.encode())}
    finally:
        await client.aclose()


async def test_without_a_hash_tag_the_cluster_refuses_the_commit(redis_cluster):
    client = ClusterClient(host="127.0.0.1", port=redis_cluster.ports[0])
    try:
        store = RedisLiveStore(client, POLICY, "untagged:")
        with pytest.raises(ClusterCrossSlotError):  # what a command meets: StoreUnavailable, logged
            await store._commit(keys=store._commit_keys, args=[0, store.owner, 0, 0, "", 100])
    finally:
        await client.aclose()


async def test_a_fresh_cluster_client_subscribes_and_hears_a_publish_made_through_any_node(redis_cluster):
    """The revocations channel on a cluster (assist.auth.Revocations): redis-py's cluster pub/sub
    on a client that has run no command yet (its slot map empty: a bare subscribe fails), then a
    PUBLISH through a client of another node, which the cluster broadcasts."""
    prefix = "assist:{pubsub}:"
    listener = async_client(redis_cluster.url, cluster=True)
    pubsub = await subscribed(listener, prefix + "revoked")
    try:
        owner = pubsub.connection.port if pubsub.connection else None
        elsewhere = next(port for port in redis_cluster.ports if port != owner)
        publisher = Redis(host="127.0.0.1", port=elsewhere)  # a plain client of a node not subscribed to
        try:
            assert await publisher.publish(prefix + "revoked", "3:0:zhangsan") == 0  # no local subscriber …
        finally:
            await publisher.aclose()
        message = None
        while message is None or message["type"] != "message":
            message = await pubsub.get_message(timeout=5)
            assert message is not None, "no message within 5 s"
        assert message["data"] == b"3:0:zhangsan"  # … yet the cluster carried it to the subscriber
    finally:
        await pubsub.aclose()
        await listener.aclose()


async def _scan(client: ClusterClient, prefix: str):
    async for key in client.scan_iter(match=prefix.replace("{", "[{]") + "*"):
        yield key.decode() if isinstance(key, bytes) else key
