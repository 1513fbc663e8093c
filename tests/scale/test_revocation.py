"""Sign-out, disabling and a password reset on two nodes behind nginx: the user's tokens are
refused by every node over HTTP, for refresh and for sockets, and their live sockets on both
nodes are closed; failed sign-ins count across nodes."""

from __future__ import annotations

import aiohttp
import pytest
import socketio

from tests.auth.test_production import assist_users
from tests.auth.test_signin import until_disconnected
from tests.conftest import Client


async def status_of(base: str, method: str, path: str, token: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, base + path, headers={"Authorization": f"Bearer {token}"}) as resp,
    ):
        return resp.status


async def assert_dead_everywhere(d, username: str, token: str, clients: list[Client]) -> None:
    for client in clients:
        await until_disconnected(client)
    for node in d.nodes:
        assert await status_of(node.url, "GET", "/api/requests", token) == 401, node.node_id
        assert await status_of(node.url, "POST", "/api/auth/refresh", token) == 401, node.node_id
        late = Client(node.url, token, username)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await late.connect()
        assert late.refusal["data"]["code"] == "token_revoked", (node.node_id, late.refusal)


async def test_logout_disable_and_reset_take_effect_on_every_node(deployment):
    d = await deployment(2)
    n1, n2 = d.nodes
    operator = {
        "ASSIST_DATABASE_URL": d.database_url,
        "ASSIST_REDIS_URL": d.redis.url,
        "ASSIST_REDIS_PREFIX": d.prefix,
        "ASSIST_VAR_DIR": str(d.dir / "cli"),
    }

    # Sign-out through nginx: the sockets on both nodes close, and no node takes the token.
    token = await d.login("agent01")
    sockets = [Client(node.url, token, "agent01") for node in (n1, n2)]
    for client in sockets:
        await client.connect()
        d.clients.append(client)
    bystander = await d.client("agent02", node=n2)
    assert await status_of(d.url, "POST", "/api/auth/logout", token) == 200
    await assert_dead_everywhere(d, "agent01", token, sockets)
    assert bystander.sio.connected and (await bystander.call("sync", {}))["ok"]

    # Disabled by the operator (a separate process): the same, on both nodes.
    a = await d.client("zhangsan", node=n1, reconnect=False)
    b = await d.client("zhangsan", node=n2, reconnect=False)
    assert assist_users(operator, "disable", "zhangsan").returncode == 0
    await assert_dead_everywhere(d, "zhangsan", a.token, [a, b])
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{d.url}/api/auth/login", json={"username": "zhangsan", "password": "demo1234"}) as resp,
    ):
        assert resp.status == 401

    # A new password: every token from before is refused, the new one works.
    old = await d.client("super01", node=n2, reconnect=False)
    reset = assist_users(operator, "reset-password", "super01", "--password-stdin", password="a much better one")
    assert reset.returncode == 0, reset.stderr
    await assert_dead_everywhere(d, "super01", old.token, [old])
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{d.url}/api/auth/login", json={"username": "super01", "password": "a much better one"}) as resp,
    ):
        assert resp.status == 200
        fresh = (await resp.json())["token"]
    for node in d.nodes:
        assert await status_of(node.url, "GET", "/api/requests", fresh) == 200


async def test_failed_sign_ins_count_across_nodes(deployment):
    d = await deployment(2)
    n1, n2 = d.nodes
    async with aiohttp.ClientSession() as http:

        async def attempt(node, password: str) -> int:
            async with http.post(f"{node.url}/api/auth/login", json={"username": "lisi", "password": password}) as resp:
                return resp.status

        statuses = [await attempt(node, "wrong") for node in (n1, n2, n1, n2, n1)]
        assert statuses == [401] * 5
        assert await attempt(n2, "wrong") == 429  # the sixth, on the other node: the count is shared
        assert await attempt(n1, "demo1234") == 429
