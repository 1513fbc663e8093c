"""Two real nodes on a real Redis Cluster (three masters), `ASSIST_REDIS_CLUSTER=1` and a tagged
prefix: a customer on one node and an agent on the other pair, talk and part; failed sign-ins
count across the nodes; a sign-out on one node and an operator's `assist users disable` cut
the user off on the other, through the revocations channel.

The nodes are given the address of a master that does *not* own the deployment's slot: a
plain client there would be answered MOVED for every key, so only the cluster client (which
follows the slot map) lets a node start and serve.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import aiohttp
import redis

from tests.auth.test_production import assist_users
from tests.auth.test_signin import until_disconnected
from tests.scale.deployment import Deployment
from tests.scale.test_revocation import status_of

HELP = {"topic": "transfer", "edition": "standard", "language": "zh", "page": "transfer"}


def slot_owner(cluster, key: str) -> int:
    """The port of the master holding `key`'s slot (the cluster's own answer, asked of any node)."""
    client = redis.RedisCluster(host="127.0.0.1", port=cluster.ports[0])
    try:
        return int(client.get_node_from_key(key).port)
    finally:
        client.close()


def subscribers(cluster, channel: str) -> int:
    """Subscribers of `channel` over the whole cluster (PUBSUB NUMSUB counts one node's own)."""
    total = 0
    for port in cluster.ports:
        client = redis.Redis(host="127.0.0.1", port=port)
        try:
            total += sum(count for _, count in client.pubsub_numsub(channel))
        finally:
            client.close()
    return total


async def status_of_login(node, password: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{node.url}/api/auth/login", json={"username": "lisi", "password": password}) as resp,
    ):
        return resp.status


async def test_two_nodes_on_a_redis_cluster_pair_relay_end_and_revoke(redis_cluster, postgres, tmp_path):
    prefix = f"cl:{{{uuid.uuid4().hex[:10]}}}:"
    owner = slot_owner(redis_cluster, prefix)
    elsewhere = next(port for port in redis_cluster.ports if port != owner)
    entry = SimpleNamespace(url=f"redis://127.0.0.1:{elsewhere}/0")
    d = Deployment(tmp_path / "deployment", entry, postgres.url(), 2, {"ASSIST_REDIS_CLUSTER": "1"}, prefix=prefix)
    try:
        await d.start()
        n1, n2 = d.nodes
        # Both nodes' state is where the slot is: on the owner, not on the node they were given.
        on_owner = redis.Redis(host="127.0.0.1", port=owner)
        try:
            assert on_owner.exists(prefix + "sio:nodes") and on_owner.zcard(prefix + "sio:nodes") == 2
        finally:
            on_owner.close()

        agent = await d.agent("agent01", node=n2)
        customer = await d.client("zhangsan", node=n1)
        asked = await customer.call("help_request", HELP)
        assert asked["ok"], asked
        offer = await agent.expect("offer")  # decided on n1, carried to n2 by its stream on the cluster
        assert offer["request"]["request_id"] == asked["request"]["request_id"]
        assert (await agent.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]
        mine = await customer.expect("session_started")
        theirs = await agent.expect("session_started")
        sid = mine["session_id"]
        assert theirs["session_id"] == sid and mine["code"] == theirs["code"]

        # Relays both ways across the nodes: the screen to the agent, a pointer to the customer.
        assert (await customer.call("consent", {"session_id": sid, "accept": True}))["ok"]
        await agent.expect("session_state", state="sharing")
        snapshot = {"session_id": sid, "seq": 1, "events": [{"type": 4, "data": {"width": 390}}]}
        assert (await customer.call("mirror", snapshot))["ok"]
        assert (await agent.expect("mirror", seq=1))["events"] == snapshot["events"]
        point = {"session_id": sid, "seq": 1, "kind": "pointer", "point": {"x": 0.25, "y": 0.5}}
        assert (await agent.call("annotation", point))["ok"], point
        assert (await customer.expect("annotation", seq=1))["kind"] == "pointer"

        assert (await agent.call("end_session", {"session_id": sid}))["ok"]
        assert (await customer.expect("session_ended", session_id=sid))["reason"] == "agent_ended"
        await agent.expect("session_ended", session_id=sid)

        # Failed sign-ins count across the nodes (the throttle's windows, on the cluster too).
        statuses = [await status_of_login(node, "wrong") for node in (n1, n2, n1, n2, n1)]
        assert statuses == [401] * 5
        assert await status_of_login(n2, "wrong") == 429

        # Both nodes listen on the revocations channel (through the cluster client's pub/sub).
        assert subscribers(redis_cluster, prefix + "revoked") == 2
        # Signed out on n1: the agent's socket on n2 closes, and n2 refuses the token.
        token = agent.token
        assert await status_of(n1.url, "POST", "/api/auth/logout", token) == 200
        await until_disconnected(agent)
        assert await status_of(n2.url, "GET", "/api/requests", token) == 401
        # Disabled by the operator's command (a cluster client of its own): cut off on n1 too.
        operator = {
            "ASSIST_DATABASE_URL": d.database_url,
            "ASSIST_REDIS_URL": entry.url,
            "ASSIST_REDIS_CLUSTER": "1",
            "ASSIST_REDIS_PREFIX": prefix,
            "ASSIST_VAR_DIR": str(d.dir / "cli"),
        }
        disabled = assist_users(operator, "disable", "zhangsan")
        assert disabled.returncode == 0, disabled.stderr
        await until_disconnected(customer)
        # Both stop cleanly (drain, leave the cluster, close the cluster clients), having
        # logged nothing amiss: no failed subscription, read or command along the way.
        for node in d.nodes:
            assert node.terminate() == 0, node.output()[-2000:]
            assert '"level": "warning"' not in node.output() and '"level": "error"' not in node.output(), node.output()[-2000:]
    finally:
        await d.stop()
