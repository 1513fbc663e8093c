"""The thin socket.io adapter: authenticate → limit → validate → service → acknowledge.

Every inbound event goes through one catch-all handler, so unknown events, wrong arity and
non-object payloads get the same clear acknowledgement `{"ok": false, "error": {...}}` as any
other refusal; an exception never escapes to python-socketio (which would drop the ack).
"""

from __future__ import annotations

import asyncio
import functools
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import socketio
import structlog
from pydantic import ValidationError

from .domain.errors import DomainError
from .domain.model import Presence, Role
from .domain.notices import AGENTS, SUPERVISORS, user
from .keyframes import Keyframes
from .mirror_guard import ChunkAssembler, Joined
from .outbound import Relay, RelayEvent
from .ports import Delivery, Message
from .protocol import (
    INBOUND,
    PROTOCOL_VERSION,
    AnnotationIn,
    HelpRequestIn,
    Inbound,
    MirrorIn,
    MonitorSignalIn,
    OfferRef,
    RecordAudioIn,
    RtcSignalIn,
    SessionRef,
    SupervisorJoinIn,
    VoiceStartIn,
    error,
    ok,
)
from .ratelimit import TokenBucket
from .scrub import Scan, TooDeep, mask_numbers, scrub_events
from .service import Principal, SignalingService

log = structlog.get_logger("signaling")

ROLE_ROOMS = {Role.AGENT: AGENTS, Role.SUPERVISOR: SUPERVISORS}
RELAYS: dict[str, tuple[RelayEvent, str]] = {  # payload model → (event name, relay stream)
    "MirrorIn": ("mirror", "mirror"),
    "AnnotationIn": ("annotation", "annotation"),
    "RtcSignalIn": ("rtc_signal", "rtc"),
    "MonitorSignalIn": ("monitor_signal", "monitor"),
}
MAX_SOCKETS_PER_USER = 8  # on one node: tabs and a reconnect overlapping the old socket, with room
SCAN_IN_THREAD_BYTES = 64_000  # a mirror batch bigger than this is scanned off the event loop
RECORDED_STREAMS = ("mirror", "annotation")  # what the agent saw and showed; call audio is not relayed
# Names socket.io and its clients use for themselves: never an event a client may send.
RESERVED_EVENTS = frozenset(
    {
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "error",
        "message",
        "newListener",
        "removeListener",
        "ping",
        "pong",
    }
)


class Voice(Protocol):
    """The voice assistant's live path (voice.gateway); its errors carry `code` and `message`."""

    async def start(self, customer: str, lang: str, offer_sdp: str) -> str: ...
    async def stop(self, customer: str) -> None: ...
    async def close(self, customer: str) -> None: ...


class Recorder(Protocol):
    def append(
        self, session_id: str, kind: str, data: dict, *, request_id: str, customer_id: str, agent_id: str, size: int = 0
    ) -> None: ...


class CallAudio(Protocol):
    """The call's audio recorder (assist.storage.call_audio): answers the agent's console's offer."""

    async def start(self, session_id: str, offer_sdp: str) -> str: ...


class Standing(Protocol):
    """An account's token standing (assist.accounts.Standing)."""

    @property
    def generation(self) -> int: ...
    @property
    def active(self) -> bool: ...


class SocketLimits(Protocol):
    """The per-socket limits (assist.config.Limits)."""

    @property
    def control_bytes(self) -> int: ...
    @property
    def relay_bytes(self) -> int: ...
    @property
    def control_rate(self) -> float: ...
    @property
    def control_burst(self) -> float: ...
    @property
    def relay_rate(self) -> float: ...
    @property
    def relay_burst(self) -> float: ...
    @property
    def relay_bytes_rate(self) -> float: ...
    @property
    def relay_bytes_burst(self) -> float: ...


class Tally(Protocol):
    """A labelled counter (prometheus_client.Counter)."""

    def labels(self, *labelvalues: str) -> Tally: ...
    def inc(self, amount: float = 1) -> None: ...


class Level(Protocol):
    """A labelled gauge (prometheus_client.Gauge)."""

    def labels(self, *labelvalues: str) -> Level: ...
    def inc(self, amount: float = 1) -> None: ...
    def dec(self, amount: float = 1) -> None: ...


class AdapterMetrics(Protocol):
    """What the adapter counts (assist.metrics.Metrics)."""

    @property
    def events_received(self) -> Tally: ...
    @property
    def events_rejected(self) -> Tally: ...
    @property
    def connect_refused(self) -> Tally: ...
    @property
    def mask_violations(self) -> Tally: ...
    @property
    def connections(self) -> Level: ...


