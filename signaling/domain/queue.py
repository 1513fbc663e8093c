"""The waiting line: requests ordered by effective arrival (arrival minus priority boost).

One sorted list per language (each language is served by its own pool of agents), so a
customer's place is a rank found in O(log N), the head of a pool is at hand for routing, and
nothing a command does walks the whole line (issue 16: a command's cost must not grow with
the number of customers waiting).

Position and estimated wait are what the customer sees; the formula is in docs/protocol.md:
with N staffed agents who speak the customer's language and an average handle time AHT over
recent sessions, the k-th in line waits about k × AHT / N (a slot frees every AHT / N seconds).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator

from sortedcontainers import SortedList

from .model import HelpRequest, RequestStatus

Item = tuple[tuple[float, int], str]  # (sort key, request id)


class WaitingQueue:
    def __init__(self) -> None:
        self._by_language: dict[str, SortedList] = {}
        self._size = 0

    def add(self, request: HelpRequest) -> None:
        line = self._by_language.setdefault(request.language, SortedList())
        item = (request.sort_key, request.request_id)
        if item not in line:
            line.add(item)
            self._size += 1

    def remove(self, request: HelpRequest) -> None:
        line = self._by_language.get(request.language)
        item = (request.sort_key, request.request_id)
        if line is not None and item in line:
            line.remove(item)
            self._size -= 1
            if not line:
                del self._by_language[request.language]

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[str]:
        """Every waiting request in service order (for views and tests; commands use `in_order`
        over the languages they can serve, or `head`)."""
        return self.in_order(list(self._by_language))

    def in_order(self, languages: Iterable[str]) -> Iterator[str]:
        """The waiting requests of these languages in service order, lazily: a caller that stops
        after k of them pays O(k log L), whatever the length of the line."""
        lines = [self._by_language[lang] for lang in languages if lang in self._by_language]
        return (request_id for _, request_id in heapq.merge(*(_stable(line) for line in lines)))

    def languages(self) -> list[str]:
        return list(self._by_language)

    def count(self, language: str) -> int:
        return len(self._by_language.get(language, ()))

    def head(self, limit: int) -> list[str]:
        return list(itertools.islice(iter(self), limit))

    def heads(self, per_language: int) -> list[str]:
        """The first few of each language's line: those who must hear at once that they moved up."""
        return [request_id for line in self._by_language.values() for _, request_id in line.islice(0, per_language)]

    def position(self, request: HelpRequest) -> int | None:
        """1-based place among waiting requests of the same language (the same agent pool)."""
        line = self._by_language.get(request.language)
        item = (request.sort_key, request.request_id)
        if line is None:
            return None
        if request.status is not RequestStatus.WAITING:  # exactly the waiting ones are in line
            return None
        return line.bisect_left(item) + 1


class LiveRequests(dict[str, HelpRequest]):
    """The live requests (waiting or ringing) by id, with what the supervisor wall reads of
    them kept up to date as they come and go: how many per line and per routing class, and
    the oldest of each line (the longest wait), so the wall costs O(lines), not O(N)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_line: dict[str, SortedList] = {}  # line → (created at, request id)
        self.by_class: dict[str, int] = {}

    def __setitem__(self, request_id: str, request: HelpRequest) -> None:
        if request_id in self:
            del self[request_id]
        super().__setitem__(request_id, request)
        self.by_line.setdefault(request.line, SortedList()).add((request.created_at, request_id))
        self.by_class[request.queue_class] = self.by_class.get(request.queue_class, 0) + 1

    def __delitem__(self, request_id: str) -> None:
        request = self[request_id]
        super().__delitem__(request_id)
        line = self.by_line[request.line]
        line.remove((request.created_at, request_id))
        if not line:
            del self.by_line[request.line]
        self.by_class[request.queue_class] -= 1
        if not self.by_class[request.queue_class]:
            del self.by_class[request.queue_class]

    def pop(self, request_id: str, *default: HelpRequest | None) -> HelpRequest | None:  # type: ignore[override]
        if request_id not in self:
            if default:
                return default[0]
            raise KeyError(request_id)
        request = self[request_id]
        del self[request_id]
        return request

    def oldest(self, line: str) -> float | None:
        found = self.by_line.get(line)
        return found[0][0] if found else None


def _stable(line: SortedList) -> Iterator[Item]:
    """Items of a sorted list one by one, safe against removals made while iterating: each
    step looks up the first item after the last one returned."""
    last: Item | None = None
    while True:
        index = 0 if last is None else line.bisect_right(last)
        if index >= len(line):
            return
        last = line[index]
        yield last


def estimated_wait_s(position: int, staffed: int, average_handle_s: float) -> int | None:
    if staffed <= 0:
        return None  # nobody who speaks the language is on shift: no honest estimate
    return round(position * average_handle_s / staffed)
