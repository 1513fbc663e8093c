"""The call center's nouns: help requests, agents, offers, sessions, and the policy knobs.

Plain dataclasses, no I/O. Times are wall-clock seconds supplied by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, cast, get_args

if TYPE_CHECKING:
    from .views import RequestContext, RequestView


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SUPERVISOR = "supervisor"


class Edition(StrEnum):
    STANDARD = "standard"
    ELDERLY = "elderly"
    ENGLISH = "english"


class Presence(StrEnum):
    """What the agent chose (or offline when no socket is connected)."""

    OFFLINE = "offline"
    AVAILABLE = "available"
    AWAY = "away"


class AgentState(StrEnum):
    """The state reported to consoles and metrics: presence refined by work in hand."""

    OFFLINE = "offline"
    AVAILABLE = "available"
    OFFERED = "offered"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    AWAY = "away"


class RequestStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    SERVED = "served"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"
    UNSTAFFED = "unstaffed"  # nobody who speaks the customer's language is on shift


class SessionState(StrEnum):
    AWAITING_CONSENT = "awaiting_consent"
    SHARING = "sharing"
    STOPPED = "stopped"  # the customer stopped sharing; the session goes on without relay
    ENDED = "ended"


class EndReason(StrEnum):
    CUSTOMER_ENDED = "customer_ended"
    AGENT_ENDED = "agent_ended"
    CONSENT_DECLINED = "consent_declined"
    DROPPED = "dropped"
    SUPERVISOR_ENDED = "supervisor_ended"  # a supervisor who barged in ended it


# Help before sign-in: a customer id with this prefix is a guest (a short-lived token, one
# request, no account, no callback). Account names never contain ":".
GUEST_PREFIX = "guest:"


def is_guest(customer_id: str) -> bool:
    return customer_id.startswith(GUEST_PREFIX)


# The closed vocabularies of the protocol, named once: the inbound and outbound models
# (signaling/protocol.py, signaling/outbound.py), the domain's checks and the docs use these.
Language = Literal["zh", "en"]
Rating = Literal["satisfied", "neutral", "unsatisfied"]
Outcome = Literal["resolved", "needs_follow_up", "transferred", "dropped", "customer_declined", "other"]
SupervisorMode = Literal["monitor", "whisper", "barge"]  # see center._hearing
# Why an offer ended unanswered (its request goes back in line; a transfer fails) …
ReleaseReason = Literal["timeout", "declined", "agent_away", "agent_left", "session_ended", "reassigned"]
# … and why a request ended before anyone served it.
RequestEndReason = Literal["cancelled", "abandoned", "unstaffed"]
CustomerStep = Literal["scam_warning"]  # a step's name only: never a payee, an amount or a number
PartyStatus = Literal["reconnecting", "back"]  # a party of a session lost, or regained, its sockets

RATINGS: tuple[Rating, ...] = get_args(Rating)
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)


@dataclass(frozen=True)
class Policy:
    offer_timeout_s: float = 15.0
    grace_s: float = 30.0
    queue_cap: int = 500
    # Elderly customers are served as if they had arrived this much earlier: priority that
    # ages out, so a standard request waiting longer than this is still served first.
    elderly_boost_s: float = 60.0
    capacity: int = 1
    default_handle_s: float = 180.0
    service_level_s: float = 20.0  # answered within this counts toward the service level
    stats_window_s: float = 3600.0  # the supervisor wall's rolling window
    # An agent who declined a request (or let it ring out) is offered it again after this
    # long, when nobody else who can serve it is free: a line with one agent never stalls.
    reoffer_after_s: float = 20.0
    # A customer waiting longer than this is offered a callback or the hotline (still in line).
    max_wait_s: float = 300.0
    rating_window_s: float = 3600.0  # how long after a session its customer may rate it
    day_offset_s: float = 8 * 3600.0  # "today" on the wall: the center's time zone (UTC+8)
    # The wall's alert bounds (docker/alerts.yml holds the same as Prometheus rules).
    alert_service_level: float = 0.8  # below this share answered in time: alert
    alert_longest_wait_s: float = 60.0  # a customer waiting longer than this: alert

    def day_of(self, now: float) -> int:
        """The center's day number at `now` ("today" on the wall)."""
        return int((now + self.day_offset_s) // 86400)


@dataclass(frozen=True)
class AgentProfile:
    agent_id: str
    display_name: str
    badge: str
    languages: frozenset[str]
    skills: frozenset[str]


@dataclass
class Agent:
    profile: AgentProfile
    presence: Presence = Presence.AWAY
    connected: bool = False
    offer_id: str | None = None
    sessions: set[str] = field(default_factory=set)
    wrap_ups: dict[str, str] = field(default_factory=dict)  # ended session id → its request id
    idle_since: float = 0.0
    # What the wall shows of the agent's day; kept by CallCenter.observe_agents.
    shown_state: str = ""
    state_since: float = 0.0
    day: int = 0
    handled_today: int = 0
    handle_s_today: float = 0.0

    @property
    def agent_id(self) -> str:
        return self.profile.agent_id

    def state(self) -> AgentState:
        if not self.connected and not self.sessions:
            return AgentState.OFFLINE
        if self.offer_id:
            return AgentState.OFFERED
        if self.sessions:
            return AgentState.BUSY
        if self.wrap_ups:
            return AgentState.WRAP_UP
        return AgentState(self.presence.value)

    def can_take_offer(self, capacity: int) -> bool:
        return (
            self.connected
            and self.presence is Presence.AVAILABLE
            and self.offer_id is None
            and not self.wrap_ups
            and len(self.sessions) < capacity
        )


@dataclass
class Online:
    """A signed-in user's open sockets, counted per node instance (one process's lifetime), so
    a node that dies can be written off as a whole, and a second tab is not a reconnect."""

    role: Role
    sockets: dict[str, int] = field(default_factory=dict)  # node instance → open sockets there

    @property
    def total(self) -> int:
        return sum(self.sockets.values())


@dataclass
class HelpRequest:
    request_id: str
    customer_id: str
    customer_name: str
    topic: str
    edition: Edition
    language: str
    page: str
    created_at: float
    seq: int
    boost_s: float
    transcript: tuple[str, ...] = ()
    status: RequestStatus = RequestStatus.WAITING
    offer_id: str | None = None
    declined_by: dict[str, float] = field(default_factory=dict)  # agent → when they declined
    offered_at: float | None = None
    # A callback: served like any request, but it outlives the customer's connection and
    # waits even when nobody is on shift (an agent phones the customer back).
    callback: bool = False
    long_wait: bool = False  # waited past Policy.max_wait_s; the customer was offered a choice

    @property
    def line(self) -> str:
        """The supervisor's line: edition × language (the wall shows it in words)."""
        return f"{self.edition.value}:{self.language}"

    @property
    def queue_class(self) -> str:
        """Routing class: priority band and language (FIFO holds within one class)."""
        band = "elderly" if self.edition is Edition.ELDERLY else "standard"
        return f"{band}:{self.language}"

    @property
    def sort_key(self) -> tuple[float, int]:
        # Effective arrival: fixed at creation, so the order never needs re-sorting as time passes.
        return (self.created_at - self.boost_s, self.seq)

    def public(self, now: float) -> RequestView:
        """What an agent or supervisor sees of a waiting request (no secrets, no transcript)."""
        return {
            "request_id": self.request_id,
            "customer_name": self.customer_name,
            "topic": self.topic,
            "edition": self.edition,
            "language": self.language,
            "page": self.page,
            "waited_s": round(max(0.0, now - self.created_at), 1),
            "status": self.status,
            "callback": self.callback,
        }


@dataclass
class Offer:
    offer_id: str
    agent_id: str
    expires_at: float
    request_id: str | None = None  # a new help request …
    session_id: str | None = None  # … or a transfer of a live session
    from_agent: str | None = None


@dataclass
class Session:
    session_id: str
    request_id: str
    customer_id: str
    agent_id: str
    code: str
    accepted_at: float
    state: SessionState = SessionState.AWAITING_CONSENT
    consent_at: float | None = None
    ended_at: float | None = None
    end_reason: str | None = None
    supervisors: dict[str, SupervisorMode] = field(default_factory=dict)  # supervisor id → mode
    transfer_offer: str | None = None
    last_seq: dict[str, int] = field(default_factory=dict)  # relay stream → last sequence
    context: RequestContext = field(default_factory=lambda: cast("RequestContext", {}))  # what agents see of the request
    language: str = "zh"
    state_since: float = 0.0  # when the session entered its state (the supervisor's list shows it)

    @property
    def live(self) -> bool:
        return self.state is not SessionState.ENDED