@dataclass
class SocketState:
    principal: Principal
    control: TokenBucket
    relay: TokenBucket
    relay_bytes: TokenBucket  # relays in bytes: many small messages and a few huge ones cost alike
    last_size: int = 0  # bytes of the event being handled


class Refused(DomainError):
    """Refused by the adapter before the domain saw it (limits, validation, roles)."""


def reserved(event: str) -> Refused:
    return Refused("reserved_event", f"{event} is a reserved name, not an event you may send.")


class SioDelivery:
    """Delivery over socket.io: the one place anything is emitted (signaling.ports.Delivery)."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio

    async def send(self, to: str, message: Message) -> None:
        await self.sio.emit(message.event, message.wire(), room=to)


# An event's handler: the payload arrives as the model INBOUND names for the event (validated).
Handler = Callable[[SocketState, Any, dict], Awaitable[dict]]


class SignalingAdapter:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        service: SignalingService,
        delivery: Delivery,
        verify_token: Callable[[Any], Awaitable[Principal]],
        limits: SocketLimits,
        metrics: AdapterMetrics,
        ice_servers: Callable[[Principal, dict], list[dict]],
        recorder: Recorder | None = None,
        voice: Voice | None = None,
        keyframes: Keyframes | None = None,
        call_audio: CallAudio | None = None,
    ) -> None:
        self.sio = sio
        self.delivery = delivery
        self.call_audio = call_audio  # None when audio is not recorded
        self.recorder = recorder
        self.voice = voice
        self.service = service
        self.verify_token = verify_token
        self.limits = limits
        self.metrics = metrics
        self.ice_servers = ice_servers
        self.sockets: dict[str, SocketState] = {}
        self.keyframes = keyframes or Keyframes()
        self.chunks = ChunkAssembler()
        self.by_user: dict[str, set[str]] = {}
        self.handlers: dict[str, Handler] = {
            "help_request": self._help_request,
            "callback_request": self._callback_request,
            "help_cancel": lambda s, m, raw: self._done(self.service.cancel(s.principal, m.request_id)),
            "consent": lambda s, m, raw: self._done(self.service.consent(s.principal, m.session_id, m.accept)),
            "stop_sharing": lambda s, m, raw: self._done(self.service.stop_sharing(s.principal, m.session_id)),
            "customer_step": lambda s, m, raw: self._done(self.service.customer_step(s.principal, m.session_id, m.step)),
            "rate_session": lambda s, m, raw: self._done(
                # What the customer typed: kept with the record, so the number rule applies.
                self.service.rate_session(s.principal, m.session_id, m.rating, self._scrubbed("rating", m.comment))
            ),
            "end_session": lambda s, m, raw: self._done(self.service.end_session(s.principal, m.session_id)),
            "agent_state": lambda s, m, raw: self._done(self.service.set_presence(s.principal, Presence(m.state))),
            "offer_accept": self._offer_accept,
            "offer_decline": lambda s, m, raw: self._done(self.service.decline(s.principal, m.offer_id)),
            "wrap_up": lambda s, m, raw: self._done(self.service.wrap_up(s.principal, m.session_id, m.outcome, m.notes)),
            "transfer": lambda s, m, raw: self._done(self.service.transfer(s.principal, m.session_id, m.to_agent)),
            "transfer_targets": self._transfer_targets,
            "ask_to_share": lambda s, m, raw: self._done(self.service.ask_to_share(s.principal, m.session_id)),
            "invite_supervisor": lambda s, m, raw: self._done(self.service.invite_supervisor(s.principal, m.session_id, m.note)),
            "supervisor_join": self._supervisor_join,
            "supervisor_leave": lambda s, m, raw: self._done(self.service.supervisor_leave(s.principal, m.session_id)),
            "record_audio": self._record_audio,
            "reassign": lambda s, m, raw: self._done(self.service.reassign(s.principal, m.request_id, m.to_agent)),
            "sync": self._sync,
            "mirror": self._relay,
            "annotation": self._relay,
            "rtc_signal": self._relay,
            "monitor_signal": self._relay,
            "whisper": lambda s, m, raw: self._done(self.service.whisper(s.principal, m.session_id, m.text)),
            "voice_start": self._voice_start,
            "voice_stop": self._voice_stop,
        }
        assert set(self.handlers) == set(INBOUND), "every protocol event needs a handler"
        sio.on("connect", self.on_connect)
        sio.on("disconnect", self.on_disconnect)
        sio.on("*", self.on_event)

    # ------------------------------------------------------------------ connection
    async def on_connect(self, sid: str, environ: Any = None, auth: Any = None, *extra: Any) -> dict | None:
        if sid in self.sockets:  # a connected client sent an event named "connect"
            return self._reserved("connect")
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            principal = await self.verify_token(token)
        except Exception as exc:  # AuthError carries a code; anything else is still a refusal
            code = getattr(exc, "code", "unauthorized")
            self.metrics.connect_refused.labels(code).inc()
            message = getattr(exc, "message", "A valid access token is required.")
            # The client's connect_error gets {"message": ..., "data": {"code": ...}}.
            raise socketio.exceptions.ConnectionRefusedError(message, {"code": code}) from None
        if len(self.by_user.get(principal.user_id, ())) >= MAX_SOCKETS_PER_USER:
            # Limits are per socket: without a cap, one account's 200 sockets had 200 times the
            # budget (8,000 events in 2.5 s, 800 records of unstaffed requests in 0.5 s).
            self.metrics.connect_refused.labels("too_many_sockets").inc()
            raise socketio.exceptions.ConnectionRefusedError(
                "Too many connections for this account; close another tab or window.", {"code": "too_many_sockets"}
            )
        limits = self.limits
        state = SocketState(
            principal,
            TokenBucket(limits.control_rate, limits.control_burst),
            TokenBucket(limits.relay_rate, limits.relay_burst),
            TokenBucket(limits.relay_bytes_rate, limits.relay_bytes_burst),
        )
        self.sockets[sid] = state
        await self.sio.enter_room(sid, user(principal.user_id))
        if principal.role in ROLE_ROOMS:
            await self.sio.enter_room(sid, ROLE_ROOMS[principal.role])
        self.metrics.connections.labels(principal.role.value).inc()
        self.by_user.setdefault(principal.user_id, set()).add(sid)
        await self.service.connected(principal)  # counted per node; a second tab is no reconnect
        log.info("connected", user=principal.user_id, role=principal.role.value, sid=sid)
        try:  # signed out while we were registering it? (revoke() may have run before it was listed)
            await self.verify_token(token)
        except Exception:
            await self.sio.disconnect(sid)
        return None

    async def revoke(self, user_id: str, standing: Standing) -> None:
        """The account's tokens changed (sign-out, disabled, new password or role): close this
        node's sockets that were opened with a token of an older generation, or all of an
        inactive account's."""
        for sid in list(self.by_user.get(user_id, ())):
            state = self.sockets.get(sid)
            if state and (not standing.active or state.principal.generation != standing.generation):
                log.info("signed_out_socket", user=user_id, sid=sid)
                await self.sio.disconnect(sid)

    def _reserved(self, event: str) -> dict:
        """A client sent "connect" or "disconnect", which python-socketio hands to those handlers."""
        self.metrics.events_rejected.labels("unknown", "reserved_event").inc()
        refusal = reserved(event)
        return error(refusal.code, refusal.message)

    async def on_disconnect(self, sid: str, reason: Any = None, *extra: Any) -> dict | None:
        if self.sio.manager.is_connected(sid, "/"):  # still connected: the client sent "disconnect"
            return self._reserved("disconnect")
        state = self.sockets.pop(sid, None)
        if state is None:
            return None
        principal = state.principal
        self.metrics.connections.labels(principal.role.value).dec()
        sids = self.by_user.get(principal.user_id, set())
        sids.discard(sid)
        if not sids:
            self.by_user.pop(principal.user_id, None)
            if self.voice is not None:  # a disconnect mid-utterance frees its recognizer
                await self.voice.close(principal.user_id)
        try:
            await self.service.disconnected(principal)
        except Exception:
            log.exception("disconnect_failed", user=principal.user_id)
        log.info("disconnected", user=principal.user_id, role=principal.role.value, sid=sid)
        return None

    async def forget_session(self, session_id: str) -> None:
        """The session ended: a half-sent chunked batch of it will never be completed."""
        self.chunks.forget(session_id)

    # ------------------------------------------------------------------ events
    async def on_event(self, event: str, sid: str, *args: Any) -> dict:
        state = self.sockets.get(sid)
        if state is None:
            return error("unauthorized", "Connect with a valid access token first.")
        spec = INBOUND.get(event)
        label = event if spec else "unknown"
        self.metrics.events_received.labels(label).inc()
        try:
            return await self._handle(state, event, spec, args)
        except DomainError as exc:
            self.metrics.events_rejected.labels(label, exc.code).inc()
            log.info("refused", socket_event=label, code=exc.code, user=state.principal.user_id)
            return error(exc.code, exc.message)
        except Exception:
            self.metrics.events_rejected.labels(label, "internal").inc()
            log.exception("handler_failed", socket_event=label, user=state.principal.user_id)
            return error("internal", "Something went wrong on our side; please try again.")

    async def _handle(
        self, state: SocketState, event: str, spec: tuple[frozenset[Role], type[Inbound], bool] | None, args: tuple
    ) -> dict:
        is_relay = bool(spec and spec[2])
        if not (state.relay if is_relay else state.control).take():
            raise Refused("rate_limited", "Too many messages; please slow down.")
        if event in RESERVED_EVENTS:
            raise reserved(event)
        if spec is None:
            raise Refused("unknown_event", "Unknown event.")
        roles, model, _ = spec
        if state.principal.role not in roles:
            raise Refused("forbidden", f"Your role may not send {event}.")
        if len(args) != 1 or not isinstance(args[0], dict):
            raise Refused("bad_payload", "The payload must be a single JSON object.")
        raw = args[0]
        cap = self.limits.relay_bytes if is_relay else self.limits.control_bytes
        try:
            size = len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode())
        except (TypeError, ValueError, RecursionError):  # bytes (a binary attachment), or too deep
            raise Refused("bad_payload", "The payload must be plain JSON (no binary attachments).") from None
        if size > cap:
            raise Refused("payload_too_large", f"The payload is larger than {cap} bytes.")
        if is_relay and not state.relay_bytes.take(size):
            raise Refused("rate_limited", "Too many bytes per second; please slow down.")
        state.last_size = size
        try:
            message = model.model_validate(raw)
        except ValidationError as exc:
            raise Refused("bad_payload", _describe(exc)) from None
        return await self.handlers[event](state, message, raw)

    @staticmethod
    async def _done(call: Awaitable[Any]) -> dict:
        await call
        return ok()

    async def _help_request(self, s: SocketState, m: HelpRequestIn, raw: dict) -> dict:
        # The SDK scrubs these on the device; this is the last line if it did not.
        page = self._scrubbed("help_request", m.page)
        transcript = tuple(self._scrubbed("help_request", line) for line in m.transcript)
        view = await self.service.request_help(s.principal, m.topic, m.edition, m.language, page, transcript)
        return ok(**view)

    async def _callback_request(self, s: SocketState, m: HelpRequestIn, raw: dict) -> dict:
        page = self._scrubbed("callback_request", m.page)
        transcript = tuple(self._scrubbed("callback_request", line) for line in m.transcript)
        return ok(**await self.service.request_callback(s.principal, m.topic, m.edition, m.language, page, transcript))

    async def _transfer_targets(self, s: SocketState, m: SessionRef, raw: dict) -> dict:
        return ok(agents=await self.service.transfer_targets(s.principal, m.session_id))

    async def _offer_accept(self, s: SocketState, m: OfferRef, raw: dict) -> dict:
        # Session ids are unguessable (not that guessing helps: every use checks the party).
        await self.service.accept(s.principal, m.offer_id, secrets.token_urlsafe(12))
        return ok()

    async def _supervisor_join(self, s: SocketState, m: SupervisorJoinIn, raw: dict) -> dict:
        session = await self.service.supervisor_join(s.principal, m.session_id, m.mode)
        for batch in await self.keyframes.get(m.session_id):  # catch up: the page as it is now
            await self.delivery.send(user(s.principal.user_id), Relay("mirror", batch))
        return ok(session=session)

    async def _record_audio(self, s: SocketState, m: RecordAudioIn, raw: dict) -> dict:
        if self.call_audio is None:
            raise Refused("recording_off", "Call audio is not recorded on this server.")
        await self.service.may_record_audio(s.principal, m.session_id)
        return ok(sdp=await self.call_audio.start(m.session_id, m.sdp))

    async def _voice_start(self, s: SocketState, m: VoiceStartIn, raw: dict) -> dict:
        return ok(sdp=await self._voice(self.voice.start(s.principal.user_id, m.lang, m.sdp) if self.voice else None))

    async def _voice_stop(self, s: SocketState, m: Inbound, raw: dict) -> dict:
        await self._voice(self.voice.stop(s.principal.user_id) if self.voice else None)
        return ok()

    @staticmethod
    async def _voice(call: Awaitable[Any] | None) -> Any:
        """Run a voice-gateway call; its coded errors become refusals like any other."""
        if call is None:
            raise Refused("voice_unavailable", "The voice assistant is not available on this server.")
        try:
            return await call
        except Exception as exc:
            if not (hasattr(exc, "code") and hasattr(exc, "message")):
                raise
            raise Refused(exc.code, exc.message) from None

    async def _sync(self, s: SocketState, m: Inbound, raw: dict) -> dict:
        p = s.principal
        view = await self.service.view(p)
        return ok(
            protocol=PROTOCOL_VERSION,
            user=p.user_id,
            role=p.role.value,
            display_name=p.display_name,
            ice_servers=self.ice_servers(p, view),
            view=view,
            record_audio=self.call_audio is not None,
        )

    def _scrubbed(self, stream: str, text: str) -> str:
        clean = mask_numbers(text)
        if clean != text:
            self.metrics.mask_violations.labels(stream).inc()
            log.warning("mask_violation", stream=stream, where="text")
        return clean

    async def _mirror_events(self, s: SocketState, m: MirrorIn, raw: dict) -> tuple[list | None, int]:
        """The batch's events after joining and the last-line scan (None: a piece, wait for the rest)."""
        fed = self.chunks.feed(m.session_id, raw["events"], time.monotonic())
        if fed is None:
            return None, 0
        size = fed.size if isinstance(fed, Joined) else s.last_size
        # The scan costs its length (a joined snapshot can be megabytes): past SCAN_IN_THREAD_BYTES it
        # runs in a thread, so the loop goes on serving everyone else; this socket's next event
        # still waits for it (handlers run in order), so batches keep their order.
        work = functools.partial(_joined_and_scrubbed, fed)
        try:
            clean, scan = await asyncio.to_thread(work) if size > SCAN_IN_THREAD_BYTES else work()
        except (TooDeep, RecursionError):
            raise Refused("bad_payload", "The events are nested too deeply.") from None
        if scan.violations:
            self.metrics.mask_violations.labels("mirror").inc(scan.violations)
            log.warning(
                "mask_violation",
                stream="mirror",
                user=s.principal.user_id,
                session=m.session_id,
                count=scan.violations,
                where=sorted(scan.where or ()),
            )
        return clean, size

    async def _relay(self, s: SocketState, m: MirrorIn | AnnotationIn | RtcSignalIn | MonitorSignalIn, raw: dict) -> dict:
        event, stream = RELAYS[type(m).__name__]
        route = await self.service.relay(s.principal, m.session_id, stream, m.seq, getattr(m, "supervisor", None))
        size = s.last_size
        if isinstance(m, MirrorIn):  # passed on as received but for what the last-line scan hides
            events, size = await self._mirror_events(s, m, raw)
            if events is None:
                return ok()
            payload = {**raw, "events": events}
        else:  # the validated model, so nothing the schema does not know reaches the other side
            payload = m.model_dump(mode="json", exclude_none=True)
            if event == "annotation" and "caption" in payload:
                payload["caption"] = self._scrubbed("annotation", payload["caption"])
        payload = {**payload, "from": s.principal.role.value}
        if stream == "monitor":  # the agent's console answers each monitoring supervisor separately
            payload["sender"] = s.principal.user_id
        recipients = list(route.recipients)
        if stream == "mirror":
            # The catch-up buffer first, then who watches now: a supervisor who joined after the
            # route was read has read the buffer before this batch reached it, so they are sent it
            # here. One who was in both gets it twice, and the consoles drop a seq seen before.
            try:
                await self.keyframes.add(m.session_id, payload, size)
            except Exception:  # the batch still goes out: a catch-up buffer is not the relay
                log.exception("keyframe_failed", session_id=m.session_id)
            recipients += [w for w in await self.service.watchers(m.session_id) if w not in recipients]
        relayed = Relay(event, payload)
        for recipient in recipients:
            await self.delivery.send(user(recipient), relayed)
        if self.recorder is not None and stream in RECORDED_STREAMS:
            self.recorder.append(
                m.session_id,
                stream,
                payload,
                request_id=route.request_id,
                customer_id=route.customer_id,
                agent_id=route.agent_id,
                size=size,
            )
        return ok()


def _joined_and_scrubbed(fed: list[Any] | Joined) -> tuple[list[Any], Scan]:
    return scrub_events(fed.events() if isinstance(fed, Joined) else fed)


def _describe(exc: ValidationError) -> str:
    """Which fields are wrong and why, without echoing the values sent."""
    problems = []
    for err in exc.errors(include_url=False, include_input=False)[:5]:
        where = ".".join(str(part) for part in err["loc"]) or "payload"
        problems.append(f"{where}: {err['msg']}")
    return "Invalid payload — " + "; ".join(problems)
