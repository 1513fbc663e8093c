"""Contact-center figures over a rolling window, as the industry defines them (docs/metrics.md).

Fed by the call center as things happen (answered, abandoned, handled); read by the supervisor
wall and /metrics. Pure: times are given, nothing is read from a clock.

Kept as per-minute counters, not a list of everyone served: reading the figures costs the
number of minutes in the window whatever the traffic, and the live state stays the same size
after an hour at 100 customers a second as after a quiet one (issue 16). The window moves a
minute at a time: a minute leaves it as soon as its start is older than the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .views import WallFigures

BUCKET_S = 60.0

# One minute's counters: answered, answered within the threshold, summed answer waits,
# abandoned, abandoned after the threshold, handled, summed handle times.
ANSWERED, WITHIN, WAITED, ABANDONED, LATE, HANDLED, HANDLE_S = range(7)


def _empty() -> list[float]:
    return [0, 0, 0.0, 0, 0, 0, 0.0]


@dataclass
class ContactStats:
    window_s: float = 3600.0  # rolling window the rates and averages cover
    threshold_s: float = 20.0  # service-level threshold: answered within this many seconds
    # minute → line ("" for all lines) → counters
    minutes: dict[int, dict[str, list[float]]] = field(default_factory=dict)

    def _counters(self, at: float, line: str) -> list[list[float]]:
        minute = self.minutes.setdefault(int(at // BUCKET_S), {})
        out = [minute.setdefault("", _empty())]
        if line:
            out.append(minute.setdefault(line, _empty()))
        return out

    def record_answered(self, at: float, waited: float, line: str = "") -> None:
        for c in self._counters(at, line):
            c[ANSWERED] += 1
            c[WITHIN] += waited <= self.threshold_s
            c[WAITED] += waited

    def record_abandoned(self, at: float, waited: float, line: str = "") -> None:
        for c in self._counters(at, line):
            c[ABANDONED] += 1
            c[LATE] += waited > self.threshold_s

    def record_handled(self, at: float, talk_s: float, wrap_s: float) -> None:
        for c in self._counters(at, ""):
            c[HANDLED] += 1
            c[HANDLE_S] += talk_s + wrap_s

    def trim(self, now: float) -> None:
        """Forget the minutes that left the window: the clock's work (a command), so the
        figures stay reads that change nothing."""
        start = now - self.window_s
        gone = []
        for minute in self.minutes:  # oldest first (minutes are added as time goes): stop at the first kept
            if minute * BUCKET_S >= start:
                break
            gone.append(minute)
        for minute in gone:
            del self.minutes[minute]

    def _window(self, now: float) -> list[dict[str, list[float]]]:
        start = now - self.window_s
        return [lines for m, lines in dict.items(self.minutes) if m * BUCKET_S >= start]

    def _sum(self, minutes: list[dict[str, list[float]]], line: str) -> list[float]:
        total = _empty()
        for minute in minutes:
            for i, value in enumerate(minute.get(line, ())):
                total[i] += value
        return total

    def figures(self, now: float) -> WallFigures:
        t = self._sum(self._window(now), "")
        answered, abandoned = int(t[ANSWERED]), int(t[ABANDONED])
        return {
            "window_s": self.window_s,
            "threshold_s": self.threshold_s,
            "answered": answered,
            "abandoned": abandoned,
            # Share answered within the threshold; customers who gave up before the threshold
            # was reached count neither way (they were never kept waiting too long).
            "service_level": _ratio(int(t[WITHIN]), answered + int(t[LATE])),
            "abandonment_rate": _ratio(abandoned, answered + abandoned),
            "average_speed_of_answer_s": _mean(t[WAITED], answered),
            "average_handle_time_s": _mean(t[HANDLE_S], int(t[HANDLED])),
        }

    def average_handle_s(self) -> float | None:
        """The mean handle time of the sessions wrapped up in the minutes kept (the window, as
        the clock trims it): the wait estimate's AHT. A figure the nodes add to, not a list of
        the last sessions every end would rewrite (issue 16: an end then commits over other
        nodes' ends, redis_live)."""
        t = self._sum(list(dict.values(self.minutes)), "")
        return _mean(t[HANDLE_S], int(t[HANDLED]))

    def service_levels(self, now: float) -> dict[str, float | None]:
        """The service level of each line seen in the window (edition × language)."""
        minutes = self._window(now)
        lines = {line for minute in minutes for line in minute if line}
        levels = {}
        for line in lines:
            t = self._sum(minutes, line)
            levels[line] = _ratio(int(t[WITHIN]), int(t[ANSWERED]) + int(t[LATE]))
        return levels

    # The live state's document (signaling/domain/snapshot.py).
    def dump(self) -> dict:
        return {str(m): lines for m, lines in self.minutes.items()}

    def load(self, raw: dict) -> None:
        """Per-minute counters; a document written before them holds every entry (replayed)."""
        if set(raw) >= {"answered", "abandoned", "handled"} and isinstance(raw["answered"], list):
            for at, waited, *line in raw["answered"]:
                self.record_answered(at, waited, *line)
            for at, waited, *line in raw["abandoned"]:
                self.record_abandoned(at, waited, *line)
            for at, talk_s, wrap_s in raw["handled"]:
                self.record_handled(at, talk_s, wrap_s)
            return
        self.minutes = {int(m): {line: list(c) for line, c in lines.items()} for m, lines in raw.items()}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(total: float, count: int) -> float | None:
    return round(total / count, 3) if count else None
