"""The wall's minute counters that several nodes add to (entities.merged): what a command sends
is exactly what it added, so Redis's sum of every node's additions is the count."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assist.storage import entities
from signaling.domain.stats import ContactStats

LINES = st.sampled_from(["", "standard:zh", "elderly:zh", "standard:en"])
EVENTS = st.lists(
    st.tuples(st.sampled_from(["answered", "abandoned", "handled"]), st.floats(0, 600), st.floats(0, 600), LINES),
    max_size=12,
)


def record(stats: ContactStats, events) -> None:
    for kind, a, b, line in events:
        if kind == "answered":
            stats.record_answered(60.0, a, line)
        elif kind == "abandoned":
            stats.record_abandoned(60.0, a, line)
        else:
            stats.record_handled(60.0, a, b)


def add(into: dict, added: dict | None) -> dict:
    """What the commit script does with what a command added (assist/storage/redis_live.py)."""
    out = {line: list(c) for line, c in into.items()}
    for line, counters in (added or {}).items():
        have = out.setdefault(line, [])
        for i, value in enumerate(counters):
            if i < len(have):
                have[i] += value
            else:
                have.append(value)
    return out


@given(EVENTS, EVENTS, EVENTS)
def test_what_two_nodes_add_to_a_minute_sums_to_every_count(first, mine, theirs):
    """Two nodes start from the same minute; each sends what its command added; Redis adds
    both to what it had. The result counts everything both recorded."""
    base = ContactStats()
    record(base, first)
    stored = {line: list(c) for line, c in base.minutes.get(1, {}).items()}

    sums = dict(stored)
    for events in (mine, theirs):
        node = ContactStats(minutes={1: {line: list(c) for line, c in stored.items()}})
        record(node, events)
        sums = add(sums, entities.added(stored or None, node.minutes.get(1, {})))

    everything = ContactStats()
    record(everything, first + mine + theirs)
    expected = everything.minutes.get(1, {})
    assert set(sums) == set(expected)
    for line, counters in expected.items():
        assert sums[line] == pytest.approx(counters)


def test_nothing_added_sends_nothing():
    stats = ContactStats()
    stats.record_answered(60.0, 3.0, "standard:zh")
    minute = stats.minutes[1]
    assert entities.added({line: list(c) for line, c in minute.items()}, minute) is None
