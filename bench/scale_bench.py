"""Scale-out benchmark: the signaling pairing load on 1 node and on 3 nodes behind nginx (all
sharing a real Redis and PostgreSQL), Redis round trips per pairing, and the time from kill -9
of a node to every client resumed on the others.

Everything runs on this one machine (2 cores here): the nodes, Redis, PostgreSQL, nginx and the
load generator share the CPUs, so the scaling ratio shows the cost of coordination, not the
capacity of three machines. The load is 20 arrivals/s (the signaling benchmark's 50/s with 100
agents saturates three nodes here: every node re-reads the whole shared document after another
node's change; see the closing note of the scale-out issue).
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from pathlib import Path

import redis
import socketio

from assist.auth import Tokens
from assist.storage import entities

from .common import BENCH_SECRET, add_accounts, percentile, print_table
from .signaling_bench import _token, pairing_load


def _redis_calls(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


class Cluster:
    def __init__(self, root: Path, nodes: int, redis_server, postgres) -> None:
        from tests.servers.nginx import Nginx
        from tests.servers.nodes import AssistNode, node_env

        self.root = root
        self.database_url = postgres.url()
        env = node_env(
            redis_server.url,
            f"bench{nodes}-{random.randrange(1 << 30)}:",
            self.database_url,
            root / "recordings",
            ASSIST_JWT_SECRET=BENCH_SECRET,
            ASSIST_QUEUE_CAP="5000",
            ASSIST_GRACE_S="30",
            ASSIST_OFFER_TIMEOUT_S="15",
        )
        self.nodes = [AssistNode(f"n{i + 1}", root / f"n{i + 1}", env) for i in range(nodes)]
        self.nodes[0].start()  # migrates the fresh database
        for node in self.nodes[1:]:
            node.start()
        self.nginx = Nginx(root / "nginx", [(n.node_id, "127.0.0.1", n.port) for n in self.nodes]).start()
        self.prefix = env["ASSIST_REDIS_PREFIX"]

    @property
    def url(self) -> str:
        return self.nginx.url

    def stop(self) -> None:
        self.nginx.stop()
        for node in self.nodes:
            node.stop()


async def kill_to_resume(cluster: Cluster, redis_url: str, customers: int, agents: int) -> dict:
    """Clients through nginx; kill -9 the node holding most of them; per client, the time until
    it is connected again, and until the shared state has it back with nothing on the dead node."""
    tokens = Tokens(BENCH_SECRET, 3600)
    clients: dict[str, socketio.AsyncClient] = {}
    back_at: dict[str, float] = {}
    add_accounts(
        cluster.database_url,
        [(f"k{i:04d}", "customer") for i in range(customers)]
        + [(f"ka{i:03d}", "agent") for i in range(customers, customers + agents)],
    )
    for i in range(customers + agents):
        name, role = (f"k{i:04d}", "customer") if i < customers else (f"ka{i:03d}", "agent")
        client = socketio.AsyncClient(
            reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1.0, randomization_factor=0.2
        )
        client.on("connect", lambda name=name: back_at.__setitem__(name, time.perf_counter()))
        await client.connect(cluster.url, auth={"token": _token(tokens, name, role)}, transports=["websocket"], wait_timeout=30)
        clients[name] = client
    store = redis.Redis.from_url(redis_url)
    import json

    def where() -> dict[str, set[str]]:
        raw = store.hgetall(cluster.prefix + "live:entities")
        state = (
            entities.document({(k.decode() if isinstance(k, bytes) else k): json.loads(v) for k, v in raw.items()}) if raw else {}
        )
        return {u: {i.split("~")[0] for i in o["sockets"]} for u, o in state.get("online", {}).items()}

    await asyncio.sleep(1.5)  # the state has everyone
    placed = where()
    victim = max(cluster.nodes, key=lambda n: sum(n.node_id in nodes for nodes in placed.values()))
    moved = [u for u, nodes in placed.items() if victim.node_id in nodes and u in clients]
    back_at.clear()
    killed = time.perf_counter()
    victim.kill()
    deadline = killed + 60
    while time.perf_counter() < deadline:
        placed = where()
        if (
            all(u in back_at for u in moved)
            and not any(victim.node_id in n for n in placed.values())
            and all(placed.get(u) for u in clients)
        ):
            break
        await asyncio.sleep(0.05)
    settled = time.perf_counter() - killed
    for client in clients.values():
        await client.disconnect()
    store.close()
    reconnect = [back_at[u] - killed for u in moved if u in back_at]
    return {
        "victim": victim.node_id,
        "moved": len(moved),
        "reconnected": len(reconnect),
        "reconnect": reconnect,
        "settled": settled,
    }


def run(customers: int = 400, agents: int = 40, rate: float = 20.0) -> None:
    from tests.servers.postgres import Postgres, bin_dir
    from tests.servers.redis import RedisServer

    binaries = bin_dir()
    if binaries is None:
        raise SystemExit("the scale bench needs PostgreSQL's server (make system-deps-test)")
    random.seed(11)
    redis_server = RedisServer().start()
    postgres = Postgres(binaries)
    postgres.start()
    rows, kill = [], None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for nodes in (1, 3):
                cluster = Cluster(Path(tmp) / f"c{nodes}", nodes, redis_server, postgres)
                client = redis.Redis.from_url(redis_server.url)
                try:
                    before = _redis_calls(client)
                    load = asyncio.run(
                        pairing_load(cluster.url, cluster.database_url, customers, agents, rate_per_s=rate, handle_s=0.5)
                    )
                    after = _redis_calls(client)
                    if nodes == 3:
                        kill = asyncio.run(kill_to_resume(cluster, redis_server.url, 300, 30))
                finally:
                    client.close()
                    cluster.stop()
                calls = {k: after.get(k, 0) - before.get(k, 0) for k in after}
                rows.append((nodes, load, calls))
    finally:
        postgres.close()
        redis_server.stop()

    ms = 1000.0
    base = rows[0][1]
    table = []
    for nodes, load, calls in rows:
        pair = load["latencies"]
        throughput = load["served"] / load["elapsed"]
        total = sum(calls.values())
        script = calls.get("evalsha", 0) + calls.get("eval", 0)
        table.append(
            (
                nodes,
                f"{load['served']}/{customers}",
                throughput,
                percentile(pair, 50) * ms,
                percentile(pair, 99) * ms,
                f"{throughput / (base['served'] / base['elapsed']):.2f}",
                f"{percentile(pair, 99) / percentile(base['latencies'], 99):.2f}",
                total / max(1, load["served"]),
                script / max(1, load["served"]),
            )
        )
    print_table(
        f"Pairing load behind nginx, Redis + PostgreSQL shared ({customers} customers at ~{rate:.0f}/s, "
        f"{agents} agents, 0.5 s sessions)",
        (
            "nodes",
            "served",
            "pairings/s",
            "pairing p50 ms",
            "pairing p99 ms",
            "throughput ×",
            "p99 ×",
            "Redis calls / pairing",
            "of which scripts",
        ),
        table,
    )
    top = sorted(rows[1][2].items(), key=lambda kv: -kv[1])[:6]
    print("Redis commands on 3 nodes, per pairing: " + ", ".join(f"{k} {v / max(1, rows[1][1]['served']):.1f}" for k, v in top))
    if kill:
        r = kill["reconnect"]
        print_table(
            "kill -9 of one of 3 nodes (300 customers + 30 agents through nginx)",
            (
                "node killed",
                "clients on it",
                "reconnected",
                "reconnect p50 s",
                "reconnect max s",
                "everyone resumed (state clean) s",
            ),
            [(kill["victim"], kill["moved"], kill["reconnected"], percentile(r, 50), max(r, default=0), kill["settled"])],
        )


if __name__ == "__main__":
    run(
        int(os.environ.get("BENCH_CUSTOMERS", "400")),
        int(os.environ.get("BENCH_AGENTS", "40")),
        float(os.environ.get("BENCH_RATE", "20")),
    )
