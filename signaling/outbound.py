"""The wire protocol, server → client: one pydantic model per outbound socket.io event.

The domain builds these (`eff.notify(user(id), SessionEnded(...))`) and the publisher puts
`message.wire()` on the socket: the JSON each front end has always received. Nested views
(a request as agents see it, a board row, a wall line) are the TypedDicts of
signaling/domain/views.py, so the domain keeps building plain dicts (cheap: issue 16) while
mypy, the JSON Schema and the docs know their shape. A few events have two shapes
(queue_update, offer): one model per shape.

docs/protocol.md's tables, docs/protocol.schema.json and assist/web/sdk/protocol.d.ts are
generated from these and signaling/protocol.py: `python -m signaling.protocol_doc --write`.
"""
from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from .domain.model import (
    AgentState,
    CustomerStep,
    EndReason,
    PartyStatus,
    ReleaseReason,
    RequestEndReason,
    Role,
    SessionState,
    SupervisorMode,
)
from .domain.views import (
    AgentName,
    Alert,
    AlertBounds,
    BoardRow,
    RequestContext,
    RequestView,
    WallAgent,
    WallLine,
)
from .protocol import AnnotationIn, MirrorIn, MonitorSignalIn, RtcSignalIn

# Who receives an event (the "to" column of the docs).
CUSTOMER = "customer"
AGENT = "agent"
PARTIES_AND_SUPERVISORS = "parties, supervisors in it"


class Outbound(BaseModel):
    """One server → client event. `event` names it on the socket; `to` says who gets it."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    event: ClassVar[str]
    to: ClassVar[str]
    # Fields left out of the JSON when None (optional parts of a payload, never a null that
    # means something, like an estimate nobody can give).
    omit_none: ClassVar[bool] = False
    # Every field under its own name (no alias): the payload is the fields as they are.
    plain: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.plain = all(field.alias is None for field in cls.model_fields.values())

    @classmethod
    def optional_fields(cls) -> set[str]:
        """The fields left out of the payload when absent: those whose default is None."""
        return {field.alias or name for name, field in cls.model_fields.items()
                if not field.is_required() and field.default is None}

    def wire(self) -> dict[str, Any]:
        """The payload as it goes on the socket: what model_dump(mode="json", exclude_none=
        omit_none) gives, as JSON. The domain's values are JSON already (str, numbers, bool,
        None, lists, dicts; a StrEnum is a str), so a plain event's payload is its fields as they
        are: no serialiser pass over a board of a hundred rows or thousands of positions a
        second (issue 16). tests/signaling/test_outbound.py holds the two to the same JSON."""
        if self.plain:
            if self.omit_none:  # top level only: the nested views have no optional fields
                return {name: value for name, value in self.__dict__.items() if value is not None}
            return dict(self.__dict__)
        return self.model_dump(mode="json", by_alias=True, exclude_none=self.omit_none)


# ---------------------------------------------------------------- the waiting customer
class QueueWaiting(Outbound):
    """When the place or estimate changes: at once (within a tick, 200 ms) for the first three
    of each language's line, otherwise within a refresh round (each customer at most once per
    3 s; a node refreshes at most 200 of its customers per tick, so a round takes longer past
    3,000 waiting on one node)."""

    event = "queue_update"
    to = CUSTOMER
    request_id: str
    status: Literal["waiting"] = "waiting"
    position: int
    eta_s: int | None
    callback: bool
    long_wait: bool


class QueueRinging(Outbound):
    """While an agent's phone rings (a decline puts the request back: `waiting` again)."""

    event = "queue_update"
    to = CUSTOMER
    request_id: str
    status: Literal["offered"] = "offered"


class RequestEnded(Outbound):
    """`unstaffed`: the last agent on shift who speaks the language signed off."""

    event = "request_ended"
    to = CUSTOMER
    request_id: str
    reason: RequestEndReason


# ---------------------------------------------------------------- agents
class HelpOffer(Outbound):
    """A waiting customer rings this agent (`offer_accept` or `offer_decline` it)."""

    event = "offer"
    to = AGENT
    offer_id: str
    kind: Literal["help"] = "help"
    expires_in_s: float
    request: RequestView
    transcript: list[str]


