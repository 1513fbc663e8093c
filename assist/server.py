"""Composition root: create_app(config) picks the stores and wires every part together."""
from __future__ import annotations

import asyncio
import time
from functools import lru_cache

import socketio
import structlog
from aiohttp import web

from signaling.domain.model import Role
from signaling.ice import ice_servers
from signaling.service import Principal, SignalingService
from signaling.sio import SignalingAdapter, SioPublisher

from . import bank, demo, guest, http_api, recordings_api
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
from .config import Config
from .live import build_live
from .logs import configure as configure_logs
from .metrics import Metrics
from .storage.call_audio import CallAudio
from .storage.recordings import RecordingStore
from .storage.sql import SqlRecords
from .throttle import SignInThrottle
from .web import routes as web_routes

log = structlog.get_logger("assist")

HOUSEKEEPING = web.AppKey("housekeeping", asyncio.Task)
VOICE_LOAD = web.AppKey("voice_load", asyncio.Task)
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
        {"username": name, "password_hash": _demo_hash(), "role": info["role"],
         "display_name": info["display_name"], "badge": info.get("badge", ""),
         "languages": info.get("languages", []), "skills": info.get("skills", []), "active": True, "demo": True}
        for name, info in demo.DEMO_USERS.items()
    ]


def create_app(config: Config) -> web.Application:
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
    publisher = SioPublisher(sio)
    service = SignalingService(live.store, records, publisher, live.cluster, tick_s=config.tick_s)
    metrics = Metrics(lambda: service.live_stats)
    service.observer = metrics

    def ice_for(principal, view: dict) -> list[dict]:
        """STUN for anyone; TURN credentials only to a party of a live request or session (the
        customer) or session (the agent), and never outliving the caller's token."""
        ice, now = config.ice, time.time()
        live = (view.get("request") or view.get("session")) if principal.role is Role.CUSTOMER else (
            principal.role is Role.AGENT and view.get("sessions"))
        ttl = min(ice.turn_ttl_s, int(principal.expires_at - now)) if live and principal.expires_at else 0
        turn_urls = ice.turn_urls if ttl > 0 else ()
        return ice_servers(ice.stun_urls, turn_urls, ice.turn_secret, ttl, principal.user_id, now)

    recordings = RecordingStore(records.engine, config.resolved_recordings_dir(), config.recording_retention_days,
                                node=live.cluster.instance if config.redis_url else "",
                                max_bytes=config.recording_max_bytes)
    voice = _voice_gateway(app, config, sio) if config.voice else None
    call_audio = None
    if config.record_audio:
        stun = ({"urls": list(config.ice.stun_urls)},) if config.ice.stun_urls else ()
        # The same loopback-only ICE as the voice gateway's, for tests.
        call_audio = CallAudio(config.resolved_recordings_dir(), stun, loopback_only=config.voice_loopback)
    adapter = SignalingAdapter(sio, service, auth.verify, config.limits, metrics, ice_for,
                               recorder=recordings, voice=voice, keyframes=live.keyframes, call_audio=call_audio)
    publisher.on_session_ended += [adapter.keyframes.forget, live.store.forget_session, adapter.forget_session,
                                   recordings.forget]
    if call_audio is not None:
        publisher.on_session_ended.append(call_audio.forget)
    sio.attach(app, socketio_path="socket.io")
    # A user signed out, disabled or deleted loses their sockets on this node.
    revocations.on_revoked.append(adapter.revoke)
    revocations.watched = adapter.by_user.keys

    app[CONFIG], app[TOKENS], app[RECORDS] = config, tokens, records
    app[AUTH], app[ACCOUNTS], app[PASSWORDS], app[REVOCATIONS] = auth, accounts, passwords, revocations
    app[THROTTLE] = SignInThrottle.build(config.redis_url, config.redis_prefix)
    app[SERVICE], app[METRICS], app[ADAPTER], app[RECORDINGS] = service, metrics, adapter, recordings
    app[VOICE] = voice
    app[CALL_AUDIO] = call_audio
    # Records database: the schema first (this hook runs before the bank's, which seeds its
    # tables), and the writer's health on /metrics.
    app.on_startup.append(_migrate(config, records))
    metrics.watch_records(records.writer_status)
    http_api.add_routes(app)
    guest.add_routes(app)
    bank.add_routes(app)
    recordings_api.add_routes(app)
    web_routes.add_routes(app)

    async def startup(app: web.Application) -> None:
        loop = asyncio.get_running_loop()
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
        revocations.start()
        records.start()
        if live.redis is not None:  # scaled out: records come through the Redis stream
            from .storage.record_stream import RecordPump

            live.pump = RecordPump(live.redis, records, live.cluster.instance, config.redis_prefix)
            records.upstream = live.pump.settle
            live.pump.start()
        recordings.start()
        if config.redis_url:
            await live.cluster.beat()  # alive (and maybe leading) before the first socket arrives
        live.cluster.start()
        service.start()
        if voice is not None:
            app[VOICE_LOAD] = asyncio.create_task(voice.preload(), name="voice-preload")
        app[HOUSEKEEPING] = asyncio.create_task(housekeeping(recordings), name="housekeeping")

    async def drain(app: web.Application) -> None:
        """Shutting down (SIGTERM): the listener is already closed. Drop every socket now, as a
        lost connection (no goodbye, which would tell socket.io clients not to come back), so
        clients reconnect through the load balancer to another node and resume within their
        grace window; then leave the cluster so another node takes the clock at once."""
        sockets = list(sio.eio.sockets.values())
        if sockets:
            await _bounded(asyncio.gather(*(s.close(wait=False, abort=True) for s in sockets)), "drop_sockets")
        await _bounded(sio.shutdown(), "socketio_shutdown")
        await _bounded(live.cluster.stop(), "leave_cluster")

    async def cleanup(app: web.Application) -> None:
        app[HOUSEKEEPING].cancel()
        await _bounded(revocations.stop(), "revocations_stop")
        await _bounded(app[THROTTLE].close(), "throttle_close")
        passwords.close()
        if voice is not None:
            app[VOICE_LOAD].cancel()
            await _bounded(voice.close_all(), "voice_close")
        if call_audio is not None:
            await _bounded(call_audio.close(), "call_audio_close")
        await _bounded(service.stop(), "service_stop")
        if live.pump is not None:
            await _bounded(live.pump.stop(), "record_pump_stop")
        await _bounded(recordings.stop(), "recordings_stop")
        await _bounded(records.stop(), "records_stop")
        await _bounded(live.close(), "live_close")

    if config.redis_url:  # which node this browser is pinned to, for nginx (docs/deploy.md)
        app.middlewares.append(_pin_to_node(config.resolved_node_id()))
    app.on_startup.append(startup)
    app.on_shutdown.append(drain)
    app.on_cleanup.append(cleanup)
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


