"""Delivery between nodes: what one message to one user costs the cluster, 1 node vs 3 nodes,
with python-socketio's AsyncRedisManager (one pub/sub channel every node decodes: before issue
16) and with assist.delivery.StreamManager (a stream per node, written only for the nodes
holding the user: after).

N python-socketio servers run in this process, each with its own client manager, all on one
real Redis. Node 1 emits to `user:u`, whose socket is on the last node (on node 1 itself when
there is one node). Counted: the Redis writes per message (PUBLISH, or XADD inside the scripts),
the messages each node's listener received and decoded, and of those, how many were decoded
for nothing (by a node without the user, or by the sender, which delivered locally already).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

import redis
import socketio

from assist.delivery import StreamManager
from assist.logs import configure as configure_logs

from .common import print_table


class CountingPubSub(socketio.AsyncRedisManager):
    """The manager as it was (live.py before issue 16), counting what its listener hands on."""

    received = 0

    async def _listen(self) -> AsyncIterator:
        async for message in super()._listen():
            self.received += 1
            yield message

    async def start(self) -> None:
        self.initialize()

    async def close(self) -> None:
        self.thread.cancel()
        await self.redis.aclose()


class Streams(StreamManager):
    async def start(self) -> None:
        await super().start()
        self.initialize()


def _writes(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("publish", "xadd"))


async def _run(url: str, kind: str, nodes: int, messages: int) -> dict:
    prefix = f"bench-delivery-{kind}-{nodes}-{time.monotonic_ns()}:"
    instances = [f"n{i + 1}~bench" for i in range(nodes)]
    holder = instances[-1]
    managers: list[CountingPubSub | Streams] = []
    for instance in instances:
        manager: CountingPubSub | Streams
        if kind == "pub/sub":
            manager = CountingPubSub(url, channel=f"{prefix}sio")
        else:
            manager = Streams(url, prefix, instance, lambda user: {holder})
        socketio.AsyncServer(async_mode="aiohttp", client_manager=manager)
        managers.append(manager)
    for manager in managers:
        await manager.start()
    await asyncio.sleep(0.5)  # every listener subscribed / reading
    counter = redis.Redis.from_url(url)
    before = _writes(counter)
    started = time.perf_counter()
    for i in range(messages):
        await managers[0].emit("mirror", {"seq": i, "events": [{"type": 3, "data": {"x": i}}]}, room="user:u")
    elapsed = time.perf_counter() - started
    expect = 0 if nodes == 1 and kind == "streams" else messages
    deadline = time.monotonic() + 10
    while managers[-1].received < expect and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # anything still on its way to the others
    writes = _writes(counter) - before
    counter.close()
    received = [m.received for m in managers]
    useful = 1 if nodes > 1 else 0  # read by the holder, for a socket the sender does not hold
    for manager in managers:
        await manager.close()
    return {
        "writes": writes / messages,
        "decoded": sum(received) / messages,
        "wasted": sum(received) / messages - useful,
        "per_node": "/".join(str(r) for r in received),
        "rate": messages / elapsed,
    }


def run(messages: int = 2000) -> None:
    from tests.servers.redis import RedisServer

    configure_logs("warning")
    server = RedisServer().start()
    rows = []
    try:
        for kind in ("pub/sub", "streams"):
            for nodes in (1, 3):
                r = asyncio.run(_run(server.url, kind, nodes, messages))
                rows.append(
                    (
                        "before: one pub/sub channel" if kind == "pub/sub" else "after: a stream per node",
                        nodes,
                        r["writes"],
                        r["decoded"],
                        r["wasted"],
                        r["per_node"],
                        round(r["rate"]),
                    )
                )
    finally:
        server.stop()
    print_table(
        f"One user's messages across nodes ({messages} emits from node 1 to a user on the last node)",
        (
            "delivery",
            "nodes",
            "Redis writes / msg",
            "decoded / msg (all nodes)",
            "decoded for nothing / msg",
            f"received per node (of {messages})",
            "emits/s",
        ),
        rows,
    )


if __name__ == "__main__":
    run(int(os.environ.get("BENCH_MESSAGES", "2000")))
