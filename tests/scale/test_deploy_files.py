"""The docker/ deployment: compose services, shared secrets, Prometheus targets, the image's
final stage, and the nginx config (the committed one is the renderer's output; a rendered one
passes `nginx -t` and routes by the `assist_node` cookie, failing over to a live node)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp import web

from assist.config import Settings
from assist.deploy.nginx import NODE_COOKIE, render_nginx_conf, worker_connections
from tests.servers.common import free_port, stop, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
NGINX = "/usr/sbin/nginx"
SETTINGS = {Settings.env_name(name) for name in Settings.model_fields}  # every ASSIST_* the code reads
SHARED = (
    "ASSIST_JWT_SECRET",
    "ASSIST_TURN_SECRET",
    "ASSIST_TURN_URLS",
    "ASSIST_DATABASE_URL",
    "ASSIST_REDIS_URL",
    "ASSIST_RECORDINGS_DIR",
)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def assist_nodes(compose: dict) -> dict[str, dict]:
    """Service name → its environment, for every service that is an Assist node."""
    return {
        name: svc["environment"]
        for name, svc in compose["services"].items()
        if "ASSIST_NODE_ID" in (svc.get("environment") or {})
    }


def node_port(env: dict) -> int:
    return int(env.get("ASSIST_PORT", 8080))


def compose_topology(compose: dict) -> list[tuple[str, str, int]]:
    """(ASSIST_NODE_ID, host nginx reaches it at, port) per node: the renderer's input."""
    return [(env["ASSIST_NODE_ID"], name, node_port(env)) for name, env in assist_nodes(compose).items()]


def test_compose_has_every_service(compose):
    services = compose["services"]
    for name in ("redis", "postgres", "coturn", "nginx", "prometheus"):
        assert name in services, f"no {name} service"
    assert len(assist_nodes(compose)) >= 2
    # Redis persists (append-only file on a volume); PostgreSQL 15 on a volume.
    redis = services["redis"]
    assert "--appendonly" in redis["command"] and redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert any(v.endswith(":/data") for v in redis["volumes"])
    assert re.match(r"postgres:15(\b|-)", services["postgres"]["image"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])
    # Every node waits for healthy Redis and PostgreSQL, which have health checks.
    for name in assist_nodes(compose):
        depends = services[name]["depends_on"]
        for backing in ("redis", "postgres"):
            assert depends[backing]["condition"] == "service_healthy", (name, backing)
            assert services[backing]["healthcheck"]["test"]
    for name in assist_nodes(compose):
        assert services["nginx"]["depends_on"][name]["condition"] == "service_healthy"
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    assert any(str(p).endswith(":80") for p in services["nginx"]["ports"])


def test_nodes_differ_in_node_id_and_share_secrets_and_state(compose):
    nodes = assist_nodes(compose)
    ids = [env["ASSIST_NODE_ID"] for env in nodes.values()]
    assert len(set(ids)) == len(ids), ids
    for key in SHARED:
        values = {env.get(key) for env in nodes.values()}
        assert len(values) == 1 and None not in values, (key, values)
    env = next(iter(nodes.values()))
    assert env["ASSIST_REDIS_URL"].startswith("redis://redis:")
    assert "@postgres:5432/" in env["ASSIST_DATABASE_URL"]
    assert env["ASSIST_DATABASE_URL"].startswith("postgresql+psycopg://")
    # The recordings directory is one volume mounted in every node.
    mounts = {name: compose["services"][name]["volumes"] for name in nodes}
    shared = {m for m in next(iter(mounts.values())) if m.split(":")[1] == env["ASSIST_RECORDINGS_DIR"]}
    assert shared and all(shared <= set(m) for m in mounts.values()), mounts
    assert shared.pop().split(":")[0] in compose["volumes"]
    # coturn's static-auth-secret is the variable the nodes mint TURN credentials with.
    turn_var = re.fullmatch(r"\$\{(\w+)(:[-?][^}]*)?\}", env["ASSIST_TURN_SECRET"]).group(1)
    coturn = compose["services"]["coturn"]["command"]
    assert "--use-auth-secret" in coturn
    assert any(re.fullmatch(rf"--static-auth-secret=\$\{{{turn_var}(:[-?][^}}]*)?\}}", arg) for arg in coturn), coturn
    # Every ASSIST_* the nodes set is a setting the code reads (a typo would be silently ignored).
    assert set(env) <= SETTINGS, set(env) - SETTINGS


def test_deploy_doc_names_every_setting():
    doc = (ROOT / "docs/deploy.md").read_text()
    assert SETTINGS and not {name for name in SETTINGS if f"`{name}`" not in doc}, sorted(
        name for name in SETTINGS if f"`{name}`" not in doc
    )


