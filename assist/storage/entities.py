"""The call center's live state as one small document per entity, and what a command touched.

Scaled out, the state used to be one document re-encoded on every change and decoded by every
node behind it: a command cost O(everyone connected) (issue 16). Here each request, agent,
offer, session, customer link, socket count… is its own entry (a field of one Redis hash), so a
commit writes only the entries a command changed, and a node that is behind reads only those.

Which entries can a command have changed? Exactly those it reached through the center's
dictionaries: the store swaps them for `Tracked` ones that note every key read, written,
deleted or iterated over, and re-encodes only those (plus `meta`, the few counters kept on the
center itself) to compare with what it last saw. Entities are reached only through these
dictionaries (the line and the indexes hold ids), so nothing changes unseen; the property test
(tests/signaling/test_properties.py) checks it by keeping a second center fed only the changes.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from signaling.domain import snapshot
from signaling.domain.center import CallCenter
from signaling.domain.model import HelpRequest, Offer, Online, Policy, RequestStatus
from signaling.domain.queue import LiveRequests, WaitingQueue
from signaling.domain.roster import Roster
from signaling.domain.stats import BUCKET_S

META = "meta"


class Tracked(dict[Any, Any]):
    """Notes, as "<kind>:<key>", every entry of this dictionary a command could have changed."""

    def __init__(self, kind: str, touched: set[str]) -> None:
        super().__init__()
        self.kind, self.touched = kind, touched

    def _note(self, key: object) -> None:
        self.touched.add(f"{self.kind}:{key}")

    def __getitem__(self, key: Any) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._note(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        # A look for an entry that is not there is a read too: a command that commutes
        # (redis_live) is checked against every key it read, present or not.
        self._note(key)
        return super().__contains__(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._note(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        self._note(key)
        super().__delitem__(key)

    def pop(self, key: Any, *default: Any) -> Any:
        self._note(key)
        return super().pop(key, *default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._note(key)
        return super().setdefault(key, default)

    # Iterating notes each entry as it is reached: `next(iter(d))` notes one, a full pass all.
    # Lazily, like a plain dict (changing it while iterating fails the same way): a copy of the
    # keys made `next(iter(d))` cost the whole dictionary, 0.4 ms per tick after an hour of
    # rated sessions (bench.line_bench).
    def __iter__(self) -> Iterator[Any]:
        for key in super().__iter__():
            self._note(key)
            yield key

    def keys(self) -> Iterator[Any]:  # type: ignore[override]
        return iter(self)

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        for key in self:
            yield dict.__getitem__(self, key)

    def items(self) -> Iterator[tuple[Any, Any]]:  # type: ignore[override]
        for key in self:
            yield key, dict.__getitem__(self, key)


LINE = "q"  # "q:<language>": one language's waiting line; "q:*": every line


class TrackedQueue(WaitingQueue):
    """The waiting line, noting the lines a command read or changed as "q:<language>" ("q:*"
    for a read of every line, which every change to a line is logged under too). The line is
    derived from the waiting requests, not an entity: without these names, a command that
    commits over other nodes' changes (redis_live) could not tell that a request joined a line
    it had read empty. They are names in read sets and the change log, with no value."""

    def __init__(self, touched: set[str]) -> None:
        super().__init__()
        self.touched = touched
        self.changed: set[str] = set()

    def _read(self, *languages: str) -> None:
        self.touched.update(f"{LINE}:{language}" for language in languages)

    def _wrote(self, language: str) -> None:
        keys = (f"{LINE}:{language}", f"{LINE}:*")
        self.touched.update(keys)
        self.changed.update(keys)

    def add(self, request: HelpRequest) -> None:
        size = len(self._by_language.get(request.language, ()))
        super().add(request)
        if len(self._by_language.get(request.language, ())) != size:
            self._wrote(request.language)

    def remove(self, request: HelpRequest) -> None:
        size = len(self._by_language.get(request.language, ()))
        super().remove(request)
        if len(self._by_language.get(request.language, ())) != size:
            self._wrote(request.language)

    def in_order(self, languages: Iterable[str]) -> Iterator[str]:
        languages = list(languages)
        self._read(*languages)
        return super().in_order(languages)

    def __len__(self) -> int:
        self._read("*")
        return super().__len__()

    def __iter__(self) -> Iterator[str]:
        self._read("*")
        return super().__iter__()

    def languages(self) -> list[str]:
        self._read("*")
        return super().languages()

    def count(self, language: str) -> int:
        self._read(language)
        return super().count(language)

    def heads(self, per_language: int) -> list[str]:
        self._read("*")
        return super().heads(per_language)

    def position(self, request: HelpRequest) -> int | None:
        self._read(request.language)
        return super().position(request)


def lines_changed(center: CallCenter) -> set[str]:
    """The lines the command running changed ("q:…"), forgotten once asked for."""
    queue = center.queue
    if not isinstance(queue, TrackedQueue):
        return set()
    changed, queue.changed = queue.changed, set()
    return changed


class TrackedRequests(Tracked, LiveRequests):
    def __init__(self, touched: set[str]) -> None:
        LiveRequests.__init__(self)
        self.kind, self.touched = "r", touched


class TrackedRoster(Tracked, Roster):
    def __init__(self, touched: set[str], capacity: int) -> None:
        Roster.__init__(self, capacity)
        self.kind, self.touched = "a", touched


# kind → the center's dictionary it lives in
DICTS = {
    "a": "agents",  # a Roster: its index is told of every agent put or taken away
    "o": "offers",
    "s": "sessions",
    "w": "wrapping",
    "bc": "by_customer",
    "dr": "dropped_at",
    "on": "online",
    "rt": "rateable",
    "ga": "guests_asked",
    "tt": "talk_times",
}


# The wall's rolling figures, one entry per minute (center.stats.minutes, keyed by the minute's
# number): a pairing writes the current minute's few counters, not the whole hour's.
MINUTES = "sm"


def merged(key: str) -> bool:
    """Whether commits add to this entity rather than replace it: a minute's counters, which
    every pairing, end and wrap-up adds to on whichever node it runs. A commit sends what the
    command added (`added`) and Redis adds it to what is there (redis_live's COMMIT), so two
    nodes counting in the same minute neither conflict nor lose a count."""
    return key.startswith(MINUTES + ":")


def added(before: Any, after: Any) -> dict[str, list[float]] | None:
    """What a command added to a minute's counters ({line: differences}), None for nothing."""
    before = before or {}
    out = {}
    for line, counters in after.items():
        had = before.get(line, ())
        difference = [value - (had[i] if i < len(had) else 0) for i, value in enumerate(counters)]
        if any(difference):
            out[line] = difference
    return out or None


def track(center: CallCenter, touched: set[str]) -> None:
    """Give an empty center tracked dictionaries (before any entity is put in it)."""
    center.requests = TrackedRequests(touched)
    center.queue = TrackedQueue(touched)
    for kind, name in DICTS.items():
        setattr(center, name, Tracked(kind, touched))
    center.agents = TrackedRoster(touched, center.policy.capacity)
    center.stats.minutes = Tracked(MINUTES, touched)


def all_keys(center: CallCenter) -> list[str]:
    keys = [f"r:{k}" for k in dict.keys(center.requests)]
    for kind, name in DICTS.items():
        keys += [f"{kind}:{k}" for k in dict.keys(getattr(center, name))]
    keys += [f"{MINUTES}:{m}" for m in dict.keys(center.stats.minutes)]
    return [*keys, META]


def encode(center: CallCenter, key: str) -> Any:
    """The entity's plain data (JSON-able), or None when it no longer exists."""
    if key == META:
        return {"arrivals": center.arrivals}
    kind, _, ident = key.partition(":")
    if kind == LINE:
        return None  # a name, not an entity
    if kind == MINUTES:
        return dict.get(center.stats.minutes, int(ident))
    if kind == "r":
        request = dict.get(center.requests, ident)
        return None if request is None else snapshot.request_data(request)
    found = dict.get(getattr(center, DICTS[kind]), ident)
    if found is None:
        return None
    if kind == "a":
        return snapshot.agent_data(found)
    if kind == "o":
        return vars(found).copy()
    if kind in ("s", "w"):
        return snapshot.session_data(found)
    if kind == "on":
        return {"role": found.role.value, "sockets": dict(found.sockets)}
    if kind in ("bc", "rt", "tt"):
        return list(found)
    return found  # dropped_at, guests_asked: a time


def due(center: CallCenter, key: str, after: float | None = None) -> float | None:
    """When the clock (CallCenter.tick) must next look at this entity, or None: its earliest
    deadline, as the Redis store keeps them in a sorted set so that a tick with nothing due does
    nothing at all (issue 16). Read without noting anything (the plain dictionaries).

    Most deadlines hold until the tick acts on them (an offer rings until it lapses), so they
    count even when past. A re-offer after a decline is only a moment when the line may move:
    one already past `after` (the tick just ran then) is left out."""
    policy = center.policy
    kind, _, ident = key.partition(":")
    if kind == MINUTES:  # the clock drops a minute once it left the wall's window
        return None if not dict.__contains__(center.stats.minutes, int(ident)) else int(ident) * BUCKET_S + center.stats.window_s
    if kind == "o":
        offer = dict.get(center.offers, ident)
        return None if offer is None else offer.expires_at
    if kind == "dr":
        since = dict.get(center.dropped_at, ident)
        return None if since is None else since + policy.grace_s
    if kind == "rt":
        rateable = dict.get(center.rateable, ident)
        return None if rateable is None else rateable[2] + policy.rating_window_s
    if kind == "ga":
        asked = dict.get(center.guests_asked, ident)
        return None if asked is None else asked + policy.rating_window_s
    if kind == "a":
        agent = dict.get(center.agents, ident)
        if agent is None:
            return None
        if agent.state().value != agent.shown_state:
            return 0.0  # the wall's state and since when: at the next tick
        if not agent.handled_today and not agent.handle_s_today:
            return None  # nothing to roll over at midnight
        return (agent.day + 1) * 86400 - policy.day_offset_s
    if kind == "r":
        request = dict.get(center.requests, ident)
        if request is None:
            return None
        times = [] if request.long_wait else [request.created_at + policy.max_wait_s]
        if request.status is RequestStatus.WAITING:
            ends = (at + policy.reoffer_after_s for at in request.declined_by.values())
            times += [end for end in ends if after is None or end > after]
        return min(times, default=None)
    return None


def apply(center: CallCenter, key: str, data: Any) -> None:
    """Put one entity as another node left it (None: it is gone), keeping the line, the live
    requests' indexes and the sockets per node in step. Applying the same entry twice is
    harmless: an entry is the whole entity, not a change to it."""
    if key == META:
        # (Written before the minutes were entries of their own, it held the last hour's
        # figures, and before the wait estimate read them, the last handle times: both start
        # afresh; they are the wall's, not records, which are in the database.)
        center.arrivals = (data or {}).get("arrivals", 0)
        return
    kind, _, ident = key.partition(":")
    if kind == LINE:
        return  # a name, not an entity: the requests that changed the line come with it
    if kind == MINUTES:
        if data is None:
            if dict.__contains__(center.stats.minutes, int(ident)):
                dict.__delitem__(center.stats.minutes, int(ident))
        else:
            dict.__setitem__(center.stats.minutes, int(ident), {line: list(c) for line, c in data.items()})
        return
    if kind == "r":
        _apply_request(center, ident, data)
        return
    table = getattr(center, DICTS[kind])
    if kind == "on":
        old = dict.get(table, ident)
        for node, count in old.sockets.items() if old else ():
            if count > 0:
                center._node_user_gone(node)
    if kind == "a":
        table.mark(ident)
    if data is None:
        if dict.__contains__(table, ident):
            dict.__delitem__(table, ident)
        return
    dict.__setitem__(table, ident, _decode(kind, data))
    # The clock's orders (CallCenter.drop_order, offer_order): an entity seen twice is still one
    # expiry, as the clock checks that an entry is current.
    if kind == "dr":
        heapq.heappush(center.drop_order, (data, ident))
    if kind == "o":
        heapq.heappush(center.offer_order, (data["expires_at"], ident))
    if kind == "on":
        for node, count in data["sockets"].items():
            if count > 0:
                center.node_users[node] = center.node_users.get(node, 0) + 1


def _apply_request(center: CallCenter, ident: str, data: Any) -> None:
    old: HelpRequest | None = dict.get(center.requests, ident)
    if old is not None:
        if old.status is RequestStatus.WAITING:
            WaitingQueue.remove(center.queue, old)  # (another node's change: not this command's)
        LiveRequests.__delitem__(center.requests, ident)
    if data is None:
        return
    request = snapshot.request_from(data)
    LiveRequests.__setitem__(center.requests, ident, request)
    if request.status is RequestStatus.WAITING:
        WaitingQueue.add(center.queue, request)
    if old is None and not request.long_wait:
        center.arrival_order.append((request.created_at, ident))


def _decode(kind: str, data: Any) -> Any:
    if kind == "a":
        return snapshot.agent_from(data)
    if kind == "o":
        return Offer(**data)
    if kind in ("s", "w"):
        return snapshot.session_from(data)
    if kind == "on":
        return Online(snapshot.ROLES[data["role"]], dict(data["sockets"]))
    if kind == "bc":
        return (data[0], data[1])
    if kind == "rt":
        return (data[0], data[1], data[2])
    if kind == "tt":
        return (data[0], data[1])
    return data


def build(items: dict[str, Any], policy: Policy, new_id: Callable[[str], str] | None, touched: set[str]) -> CallCenter:
    """A center from every entity (a node's first read, or one too far behind the log)."""
    center = CallCenter(policy, new_id)
    track(center, touched)
    for key, data in items.items():
        apply(center, key, data)
    center.arrival_order = deque(sorted(center.arrival_order))
    tables: tuple[tuple[dict[Any, Any], Callable[[tuple[Any, Any]], Any]], ...] = (
        (center.rateable, lambda item: item[1][2]),
        (center.guests_asked, lambda item: item[1]),
        (center.stats.minutes, lambda item: item[0]),
    )
    for table, when in tables:  # the clock's cleanup reads them oldest first
        ordered = sorted(dict.items(table), key=when)
        dict.clear(table)
        for k, v in ordered:
            dict.__setitem__(table, k, v)
    center.settle()
    touched.clear()
    return center


def document(items: dict[str, Any]) -> dict:
    """The whole state as one plain document (snapshot.dump), from every entity: for tests and
    tools that look at what the nodes share."""
    return snapshot.dump(build(items, Policy(), None, set()))
