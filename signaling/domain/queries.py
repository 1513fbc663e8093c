"""The views of the live state: what each console and the customer's app are shown.

Queries, not commands: each takes the call center and the time and changes nothing, so the
service reads them through `LiveStore.read` (which never commits) and a command may use one
for its reply. The shapes are the TypedDicts of signaling/domain/views.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .model import AgentState, RequestStatus, Role, Session, SessionState
from .queue import estimated_wait_s
from .views import (
    AgentBrief,
    Alert,
    BoardRow,
    Phase,
    PositionView,
    RequestView,
    SessionView,
    WallAgent,
    WallLine,
    WallView,
)

if TYPE_CHECKING:
    from .center import CallCenter

# What the supervisor's list calls each session state (requests waiting are "requested").
PHASES: dict[SessionState, Phase] = {
    SessionState.AWAITING_CONSENT: "call",  # paired and talking; the screen not shared yet
    SessionState.SHARING: "sharing",
    SessionState.STOPPED: "paused",  # the customer stopped sharing; the call goes on
    SessionState.ENDED: "wrap_up",  # ended; its agent is writing the wrap-up
}


# ---------------------------------------------------------------- the parties
def customer_view(center: CallCenter, customer_id: str, now: float) -> dict:
    kind, ident = center.by_customer.get(customer_id, ("", ""))
    if kind == "request":
        request = center.requests[ident]
        view: dict[str, Any] = {
            "request_id": ident,
            "status": request.status.value,
            "callback": request.callback,
            "long_wait": request.long_wait,
        }
        position = center.queue.position(request)
        if request.status is RequestStatus.WAITING and position is not None:
            view |= {"position": position, "eta_s": eta(center, request.language, position)}
        return {"request": view}
    if kind == "session":
        return {"session": session_view(center, center.sessions[ident], Role.CUSTOMER)}
    return {}


def agent_view(center: CallCenter, agent_id: str, now: float) -> dict:
    agent = center.agents[agent_id]
    view: dict = {
        "state": agent.state().value,
        "presence": agent.presence.value,
        # After a reload the console resumes where it was: how long each call has run (by the
        # server's clock, whatever the agent's), and what each wrap-up is about.
        "sessions": [
            {**session_view(center, center.sessions[s], Role.AGENT), "elapsed_s": round(now - center.sessions[s].accepted_at, 1)}
            for s in sorted(agent.sessions)
        ],
        "wrap_ups": sorted(agent.wrap_ups),
        "wrap_up_about": {
            sid: {"customer_name": session.context.get("customer_name", ""), "reason": session.end_reason}
            for sid in sorted(agent.wrap_ups)
            if (session := center.wrapping.get(sid)) is not None
        },
    }
    if agent.offer_id:
        offer = center.offers[agent.offer_id]
        view["offer"] = center.offer_message(offer, now).wire()
    return view


def session_view(center: CallCenter, session: Session, viewer: Role) -> SessionView:
    agent = center.agents[session.agent_id].profile
    view: SessionView = {
        "session_id": session.session_id,
        "state": session.state,
        "code": session.code,
        "agent": {"name": agent.display_name, "badge": agent.badge},
    }
    if viewer is not Role.CUSTOMER:
        view["customer"] = session.context
    return view


# ---------------------------------------------------------------- the line
def waiting_list(center: CallCenter, now: float, limit: int | None = None) -> list[RequestView]:
    """The line in service order as agents and supervisors see it (its head, given a limit)."""
    ids = center.queue.head(limit) if limit is not None else list(center.queue)
    return [center.requests[rid].public(now) for rid in ids]


def positions_of(center: CallCenter, request_ids: Iterable[str]) -> dict[str, tuple[str, PositionView | None]]:
    """request id → (customer, what they see of their wait), for those of these requests
    still live (None while one rings): O(log N) each, with staffing counted once for all."""
    staffed_by = staffed_by_language(center)
    average = average_handle_s(center)
    out: dict[str, tuple[str, PositionView | None]] = {}
    for rid in request_ids:
        request = center.requests.get(rid)
        if request is None:
            continue
        position = center.queue.position(request)
        if position is None:
            out[rid] = (request.customer_id, None)
            continue
        out[rid] = (
            request.customer_id,
            {
                "position": position,
                "eta_s": estimated_wait_s(position, staffed_by.get(request.language, 0), average),
                "callback": request.callback,
                "long_wait": request.long_wait,
            },
        )
    return out


def line_heads(center: CallCenter, per_language: int) -> list[str]:
    return center.queue.heads(per_language)


def staffed_by_language(center: CallCenter) -> dict[str, int]:
    return center.agents.staffed_counts()


def average_handle_s(center: CallCenter) -> float:
    average = center.stats.average_handle_s()
    return center.policy.default_handle_s if average is None else average


def eta(center: CallCenter, language: str, position: int) -> int | None:
    return estimated_wait_s(position, center.agents.staffed(language), average_handle_s(center))


# ---------------------------------------------------------------- supervisors
def wall(center: CallCenter, now: float, agents: bool = True) -> WallView:
    """The supervisor wall: the rolling figures plus the live state, in one consistent view.
    Without `agents`, no row per agent: the figures alone (the gauges on /metrics), which cost
    O(lines), while the rows cost O(agents)."""
    # Ringing customers are still waiting: the live requests' index counts both.
    oldest = [found[0][0] for found in center.requests.by_line.values()]  # (created at, id)
    figures = center.stats.figures(now)
    longest = round(max(now - at for at in oldest), 1) if oldest else 0.0
    return {
        **figures,
        "waiting": len(center.requests),
        "waiting_by_class": dict(center.requests.by_class),
        "longest_wait_s": longest,
        "agents_by_state": agents_by_state(center),
        "sessions_active": len(center.sessions),
        "agents": agent_rows(center, now) if agents else [],
        "lines": line_rows(center, now),
        "alerts": _alerts(center, figures["service_level"], longest),
        "alert_bounds": {
            "service_level": center.policy.alert_service_level,
            "longest_wait_s": center.policy.alert_longest_wait_s,
        },
    }


def board(center: CallCenter, now: float, limit: int | None = None) -> list[BoardRow]:
    """Every request and session as the supervisor's list shows it: its phase (requested,
    call, sharing, paused, wrap_up) and since when. Times are absolute, so the list only
    changes when something happens, not every second."""
    # The ringing requests and the head of the line (`limit` of it): the list a supervisor
    # reads, whose size does not grow with the line (the wall counts the rest).
    shown = (
        [center.requests[rid] for rid in center.queue.head(limit)]
        if limit is not None
        else [center.requests[rid] for rid in center.queue]
    )
    shown += [center.requests[offer.request_id] for offer in center.offers.values() if offer.request_id]
    rows: list[BoardRow] = [
        {
            "id": r.request_id,
            "request_id": r.request_id,
            "session_id": None,
            "phase": "requested",
            "since": r.created_at,
            "customer_name": r.customer_name,
            "edition": r.edition.value,
            "language": r.language,
            "agent": _agent_brief(center, center.offers[r.offer_id].agent_id) if r.offer_id else None,
            "supervisors": {},
        }
        for r in sorted(shown, key=lambda r: r.sort_key)
    ]
    for session in [*center.sessions.values(), *center.wrapping.values()]:
        rows.append(
            {
                "id": session.session_id,
                "request_id": session.request_id,
                "session_id": session.session_id,
                "phase": PHASES[session.state],
                "since": session.state_since,
                "customer_name": session.context.get("customer_name", ""),
                "edition": session.context.get("edition", ""),
                "language": session.language,
                "agent": _agent_brief(center, session.agent_id),
                "supervisors": dict(session.supervisors),
            }
        )
    return rows


def _agent_brief(center: CallCenter, agent_id: str) -> AgentBrief:
    profile = center.agents[agent_id].profile
    return {"id": agent_id, "name": profile.display_name, "badge": profile.badge}


def agent_rows(center: CallCenter, now: float) -> list[WallAgent]:
    """The wall per agent: state and since when, who they serve, handled today and its average.
    As the clock's observe_agents would note them now, without noting anything."""
    today = center.policy.day_of(now)
    rows: list[WallAgent] = []
    # A look, not a change: the plain values, so the agents' index has nothing to re-read.
    for agent in sorted(dict.values(center.agents), key=lambda a: a.profile.badge or a.agent_id):
        serving = [center.sessions[s].context.get("customer_name", "") for s in sorted(agent.sessions)]
        state = agent.state().value
        handled, handle_s = (agent.handled_today, agent.handle_s_today) if agent.day == today else (0, 0.0)
        rows.append(
            {
                "id": agent.agent_id,
                "name": agent.profile.display_name,
                "badge": agent.profile.badge,
                "languages": sorted(agent.profile.languages),
                "state": state,
                "since": agent.state_since if state == agent.shown_state else now,
                "serving": serving,
                "handled_today": handled,
                "average_handle_today_s": round(handle_s / handled, 1) if handled else None,
            }
        )
    return rows


def line_rows(center: CallCenter, now: float) -> list[WallLine]:
    """The wall per line (edition × language): waiting, longest wait, service level."""
    levels = center.stats.service_levels(now)
    rows: list[WallLine] = []
    for line in sorted(center.requests.by_line.keys() | levels.keys()):
        waiting = center.requests.by_line.get(line, ())  # ringing customers are still waiting
        oldest = center.requests.oldest(line)
        longest = round(now - oldest, 1) if oldest is not None else 0.0
        level = levels.get(line)
        rows.append(
            {
                "line": line,
                "waiting": len(waiting),
                "longest_wait_s": longest,
                "service_level": level,
                "alerts": _alerts(center, level, longest),
            }
        )
    return rows


def _alerts(center: CallCenter, level: float | None, longest: float) -> list[Alert]:
    alerts: list[Alert] = []
    if level is not None and level < center.policy.alert_service_level:
        alerts.append("service_level")
    if longest > center.policy.alert_longest_wait_s:
        alerts.append("longest_wait")
    return alerts


def agents_by_state(center: CallCenter) -> dict[str, int]:
    return {state.value: 0 for state in AgentState} | center.agents.by_state()