class TransferOffer(Outbound):
    """Another agent hands over a live session (`from_agent`: their display name)."""

    event = "offer"
    to = AGENT
    offer_id: str
    kind: Literal["transfer"] = "transfer"
    expires_in_s: float
    from_agent: str
    request: RequestContext


class OfferRevoked(Outbound):
    """The offer rang out, was declined or withdrawn (the customer left, a supervisor
    reassigned them, the agent went away): stop ringing."""

    event = "offer_revoked"
    to = AGENT
    offer_id: str
    reason: ReleaseReason | RequestEndReason


class AgentStateChanged(Outbound):
    """The agent's derived state (see States below)."""

    event = "agent_state"
    to = AGENT
    state: AgentState


class SessionTransferred(Outbound):
    """The hand-over was accepted (`to_agent`: the new agent's name); wrap up with outcome
    `transferred`."""

    event = "session_transferred"
    to = "previous agent"
    session_id: str
    to_agent: str


class TransferFailed(Outbound):
    """The hand-over was not taken; the session stays with this agent."""

    event = "transfer_failed"
    to = "agent who asked"
    session_id: str
    reason: ReleaseReason


class Whispered(Outbound):
    """From a supervisor in the session (`name`); the customer never sees it."""

    event = "whisper"
    to = AGENT
    session_id: str
    name: str
    text: str


# ---------------------------------------------------------------- sessions
class SessionStarted(Outbound):
    """The agent's copy adds `customer` (the request's context and transcript)."""

    event = "session_started"
    to = "customer, agent"
    omit_none = True
    session_id: str
    state: SessionState
    code: str
    agent: AgentName
    customer: RequestContext | None = None


class AgentChanged(Outbound):
    """After a transfer: the new agent, with a fresh verification code."""

    event = "agent_changed"
    to = CUSTOMER
    session_id: str
    state: SessionState
    code: str
    agent: AgentName


class SessionStateChanged(Outbound):
    """Sharing started (consent) or stopped (`stop_sharing`)."""

    event = "session_state"
    to = PARTIES_AND_SUPERVISORS
    session_id: str
    state: SessionState


class ShareRequested(Outbound):
    """The agent asks to see the screen: show the consent dialog."""

    event = "share_requested"
    to = CUSTOMER
    session_id: str


class ShareDeclined(Outbound):
    """The customer said no for now; the call goes on."""

    event = "share_declined"
    to = "agent, supervisors in it"
    session_id: str


class CustomerStepReached(Outbound):
    """The customer is confirming a transfer to a new payee and was shown the scam warning."""

    event = "customer_step"
    to = "agent, supervisors in it"
    session_id: str
    step: CustomerStep


class SessionEnded(Outbound):
    """The session is over (`dropped`: a party stayed away past the grace window); its agent
    wraps up next."""

    event = "session_ended"
    to = PARTIES_AND_SUPERVISORS
    session_id: str
    reason: EndReason


class PeerStatus(Outbound):
    """The other party lost its connection (`reconnecting`, within the grace window) or is `back`."""

    event = "peer_status"
    to = "the other party, supervisors in it"
    session_id: str
    role: Role
    status: PartyStatus


# ---------------------------------------------------------------- supervisors
class SupervisorInvited(Outbound):
    """An agent asks for a supervisor (`agent`: their name) in a session."""

    event = "supervisor_invited"
    to = "supervisors"
    session_id: str
    agent: str  # the inviting agent's name
    note: str
    request: RequestContext


class SupervisorJoined(Outbound):
    """To the parties who hear the supervisor: the agent for `whisper` and `barge`, the
    customer for `barge` only."""

    event = "supervisor_joined"
    to = "parties who hear the supervisor"
    session_id: str
    name: str
    supervisor: str
    mode: SupervisorMode


class SupervisorLeft(Outbound):
    """Also when a supervisor steps down to a mode that party no longer hears."""

    event = "supervisor_left"
    to = "parties who heard the supervisor"
    session_id: str
    supervisor: str