def test_no_secret_is_committed(compose):
    nodes = assist_nodes(compose)
    for env in nodes.values():
        for key in ("ASSIST_JWT_SECRET", "ASSIST_TURN_SECRET"):
            assert re.fullmatch(r"\$\{\w+(:[-?][^}]*)?\}", env[key]), (key, env[key])
        assert "${POSTGRES_PASSWORD" in env["ASSIST_DATABASE_URL"]
    assert "${POSTGRES_PASSWORD" in compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
    example = dict(
        line.split("=", 1) for line in (DOCKER / ".env.example").read_text().splitlines() if line and not line.startswith("#")
    )
    for key in ("ASSIST_JWT_SECRET", "POSTGRES_PASSWORD", "TURN_SECRET"):
        assert example[key].startswith("change-me"), key
    assert ".env" in (DOCKER / ".gitignore").read_text().split()


def test_prometheus_scrapes_every_node(compose):
    config = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "assist"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    assert targets == {f"{name}:{node_port(env)}" for name, env in assist_nodes(compose).items()}
    mounts = compose["services"]["prometheus"]["volumes"]
    assert "./prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts


def test_committed_nginx_conf_is_the_rendered_one(compose):
    rendered = render_nginx_conf(compose_topology(compose), 80)
    assert (DOCKER / "nginx.conf").read_text() == rendered, (
        "regenerate: python -m assist.deploy.nginx "
        + " ".join(f"{i}={h}:{p}" for i, h, p in compose_topology(compose))
        + " --listen 80 > docker/nginx.conf"
    )
    # The pinning contract, as the nodes implement it: cookie assist_node=<ASSIST_NODE_ID>.
    for node_id, _, _ in compose_topology(compose):
        assert re.search(rf'^\s*"{re.escape(node_id)}"\s+assist_node_\w+;$', rendered, re.MULTILINE)
    assert f"map $cookie_{NODE_COOKIE} $assist_upstream" in rendered


def test_nginx_is_sized_for_every_nodes_sockets():
    """Each proxied WebSocket is two nginx connections; a worker may get all of them (issue 16:
    worker_connections 4096 capped the deployment near 2,000 sockets per worker)."""
    nodes = [(f"n{i}", "127.0.0.1", 18000 + i) for i in range(3)]
    rendered = render_nginx_conf(nodes, 80, sockets_per_node=5000)
    connections = int(re.search(r"^\s*worker_connections (\d+);$", rendered, re.MULTILINE).group(1))
    files = int(re.search(r"^worker_rlimit_nofile (\d+);", rendered, re.MULTILINE).group(1))
    assert connections >= 2 * 3 * 5000 and files > connections
    assert worker_connections(3, 5000) == connections


