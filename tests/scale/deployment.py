"""A scaled-out Assist on loopback for the node tests and the benchmark: N `assist serve`
processes sharing a real Redis and PostgreSQL, behind a real nginx with sticky sessions."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import aiohttp

from assist.server import demo_accounts
from assist.storage.sql import SqlRecords
from tests.conftest import Client
from tests.servers.nginx import Nginx
from tests.servers.nodes import AssistNode, node_env


class Deployment:
    def __init__(
        self, directory: Path, redis, database_url: str, nodes: int, env: dict[str, str], prefix: str | None = None
    ) -> None:
        self.dir = directory
        self.redis = redis
        self.database_url = database_url
        # In a hash tag, as on Redis Cluster (docs/deploy.md): every key of it in one slot.
        self.prefix = prefix or f"dep:{{{uuid.uuid4().hex[:10]}}}:"
        shared = node_env(redis.url, self.prefix, database_url, directory / "recordings", **env)
        self.nodes = [AssistNode(f"n{i + 1}", directory / f"n{i + 1}", shared) for i in range(nodes)]
        self.nginx: Nginx | None = None
        self.clients: list[Client] = []
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        # The first node migrates the empty database; the others then start together.
        await loop.run_in_executor(None, self.nodes[0].start)
        await asyncio.gather(*(loop.run_in_executor(None, node.start) for node in self.nodes[1:]))
        self.nginx = Nginx(self.dir / "nginx", [(n.node_id, "127.0.0.1", n.port) for n in self.nodes]).start()
        self._http = aiohttp.ClientSession()

    @property
    def url(self) -> str:
        assert self.nginx is not None
        return self.nginx.url

    def add_users(self, role: str, names: list[str]) -> None:
        template = next(a for a in demo_accounts() if a["role"] == role)
        records = SqlRecords(self.database_url)
        try:
            records.ensure_users([template | {"username": n, "display_name": n} for n in names])
        finally:
            records.engine.dispose()

    async def record(self, request_id: str, until=lambda row: True, timeout: float = 15.0) -> dict:
        """The durable record of a request, once `until(row)` holds (nodes write in the background)."""
        records = SqlRecords(self.database_url)
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                row = await records.get_request(request_id)
                if row is not None and until(row):
                    return row
                assert asyncio.get_running_loop().time() < deadline, f"record of {request_id}: {row}"
                await asyncio.sleep(0.2)
        finally:
            records.engine.dispose()

    async def login(self, username: str, base: str | None = None) -> str:
        assert self._http is not None
        async with self._http.post(
            f"{base or self.url}/api/auth/login", json={"username": username, "password": "demo1234"}
        ) as resp:
            body = await resp.json()
            assert resp.status == 200, body
            return body["token"]

    async def client(self, username: str, node: AssistNode | None = None, reconnect: bool = True) -> Client:
        """A socket.io client through nginx (or straight to one node), coming back by itself."""
        base = node.url if node else self.url
        client = Client(base, await self.login(username, base), username, reconnect=reconnect)
        self.clients.append(client)
        await client.connect()
        return client

    async def agent(self, username: str, node: AssistNode | None = None) -> Client:
        client = await self.client(username, node)
        assert (await client.call("agent_state", {"state": "available"}))["ok"]
        await client.expect("agent_state", state="available")
        return client

    async def stop(self) -> None:
        for client in self.clients:
            await client.close()
        if self._http:
            await self._http.close()
        if self.nginx:
            self.nginx.stop()
        for node in self.nodes:
            node.stop()


def live_state(d: Deployment) -> dict:
    """The shared live state as the nodes see it (one document, from the entities in Redis)."""
    import json

    import redis

    from assist.storage import entities

    client = redis.Redis.from_url(d.redis.url)
    try:
        raw = client.hgetall(d.prefix + "live:entities")
        return entities.document({k.decode(): json.loads(v) for k, v in raw.items()}) if raw else {}
    finally:
        client.close()


def leader_node(d: Deployment) -> AssistNode:
    import redis

    client = redis.Redis.from_url(d.redis.url)
    try:
        instance = (client.get(d.prefix + "leader") or b"").decode()
    finally:
        client.close()
    return next(n for n in d.nodes if instance.startswith(n.node_id + "~"))
