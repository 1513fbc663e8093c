"""Contact-center figures over a rolling window, as the industry defines them (docs/metrics.md).

Fed by the call center as things happen (answered, abandoned, handled); read by the supervisor
wall and /metrics. Pure: times are given, nothing is read from a clock.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class ContactStats:
    window_s: float = 3600.0  # rolling window the rates and averages cover
    threshold_s: float = 20.0  # service-level threshold: answered within this many seconds
    answered: deque = field(default_factory=deque)  # (at, seconds waited, line)
    abandoned: deque = field(default_factory=deque)  # (at, seconds waited before leaving, line)
    handled: deque = field(default_factory=deque)  # (at, talk seconds, wrap-up seconds)

    def record_answered(self, at: float, waited: float, line: str = "") -> None:
        self.answered.append((at, waited, line))

    def record_abandoned(self, at: float, waited: float, line: str = "") -> None:
        self.abandoned.append((at, waited, line))

    def record_handled(self, at: float, talk_s: float, wrap_s: float) -> None:
        self.handled.append((at, talk_s, wrap_s))

    def _trim(self, now: float) -> None:
        for series in (self.answered, self.abandoned, self.handled):
            while series and now - series[0][0] > self.window_s:
                series.popleft()

    def figures(self, now: float) -> dict:
        self._trim(now)
        answered = len(self.answered)
        within, late_abandons = self._within(self.answered, self.abandoned)
        offered = answered + len(self.abandoned)
        return {
            "window_s": self.window_s,
            "threshold_s": self.threshold_s,
            "answered": answered,
            "abandoned": len(self.abandoned),
            # Share answered within the threshold; customers who gave up before the threshold
            # was reached count neither way (they were never kept waiting too long).
            "service_level": _ratio(within, answered + late_abandons),
            "abandonment_rate": _ratio(len(self.abandoned), offered),
            "average_speed_of_answer_s": _mean([item[1] for item in self.answered]),
            "average_handle_time_s": _mean([talk + wrap for _, talk, wrap in self.handled]),
        }


    def _within(self, answered, abandoned) -> tuple[int, int]:
        """(answered within the threshold, abandoned after it)."""
        return (sum(1 for item in answered if item[1] <= self.threshold_s),
                sum(1 for item in abandoned if item[1] > self.threshold_s))

    def service_levels(self, now: float) -> dict[str, float | None]:
        """The service level of each line seen in the window (edition × language)."""
        self._trim(now)
        lines = {item[2] for series in (self.answered, self.abandoned) for item in series if len(item) > 2}
        levels = {}
        for line in lines:
            answered = [item for item in self.answered if item[2:3] == (line,)]
            within, late = self._within(answered, [item for item in self.abandoned if item[2:3] == (line,)])
            levels[line] = _ratio(within, len(answered) + late)
        return levels


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None
