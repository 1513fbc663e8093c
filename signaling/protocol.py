"""The wire protocol: one pydantic model per inbound socket.io event.

Every inbound payload is a single JSON object validated here before anything else looks at
it; unknown fields are refused (a typo should fail loudly, not be silently ignored).
The server's own events are modelled in signaling/outbound.py; docs/protocol.md's tables, the
JSON Schema and the front ends' TypeScript declarations are generated from both
(`python -m signaling.protocol_doc --write`).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from .domain.model import CustomerStep, Edition, Language, Outcome, Rating, Role, SupervisorMode

PROTOCOL_VERSION: Final = 1

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
ShortText = Annotated[str, StringConstraints(max_length=200)]


def _not_a_bool(value: Any) -> Any:
    if isinstance(value, bool):  # True == 1 to Python: a Literal[1] would take it
        raise ValueError("must be the number 1")
    return value


class Inbound(BaseModel):
    # Strict: "30" is not a sequence number, nor "yes" a consent — a client that sends them has a
    # bug the server must not paper over (lax parsing turned them into 30 and True).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    v: Annotated[Literal[1], BeforeValidator(_not_a_bool)] = PROTOCOL_VERSION


# ---- customer → server
class HelpRequestIn(Inbound):
    topic: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z_]+$")] = "transfer"
    edition: Annotated[Edition, Field(strict=False)] = Edition.STANDARD  # its value, as the JSON says it
    language: Language = "zh"
    page: Annotated[str, StringConstraints(max_length=200)] = ""
    transcript: Annotated[list[ShortText], Field(max_length=10)] = []


class HelpCancelIn(Inbound):
    request_id: Id


class ConsentIn(Inbound):
    session_id: Id
    accept: bool


class SessionRef(Inbound):
    session_id: Id


class RateSessionIn(Inbound):
    session_id: Id
    rating: Rating
    comment: Annotated[str, StringConstraints(max_length=500)] = ""


class CustomerStepIn(Inbound):
    session_id: Id
    step: CustomerStep


# ---- agent → server
class AgentStateIn(Inbound):
    state: Literal["available", "away", "offline"]


class OfferRef(Inbound):
    offer_id: Id


class WrapUpIn(Inbound):
    session_id: Id
    outcome: Outcome
    notes: Annotated[str, StringConstraints(max_length=2000)] = ""


class TransferIn(Inbound):
    session_id: Id
    to_agent: Id


class InviteSupervisorIn(Inbound):
    session_id: Id
    note: ShortText = ""


# ---- supervisor → server
class SupervisorJoinIn(Inbound):
    session_id: Id
    # monitor: silent; whisper: the agent hears the supervisor, the customer does not;
    # barge: everyone hears everyone and the customer is told.
    mode: SupervisorMode = "monitor"


class ReassignIn(Inbound):
    """A supervisor moves a waiting customer to a named agent (who must be free and speak
    the customer's language)."""

    request_id: Id
    to_agent: Id


# ---- relays (mirror: customer → agent; annotation: agent → customer; rtc: both ways)
# Their fields' types are named, for the relayed copies the server sends (signaling/outbound.py).
Seq = Annotated[int, Field(ge=1)]
# rrweb events, relayed as they are: the server checks state, size and order, not content.
RelayEvents = Annotated[list[Any], Field(max_length=500)]
AnnotationKind = Literal["pointer", "highlight", "draw", "clear"]
RtcKind = Literal["offer", "answer", "candidate", "restart"]
Sdp = Annotated[str, StringConstraints(max_length=60_000)]
# A complete offer sent as a control event (voice, call audio): its whole message must fit the
# control events' cap (Limits.control_bytes, 16 KB), escapes included; an audio-only offer with
# its candidates is 2–5 KB.
ControlSdp = Annotated[str, StringConstraints(min_length=1, max_length=12_000)]
Selector = Annotated[str, StringConstraints(max_length=300)]
Caption = ShortText


class MirrorIn(Inbound):
    session_id: Id
    seq: Seq
    events: RelayEvents


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    x: Annotated[float, Field(ge=0, le=1)]  # fractions of the customer's viewport
    y: Annotated[float, Field(ge=0, le=1)]


Trace = Annotated[list[Point], Field(max_length=500)]  # a drawn path


class AnnotationIn(Inbound):
    """Guidance only: the customer's SDK draws these and nothing else (no remote control)."""

    session_id: Id
    seq: Seq
    kind: AnnotationKind
    point: Point | None = None
    selector: Selector | None = None
    caption: Caption | None = None
    path: Trace | None = None


class RtcSignalIn(Inbound):
    session_id: Id
    seq: Seq
    kind: RtcKind
    sdp: Sdp | None = None
    candidate: dict[str, Any] | None = None


class WhisperIn(Inbound):
    session_id: Id
    text: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class RecordAudioIn(Inbound):
    """The agent's console offers the call's audio (both voices, mixed) to the server's
    recorder: a complete WebRTC offer, answered with the server's (candidates included)."""

    session_id: Id
    sdp: ControlSdp


class MonitorSignalIn(RtcSignalIn):
    """WebRTC signaling between the agent's console and a monitoring supervisor."""

    supervisor: Id | None = None  # required from the agent: which supervisor it is for


class VoiceStartIn(Inbound):
    """The voice assistant: the browser's WebRTC offer for its microphone (complete, not trickled)."""

    lang: Language = "zh"
    sdp: ControlSdp


class Empty(Inbound):
    pass


# event → (roles that may send it, payload model, whether it is a relay)
INBOUND: dict[str, tuple[frozenset[Role], type[Inbound], bool]] = {
    "help_request": (frozenset({Role.CUSTOMER}), HelpRequestIn, False),
    "help_cancel": (frozenset({Role.CUSTOMER}), HelpCancelIn, False),
    "callback_request": (frozenset({Role.CUSTOMER}), HelpRequestIn, False),
    "consent": (frozenset({Role.CUSTOMER}), ConsentIn, False),
    "stop_sharing": (frozenset({Role.CUSTOMER}), SessionRef, False),
    "rate_session": (frozenset({Role.CUSTOMER}), RateSessionIn, False),
    "customer_step": (frozenset({Role.CUSTOMER}), CustomerStepIn, False),
    "end_session": (frozenset({Role.CUSTOMER, Role.AGENT, Role.SUPERVISOR}), SessionRef, False),
    "agent_state": (frozenset({Role.AGENT}), AgentStateIn, False),
    "offer_accept": (frozenset({Role.AGENT}), OfferRef, False),
    "offer_decline": (frozenset({Role.AGENT}), OfferRef, False),
    "wrap_up": (frozenset({Role.AGENT}), WrapUpIn, False),
    "transfer": (frozenset({Role.AGENT}), TransferIn, False),
    "transfer_targets": (frozenset({Role.AGENT}), SessionRef, False),
    "invite_supervisor": (frozenset({Role.AGENT}), InviteSupervisorIn, False),
    "ask_to_share": (frozenset({Role.AGENT}), SessionRef, False),
    "supervisor_join": (frozenset({Role.SUPERVISOR}), SupervisorJoinIn, False),
    "supervisor_leave": (frozenset({Role.SUPERVISOR}), SessionRef, False),
    "reassign": (frozenset({Role.SUPERVISOR}), ReassignIn, False),
    "record_audio": (frozenset({Role.AGENT}), RecordAudioIn, False),
    "whisper": (frozenset({Role.SUPERVISOR}), WhisperIn, False),
    "sync": (frozenset({Role.CUSTOMER, Role.AGENT, Role.SUPERVISOR}), Empty, False),
    "voice_start": (frozenset({Role.CUSTOMER}), VoiceStartIn, False),
    "voice_stop": (frozenset({Role.CUSTOMER}), Empty, False),
    "mirror": (frozenset({Role.CUSTOMER}), MirrorIn, True),
    "annotation": (frozenset({Role.AGENT}), AnnotationIn, True),
    "rtc_signal": (frozenset({Role.CUSTOMER, Role.AGENT}), RtcSignalIn, True),
    "monitor_signal": (frozenset({Role.AGENT, Role.SUPERVISOR}), MonitorSignalIn, True),
}


def ok(**data: Any) -> dict:
    return {"ok": True, **data}


def error(code: str, message: str) -> dict:
    return {"ok": False, "error": {"code": code, "message": message}}
