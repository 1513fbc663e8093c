"""The wire protocol, server → client: one model per outbound socket.io event.

The domain builds these (`eff.notify(user(id), SessionEnded(...))`) and the delivery puts
`message.wire()` on the socket: the JSON each front end has always received. A few events
have two shapes (queue_update, offer): one model per shape.

The models are dataclasses that pydantic reads (a TypeAdapter each: validation in tests, the
JSON Schema, the serialiser for aliased fields), not BaseModels: the domain makes thousands a
second on a long line (positions, offers, states), and a dataclass costs a quarter of a
validated model to make (issue 16); not frozen either, which would double it (a notice is made,
sent and dropped). mypy checks every field and value where they are made.
Nested views (a request as agents see it, a board row, a wall line) are the TypedDicts of
signaling/domain/views.py, plain dicts at run time.

docs/protocol.md's tables, docs/protocol.schema.json and sdk/protocol.d.ts are
generated from these and signaling/protocol.py: `python -m signaling.protocol_doc --write`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_type_hints

from pydantic import ConfigDict, Field, TypeAdapter
from pydantic.fields import FieldInfo
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
from .protocol import (
    PROTOCOL_VERSION,
    AnnotationKind,
    Caption,
    Id,
    Point,
    RelayEvents,
    RtcKind,
    Sdp,
    Selector,
    Seq,
    Trace,
)

M = TypeVar("M", bound="Outbound")

# Who receives an event (the "to" column of the docs).
CUSTOMER = "customer"
AGENT = "agent"
PARTIES_AND_SUPERVISORS = "parties, supervisors in it"


@dataclass(kw_only=True)
class Outbound:
    """One server → client event. `event` names it on the socket; `to` says who gets it.

    A field whose default is None is left out of the payload when None (an optional part, like
    the agent's copy of the customer); any other None is sent as null (an estimate nobody can
    give)."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")
    event: ClassVar[str]
    to: ClassVar[str]

    @classmethod
    def optional_fields(cls) -> frozenset[str]:
        """The payload's keys that are left out when None (their field's default is None)."""
        return _shape(cls)[1]

    @classmethod
    def validate(cls: type[M], data: Any) -> M:
        """The payload (as on the wire: aliases, JSON values) parsed into this model."""
        return _adapter(cls).validate_python(data)

    def dump(self) -> dict[str, Any]:
        """pydantic's serialisation of the model, None-default fields left out when None."""
        return _drop_absent(_adapter(type(self)).dump_python(self, mode="json", by_alias=True), type(self))

    def wire(self) -> dict[str, Any]:
        """The payload as it goes on the socket: dump()'s JSON. The domain's values are JSON
        already (str, numbers, bool, None, lists, dicts; a StrEnum is a str), so unless a field
        is renamed on the wire the payload is the fields as they are: no serialiser pass over a
        board of a hundred rows or thousands of positions a second (issue 16).
        tests/signaling/test_outbound.py holds the two to the same JSON."""
        plain, optional = _SHAPES.get(type(self)) or _shape(type(self))
        if not plain:
            return self.dump()
        data = dict(self.__dict__)
        if optional:
            _drop_absent(data, type(self))
        return data


_ADAPTERS: dict[type, TypeAdapter[Any]] = {}
_SHAPES: dict[type, tuple[bool, frozenset[str]]] = {}


def _adapter(model: type) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS[model] = TypeAdapter(model)
    return adapter


def _shape(model: type[Outbound]) -> tuple[bool, frozenset[str]]:
    """(every field under its own name on the wire, the wire names of None-default fields)."""
    shape = _SHAPES.get(model)
    if shape is None:
        shape = _SHAPES[model] = _read_shape(model)
    return shape


def _read_shape(model: type[Outbound]) -> tuple[bool, frozenset[str]]:
    hints = get_type_hints(model, include_extras=True)
    plain, optional = True, set()
    for f in fields(model):
        alias = next((m.alias for m in getattr(hints[f.name], "__metadata__", ()) if isinstance(m, FieldInfo) and m.alias), None)
        plain = plain and alias is None
        if f.default is None:
            optional.add(alias or f.name)
    return plain, frozenset(optional)


def _drop_absent(data: dict[str, Any], model: type[Outbound]) -> dict[str, Any]:
    for name in _shape(model)[1]:
        if name in data and data[name] is None:
            del data[name]
    return data


# ---------------------------------------------------------------- the waiting customer
@dataclass(kw_only=True)
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


@dataclass(kw_only=True)
class QueueRinging(Outbound):
    """While an agent's phone rings (a decline puts the request back: `waiting` again)."""

    event = "queue_update"
    to = CUSTOMER
    request_id: str
    status: Literal["offered"] = "offered"


@dataclass(kw_only=True)
class RequestEnded(Outbound):
    """`unstaffed`: the last agent on shift who speaks the language signed off."""

    event = "request_ended"
    to = CUSTOMER
    request_id: str
    reason: RequestEndReason


