"""The call center's live state as plain JSON-able data, and back.

A shared store (Redis) keeps the whole state as one document so that every command stays one
atomic compare-and-set, exactly as in memory. JSON, not pickle: a compromised cache must not be
able to run code on the nodes that read it. Relay sequence numbers are not part of it (the
shared store keeps them beside the state, so the hot relay path never rewrites the document).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from .center import CallCenter
from .model import (
    Agent,
    AgentProfile,
    Edition,
    HelpRequest,
    Offer,
    Online,
    Policy,
    Presence,
    RequestStatus,
    Role,
    Session,
    SessionState,
)

FORMAT = 1
# Plain lookups: calling an Enum class per value is slow, and a document holds thousands.
ROLES = {v.value: v for v in Role}
_EDITION = {v.value: v for v in Edition}
_STATUS = {v.value: v for v in RequestStatus}
_PRESENCE = {v.value: v for v in Presence}
_SESSION_STATE = {v.value: v for v in SessionState}
_AGENT_DAY = ("shown_state", "state_since", "day", "handled_today", "handle_s_today")  # the wall's per agent


def dump(c: CallCenter) -> dict:
    return {
        "format": FORMAT,
        "requests": [request_data(r) for r in c.requests.values()],
        "agents": [agent_data(a) for a in c.agents.values()],
        "offers": [vars(o).copy() for o in c.offers.values()],
        "sessions": [session_data(s) for s in c.sessions.values()],
        "wrapping": [session_data(s) for s in c.wrapping.values()],
        "by_customer": {k: list(v) for k, v in c.by_customer.items()},
        "dropped_at": c.dropped_at,
        "stats": c.stats.dump(),
        "talk_times": {k: list(v) for k, v in c.talk_times.items()},
        "online": {u: {"role": o.role.value, "sockets": o.sockets} for u, o in c.online.items()},
        "arrivals": c.arrivals,
        "rateable": {k: list(v) for k, v in c.rateable.items()},
        "guests_asked": c.guests_asked,
    }


def load(
    data: dict, policy: Policy, new_id: Callable[[str], str] | None = None, new_code: Callable[[], str] | None = None
) -> CallCenter:
    c = CallCenter(policy, new_id, new_code)
    if not data:
        return c  # a store that has never been written: an empty call center
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown live-state format {data.get('format')!r}")
    for raw in data["requests"]:
        request = request_from(raw)
        c.requests[request.request_id] = request
        if request.status is RequestStatus.WAITING:  # the line is exactly the waiting requests
            c.queue.add(request)
    for raw in data["agents"]:
        agent = agent_from(raw)
        c.agents[agent.agent_id] = agent
    for raw in data["offers"]:
        c.offers[raw["offer_id"]] = Offer(**raw)
    for raw in data["sessions"]:
        session = session_from(raw)
        c.sessions[session.session_id] = session
    for raw in data.get("wrapping", ()):
        session = session_from(raw)
        c.wrapping[session.session_id] = session
    c.by_customer = {k: (v[0], v[1]) for k, v in data["by_customer"].items()}
    c.dropped_at = dict(data["dropped_at"])
    c.drop_order = sorted((since, u) for u, since in c.dropped_at.items())  # sorted: a heap
    c.offer_order = sorted((o.expires_at, o.offer_id) for o in c.offers.values())
    c.stats.load(data["stats"])
    c.arrival_order = deque(sorted((r.created_at, r.request_id) for r in c.requests.values()))
    c.talk_times = {k: (v[0], v[1]) for k, v in data["talk_times"].items()}
    c.online = {u: Online(ROLES[o["role"]], o["sockets"]) for u, o in data["online"].items()}
    for online in c.online.values():
        for node, count in online.sockets.items():
            if count > 0:
                c.node_users[node] = c.node_users.get(node, 0) + 1
    c.arrivals = data["arrivals"]
    c.rateable = {k: (v[0], v[1], v[2]) for k, v in data.get("rateable", {}).items()}
    c.guests_asked = dict(data.get("guests_asked", {}))
    return c


def request_from(raw: dict) -> HelpRequest:
    return HelpRequest(
        **raw
        | {
            "edition": _EDITION[raw["edition"]],
            "status": _STATUS[raw["status"]],
            "transcript": tuple(raw["transcript"]),
            "declined_by": _declined(raw["declined_by"]),
        }
    )


def agent_from(raw: dict) -> Agent:
    profile = raw["profile"]
    return Agent(
        AgentProfile(
            profile["agent_id"],
            profile["display_name"],
            profile["badge"],
            frozenset(profile["languages"]),
            frozenset(profile["skills"]),
        ),
        presence=_PRESENCE[raw["presence"]],
        connected=raw["connected"],
        offer_id=raw["offer_id"],
        sessions=set(raw["sessions"]),
        wrap_ups=dict(raw["wrap_ups"]),
        idle_since=raw["idle_since"],
        **{k: raw[k] for k in _AGENT_DAY if k in raw},
    )


def session_from(raw: dict) -> Session:
    return Session(**raw | {"state": _SESSION_STATE[raw["state"]]})


def request_data(r: HelpRequest) -> dict:
    return vars(r) | {
        "edition": r.edition.value,
        "status": r.status.value,
        "transcript": list(r.transcript),
        "declined_by": dict(r.declined_by),
    }


def _declined(raw: dict | list) -> dict[str, float]:
    """Agent → when they declined; a document written before declines were timed holds a list
    (those agents may be offered the request again at once)."""
    return dict(raw) if isinstance(raw, dict) else dict.fromkeys(raw, 0.0)


def agent_data(a: Agent) -> dict:
    p = a.profile
    return {
        "profile": {
            "agent_id": p.agent_id,
            "display_name": p.display_name,
            "badge": p.badge,
            "languages": sorted(p.languages),
            "skills": sorted(p.skills),
        },
        "presence": a.presence.value,
        "connected": a.connected,
        "offer_id": a.offer_id,
        "sessions": sorted(a.sessions),
        "wrap_ups": a.wrap_ups,
        "idle_since": a.idle_since,
        **{k: getattr(a, k) for k in _AGENT_DAY},
    }


def session_data(s: Session) -> dict:
    out = vars(s) | {"state": s.state.value, "last_seq": {}}
    out["supervisors"] = dict(s.supervisors)
    return out
