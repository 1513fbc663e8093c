"""The agents' index (signaling/domain/roster.py) answers as a scan of every agent would.

Generated rosters: agents in every state (connected or not, each presence, an offer, sessions up
to and over capacity, wrap-ups), speaking random languages, some with the elderly-care skill,
idle since random and tied times; requests of either edition, some declined by some of them
recently or long ago. The index must pick the agent routing.pick_agent picks among all the free
ones, count the staffed agents as a scan does, and keep doing so as agents change under it.
"""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import given, settings

from signaling.domain.model import Agent, AgentProfile, Edition, HelpRequest, Presence
from signaling.domain.roster import Roster
from signaling.domain.routing import ELDERLY_CARE, on_shift, pick_agent, staffed

CAPACITY = 2
LANGUAGES = ["zh", "en", "yue"]
NOW = 1_000.0
REOFFER_AFTER_S = 20.0

agents = st.lists(
    st.builds(
        lambda i, languages, skilled, presence, connected, offer, sessions, wrap, idle: Agent(
            AgentProfile(f"a{i}", f"A{i}", f"B{i}", frozenset(languages), frozenset({ELDERLY_CARE} if skilled else ())),
            presence=presence,
            connected=connected,
            offer_id="o1" if offer else None,
            sessions={f"s{i}.{k}" for k in range(sessions)},
            wrap_ups={"w": "r"} if wrap else {},
            idle_since=idle,
        ),
        st.integers(0, 40),
        st.sets(st.sampled_from(LANGUAGES), min_size=1),
        st.booleans(),
        st.sampled_from(list(Presence)),
        st.booleans(),
        st.booleans(),
        st.integers(0, CAPACITY + 1),
        st.booleans(),
        st.sampled_from([0.0, 5.0, 10.0, 10.0, 900.0]),  # ties broken by id
    ),
    max_size=14,
    unique_by=lambda a: a.agent_id,
)


def _request(edition: Edition, language: str, declined: dict[str, float]) -> HelpRequest:
    return HelpRequest("r1", "c1", "C", "transfer", edition, language, "transfer", 0.0, 1, 0.0, declined_by=declined)


def _roster(members: list[Agent]) -> Roster:
    roster = Roster(CAPACITY)
    for agent in members:
        roster[agent.agent_id] = agent
    roster.settle()
    return roster


@settings(max_examples=400, deadline=None)
@given(
    agents,
    st.sampled_from(list(Edition)),
    st.sampled_from(LANGUAGES),
    st.dictionaries(st.integers(0, 40).map(lambda i: f"a{i}"), st.sampled_from([NOW - 5, NOW - 100]), max_size=8),
)
def test_the_index_picks_whom_a_scan_of_every_free_agent_picks(members, edition, language, declined):
    roster = _roster(members)
    request = _request(edition, language, declined)
    free = [a for a in members if a.can_take_offer(CAPACITY)]
    expected = pick_agent(request, free, NOW, REOFFER_AFTER_S)
    found = roster.best_free(request, NOW, REOFFER_AFTER_S)
    assert (found and found.agent_id) == (expected and expected.agent_id)
    assert roster.free_languages() == {lang for a in free for lang in a.profile.languages}
    for lang in LANGUAGES:
        assert roster.staffed(lang) == sum(1 for a in members if lang in a.profile.languages and staffed(a))
        dropped = {a.agent_id for a in members[::2]}
        scan = any(lang in a.profile.languages and on_shift(a, a.agent_id in dropped) for a in members)
        assert roster.on_shift(lang, dropped.__contains__) == scan
    roster.check()


@settings(max_examples=200, deadline=None)
@given(
    agents,
    st.lists(
        st.tuples(st.integers(0, 13), st.sampled_from(["offer", "free", "presence", "leave", "wrap", "remove"])),
        max_size=20,
    ),
)
def test_the_index_keeps_up_with_agents_changed_through_the_table(members, changes):
    """Changes made to agent objects looked up in the table, including after the index last
    answered within the same command, are in the index once the command settles."""
    roster = _roster(members)
    for k, (index, change) in enumerate(changes):
        ids = list(dict.keys(roster))
        if not ids:
            break
        agent_id = ids[index % len(ids)]
        if change == "remove":
            del roster[agent_id]
        else:
            agent = roster[agent_id]
            roster.free_languages()  # the index answers in between…
            if change == "offer":  # …and the agent it handed out changes after that
                agent.offer_id = None if agent.offer_id else "o2"
            elif change == "free":
                agent.sessions.clear()
                agent.wrap_ups.clear()
                agent.idle_since = float(k)
            elif change == "presence":
                agent.presence = list(Presence)[k % len(Presence)]
            elif change == "leave":
                agent.connected = not agent.connected
            else:
                agent.wrap_ups["w"] = "r"
        if k % 3 == 0:
            roster.settle()
    roster.settle()
    roster.check()
    left = list(dict.values(roster))
    request = _request(Edition.ELDERLY, "zh", {})
    expected = pick_agent(request, [a for a in left if a.can_take_offer(CAPACITY)], NOW, REOFFER_AFTER_S)
    found = roster.best_free(request, NOW, REOFFER_AFTER_S)
    assert (found and found.agent_id) == (expected and expected.agent_id)
