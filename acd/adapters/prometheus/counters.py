"""The metrics fed as things happen: the routing core's orders (one dispatcher sink),
FastAGI's sessions and answer times, the routing latency, the survey answers.

Each fact is counted where it enters, once: a queue's calls from `CallCompleted`,
which the core emits exactly once per queued caller; answer waits from `CallRouted`,
once per answer. The counters live as long as the process (Prometheus's `rate()`
takes the restart's reset in its stride). Labels are queue names, agent states,
AGI command names and survey keys from config.yaml: never a caller's number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from acd.core import commands as cmd

#: the routing step's latency: most decisions take well under a millisecond plus one
#: Redis round trip; a burst or a slow Redis shows in the tail
ROUTING_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                   2.5)
#: Asterisk's answer to a command that returns at once: a millisecond on a healthy box
AGI_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
               5.0)
#: a caller's wait until an agent answered: the service-level thresholds centres use
#: (10, 15, 20, 30 s...) are bucket bounds, so "answered within 20 s" is a bucket
WAIT_BUCKETS = (5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0)
#: the outcomes of a caller's stay in a queue (acd.core.commands.Outcome)
OUTCOMES = ("answered", "abandoned", "exited", "callback-failed")


@dataclass(frozen=True)
class _QueueSeries:
    """One queue's children of the labelled metrics."""

    offered: Counter
    outcomes: dict[str, Counter]
    answer_wait: Histogram
    rings: Counter


class EventMetrics:
    """The counters and histograms; `on_routing` is a dispatcher sink, the rest are
    called by the FastAGI server, the dispatcher and the survey counting store."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.offered = Counter(
            "acd_queue_calls_offered", "Callers whose stay in the queue ended, whatever "
            "the outcome (counted once, when it ends; callers still waiting are in "
            "acd_queue_callers_waiting).", ["queue"], registry=registry)
        self.completed = Counter(
            "acd_queue_calls", "Callers whose stay in the queue ended, by outcome: answered "
            "(counted when the conversation ends), abandoned, exited (max wait, no agents) "
            "or callback-failed.", ["queue", "outcome"], registry=registry)
        self.answer_wait = Histogram(
            "acd_queue_answer_wait_seconds", "How long callers waited in the queue until "
            "an agent answered (observed at the answer): the service-level proxy.",
            ["queue"], buckets=WAIT_BUCKETS, registry=registry)
        self.rings = Counter(
            "acd_queue_rings", "Rings of agents' phones offered by the queue (one per "
            "agent rung).", ["queue"], registry=registry)
        self.auto_paused = Counter(
            "acd_agents_auto_paused", "Agents paused by acd after missing calls in a row.",
            registry=registry)
        self.routing_latency = Histogram(
            "acd_routing_decision_seconds", "Time from an event reaching the routing core's "
            "inbox to its batch's orders being handed out: the queueing in the inbox, the "
            "decision and the Redis round trip that claims agents and saves the state.",
            buckets=ROUTING_BUCKETS, registry=registry)
        self.agi_sessions = Counter(
            "acd_fastagi_sessions", "FastAGI sessions served (refused ones are not: wrong "
            "key, unknown route, over agi.max_sessions).", registry=registry)
        self.agi_latency = Histogram(
            "acd_fastagi_command_seconds", "Asterisk's answer time to the AGI commands that "
            "return at once (ANSWER, SET VARIABLE, GET VARIABLE...), from sending the command "
            "to reading its answer; commands that last as long as the caller (Dial, "
            "STREAM FILE, WAIT FOR DIGIT) are left out.", ["command"],
            buckets=AGI_BUCKETS, registry=registry)
        self.survey = Counter(
            "acd_survey_answers", "Survey answers by queue, question and the key pressed "
            "('no-answer': none valid).", ["queue", "question", "answer"], registry=registry)

        #: each queue's series, looked up once: `labels()` takes a lock and checks its
        #: arguments, a third of the metrics' cost per routing decision otherwise
        self._queues: dict[str, _QueueSeries] = {}
        self._agi_commands: dict[str, Histogram] = {}
        self._handlers: dict[type, Callable[[Any], None]] = {
            cmd.CallCompleted: self._completed, cmd.CallRouted: self._routed,
            cmd.RingAgents: self._rung, cmd.AgentAutoPaused: self._auto_paused}

    def start_queues(self, queues: list[str]) -> None:
        """Series at zero for each configured queue, so that rates exist before a call."""
        for queue in queues:
            self._series(queue)

    def _series(self, queue: str) -> _QueueSeries:
        series = self._queues.get(queue)
        if series is None:
            series = self._queues[queue] = _QueueSeries(
                self.offered.labels(queue),
                {outcome: self.completed.labels(queue, outcome) for outcome in OUTCOMES},
                self.answer_wait.labels(queue), self.rings.labels(queue))
        return series

    # -- the routing core's orders (a dispatcher sink) ----------------------------------

    def on_routing(self, command: cmd.Command) -> None:
        handler = self._handlers.get(type(command))
        if handler is not None:
            handler(command)

    def _completed(self, command: cmd.CallCompleted) -> None:
        series = self._series(command.queue)
        series.offered.inc()
        outcome = series.outcomes.get(command.outcome)
        if outcome is None:  # an outcome a newer core added: counted all the same
            outcome = series.outcomes[command.outcome] = self.completed.labels(
                command.queue, command.outcome)
        outcome.inc()

    def _routed(self, command: cmd.CallRouted) -> None:
        self._series(command.queue).answer_wait.observe(command.waited_seconds)

    def _rung(self, command: cmd.RingAgents) -> None:
        self._series(command.queue).rings.inc(len(command.targets))

    def _auto_paused(self, command: cmd.AgentAutoPaused) -> None:
        self.auto_paused.inc()

    # -- FastAGI (acd.adapters.asterisk.agi_observer.AgiObserver) -------------------------

    def session_served(self) -> None:
        self.agi_sessions.inc()

    def command_answered(self, command: str, seconds: float) -> None:
        child = self._agi_commands.get(command)
        if child is None:
            child = self._agi_commands[command] = self.agi_latency.labels(command)
        child.observe(seconds)

    # -- the dispatcher's latency ---------------------------------------------------------

    def routing_decided(self, seconds: float) -> None:
        self.routing_latency.observe(seconds)

    # -- surveys ---------------------------------------------------------------------------

    def survey_answered(self, queue: str, question: str, answer: str) -> None:
        self.survey.labels(queue, question, answer).inc()
