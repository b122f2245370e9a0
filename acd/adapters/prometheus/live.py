"""The gauges, read when Prometheus scrapes: the routing core's head counts (callers
waiting, agents per state; acd.core.census), and whether Asterisk, Redis and the routing
core are there.

Nothing here is kept between scrapes: the routing state is the one truth, so a gauge
cannot drift from what supervisors see in /api/queues and /api/agents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from acd.core.census import Census, QueueCensus
from acd.core.model import AgentState

STATES = [state.value for state in AgentState]


class RoutingViews(Protocol):
    """The routing core's head counts (acd.routing_service.RoutingService)."""

    def census(self) -> Census: ...


@dataclass(frozen=True)
class LiveSources:
    """Where each gauge is read; the composition root fills it in."""

    views: RoutingViews
    #: the routing core's clock (a shifted clock in a demo): waits are counted on it
    now: Callable[[], float]
    agi_sessions_open: Callable[[], int]
    ami_connected: Callable[[], bool]
    ami_logins: Callable[[], int]
    redis_up: Callable[[], bool]
    redis_outages: Callable[[], int]
    routing_running: Callable[[], bool]
    routing_backlog: Callable[[], int]


def _gauge(name: str, help_text: str, labels: list[str] | None = None
           ) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, labels=labels)


class LiveCollector(Collector):
    def __init__(self, sources: LiveSources) -> None:
        self.sources = sources

    def describe(self) -> list[Metric]:
        return []  # (else the registry would collect once, at registration, to learn names)

    def collect(self) -> Iterator[Metric]:
        counts = self.sources.views.census()
        yield from self._queues(counts["queues"])
        yield from self._agents(counts["agents"])
        yield from self._links()

    def _queues(self, queues: list[QueueCensus]) -> Iterator[Metric]:
        now = self.sources.now()
        waiting = _gauge("acd_queue_callers_waiting", "Callers waiting in the queue for an "
                         "agent (not ringing one).", ["queue"])
        ringing = _gauge("acd_queue_callers_ringing", "Callers of the queue whose agent's "
                         "phone rings now.", ["queue"])
        longest = _gauge("acd_queue_longest_wait_seconds", "How long the caller waiting "
                         "longest in the queue has waited so far (0: nobody waits).",
                         ["queue"])
        members = _gauge("acd_queue_agents", "The queue's member agents by state.",
                         ["queue", "state"])
        available = _gauge("acd_queue_agents_available", "Members the queue can offer a "
                           "call to now (available, reachable, not held).", ["queue"])
        level = _gauge("acd_queue_service_level_ratio", "Today's service level as the "
                       "routing core counts it (answered within the queue's threshold "
                       "over answered plus abandoned; absent before the day's first).",
                       ["queue"])
        handle = _gauge("acd_queue_average_handle_seconds", "The queue's smoothed talk "
                        "plus wrap-up time (what wait estimates use).", ["queue"])
        for q in queues:
            name = q["queue"]
            waiting.add_metric([name], q["waiting"])
            ringing.add_metric([name], q["ringing"])
            first = q["oldest_arrival"]
            longest.add_metric([name], 0.0 if first is None else max(0.0, now - first))
            for state in STATES:
                members.add_metric([name, state], q["members"].get(state, 0))
            available.add_metric([name], q["available"])
            if q["service_level"] is not None:
                level.add_metric([name], q["service_level"])
            handle.add_metric([name], q["average_handle_seconds"])
        yield from (waiting, ringing, longest, members, available, level, handle)

    def _agents(self, states: dict[str, int]) -> Iterator[Metric]:
        by_state = _gauge("acd_agents", "Configured agents by state.", ["state"])
        for state in STATES:
            by_state.add_metric([state], states.get(state, 0))
        # (no pause reason label: an agent may type any text as a reason)
        yield by_state

    def _links(self) -> Iterator[Metric]:
        s = self.sources
        yield self._one("acd_fastagi_sessions_open", "FastAGI sessions in progress (calls "
                        "acd serves now).", s.agi_sessions_open())
        yield self._one("acd_ami_connected", "1 while acd is logged in to Asterisk's "
                        "manager interface.", s.ami_connected())
        yield CounterMetricFamily("acd_ami_reconnects", "Logins to the AMI after the "
                                  "first (each one after a lost connection).",
                                  value=max(0, s.ami_logins() - 1))
        yield self._one("acd_redis_up", "1 while Redis answers (connections logged in and "
                        "PINGs answered).", s.redis_up())
        yield CounterMetricFamily("acd_redis_outages", "Times Redis went away (calls are "
                                  "served from memory meanwhile).", value=s.redis_outages())
        yield self._one("acd_routing_up", "1 while the routing core's task runs.",
                        s.routing_running())
        yield self._one("acd_routing_backlog_events", "Events waiting in the routing "
                        "core's inbox.", s.routing_backlog())

    @staticmethod
    def _one(name: str, help_text: str, value: float) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, help_text, value=float(value))