# ---------------------------------------------------------------- agents
@dataclass(kw_only=True)
class HelpOffer(Outbound):
    """A waiting customer rings this agent (`offer_accept` or `offer_decline` it)."""

    event = "offer"
    to = AGENT
    offer_id: str
    kind: Literal["help"] = "help"
    expires_in_s: float
    request: RequestView
    transcript: list[str]


@dataclass(kw_only=True)
class TransferOffer(Outbound):
    """Another agent hands over a live session (`from_agent`: their display name)."""

    event = "offer"
    to = AGENT
    offer_id: str
    kind: Literal["transfer"] = "transfer"
    expires_in_s: float
    from_agent: str
    request: RequestContext


@dataclass(kw_only=True)
class OfferRevoked(Outbound):
    """The offer rang out, was declined or withdrawn (the customer left, a supervisor
    reassigned them, the agent went away): stop ringing."""

    event = "offer_revoked"
    to = AGENT
    offer_id: str
    reason: ReleaseReason | RequestEndReason


@dataclass(kw_only=True)
class AgentStateChanged(Outbound):
    """The agent's derived state (see States below)."""

    event = "agent_state"
    to = AGENT
    state: AgentState


@dataclass(kw_only=True)
class SessionTransferred(Outbound):
    """The hand-over was accepted (`to_agent`: the new agent's name); wrap up with outcome
    `transferred`."""

    event = "session_transferred"
    to = "previous agent"
    session_id: str
    to_agent: str


@dataclass(kw_only=True)
class TransferFailed(Outbound):
    """The hand-over was not taken; the session stays with this agent."""

    event = "transfer_failed"
    to = "agent who asked"
    session_id: str
    reason: ReleaseReason


@dataclass(kw_only=True)
class Whispered(Outbound):
    """From a supervisor in the session (`name`); the customer never sees it."""

    event = "whisper"
    to = AGENT
    session_id: str
    name: str
    text: str


# ---------------------------------------------------------------- sessions
@dataclass(kw_only=True)
class SessionStarted(Outbound):
    """The agent's copy adds `customer` (the request's context and transcript)."""

    event = "session_started"
    to = "customer, agent"
    session_id: str
    state: SessionState
    code: str
    agent: AgentName
    customer: RequestContext | None = None


@dataclass(kw_only=True)
class AgentChanged(Outbound):
    """After a transfer: the new agent, with a fresh verification code."""

    event = "agent_changed"
    to = CUSTOMER
    session_id: str
    state: SessionState
    code: str
    agent: AgentName


@dataclass(kw_only=True)
class SessionStateChanged(Outbound):
    """Sharing started (consent) or stopped (`stop_sharing`)."""

    event = "session_state"
    to = PARTIES_AND_SUPERVISORS
    session_id: str
    state: SessionState


@dataclass(kw_only=True)
class ShareRequested(Outbound):
    """The agent asks to see the screen: show the consent dialog."""

    event = "share_requested"
    to = CUSTOMER
    session_id: str


@dataclass(kw_only=True)
class ShareDeclined(Outbound):
    """The customer said no for now; the call goes on."""

    event = "share_declined"
    to = "agent, supervisors in it"
    session_id: str


@dataclass(kw_only=True)
class CustomerStepReached(Outbound):
    """The customer is confirming a transfer to a new payee and was shown the scam warning."""

    event = "customer_step"
    to = "agent, supervisors in it"
    session_id: str
    step: CustomerStep


@dataclass(kw_only=True)
class SessionEnded(Outbound):
    """The session is over (`dropped`: a party stayed away past the grace window); its agent
    wraps up next."""

    event = "session_ended"
    to = PARTIES_AND_SUPERVISORS
    session_id: str
    reason: EndReason


@dataclass(kw_only=True)
class PeerStatus(Outbound):
    """The other party lost its connection (`reconnecting`, within the grace window) or is `back`."""

    event = "peer_status"
    to = "the other party, supervisors in it"
    session_id: str
    role: Role
    status: PartyStatus


# ---------------------------------------------------------------- supervisors
@dataclass(kw_only=True)
class SupervisorInvited(Outbound):
    """An agent asks for a supervisor (`agent`: their name) in a session."""

    event = "supervisor_invited"
    to = "supervisors"
    session_id: str
    agent: str  # the inviting agent's name
    note: str
    request: RequestContext


@dataclass(kw_only=True)
class SupervisorJoined(Outbound):
    """To the parties who hear the supervisor: the agent for `whisper` and `barge`, the
    customer for `barge` only."""

    event = "supervisor_joined"
    to = "parties who hear the supervisor"
    session_id: str
    name: str
    supervisor: str
    mode: SupervisorMode


@dataclass(kw_only=True)
class SupervisorLeft(Outbound):
    """Also when a supervisor steps down to a mode that party no longer hears."""

    event = "supervisor_left"
    to = "parties who heard the supervisor"
    session_id: str
    supervisor: str


