"""The agents by id, with what routing and the wait estimates read of them kept at hand: who
is free to take an offer (per language, longest idle first, and the elderly-care subset), and
how many are staffed and on shift per language.

Before, each help request, wrap-up and sign-in walked every agent (to find the free ones, to
count the staffed ones for the wait estimate, to see someone is on shift), and the Redis store
then re-encoded every agent it had walked: a command cost O(agents), so a call center of
thousands of agents paid for all of them on every request (issue 16). Here those answers cost
O(log agents) plus the agents actually handed out.

How the index keeps up without a hook at every line that changes an agent: an agent is only
changed through this table (a command looks it up, then changes the object), so every agent
handed out is noted as reached; before answering, the index re-reads the agents reached since
the last `settle()` (O(reached)), and `settle()` — run by the stores after every command —
re-reads them once more and forgets them. An agent changed after the index last answered is
still in the reached set, so nothing changes unseen. The property test checks the index
against a full scan after every command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from sortedcontainers import SortedList

from .model import Agent, Edition, HelpRequest, Presence
from .routing import ELDERLY_CARE, cooling_down, staffed


class _Held(NamedTuple):
    """What the index holds for one agent, to take it out again."""

    languages: frozenset[str]
    free: tuple[float, str] | None  # (idle since, id) when free to take an offer
    skilled: bool
    staffed: bool
    connected: bool  # connected and not signed off: on shift for sure
    absent: bool  # not connected and not signed off: on shift while in the grace window
    state: str  # what the wall counts
    unobserved: bool  # its state is not yet the one the wall shows (CallCenter.observe_agents)
    counted: tuple[int, str] | None  # (day, id) when it has handled counts for that day


class Roster(dict[str, Agent]):
    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity
        self._reached: set[str] = set()
        self._held: dict[str, _Held] = {}
        self._free: dict[str, SortedList] = {}  # language → (idle since, id) of free agents
        self._free_skilled: dict[str, SortedList] = {}  # the same, elderly-care agents only
        self._staffed: dict[str, int] = {}
        self._connected: dict[str, int] = {}
        self._absent: dict[str, set[str]] = {}
        self._by_state: dict[str, int] = {}
        self._unobserved: set[str] = set()
        self._counted = SortedList()  # (day, id)

    # ---------------------------------------------------------------- the dictionary
    # Every way an agent object can be handed out notes it as reached.
    def mark(self, agent_id: str) -> None:
        self._reached.add(agent_id)

    def __getitem__(self, agent_id: str) -> Agent:
        self._reached.add(agent_id)
        return super().__getitem__(agent_id)

    def get(self, agent_id: str, default: Any = None) -> Any:
        self._reached.add(agent_id)
        return super().get(agent_id, default)

    def __setitem__(self, agent_id: str, agent: Agent) -> None:
        self._reached.add(agent_id)
        super().__setitem__(agent_id, agent)

    def __delitem__(self, agent_id: str) -> None:
        self._reached.add(agent_id)
        super().__delitem__(agent_id)

    def pop(self, agent_id: str, *default: Any) -> Any:
        self._reached.add(agent_id)
        return super().pop(agent_id, *default)

    def setdefault(self, agent_id: str, default: Any = None) -> Any:
        self._reached.add(agent_id)
        return super().setdefault(agent_id, default)

    def __iter__(self) -> Iterator[str]:
        for agent_id in super().__iter__():
            self._reached.add(agent_id)
            yield agent_id

    def values(self) -> Iterator[Agent]:  # type: ignore[override]
        for agent_id in self:
            yield dict.__getitem__(self, agent_id)

    def items(self) -> Iterator[tuple[str, Agent]]:  # type: ignore[override]
        for agent_id in self:
            yield agent_id, dict.__getitem__(self, agent_id)

    # ---------------------------------------------------------------- keeping up
    def settle(self) -> None:
        """The end of a command: take in every agent it reached, and start afresh."""
        self._refresh()
        self._reached.clear()

    def _refresh(self) -> None:
        for agent_id in self._reached:
            self._reread(agent_id)

    def _reread(self, agent_id: str) -> None:
        old = self._held.get(agent_id)
        agent = dict.get(self, agent_id)
        held = None if agent is None else self._holding(agent_id, agent)
        if held == old:  # most agents a command or a view reached did not change
            return
        if old is not None:
            del self._held[agent_id]
            self._count(agent_id, old, -1)
        if held is not None:
            self._held[agent_id] = held
            self._count(agent_id, held, +1)

    def _holding(self, agent_id: str, agent: Agent) -> _Held:
        away = agent.presence is Presence.OFFLINE
        state = agent.state().value
        counted = agent.handled_today or agent.handle_s_today
        return _Held(
            languages=agent.profile.languages,
            free=(agent.idle_since, agent_id) if agent.can_take_offer(self.capacity) else None,
            skilled=ELDERLY_CARE in agent.profile.skills,
            staffed=staffed(agent),
            connected=agent.connected and not away,
            absent=not agent.connected and not away,
            state=state,
            unobserved=state != agent.shown_state,
            counted=(agent.day, agent_id) if counted else None,
        )

    def _count(self, agent_id: str, held: _Held, sign: int) -> None:
        _add(self._by_state, held.state, sign)
        if held.unobserved:
            (self._unobserved.add if sign > 0 else self._unobserved.discard)(agent_id)
        if held.counted is not None:
            (self._counted.add if sign > 0 else self._counted.remove)(held.counted)
        for language in held.languages:
            if held.free is not None:
                _change(self._free, language, held.free, sign)
                if held.skilled:
                    _change(self._free_skilled, language, held.free, sign)
            if held.staffed:
                _add(self._staffed, language, sign)
            if held.connected:
                _add(self._connected, language, sign)
            if held.absent:
                absent = self._absent.setdefault(language, set())
                (absent.add if sign > 0 else absent.discard)(agent_id)
                if not absent:
                    del self._absent[language]

    # ---------------------------------------------------------------- what routing reads
    def free_languages(self) -> set[str]:
        """The languages some free agent speaks."""
        self._refresh()
        return set(self._free)

    def best_free(self, request: HelpRequest, now: float, reoffer_after_s: float) -> Agent | None:
        """The agent routing.pick_agent would choose among every free agent, found by walking
        the free agents who speak the language, longest idle first, only as far as the first
        one who never declined this request (those who declined it are rare). The order of
        preference: never declined it; for the elderly edition, the elderly-care skill; then
        the longest idle; never one cooling down from declining it."""
        self._refresh()
        lists = [self._free_skilled, self._free] if request.edition is Edition.ELDERLY else [self._free]
        declined: list[str] = []  # free agents who declined it and may have it again, best first
        for free in lists:
            for _, agent_id in free.get(request.language, ()):
                if agent_id not in request.declined_by:
                    return self[agent_id]
                if agent_id not in declined and not cooling_down(dict.__getitem__(self, agent_id), request, now, reoffer_after_s):
                    declined.append(agent_id)
        return self[declined[0]] if declined else None

    def staffed(self, language: str) -> int:
        """Agents on shift (available or working) who speak the language: the wait estimate."""
        self._refresh()
        return self._staffed.get(language, 0)

    def staffed_counts(self) -> dict[str, int]:
        self._refresh()
        return dict(self._staffed)

    def on_shift(self, language: str, reconnecting: Callable[[str], bool]) -> bool:
        """Someone who speaks the language is signed in and not signed off, connected or within
        their grace window (routing.on_shift; `reconnecting` says who is)."""
        self._refresh()
        if self._connected.get(language):
            return True
        return any(reconnecting(agent_id) for agent_id in self._absent.get(language, ()))

    # ---------------------------------------------------------------- what the clock and wall read
    def by_state(self) -> dict[str, int]:
        """How many agents are in each state (those in none are left out)."""
        self._refresh()
        return dict(self._by_state)

    def unobserved(self) -> list[Agent]:
        """The agents whose state changed since the wall last noted it."""
        self._refresh()
        if not self._unobserved:
            # A set keeps the table it once grew to: after every agent signed in at once, each
            # idle tick walked 10,000 empty slots here (bench.line_bench, idle tick by agents).
            self._unobserved = set()
            return []
        return [self[agent_id] for agent_id in sorted(self._unobserved)]

    def counted_on_another_day(self, day: int) -> list[Agent]:
        """The agents whose handled counts are of a day other than this one (to roll over)."""
        self._refresh()
        before = self._counted.irange(maximum=(day, ""), inclusive=(True, False))  # "" sorts before any id
        after = self._counted.irange(minimum=(day + 1, ""))
        return [self[agent_id] for _, agent_id in [*before, *after]]

    def check(self) -> None:
        """For tests: after settle(), the index says what a full scan of the agents says."""
        scan = Roster(self.capacity)
        for agent_id, agent in dict.items(self):
            dict.__setitem__(scan, agent_id, agent)
            scan._reread(agent_id)
        assert self._held == scan._held, "the roster's index fell behind its agents"
        assert self._indexes() == scan._indexes(), "the roster's index fell behind its agents"

    def _indexes(self) -> tuple:
        return (
            self._free,
            self._free_skilled,
            self._staffed,
            self._connected,
            self._absent,
            self._by_state,
            self._unobserved,
            list(self._counted),
        )


def _change(lists: dict[str, SortedList], language: str, item: tuple[float, str], sign: int) -> None:
    if sign > 0:
        lists.setdefault(language, SortedList()).add(item)
        return
    found = lists[language]
    found.remove(item)
    if not found:
        del lists[language]


def _add(counts: dict[str, int], language: str, sign: int) -> None:
    counts[language] = counts.get(language, 0) + sign
    if not counts[language]:
        del counts[language]
