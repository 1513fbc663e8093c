"""Scale-out benchmark: 1 node against 3 behind nginx (all sharing a real Redis and PostgreSQL)
at the same arrival rates, and the time from kill -9 of a node to every client resumed on the
others.

Each step is a fresh deployment (new nodes, new database, Redis emptied) fed customers at one
arrival rate (10, 20, 40, 80 a second; Poisson) for a few seconds; every customer connects,
signs in with a token, asks for help, is offered to an agent who accepts, is served for ~0.2 s,
ended, wrapped up, and disconnects. That whole visit is "a pairing" below.

How to read it. *CPU per pairing* is CPU-seconds read from /proc for each node process (and
from Redis's INFO for Redis) between the first arrival and the last customer served, divided
by the customers served: it does not depend on how busy the shared machine is, and it is what
sizes a deployment. "nodes + Redis" is the figure the goal is about (3 nodes within 1.3× of
one node's); nginx, PostgreSQL and the load generator are shown for context. The summary takes
the median of three runs at 20 arrivals a second. "Above idle" subtracts what the same
deployment burns with nobody connected (clocks, heartbeats; read for 2 s before each step) over
the same time: at a low rate that fixed cost, three times as large on three nodes, is a good
part of the gross figure. *Saturation* is the first rate at which the
pairing p99 (help_request sent → offer received by the agent) is over 10× its value at the
lowest rate on the same number of nodes.

Side by side. Three nodes on this machine cost more per pairing than one node partly because
three busy processes share two cores and their caches with Redis, PostgreSQL, nginx and the
load: work that is the same on either deployment (a socket.io connect, a frame written) took
about twice the CPU on three nodes in a py-spy profile. So the summary also measures three
single-node deployments side by side, each fed a third of the arrivals (three node processes,
the same total rate, the same Redis and PostgreSQL, but nothing shared between the nodes): the
difference between that and one three-node deployment is what coordinating the nodes costs,
with the co-location the same on both sides.

What it cannot show: everything runs on one 2-core machine. Three nodes share those two cores
with Redis, PostgreSQL, nginx and the load generator (itself Python, one core at most), so
three nodes cannot have more capacity here than one: the saturation rates say where this
machine runs out, not what three machines would serve. The CPU per pairing is the figure that
carries over: coordination overhead shows as 3 nodes costing more per pairing than one; the
capacity of N machines is then about N × (a core's CPU-seconds / node CPU per pairing), until
Redis's single core (Redis CPU per pairing) is the limit.
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

from .common import BENCH_SECRET, add_accounts, cpu_seconds, percentile, print_table, redis_cpu_seconds
from .signaling_bench import _token, pairing_load


def _redis_calls(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


class Cluster:
    def __init__(self, root: Path, nodes: int, redis_server, postgres, name: str = "") -> None:
        from tests.servers.nginx import Nginx
        from tests.servers.nodes import AssistNode, node_env

        self.root, self.name = root, name  # name: tells the nodes of side-by-side deployments apart
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
        self.postgres_pid = postgres.proc.pid

    def cpu(self, redis_client: redis.Redis) -> dict[str, float]:
        """CPU-seconds so far: each node, Redis, nginx (master and workers), PostgreSQL (all its
        backends) and this process (the load generator)."""
        readings = {self.name + node.node_id: cpu_seconds(node.proc.pid) for node in self.nodes if node.proc}
        readings["redis"] = redis_cpu_seconds(redis_client)
        if self.nginx.proc:
            readings["nginx"] = cpu_seconds(self.nginx.proc.pid, tree=True)
        readings["postgres"] = cpu_seconds(self.postgres_pid, tree=True)
        readings["loader"] = time.process_time()
        readings["wall"] = time.monotonic()
        return readings

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


RATES = (10.0, 20.0, 40.0, 80.0)
IDLE_S = 2.0  # the deployment's background CPU is read over this long before each step
BASE_RATE = 20.0  # the rate of the CPU-per-pairing comparison (medians of REPEATS)
REPEATS = 5
# (nodes per deployment, deployments side by side) compared at BASE_RATE: one node, three
# nodes, and three single-node deployments sharing the machine as three nodes do.
ARRANGEMENTS = ((1, 1), (3, 1), (1, 3))


def _cpu(clusters: list[Cluster], client: redis.Redis) -> dict[str, float]:
    """CPU-seconds so far of every node of these deployments, and of what they share (Redis,
    PostgreSQL, this process); nginx summed over the deployments."""
    readings: dict[str, float] = {}
    for cluster in clusters:
        for key, value in cluster.cpu(client).items():
            readings[key] = readings.get(key, 0.0) + value if key == "nginx" else value
    return readings


def step(root: Path, nodes: int, rate: float, seconds: float, redis_server, postgres, apart: int = 1) -> dict:
    """One fresh deployment of `nodes` nodes fed `rate` arrivals a second for `seconds`:
    latencies, CPU, Redis calls. With `apart` > 1, that many deployments side by side, each
    fed rate / apart (see the module's docstring), measured as one."""
    # A long timeout: on the shared machine an fsync stall can hold Redis for more than the default 5 s.
    client = redis.Redis.from_url(redis_server.url, socket_timeout=60)
    client.flushall()
    clusters = [Cluster(root / f"d{d}", nodes, redis_server, postgres, f"d{d}" if apart > 1 else "") for d in range(apart)]
    customers = max(20, round(rate * seconds))
    agents = 20 + round(rate)  # enough that a customer never waits for a free agent
    try:
        time.sleep(1.0)  # the nodes' start-up behind them
        idle0 = _cpu(clusters, client)
        time.sleep(IDLE_S)
        idle1 = _cpu(clusters, client)
        before = _redis_calls(client)

        async def loads() -> list[dict]:
            together = asyncio.Barrier(apart)
            return await asyncio.gather(
                *(
                    pairing_load(
                        cluster.url,
                        cluster.database_url,
                        customers // apart,
                        agents // apart,
                        rate_per_s=rate / apart,
                        handle_s=0.2,
                        meter=lambda: _cpu(clusters, client),
                        probe_every_s=None,  # 50 `sync`s a second would be a good part of the CPU measured
                        ready=together.wait,
                    )
                    for cluster in clusters
                )
            )

        runs = asyncio.run(loads())
        after = _redis_calls(client)
    finally:
        for cluster in clusters:
            cluster.stop()
        client.close()
    # One window over the loads side by side: from the first start to the last end.
    start = min((r["meter"][0] for r in runs), key=lambda m: m["wall"])
    end = max((r["meter"][1] for r in runs), key=lambda m: m["wall"])
    load = {
        "served": sum(r["served"] for r in runs),
        "elapsed": max(r["elapsed"] for r in runs),
        "latencies": [x for r in runs for x in r["latencies"]],
    }
    customers = customers // apart * apart
    used = {k: end[k] - start[k] for k in end}
    # What the deployment burns with nobody in it (clocks, heartbeats), over the same time.
    background = {k: (idle1[k] - idle0[k]) / (idle1["wall"] - idle0["wall"]) * used["wall"] for k in idle1}
    served = max(1, load["served"])
    is_node = [k for k in used if k not in ("redis", "nginx", "postgres", "loader", "wall")]
    node_ms = sum(used[k] for k in is_node) / served * 1000
    node_idle_ms = sum(background[k] for k in is_node) / served * 1000
    return {
        "nodes": nodes,
        "apart": apart,
        "rate": rate,
        "customers": customers,
        "served": load["served"],
        "throughput": load["served"] / load["elapsed"],
        "p50": percentile(load["latencies"], 50),
        "p99": percentile(load["latencies"], 99),
        "node_ms": node_ms,
        "redis_ms": used["redis"] / served * 1000,
        "total_ms": node_ms + used["redis"] / served * 1000,
        "net_ms": node_ms + used["redis"] / served * 1000 - node_idle_ms - background["redis"] / served * 1000,
        "nginx_ms": used.get("nginx", 0.0) / served * 1000,
        "postgres_ms": used["postgres"] / served * 1000,
        "loader_ms": used["loader"] / served * 1000,
        "calls": {k: after.get(k, 0) - before.get(k, 0) for k in after},
    }


def run(seconds: float = 5.0, kill: bool = True) -> None:
    import statistics

    from tests.servers.postgres import Postgres, bin_dir
    from tests.servers.redis import RedisServer

    binaries = bin_dir()
    if binaries is None:
        raise SystemExit("the scale bench needs PostgreSQL's server (make system-deps-test)")
    random.seed(11)
    redis_server = RedisServer().start()
    postgres = Postgres(binaries)
    postgres.start()
    steps: list[dict] = []
    # The CPU comparison at BASE_RATE: REPEATS rounds, each one run of every arrangement in
    # turn (so a slower minute of the shared machine falls on all of them alike).
    compared: dict[tuple[int, int], list[dict]] = {arrangement: [] for arrangement in ARRANGEMENTS}
    killed = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            k = 0
            for nodes in (1, 3):
                for rate in RATES:
                    k += 1
                    steps.append(step(Path(tmp) / f"s{k}", nodes, rate, seconds, redis_server, postgres))
            for _ in range(REPEATS):
                for nodes, apart in ARRANGEMENTS:
                    k += 1
                    compared[nodes, apart].append(
                        step(Path(tmp) / f"s{k}", nodes, BASE_RATE, seconds, redis_server, postgres, apart)
                    )
            if kill:
                redis.Redis.from_url(redis_server.url).flushall()
                cluster = Cluster(Path(tmp) / "kill", 3, redis_server, postgres)
                try:
                    killed = asyncio.run(kill_to_resume(cluster, redis_server.url, 300, 30))
                finally:
                    cluster.stop()
    finally:
        postgres.close()
        redis_server.stop()

    ms = 1000.0
    low = {nodes: next(s for s in steps if s["nodes"] == nodes)["p99"] for nodes in (1, 3)}
    print_table(
        f"Pairing load behind nginx, Redis + PostgreSQL shared: {seconds:.0f} s of arrivals per step, a fresh deployment "
        "each (CPU ms per pairing from /proc and Redis INFO)",
        (
            "nodes",
            "arrivals/s",
            "served",
            "pairings/s",
            "p50 ms",
            "p99 ms",
            "p99 × lowest rate",
            "nodes CPU",
            "Redis CPU",
            "nodes + Redis",
            "of it above idle",
            "nginx",
            "PostgreSQL",
            "load generator",
            "Redis calls / pairing",
        ),
        [
            (
                s["nodes"],
                f"{s['rate']:.0f}",
                f"{s['served']}/{s['customers']}",
                s["throughput"],
                s["p50"] * ms,
                s["p99"] * ms,
                f"{s['p99'] / low[s['nodes']]:.1f}",
                s["node_ms"],
                s["redis_ms"],
                s["total_ms"],
                s["net_ms"],
                s["nginx_ms"],
                s["postgres_ms"],
                s["loader_ms"],
                f"{sum(s['calls'].values()) / max(1, s['served']):.1f}",
            )
            for s in steps
        ],
    )
    saturation = {}
    for nodes in (1, 3):
        over = [s["rate"] for s in steps if s["nodes"] == nodes and s["p99"] > 10 * low[nodes]]
        saturation[nodes] = f"{min(over):.0f}/s" if over else f"> {RATES[-1]:.0f}/s"
    keys = ("node_ms", "redis_ms", "total_ms", "net_ms")
    medians = {a: {key: statistics.median(r[key] for r in runs) for key in keys} for a, runs in compared.items()}
    one, side = medians[1, 1], medians[1, 3]
    names = {(1, 1): "1 node", (3, 1): "3 nodes", (1, 3): "3 single-node deployments side by side"}
    summary = [
        (
            names[a],
            m["node_ms"],
            m["redis_ms"],
            m["total_ms"],
            f"{m['total_ms'] / one['total_ms']:.2f}×",
            f"{m['total_ms'] / side['total_ms']:.2f}×",
            m["net_ms"],
            f"{m['net_ms'] / one['net_ms']:.2f}×",
            ", ".join(f"{r['total_ms']:.1f}" for r in compared[a]),
            f"{low[a[0]] * ms:.1f}" if a[1] == 1 else "-",
            saturation[a[0]] if a[1] == 1 else "-",
        )
        for a, m in medians.items()
    ]
    print_table(
        f"1 node against 3 at {BASE_RATE:.0f} arrivals/s (CPU ms per pairing, medians of {REPEATS} interleaved rounds; "
        "baselines: 1 node, and 3 side by side (the same co-location, nothing shared), this run; goal: 3 nodes ≤ 1.3×)",
        (
            "arrangement",
            "nodes CPU",
            "Redis CPU",
            "nodes + Redis",
            "× 1 node",
            "× side by side",
            "above idle",
            "× 1 node",
            "each round (nodes + Redis)",
            f"p99 ms at {RATES[0]:.0f}/s",
            "saturates at (p99 > 10× low-load)",
        ),
        summary,
    )
    for a in ARRANGEMENTS:
        calls: dict[str, float] = {}
        for r in compared[a]:
            for name, count in r["calls"].items():
                calls[name] = calls.get(name, 0) + count / max(1, r["served"]) / REPEATS
        top = sorted(calls.items(), key=lambda kv: -kv[1])[:8]
        print(
            f"Redis commands per pairing, {names[a]} at {BASE_RATE:.0f}/s: {sum(calls.values()):.1f} "
            "(" + ", ".join(f"{k} {v:.1f}" for k, v in top) + ")"
        )
    if killed:
        r = killed["reconnect"]
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
            [(killed["victim"], killed["moved"], killed["reconnected"], percentile(r, 50), max(r, default=0), killed["settled"])],
        )


if __name__ == "__main__":
    run(float(os.environ.get("BENCH_STEP_S", "5")), os.environ.get("BENCH_KILL", "1") != "0")
