"""Shared fixtures: a real Assist server on a free loopback port and real socket.io clients."""

from __future__ import annotations

import asyncio
import gc
import uuid
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
import socketio
from aiohttp import web, web_app

from assist.appkeys import RECORDS, SERVICE
from assist.config import Config, Limits
from assist.server import create_app, demo_accounts
from signaling.domain.model import Policy
from tests.servers.fixtures import postgres_server  # noqa: F401  (the session's one PostgreSQL, `postgres`)
from voice.models import ModelSources, SpeechModels

TEST_SECRET = "test-secret-" + "x" * 40
METRICS_TOKEN = "test-metrics-" + "m" * 20


def make_config(var_dir: Path, **overrides) -> Config:
    """Short timers so timeouts and grace windows are exercised in a fraction of a second."""
    policy = overrides.pop("policy", Policy(offer_timeout_s=1.0, grace_s=1.0, queue_cap=50))
    overrides.setdefault("voice_loopback", True)  # this host has only loopback to connect over
    overrides.setdefault("metrics_token", METRICS_TOKEN)
    speech = Config.from_env()  # the speech models where this machine's settings put them, as `assist` does
    for name in ("cache_dir", "vosk_model_zh", "vosk_model_en"):
        overrides.setdefault(name, getattr(speech, name))
    return Config(
        var_dir=var_dir, jwt_secret=TEST_SECRET, policy=policy, tick_s=0.05, limits=overrides.pop("limits", Limits()), **overrides
    )


class Client:
    """A python-socketio client that records every event it receives, in order."""

    def __init__(self, base_url: str, token: str | None, username: str = "", reconnect: bool = False) -> None:
        self.base_url = base_url
        self.token = token
        self.username = username
        # `reconnect`: like the SDK, come back by itself after the connection drops (node tests).
        self.sio = socketio.AsyncClient(
            reconnection=reconnect, reconnection_delay=0.2, reconnection_delay_max=1.0, randomization_factor=0.2
        )
        self.events: list[tuple[str, object]] = []
        self.refusal: object = None  # what the server said when it refused the connection
        self._arrived = asyncio.Condition()
        self.sio.on("*", self._record)
        self.sio.on("connect_error", self._refused)

    async def _refused(self, data=None) -> None:
        self.refusal = data

    async def _record(self, event: str, data=None) -> None:
        async with self._arrived:
            self.events.append((event, data))
            self._arrived.notify_all()

    async def connect(self) -> None:
        await self.sio.connect(self.base_url, auth={"token": self.token}, transports=["websocket"], wait_timeout=5)

    async def call(self, event: str, data=None, *extra, timeout: float = 5.0):
        args = (data, *extra) if extra else data
        return await self.sio.call(event, args, timeout=timeout)

    async def expect(self, event: str, timeout: float = 5.0, **match) -> dict:
        """Wait for (and consume) the first `event` whose payload contains `match`."""
        found: list = []

        def take() -> bool:
            for i, (name, data) in enumerate(self.events):
                if name == event and all(isinstance(data, dict) and data.get(k) == v for k, v in match.items()):
                    del self.events[i]
                    found.append(data)
                    return True
            return False

        async with self._arrived:
            try:
                await asyncio.wait_for(self._arrived.wait_for(take), timeout)
            except TimeoutError:
                raise AssertionError(
                    f"{self.username}: no {event} {match or ''} within {timeout}s; got {[n for n, _ in self.events]}"
                ) from None
        return found[0]

    def seen(self, event: str) -> list:
        return [data for name, data in self.events if name == event]

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


