"""Composition root: create_app(config) picks the stores and wires every part together."""

from __future__ import annotations

import asyncio
import gc
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import socketio
import structlog
from aiohttp import web

import demo_bank
from demo_bank.store import BankError
from signaling.domain.model import Role
from signaling.ice import ice_servers
from signaling.ports import Delivery
from signaling.service import Principal, SignalingService
from signaling.sio import SignalingAdapter, SioDelivery
from signaling.tasks import cancel_and_wait

from . import demo, guest, http_api, recordings_api
from .accounts import AccountStore
from .appkeys import (
    ACCOUNTS,
    ADAPTER,
    AUTH,
    BANK,
    CALL_AUDIO,
    CONFIG,
    METRICS,
    PASSWORDS,
    RECORDINGS,
    RECORDS,
    REVOCATIONS,
    SERVICE,
    THROTTLE,
    TOKENS,
    VOICE,
)
from .auth import Authenticator, PasswordPool, Revocations, Tokens, hash_password
from .cluster import LocalCluster, RedisCluster
from .config import Config
from .live import build_live
from .logs import configure as configure_logs
from .metrics import Metrics
from .storage.call_audio import CallAudio
from .storage.record_stream import RecordPump
from .storage.recordings import RecordingStore
from .storage.redis_live import RedisLiveStore
from .storage.sql import SqlRecords
from .throttle import SignInThrottle
from .web import routes as web_routes

if TYPE_CHECKING:
    from voice.gateway import VoiceGateway
    from voice.models import SpeechModels

log = structlog.get_logger("assist")

HOUSEKEEPING_EVERY_S = 3600


async def housekeeping(recordings: RecordingStore) -> None:
    """Hourly: delete recordings past their retention period."""
    loop = asyncio.get_running_loop()
    while True:
        deleted = await loop.run_in_executor(None, recordings.delete_expired)
        if deleted:
            log.info("recordings_expired", count=deleted)
        await asyncio.sleep(HOUSEKEEPING_EVERY_S)


@lru_cache(maxsize=1)
def _demo_hash() -> str:
    # One argon2 hash per process: every demo account shares the published demo password.
    return hash_password(demo.DEMO_PASSWORD)


def demo_accounts() -> list[dict]:
    return [
        {
            "username": name,
            "password_hash": _demo_hash(),
            "role": info["role"],
            "display_name": info["display_name"],
            "badge": info.get("badge", ""),
            "languages": info.get("languages", []),
            "skills": info.get("skills", []),
            "active": True,
            "demo": True,
        }
        for name, info in demo.DEMO_USERS.items()
    ]


