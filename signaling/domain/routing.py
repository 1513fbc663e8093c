"""Skills-based routing: who may serve a request, and who is the best free agent for it."""
from __future__ import annotations

from collections.abc import Iterable

from .model import Agent, AgentState, Edition, HelpRequest

ELDERLY_CARE = "elderly_care"


def speaks(agent: Agent, request: HelpRequest) -> bool:
    return request.language in agent.profile.languages


def staffed(agent: Agent) -> bool:
    """On shift: counted for wait estimates (available or working, not away or offline)."""
    return agent.state() not in (AgentState.OFFLINE, AgentState.AWAY)


def pick_agent(request: HelpRequest, free_agents: Iterable[Agent]) -> Agent | None:
    """The best free agent: must speak the language and not have declined this request;
    elderly-care skill preferred for the elderly edition; then the longest idle."""
    best: Agent | None = None
    best_key: tuple | None = None
    for agent in free_agents:
        if not speaks(agent, request) or agent.agent_id in request.declined_by:
            continue
        skilled = request.edition is Edition.ELDERLY and ELDERLY_CARE in agent.profile.skills
        key = (0 if skilled else 1, agent.idle_since, agent.agent_id)
        if best_key is None or key < best_key:
            best, best_key = agent, key
    return best