class Harness:
    """One running server plus helpers to sign in and connect as anybody."""

    def __init__(self, server, config: Config) -> None:
        self.server = server
        self.config = config
        self.app = server.app
        self.base_url = str(server.make_url("/")).rstrip("/")
        self.clients: list[Client] = []
        self._http = aiohttp.ClientSession()

    async def login(self, username: str, password: str = "demo1234") -> str:
        async with self._http.post(f"{self.base_url}/api/auth/login", json={"username": username, "password": password}) as resp:
            body = await resp.json()
            assert resp.status == 200, body
            return body["token"]

    async def http(self, method: str, path: str, token: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self._http.request(method, f"{self.base_url}{path}", headers=headers, **kwargs) as resp:
            try:
                body = await resp.json(content_type=None)
            except ValueError:
                body = await resp.text()
            return resp.status, body

    async def client(self, username: str, connect: bool = True, token: str | None = None) -> Client:
        client = Client(self.base_url, token or await self.login(username), username)
        self.clients.append(client)
        if connect:
            await client.connect()
        return client

    async def agent(self, username: str = "agent01", available: bool = True) -> Client:
        client = await self.client(username)
        if available:
            assert (await client.call("agent_state", {"state": "available"}))["ok"]
            await client.expect("agent_state", state="available")
        return client

    def add_customers(self, *names: str) -> None:
        """More customers than the two demo ones, for queue tests (same demo password)."""
        template = next(a for a in demo_accounts() if a["role"] == "customer")
        self.app[RECORDS].ensure_users([template | {"username": n, "display_name": n} for n in names])

    def center(self):
        return self.app[SERVICE].store.center

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
        await self._http.close()


# Test tiers (pyproject.toml's markers; `make test-fast` runs the first):
#   fast    — pure code: the domain, the protocol, the masking rule, voice text handling;
#             no server, browser, external server binary or speech model
#   server  — a real Assist server on a loopback port (in this process or as nodes)
#   browser — real Chromium driven by Playwright
#   model   — the real speech models on real audio
SERVER_FIXTURES = {
    "start_server",
    "harness",
    "redis_server",
    "redis_cluster",
    "postgres",
    "postgres_server",
    "deployment",
    "coturn",
    "aiohttp_server",
    "aiohttp_client",
}


def pytest_collection_finish(session: pytest.Session) -> None:
    """Every module is imported now: keep what they made (a few hundred thousand objects, the
    pinyin tables among them) out of every later full collection, as `assist serve` does for
    its own start-up. A full collection stops the one loop that runs both a test and its
    server; it then walks only what the tests made."""
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tiers = []
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            tiers.append("server")
        if getattr(getattr(item, "module", None), "chromium", None) is not None:
            tiers.append("browser")
        if item.get_closest_marker("zh_model") is not None:
            tiers.append("model")
        tiers += [t for t in ("server", "browser", "model") if item.get_closest_marker(t) and t not in tiers]
        for tier in tiers or ["fast"]:
            item.add_marker(tier)


@pytest.fixture(scope="session")
def redis_server():
    """One real redis-server for the session; each test keeps to its own key prefix."""
    from tests.servers.redis import RedisServer

    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory):
    """A real Redis Cluster (three masters) for one test module; each test keeps to its own prefix."""
    from tests.servers.redis_cluster import RedisClusterServers

    servers = RedisClusterServers(tmp_path_factory.mktemp("redis-cluster")).start()
    yield servers
    servers.stop()


@pytest.fixture
def live_backend() -> str:
    """Where live state lives: "memory" here; tests/signaling runs every test on "redis" too."""
    return "memory"


@pytest.fixture(scope="session")
def speech_models() -> SpeechModels:
    """The speech models where this machine's settings put them (ASSIST_VOSK_MODEL_ZH …), as
    `assist` loads them: one set for the whole session, shared by every server it starts (an
    app of its own would load its own, a few hundred MB each)."""
    config = Config.from_env()
    return SpeechModels(ModelSources(config.cache_dir, config.vosk_models()))


@pytest.fixture
async def start_server(aiohttp_server, tmp_path, request, live_backend, speech_models):
    """Start a server (optionally with config overrides, or on a given var dir for restarts)."""
    harnesses: list[Harness] = []
    shared = {}
    if live_backend == "redis":
        shared = {"redis_url": request.getfixturevalue("redis_server").url, "redis_prefix": f"test-{uuid.uuid4().hex[:12]}:"}

    async def start(var_dir: Path | None = None, pages: dict[str, str] | None = None, **overrides) -> Harness:
        """`pages` adds test-only HTML pages (path → markup) served from the server's own origin."""
        config = make_config(var_dir or tmp_path / "var", **(shared | overrides))
        app = create_app(config, speech_models)
        for path, html in (pages or {}).items():
            app.router.add_get(path, _page(html))
        server = await aiohttp_server(app)
        harness = Harness(server, config)
        harnesses.append(harness)
        return harness

    yield start
    for harness in harnesses:
        await harness.close()
    # aiohttp memoises each app's middleware chain in a module-level cache of 1,024 entries
    # keyed by (handler, apps), so without this every app the session started stays alive.
    # Hundreds of them made full collections stop the loop for up to 0.8 s (tests/signaling
    # alone), and one such pause let a test's 1 s offer lapse before its agent's accept came.
    web_app._cached_build_middleware.cache_clear()


def _page(body: str):
    async def handler(request: web.Request) -> web.Response:
        kind = "text/javascript" if request.path.endswith(".js") else "text/html"
        # A bank's page with the SDK uses the microphone (call, voice), like our own bank app.
        return web.Response(text=body, content_type=kind, headers={"Permissions-Policy": "microphone=(self)"})

    return handler


@pytest.fixture
async def harness(start_server) -> Harness:
    return await start_server()


def with_policy(config: Config, **changes) -> Config:
    return replace(config, policy=replace(config.policy, **changes))