def _migrate(config: Config, records: SqlRecords):
    async def migrate(app: web.Application) -> None:
        await asyncio.get_running_loop().run_in_executor(None, records.create_schema, config.migrate_on_start)
    return migrate


def _voice_gateway(app: web.Application, config: Config, sio: socketio.AsyncServer):
    from voice.endpoint import EndpointConfig
    from voice.gateway import VoiceGateway, VoiceSettings

    async def payees_of(customer: str) -> list[dict]:
        from .bank.store import BankError

        store = app[BANK]
        try:
            return await asyncio.get_running_loop().run_in_executor(store.io, store.list_payees, customer)
        except BankError:
            return []  # no bank account: no payees to recognize

    async def emit_to(customer: str, event: str, data: dict) -> None:
        await sio.emit(event, data, room=f"user:{customer}")

    ice = config.ice
    servers = ({"urls": list(ice.stun_urls)},) if ice.stun_urls else ()
    settings = VoiceSettings(ice_servers=servers, loopback_only=config.voice_loopback,
                             endpoint=EndpointConfig(max_ms=config.voice_max_utterance_ms))
    return VoiceGateway(settings, payees_of, emit_to)


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
    # SIGTERM drains (create_app: drain). Sockets are dropped by then; what still holds a connection
    # open (a websocket whose client has not noticed) is cut after this long.
    web.run_app(app, host=config.host, port=config.port, print=None, access_log=None, shutdown_timeout=1.5)
