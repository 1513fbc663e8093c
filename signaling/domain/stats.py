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
    answered: deque = field(default_factory=deque)  # (at, seconds waited)
    abandoned: deque = field(default_factory=deque)  # (at, seconds waited before leaving)
    handled: deque = field(default_factory=deque)  # (at, talk seconds, wrap-up seconds)

    def record_answered(self, at: float, waited: float) -> None:
        self.answered.append((at, waited))

    def record_abandoned(self, at: float, waited: float) -> None:
        self.abandoned.append((at, waited))

    def record_handled(self, at: float, talk_s: float, wrap_s: float) -> None:
        self.handled.append((at, talk_s, wrap_s))

    def _trim(self, now: float) -> None:
        for series in (self.answered, self.abandoned, self.handled):
            while series and now - series[0][0] > self.window_s:
                series.popleft()

    def figures(self, now: float) -> dict:
        self._trim(now)
        answered = len(self.answered)
        within = sum(1 for _, waited in self.answered if waited <= self.threshold_s)
        late_abandons = sum(1 for _, waited in self.abandoned if waited > self.threshold_s)
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
            "average_speed_of_answer_s": _mean([w for _, w in self.answered]),
            "average_handle_time_s": _mean([talk + wrap for _, talk, wrap in self.handled]),
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None