def create_app(config: Config, speech_models: SpeechModels | None = None) -> web.Application:
    """The app and every part of it. `speech_models`: models its owner already holds (the test
    session's, shared by the many apps it starts); else the app loads its own."""
    config.var_dir.mkdir(parents=True, exist_ok=True)
    app = web.Application(client_max_size=64 * 1024, middlewares=[http_api.security_headers])
    tokens = Tokens(config.resolved_jwt_secret(), config.token_ttl_s, demo=config.demo)
    records = SqlRecords(config.resolved_database_url())
    live = build_live(config)
    accounts = AccountStore(records.engine)
    revocations = Revocations(accounts, redis=live.redis, channel=f"{config.redis_prefix}revoked")
    auth = Authenticator(tokens, revocations, Principal)
    passwords = PasswordPool(config.hash_workers, config.hash_queue)
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=live.client_manager,
        # One socket's events are handled in arrival order (mirror batches must not overtake
        # each other); handlers never block, records are written by a background thread.
        async_handlers=False,
        max_http_buffer_size=config.limits.http_buffer_bytes,
        # Same origin only: engine.io compares a browser's Origin with the Host it was reached at
        # (nginx passes Host on). ([] would switch the check off.) Tokens travel in the auth
        # payload, not in cookies, so this is defence in depth against cross-site sockets.
        cors_allowed_origins=None,
        logger=False,
        engineio_logger=False,
    )
    delivery = SioDelivery(sio)  # everything the server sends goes through it
    service = SignalingService(live.store, records, delivery, live.cluster, tick_s=config.tick_s)
    metrics = Metrics(lambda: service.live_stats)
    service.observer = metrics

    def ice_for(principal, view: dict) -> list[dict]:
        """STUN for anyone; TURN credentials only to a party of a live request or session (the
        customer) or session (the agent), and never outliving the caller's token."""
        ice, now = config.ice, time.time()
        live = (
            (view.get("request") or view.get("session"))
            if principal.role is Role.CUSTOMER
            else (principal.role is Role.AGENT and view.get("sessions"))
        )
        ttl = min(ice.turn_ttl_s, int(principal.expires_at - now)) if live and principal.expires_at else 0
        turn_urls = ice.turn_urls if ttl > 0 else ()
        return ice_servers(ice.stun_urls, turn_urls, ice.turn_secret, ttl, principal.user_id, now)

    recordings = RecordingStore(
        records.engine,
        config.resolved_recordings_dir(),
        config.recording_retention_days,
        node=live.cluster.instance if config.redis_url else "",
        max_bytes=config.recording_max_bytes,
    )
    voice = _voice_gateway(app, config, delivery, speech_models) if config.voice else None
    call_audio = None
    if config.record_audio:
        stun = ({"urls": list(config.ice.stun_urls)},) if config.ice.stun_urls else ()
        # The same loopback-only ICE as the voice gateway's, for tests.
        call_audio = CallAudio(config.resolved_recordings_dir(), stun, loopback_only=config.voice_loopback)
    adapter = SignalingAdapter(
        sio,
        service,
        delivery,
        auth.verify,
        config.limits,
        metrics,
        ice_for,
        recorder=recordings,
        voice=voice,
        keyframes=live.keyframes,
        call_audio=call_audio,
    )
    service.on_session_ended += [adapter.keyframes.forget, live.store.forget_session, adapter.forget_session, recordings.forget]
    if call_audio is not None:
        service.on_session_ended.append(call_audio.forget)
    sio.attach(app, socketio_path="socket.io")
    # A user signed out, disabled or deleted loses their sockets on this node.
    revocations.on_revoked.append(adapter.revoke)
    revocations.watched = adapter.by_user.keys

    throttle = SignInThrottle.build(config.redis_url, config.redis_prefix, config.redis_cluster)
    # Scaled out, records come through the Redis stream, and readers wait for it to be written.
    pump = RecordPump(live.redis, records, live.cluster.instance, config.redis_prefix) if live.redis else None
    if pump is not None:
        records.upstream = pump.settle

    app[CONFIG], app[TOKENS], app[RECORDS] = config, tokens, records
    app[AUTH], app[ACCOUNTS], app[PASSWORDS], app[REVOCATIONS] = auth, accounts, passwords, revocations
    app[THROTTLE] = throttle
    app[SERVICE], app[METRICS], app[ADAPTER], app[RECORDINGS] = service, metrics, adapter, recordings
    app[VOICE] = voice
    app[CALL_AUDIO] = call_audio
    metrics.watch_records(records.writer_status)  # the writer's health on /metrics
    if live.client_manager is not None:
        metrics.watch_delivery(live.client_manager)  # scaled out: delivery between the nodes
    shared = live.store
    if isinstance(shared, RedisLiveStore):
        metrics.watch_conflicts(lambda: shared.conflicts)  # scaled out: contention between the nodes
    http_api.add_routes(app)
    guest.add_routes(app)
    demo_bank.add_routes(app)
    recordings_api.add_routes(app)
    web_routes.add_routes(app)
    if config.redis_url:  # which node this browser is pinned to, for nginx (docs/deploy.md)
        app.middlewares.append(_pin_to_node(config.resolved_node_id()))

    async def join_cluster() -> None:
        if config.redis_url:
            await live.cluster.beat()  # alive (and maybe leading) before the first socket arrives
        if live.client_manager is not None:
            await live.client_manager.start()  # in the broadcasts before the first socket too
        live.cluster.start()

    # Every part's lifecycle, in the order the parts start; they stop in the reverse order
    # (aiohttp cleanup contexts), each stop bounded (_bounded) so a stuck one holds up nothing.
    # Before they stop, SIGTERM drains (_drain, on shutdown): sockets dropped, the cluster left.
    app.cleanup_ctx.extend(
        [
            _part("live_close", stop=live.close),  # the Redis connections (scaled out), closed last
            _part("passwords_close", stop=passwords.close),
            _part("throttle_close", stop=throttle.close),
            _database(config, records, accounts),  # the schema first: the bank seeds its tables next
            demo_bank.lifecycle,
            _part("records_stop", start=records.start, stop=records.stop),  # writes what the rest submit
            *([_part("record_pump_stop", start=pump.start, stop=pump.stop)] if pump else []),
            _part("recordings_stop", start=recordings.start, stop=recordings.stop),
            _part("revocations_stop", start=revocations.start, stop=revocations.stop),
            _part("leave_cluster", start=join_cluster, stop=live.cluster.stop),
            _part("service_stop", start=service.start, stop=service.stop),  # the ticker
            *([_part("call_audio_close", stop=call_audio.close)] if call_audio else []),
            *([_voice(voice)] if voice else []),
            _task("housekeeping", lambda: housekeeping(recordings)),
        ]
    )
    app.on_shutdown.append(_drain(sio, live.cluster))
    return app