class Board(Outbound):
    """Every ringing request, the first 100 of the line (the wall counts all of them) and every
    session, within a tick of any change; `phase` is `requested`, `call` (paired, screen not
    shared), `sharing`, `paused` (the customer stopped sharing), `wrap_up` (ended, the agent
    writing the wrap-up); `since` is when it entered that phase."""

    event = "board"
    to = "supervisors"
    rows: list[BoardRow]
    now: float


class Wall(Outbound):
    """The supervisor wall, at most once a second when it changed; definitions in
    [metrics.md](metrics.md)."""

    event = "wall"
    to = "supervisors"
    window_s: float
    threshold_s: float
    answered: int
    abandoned: int
    service_level: float | None
    abandonment_rate: float | None
    average_speed_of_answer_s: float | None
    average_handle_time_s: float | None
    waiting: int
    waiting_by_class: dict[str, int]
    longest_wait_s: float
    agents_by_state: dict[str, int]
    sessions_active: int
    agents: list[WallAgent]
    lines: list[WallLine]
    alerts: list[Alert]
    alert_bounds: AlertBounds


class WaitingLine(Outbound):
    """The head of the line (first 100) and its length, at most once a second when it changed."""

    event = "queue"
    to = "agents, supervisors"
    waiting: list[RequestView]
    total: int


# ---------------------------------------------------------------- relays (see Relays above)
class Relayed(Outbound):
    """A relayed message: the sender's validated payload plus `from` (see Relays)."""

    omit_none = True
    from_: Role = Field(alias="from")  # the sender's role


class MirrorOut(MirrorIn, Relayed):
    """The batch as sent (a joined chunked batch as one), numbers masked by the last-line scan."""

    event = "mirror"
    to = "agent, supervisors in it"
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class AnnotationOut(AnnotationIn, Relayed):
    """The agent's guidance, for the customer's SDK to draw (a caption's numbers masked)."""

    event = "annotation"
    to = "customer, supervisors in it"
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class RtcSignalOut(RtcSignalIn, Relayed):
    """The call's WebRTC signaling between customer and agent."""

    event = "rtc_signal"
    to = "the other party"
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class MonitorSignalOut(MonitorSignalIn, Relayed):
    """`sender`: the user id to answer (the agent's console answers each supervisor apart)."""

    event = "monitor_signal"
    to = "the agent / the supervisor"
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    sender: str


# ---------------------------------------------------------------- the voice assistant
class VoicePartial(Outbound):
    """What has been heard so far (live captions), when it changes."""

    event = "voice_partial"
    to = CUSTOMER
    text: str


class VoiceSlots(TypedDict, total=False):
    payee: str
    amount: int | float


class VoiceResult(Outbound):
    """See [voice.md](voice.md)."""

    event = "voice_result"
    to = CUSTOMER
    text: str
    intent: str | None
    slots: VoiceSlots
    engine: str
    pass_: str | None = Field(alias="pass")
    message: str | None = None
    candidates: list[str] | None = None
    warnings: list[str] | None = None

    def wire(self) -> dict[str, Any]:
        # `intent` and `pass` are null when nothing was heard; the rest is left out when empty.
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class VoiceFailed(Outbound):
    """The utterance could not be heard or decoded: ask again."""

    event = "voice_error"
    to = CUSTOMER
    code: Literal["voice_interrupted", "voice_failed", "voice_unavailable"]
    message: str


# event → its models (a few events have more than one shape), in the docs' order.
MODELS: tuple[type[Outbound], ...] = (
    QueueWaiting, QueueRinging, RequestEnded, HelpOffer, TransferOffer, OfferRevoked, AgentStateChanged,
    SessionStarted, SessionStateChanged, ShareRequested, CustomerStepReached, ShareDeclined, SessionEnded,
    PeerStatus, AgentChanged, SessionTransferred, TransferFailed, SupervisorInvited, SupervisorJoined,
    SupervisorLeft, Board, Wall, WaitingLine, MirrorOut, AnnotationOut, RtcSignalOut, MonitorSignalOut,
    Whispered, VoicePartial, VoiceResult, VoiceFailed,
)
OUTBOUND: dict[str, tuple[type[Outbound], ...]] = {}
for _model in MODELS:
    OUTBOUND[_model.event] = (*OUTBOUND.get(_model.event, ()), _model)
