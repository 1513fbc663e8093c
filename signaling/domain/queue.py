"""The waiting line: requests ordered by effective arrival (arrival minus priority boost).

Position and estimated wait are what the customer sees; the formula is in docs/protocol.md:
with N staffed agents who speak the customer's language and an average handle time AHT over
recent sessions, the k-th in line waits about k × AHT / N (a slot frees every AHT / N seconds).
"""
from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator

from .model import HelpRequest


class WaitingQueue:
    def __init__(self) -> None:
        self._items: list[tuple[tuple[float, int], str]] = []

    def add(self, request: HelpRequest) -> None:
        insort(self._items, (request.sort_key, request.request_id))

    def remove(self, request: HelpRequest) -> None:
        item = (request.sort_key, request.request_id)
        i = bisect_left(self._items, item)
        if i < len(self._items) and self._items[i] == item:
            del self._items[i]

    def __iter__(self) -> Iterator[str]:
        return (request_id for _, request_id in list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def positions(self, requests: dict[str, HelpRequest]) -> dict[str, int]:
        """1-based place among waiting requests of the same language (the same agent pool)."""
        counts: dict[str, int] = {}
        out: dict[str, int] = {}
        for _, request_id in self._items:
            language = requests[request_id].language
            counts[language] = counts.get(language, 0) + 1
            out[request_id] = counts[language]
        return out


def estimated_wait_s(position: int, staffed: int, average_handle_s: float) -> int | None:
    if staffed <= 0:
        return None  # nobody who speaks the language is on shift: no honest estimate
    return round(position * average_handle_s / staffed)