@dataclass(kw_only=True)
class Board(Outbound):
    """Every ringing request, the first 100 of the line (the wall counts all of them) and every
    session, within a tick of any change; `phase` is `requested`, `call` (paired, screen not
    shared), `sharing`, `paused` (the customer stopped sharing), `wrap_up` (ended, the agent
    writing the wrap-up); `since` is when it entered that phase."""

    event = "board"
    to = "supervisors"
    rows: list[BoardRow]
    now: float


@dataclass(kw_only=True)
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


@dataclass(kw_only=True)
class WaitingLine(Outbound):
    """The head of the line (first 100) and its length, at most once a second when it changed."""

    event = "queue"
    to = "agents, supervisors"
    waiting: list[RequestView]
    total: int


# ---------------------------------------------------------------- relays (see Relays above)
# The fields are the inbound models' (signaling/protocol.py), with the same types.
@dataclass(kw_only=True)
class Relayed(Outbound):
    """A relayed message: the sender's validated payload plus `from` (see Relays)."""

    from_: Annotated[Role, Field(alias="from")]  # the sender's role
    v: Literal[1] = PROTOCOL_VERSION
    session_id: Id
    seq: Seq


@dataclass(kw_only=True)
class MirrorOut(Relayed):
    """The batch as sent (a joined chunked batch as one), numbers masked by the last-line scan."""

    event = "mirror"
    to = "agent, supervisors in it"
    events: RelayEvents


@dataclass(kw_only=True)
class AnnotationOut(Relayed):
    """The agent's guidance, for the customer's SDK to draw (a caption's numbers masked)."""

    event = "annotation"
    to = "customer, supervisors in it"
    kind: AnnotationKind
    point: Point | None = None
    selector: Selector | None = None
    caption: Caption | None = None
    path: Trace | None = None


@dataclass(kw_only=True)
class RtcSignalOut(Relayed):
    """The call's WebRTC signaling between customer and agent."""

    event = "rtc_signal"
    to = "the other party"
    kind: RtcKind
    sdp: Sdp | None = None
    candidate: dict[str, Any] | None = None


@dataclass(kw_only=True)
class MonitorSignalOut(RtcSignalOut):
    """`sender`: the user id to answer (the agent's console answers each supervisor apart)."""

    event = "monitor_signal"
    to = "the agent / the supervisor"
    supervisor: Id | None = None
    sender: str


RelayEvent = Literal["mirror", "annotation", "rtc_signal", "monitor_signal"]


@dataclass(slots=True)
class Relay:
    """A relayed message as it goes out: the payload the adapter built (shaped as MirrorOut,
    AnnotationOut, RtcSignalOut or MonitorSignalOut above, which document it), delivered as it
    is. Not an Outbound: a mirror batch is up to 600 kB, many times a second, and was checked
    on the way in; a second validation or serialiser pass on the way out is pure cost."""

    event: RelayEvent
    payload: dict[str, Any]

    def wire(self) -> dict[str, Any]:
        return self.payload


# ---------------------------------------------------------------- the voice assistant
@dataclass(kw_only=True)
class VoicePartial(Outbound):
    """What has been heard so far (live captions), when it changes."""

    event = "voice_partial"
    to = CUSTOMER
    text: str


class VoiceSlots(TypedDict, total=False):
    payee: str
    amount: int | float


@dataclass(kw_only=True)
class VoiceResult(Outbound):
    """See [voice.md](voice.md)."""

    event = "voice_result"
    to = CUSTOMER
    text: str
    intent: str | None
    slots: VoiceSlots
    engine: str
    pass_: Annotated[str | None, Field(alias="pass")]  # null (as `intent`) when nothing was heard
    message: str | None = None
    candidates: list[str] | None = None
    warnings: list[str] | None = None


@dataclass(kw_only=True)
class VoiceFailed(Outbound):
    """The utterance could not be heard or decoded: ask again."""

    event = "voice_error"
    to = CUSTOMER
    code: Literal["voice_interrupted", "voice_failed", "voice_unavailable"]
    message: str


# event → its models (a few events have more than one shape), in the docs' order.
MODELS: tuple[type[Outbound], ...] = (
    QueueWaiting,
    QueueRinging,
    RequestEnded,
    HelpOffer,
    TransferOffer,
    OfferRevoked,
    AgentStateChanged,
    SessionStarted,
    SessionStateChanged,
    ShareRequested,
    CustomerStepReached,
    ShareDeclined,
    SessionEnded,
    PeerStatus,
    AgentChanged,
    SessionTransferred,
    TransferFailed,
    SupervisorInvited,
    SupervisorJoined,
    SupervisorLeft,
    Board,
    Wall,
    WaitingLine,
    MirrorOut,
    AnnotationOut,
    RtcSignalOut,
    MonitorSignalOut,
    Whispered,
    VoicePartial,
    VoiceResult,
    VoiceFailed,
)
OUTBOUND: dict[str, tuple[type[Outbound], ...]] = {}
for _model in MODELS:
    OUTBOUND[_model.event] = (*OUTBOUND.get(_model.event, ()), _model)
