"""Skills-based routing: who may serve a request, and who is the best free agent for it."""

from __future__ import annotations

from collections.abc import Iterable

from .model import Agent, AgentState, Edition, HelpRequest, Presence

ELDERLY_CARE = "elderly_care"


def speaks(agent: Agent, request: HelpRequest) -> bool:
    return request.language in agent.profile.languages


def staffed(agent: Agent) -> bool:
    """On shift: counted for wait estimates (available or working, not away or offline)."""
    return agent.state() not in (AgentState.OFFLINE, AgentState.AWAY)


def on_shift(agent: Agent, reconnecting: bool) -> bool:
    """Signed in and not signed off: available, working, on a break, or briefly gone (within
    the grace window). A request waits only while someone on shift speaks its language."""
    return (agent.connected or reconnecting) and agent.presence is not Presence.OFFLINE


def cooling_down(agent: Agent, request: HelpRequest, now: float, reoffer_after_s: float) -> bool:
    """Declined (or let ring) this request too recently to be offered it again."""
    declined_at = request.declined_by.get(agent.agent_id)
    return declined_at is not None and now - declined_at < reoffer_after_s


def pick_agent(request: HelpRequest, free_agents: Iterable[Agent], now: float, reoffer_after_s: float) -> Agent | None:
    """The best free agent: must speak the language and not be cooling down from declining
    this request; agents who never declined it first (a decliner gets it again only when
    nobody else free can take it); elderly-care skill preferred for the elderly edition;
    then the longest idle. The rule as a pass over the free agents: the center finds the same
    agent from its index without one (Roster.best_free; tests/signaling/test_roster.py)."""
    best: Agent | None = None
    best_key: tuple | None = None
    for agent in free_agents:
        if not speaks(agent, request) or cooling_down(agent, request, now, reoffer_after_s):
            continue
        skilled = request.edition is Edition.ELDERLY and ELDERLY_CARE in agent.profile.skills
        declined = agent.agent_id in request.declined_by
        key = (declined, 0 if skilled else 1, agent.idle_since, agent.agent_id)
        if best_key is None or key < best_key:
            best, best_key = agent, key
    return best
