"""Prometheus metrics: counters and histograms fed by the service, gauges read at scrape time.

Each app has its own registry (several apps run in one test process); event labels are the
known event names only, so a client sending random names cannot blow up the label set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily


class DeliveryStatus(Protocol):
    """What the delivery between nodes tells (assist.delivery.StreamManager)."""

    @property
    def reading(self) -> bool: ...
    @property
    def queued(self) -> int: ...
    @property
    def received(self) -> int: ...
    @property
    def dropped(self) -> int: ...


LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
WAIT_BUCKETS = (1, 5, 10, 20, 30, 60, 120, 300, 600, 1200)


class Metrics:
    def __init__(self, live_stats: Callable[[], dict]) -> None:
        self.registry = CollectorRegistry()
        self.events_received = Counter(
            "assist_events_received_total", "Socket events received", ["event"], registry=self.registry
        )
        self.events_rejected = Counter(
            "assist_events_rejected_total", "Socket events refused, by error code", ["event", "code"], registry=self.registry
        )
        self.connections = Gauge("assist_socket_connections", "Open socket.io connections", ["role"], registry=self.registry)
        self.connect_refused = Counter(
            "assist_connect_refused_total", "Socket connections refused", ["code"], registry=self.registry
        )
        self.pairing_seconds = Histogram(
            "assist_pairing_seconds",
            "Help request to first offer to an agent",
            buckets=LATENCY_BUCKETS + WAIT_BUCKETS[2:],
            registry=self.registry,
        )
        self.wait_seconds = Histogram(
            "assist_wait_seconds", "Help request to an agent accepting it", buckets=WAIT_BUCKETS, registry=self.registry
        )
        self.mask_violations = Counter(
            "assist_mask_violations_total",
            "Strings that reached the server still holding a number the device should have masked "
            "(replaced by stars before relaying or recording)",
            ["stream"],
            registry=self.registry,
        )
        self.record_backlog = Gauge("assist_record_backlog", "Record updates not yet written", registry=self.registry)
        self.registry.register(_LiveCollector(live_stats))

    def watch_records(self, writer_status: Callable[[], object]) -> None:
        """The record writer's health (assist/storage/sql.py WriterStatus), read at scrape time."""
        self.registry.register(_RecordsCollector(writer_status))

    def watch_delivery(self, delivery: DeliveryStatus) -> None:
        """Delivery between nodes (assist/delivery.py StreamManager), read at scrape time."""
        self.registry.register(_DeliveryCollector(delivery))

    def watch_conflicts(self, conflicts: Callable[[], int]) -> None:
        """Commits this node lost to another node's (then re-run): how contended the shared
        state is (assist/storage/redis_live.py), read at scrape time."""
        self.registry.register(_ConflictsCollector(conflicts))

    # Observer protocol of the signaling service
    def pairing(self, seconds: float) -> None:
        self.pairing_seconds.observe(seconds)

    def answered(self, seconds: float) -> None:
        self.wait_seconds.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


WALL_GAUGES = (
    ("service_level", "assist_service_level", "Share answered within the threshold (rolling window)"),
    ("abandonment_rate", "assist_abandonment_rate", "Share of customers who left before an answer"),
    ("average_speed_of_answer_s", "assist_average_speed_of_answer_seconds", "Mean wait of answered requests"),
    ("average_handle_time_s", "assist_average_handle_time_seconds", "Mean talk plus wrap-up time"),
    ("longest_wait_s", "assist_longest_wait_seconds", "Longest current wait"),
)


class _RecordsCollector:
    """The records database as this node sees it: the alert is assist_database_up == 0."""

    def __init__(self, writer_status: Callable[[], object]) -> None:
        self.writer_status = writer_status

    def collect(self):
        status = self.writer_status()
        yield GaugeMetricFamily(
            "assist_database_up", "1 when the records database answers, 0 during an outage", value=1 if status.database_up else 0
        )
        yield GaugeMetricFamily("assist_records_pending", "Record updates submitted but not yet committed", value=status.pending)
        yield CounterMetricFamily(
            "assist_records_write_failures", "Failed record writes (and probes)", value=status.write_failures
        )
        yield CounterMetricFamily(
            "assist_records_dropped",
            "Record updates given up: refused by the database or beyond the queue bound (each one logged)",
            value=status.dropped,
        )


class _ConflictsCollector:
    def __init__(self, conflicts: Callable[[], int]) -> None:
        self.conflicts = conflicts

    def collect(self):
        yield CounterMetricFamily(
            "assist_live_conflicts",
            "Commands whose commit lost the race to another node's and ran again on its changes",
            value=self.conflicts(),
        )


class _DeliveryCollector:
    """This node's stream of messages from the others: the alert is assist_delivery_up == 0."""

    def __init__(self, delivery: DeliveryStatus) -> None:
        self.delivery = delivery

    def collect(self):
        d = self.delivery
        yield GaugeMetricFamily(
            "assist_delivery_up",
            "1 while this node reads its delivery stream, 0 after a failed read until one works again",
            value=1 if d.reading else 0,
        )
        yield GaugeMetricFamily("assist_delivery_outbox", "Messages for other nodes waiting for Redis to answer", value=d.queued)
        yield CounterMetricFamily("assist_delivery_received", "Messages read from this node's stream", value=d.received)
        yield CounterMetricFamily(
            "assist_delivery_dropped", "Messages given up because the outbox was full (each logged)", value=d.dropped
        )


class _LiveCollector:
    """Gauges of the live state (queue, agents, sessions) computed when scraped."""

    def __init__(self, live_stats: Callable[[], dict]) -> None:
        self.live_stats = live_stats

    def collect(self):
        stats = self.live_stats()
        queue = GaugeMetricFamily("assist_queue_length", "Customers waiting, by routing class", labels=["queue_class"])
        for cls, n in sorted(stats["waiting_by_class"].items()):
            queue.add_metric([cls], n)
        yield queue
        agents = GaugeMetricFamily("assist_agents", "Agents by state", labels=["state"])
        for state, n in sorted(stats["agents_by_state"].items()):
            agents.add_metric([state], n)
        yield agents
        yield GaugeMetricFamily("assist_sessions_active", "Sessions in progress", value=stats["sessions_active"])
        # The supervisor wall's rolling figures (docs/metrics.md); absent until there is data.
        for key, name, text in WALL_GAUGES:
            if stats.get(key) is not None:
                yield GaugeMetricFamily(name, text, value=stats[key])
        # The same per line (edition:language), for the alert rules in docker/alerts.yml.
        level = GaugeMetricFamily("assist_line_service_level", "Service level of one line (rolling window)", labels=["line"])
        longest = GaugeMetricFamily("assist_line_longest_wait_seconds", "Longest current wait in one line", labels=["line"])
        for line in stats.get("lines", ()):
            if line["service_level"] is not None:
                level.add_metric([line["line"]], line["service_level"])
            longest.add_metric([line["line"]], line["longest_wait_s"])
        yield level
        yield longest