NODE_COOKIE = "assist_node"
SHUTDOWN_STEP_S = 10.0


async def _bounded(step, what: str) -> None:
    """One shutdown step, given a deadline: a stuck step is logged, and shutdown goes on."""
    try:
        await asyncio.wait_for(step, SHUTDOWN_STEP_S)
    except TimeoutError:
        log.error("shutdown_step_timed_out", step=what)


def _pin_to_node(node_id: str):
    """Sticky sessions: every response names this node in a cookie; nginx routes a browser's
    later requests (socket.io long-polling must reach the node holding its session) by it."""

    @web.middleware
    async def pin(request: web.Request, handler):
        response = await handler(request)
        if request.cookies.get(NODE_COOKIE) != node_id and not getattr(response, "prepared", False):
            response.set_cookie(NODE_COOKIE, node_id, httponly=True, samesite="Strict", path="/")
        return response

    return pin


Lifecycle = Callable[[web.Application], AsyncIterator[None]]


def _part(
    name: str, start: Callable[[], object] | None = None, stop: Callable[[], Awaitable[object] | None] | None = None
) -> Lifecycle:
    """A part's lifecycle as a cleanup context: `start` (plain or async) when the app starts,
    `stop` (plain or async, bounded and logged by `name`) when it stops."""

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        started = start() if start is not None else None
        if inspect.isawaitable(started):
            await started
        yield
        stopped = stop() if stop is not None else None
        if inspect.isawaitable(stopped):
            await _bounded(stopped, name)

    lifecycle.__qualname__ = lifecycle.__name__ = name
    return lifecycle


def _task(name: str, run: Callable[[], Coroutine[Any, Any, None]]) -> Lifecycle:
    """A background task for the app's life: started with it, cancelled (and awaited) at its end."""

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(run(), name=name)
        yield
        await _bounded(_cancel(task), name)

    lifecycle.__qualname__ = lifecycle.__name__ = name
    return lifecycle


async def _cancel(task: asyncio.Task) -> None:
    await cancel_and_wait(task)


