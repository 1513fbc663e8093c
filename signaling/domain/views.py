"""The views the domain hands out: what agents, supervisors and customers see of the state.

TypedDicts, so the domain builds plain dicts (cheap on the hot path, issue 16) whose shape mypy
checks; the outbound events (signaling/outbound.py) and the sync acknowledgement carry them,
and the protocol's JSON Schema and TypeScript declarations are generated from them.
"""

from __future__ import annotations

from typing import (
    Literal,
    NotRequired,  # pydantic reads typing_extensions' on 3.11
)

from typing_extensions import TypedDict

from .model import Edition, RequestStatus, SessionState, SupervisorMode


class RequestView(TypedDict):
    """A waiting or ringing request as agents and supervisors see it (no secrets, no transcript)."""

    request_id: str
    customer_name: str
    topic: str
    edition: Edition
    language: str
    page: str
    waited_s: float
    status: RequestStatus  # waiting or offered
    callback: bool


class RequestContext(RequestView):
    """What an agent of a session sees of the customer's request: the view plus the transcript."""

    transcript: list[str]


class AgentName(TypedDict):
    name: str
    badge: str


class SessionView(TypedDict):
    """A live session; the agent's and a supervisor's copy add `customer`."""

    session_id: str
    state: SessionState
    code: str  # the verification code the agent reads aloud
    agent: AgentName
    customer: NotRequired[RequestContext]


class AgentBrief(TypedDict):
    id: str
    name: str
    badge: str


# What the supervisor's list calls a request or session (queries.PHASES).
Phase = Literal["requested", "call", "sharing", "paused", "wrap_up"]


class BoardRow(TypedDict):
    id: str  # the request's id while requested, then the session's
    request_id: str
    session_id: str | None
    phase: Phase
    since: float
    customer_name: str
    edition: str
    language: str
    agent: AgentBrief | None
    supervisors: dict[str, SupervisorMode]  # supervisor id → mode


Alert = Literal["service_level", "longest_wait"]


class WallAgent(TypedDict):
    id: str
    name: str
    badge: str
    languages: list[str]
    state: str
    since: float
    serving: list[str]  # the customers' names
    handled_today: int
    average_handle_today_s: float | None


class WallLine(TypedDict):
    line: str  # edition:language
    waiting: int
    longest_wait_s: float
    service_level: float | None
    alerts: list[Alert]


class AlertBounds(TypedDict):
    service_level: float
    longest_wait_s: float


class WallFigures(TypedDict):
    """The rolling window's figures (signaling/domain/stats.py; definitions in docs/metrics.md)."""

    window_s: float
    threshold_s: float
    answered: int
    abandoned: int
    service_level: float | None
    abandonment_rate: float | None
    average_speed_of_answer_s: float | None
    average_handle_time_s: float | None


class WallView(WallFigures):
    waiting: int
    waiting_by_class: dict[str, int]
    longest_wait_s: float
    agents_by_state: dict[str, int]
    sessions_active: int
    agents: list[WallAgent]
    lines: list[WallLine]
    alerts: list[Alert]
    alert_bounds: AlertBounds


class PositionView(TypedDict):
    """A waiting customer's place: what they were last told of their wait."""

    position: int  # 1-based among waiting requests of the same language
    eta_s: int | None  # null: nobody who speaks the language is staffed
    callback: bool
    long_wait: bool