def test_renderer_refuses_bad_node_ids():
    for nodes in ([], [("a b", "h", 1)], [("a;", "h", 1)], [("x-1", "h", 1), ("x_1", "h", 2)]):
        with pytest.raises(ValueError):
            render_nginx_conf(nodes, 80)


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined, comments dropped), one list per stage."""
    text = re.sub(r"\\\n", " ", (DOCKER / "Dockerfile").read_text())
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_dockerfile_builds_in_stages_and_runs_as_non_root():
    stages = dockerfile_stages()
    assert len(stages) >= 3
    joined = ["\n".join(stage) for stage in stages]
    assert any("npm ci" in s and "node build.mjs" in s for s in joined[:-1]), "no stage builds the bundles"
    assert any("requirements.lock" in s and "/venv" in s for s in joined[:-1])
    final = stages[-1]
    users = [line.split(None, 1)[1].strip() for line in final if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    assert "EXPOSE 8080" in final
    [health] = [line for line in final if line.upper().startswith("HEALTHCHECK ")]
    assert "/healthz" in health
    [cmd] = [line for line in final if line.upper().startswith("CMD ")]
    assert json.loads(cmd[4:]) == ["assist", "serve", "--host", "0.0.0.0"]
    copies = "\n".join(line for line in final if line.upper().startswith("COPY --FROM="))
    for path in ("/venv", "sdk/dist", "agent_console/dist"):
        assert path in copies, path


def write_nginx_conf(tmp_path: Path, nodes, port: int) -> Path:
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx_conf(nodes, port, "127.0.0.1", temp_dir=tmp_path, pid=tmp_path / "nginx.pid", daemon=False))
    return conf


def test_rendered_conf_passes_nginx_t(tmp_path, compose):
    # Upstream names must resolve when nginx reads the file: the compose topology on loopback.
    nodes = [(node_id, "127.0.0.1", 18000 + i) for i, (node_id, _, _) in enumerate(compose_topology(compose))]
    conf = write_nginx_conf(tmp_path, nodes, free_port())
    done = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
        check=False,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def backend(node_id: str) -> web.Application:
    """A stand-in node: names itself in the assist_node cookie, as Assist nodes do."""

    async def who(request: web.Request) -> web.Response:
        response = web.Response(text=node_id)
        response.set_cookie(NODE_COOKIE, node_id, httponly=True, samesite="Strict", path="/")
        return response

    async def ws(request: web.Request) -> web.WebSocketResponse:
        sock = web.WebSocketResponse()
        await sock.prepare(request)
        async for message in sock:
            await sock.send_str(f"{node_id}:{message.data}")
        return sock

    async def echo(request: web.Request) -> web.Response:  # large bodies both ways
        return web.Response(body=await request.read() * 2)

    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.router.add_post("/socket.io/echo", echo)
    app.router.add_get("/who", who)
    app.router.add_get("/socket.io/", ws)
    return app


@pytest.fixture
def nginx_for_two(tmp_path):
    """A private nginx from the renderer, for nodes n1 and n2 on ports not yet listened on."""
    nodes = [("n1", "127.0.0.1", free_port()), ("n2", "127.0.0.1", free_port())]
    port = free_port()
    conf = write_nginx_conf(tmp_path, nodes, port)
    proc = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, proc, what="nginx")
        yield f"http://127.0.0.1:{port}", nodes
    finally:
        stop(proc)
    assert proc.returncode == 0, proc.stderr.read().decode()


async def test_rendered_conf_pins_by_cookie_and_fails_over(nginx_for_two):
    base, nodes = nginx_for_two
    runners = {}
    for node_id, host, port in nodes:
        runners[node_id] = web.AppRunner(backend(node_id))
        await runners[node_id].setup()
        await web.TCPSite(runners[node_id], host, port).start()
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:

            async def who(cookie: str | None = None) -> tuple[str, str | None]:
                headers = {"Cookie": f"{NODE_COOKIE}={cookie}"} if cookie else {}
                async with http.get(f"{base}/who", headers=headers) as resp:
                    assert resp.status == 200, await resp.text()
                    pinned = resp.cookies.get(NODE_COOKIE)
                    return await resp.text(), pinned.value if pinned else None

            # No cookie: round robin over every node, each naming itself in the cookie.
            first = [await who() for _ in range(4)]
            assert {node for node, _ in first} == {"n1", "n2"}
            assert all(node == cookie for node, cookie in first)
            # The cookie pins: every request (and a WebSocket upgrade) reaches that node.
            assert {(await who("n2"))[0] for _ in range(6)} == {"n2"}
            assert {(await who("n1"))[0] for _ in range(6)} == {"n1"}
            async with http.ws_connect(f"{base}/socket.io/", headers={"Cookie": f"{NODE_COOKIE}=n2"}) as sock:
                await sock.send_str("ping")
                assert (await sock.receive(timeout=5)).data == "n2:ping"
            assert (await who("unknown"))[0] in {"n1", "n2"}
            # A long-polling POST of a large mirror batch, and a large answer, pass whole (they
            # stay in memory: nginx's workers may not be able to write its temp directories).
            body = bytes(range(256)) * 2000  # 512,000 bytes
            async with http.post(f"{base}/socket.io/echo", data=body, headers={"Cookie": f"{NODE_COOKIE}=n1"}) as resp:
                assert resp.status == 200 and await resp.read() == body * 2
            # n2 dies: its browsers reach n1 (a backup in n2's upstream), which re-pins them.
            await runners.pop("n2").cleanup()
            assert [await who("n2") for _ in range(3)] == [("n1", "n1")] * 3
    finally:
        for runner in runners.values():
            await runner.cleanup()


NO_COMPOSE = "no `docker compose` on PATH (a docker client with the compose plugin): `docker compose config` not run"


def test_docker_compose_config_validates():
    docker = shutil.which("docker")
    has_compose = docker and subprocess.run([docker, "compose", "version"], check=False, capture_output=True).returncode == 0
    if not has_compose:
        pytest.skip(reason=NO_COMPOSE)
    done = subprocess.run(
        [docker, "compose", "-f", str(DOCKER / "compose.yaml"), "--env-file", str(DOCKER / ".env.example"), "config", "--quiet"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_alert_rules_match_the_walls_bounds(compose):
    """The wall turns a figure red at the policy's bounds; Prometheus alerts at the same ones."""
    import re

    from signaling.domain.model import Policy

    config = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    assert "./alerts.yml:/etc/prometheus/alerts.yml:ro" in compose["services"]["prometheus"]["volumes"]
    rules = {r["alert"]: r["expr"] for g in yaml.safe_load((DOCKER / "alerts.yml").read_text())["groups"] for r in g["rules"]}
    policy = Policy()
    bound = lambda expr: float(re.search(r"[<>] ([\d.]+)$", expr).group(1))  # noqa: E731
    assert bound(rules["AssistServiceLevelLow"]) == bound(rules["AssistLineServiceLevelLow"]) == policy.alert_service_level
    assert bound(rules["AssistLongestWaitHigh"]) == bound(rules["AssistLineLongestWaitHigh"]) == policy.alert_longest_wait_s