def _database(config: Config, records: SqlRecords, accounts: AccountStore) -> Lifecycle:
    async def database(app: web.Application) -> AsyncIterator[None]:
        """The schema (migrated, or checked), then what the previous process left behind."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, records.create_schema, config.migrate_on_start)
        if not config.redis_url:  # embedded: the live state died with the last process
            closed = await loop.run_in_executor(None, records.close_unfinished)
            if closed:
                log.info("closed_unfinished_records", count=closed)
        if config.demo:
            await loop.run_in_executor(None, records.ensure_users, demo_accounts())
        else:  # production: the demo accounts (a published password) are shut, their tokens refused
            disabled = await loop.run_in_executor(None, accounts.disable_demo)
            if disabled:
                log.warning("demo_accounts_disabled", users=disabled)
        yield

    return database


def _voice(voice: VoiceGateway) -> Lifecycle:
    async def voice_assistant(app: web.Application) -> AsyncIterator[None]:
        """The decoding threads start with the app; the models load in the background (the rest
        of the service does not wait for them). At the end, every utterance still open is
        closed, then the threads are shut down."""
        voice.speech.start()
        preload = asyncio.create_task(voice.preload(), name="voice-preload")
        yield
        await _bounded(_cancel(preload), "voice_preload")
        await _bounded(voice.close_all(), "voice_close")
        voice.speech.close()

    return voice_assistant


def _drain(sio: socketio.AsyncServer, cluster: LocalCluster | RedisCluster) -> Callable[[web.Application], Awaitable[None]]:
    async def drain(app: web.Application) -> None:
        """Shutting down (SIGTERM): the listener is already closed. Drop every socket now, as a
        lost connection (no goodbye, which would tell socket.io clients not to come back), so
        clients reconnect through the load balancer to another node and resume within their
        grace window; then leave the cluster so another node takes the clock at once (before
        the parts stop, which waits for open connections first)."""
        sockets = list(sio.eio.sockets.values())
        if sockets:
            await _bounded(asyncio.gather(*(s.close(wait=False, abort=True) for s in sockets)), "drop_sockets")
        await _bounded(sio.shutdown(), "socketio_shutdown")
        await _bounded(cluster.stop(), "leave_cluster")

    return drain


def _voice_gateway(app: web.Application, config: Config, delivery: Delivery, models: SpeechModels | None = None) -> VoiceGateway:
    from voice.endpoint import EndpointConfig
    from voice.gateway import VoiceGateway, VoiceSettings
    from voice.models import ModelSources, SpeechModels
    from voice.pipeline import Speech

    # The app's models (its own, from where the settings say, unless given) and its decoding
    # threads (_voice starts and stops them).
    speech = Speech(models or SpeechModels(ModelSources(config.cache_dir, config.vosk_models())))

    async def payees_of(customer: str) -> list[dict]:
        store = app[BANK]
        try:
            return await asyncio.get_running_loop().run_in_executor(store.io, store.list_payees, customer)
        except BankError:
            return []  # no bank account: no payees to recognize

    ice = config.ice
    servers = ({"urls": list(ice.stun_urls)},) if ice.stun_urls else ()
    settings = VoiceSettings(
        ice_servers=servers, loopback_only=config.voice_loopback, endpoint=EndpointConfig(max_ms=config.voice_max_utterance_ms)
    )
    return VoiceGateway(settings, payees_of, delivery, speech)


async def _freeze_startup_objects(app: web.Application) -> None:
    """What start-up made lives as long as the process: the modules, the pinyin tables, the
    app. Left in the collector's oldest generation, each full collection walks all of them,
    about 365,000 objects and 140 ms on the reference machine, with the loop stopped and every
    socket waiting. Frozen, a full collection walks only what was made since."""
    gc.collect()
    gc.freeze()


def serve(config: Config) -> None:
    configure_logs(config.log_level)
    app = create_app(config)
    base = f"http://{config.host}:{config.port}"
    print(f"Assist is running at {base}/", flush=True)
    print(f"  demo bank app   {base}/", flush=True)
    print(f"  assist SDK      {base}/sdk/assist.js", flush=True)
    print(f"  agent console   {base}/agent", flush=True)
    print(f"  supervisor      {base}/supervisor", flush=True)
    print(f"  health, metrics {base}/healthz  {base}/metrics", flush=True)
    if config.demo:
        names = ", ".join(f"{u} ({i['role']})" for u, i in demo.DEMO_USERS.items())
        print(f"  demo accounts   {names}; password {demo.DEMO_PASSWORD}", flush=True)
    app.on_startup.append(_freeze_startup_objects)
    # SIGTERM drains (_drain). Sockets are dropped by then; what still holds a connection
    # open (a websocket whose client has not noticed) is cut after this long.
    web.run_app(app, host=config.host, port=config.port, print=None, access_log=None, shutdown_timeout=1.5)
