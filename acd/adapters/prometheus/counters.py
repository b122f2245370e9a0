"""The metrics fed as things happen: the routing core's orders (one dispatcher sink),
FastAGI's sessions and answer times, the routing latency, the survey answers.

Each fact is counted where it enters, once: a queue's calls from `CallCompleted`,
which the core emits exactly once per queued caller; answer waits from `CallRouted`,
once per answer. The counters live as long as the process (Prometheus's `rate()`
takes the restart's reset in its stride). Labels are queue names, agent states,
AGI command names and survey keys from config.yaml: never a caller's number.
"""

from __future__ import annotations

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

    def start_queues(self, queues: list[str]) -> None:
        """Series at zero for each configured queue, so that rates exist before a call."""
        for queue in queues:
            self.offered.labels(queue)
            for outcome in OUTCOMES:
                self.completed.labels(queue, outcome)

    # -- the routing core's orders (a dispatcher sink) ----------------------------------

    def on_routing(self, command: cmd.Command) -> None:
        match command:
            case cmd.CallCompleted(queue=queue, outcome=outcome):
                self.offered.labels(queue).inc()
                self.completed.labels(queue, outcome).inc()
            case cmd.CallRouted(queue=queue, waited_seconds=waited):
                self.answer_wait.labels(queue).observe(waited)
            case cmd.RingAgents(queue=queue, targets=targets):
                self.rings.labels(queue).inc(len(targets))
            case cmd.AgentAutoPaused():
                self.auto_paused.inc()
            case _:
                pass

    # -- FastAGI (acd.adapters.asterisk.agi_observer.AgiObserver) -------------------------

    def session_served(self) -> None:
        self.agi_sessions.inc()

    def command_answered(self, command: str, seconds: float) -> None:
        self.agi_latency.labels(command).observe(seconds)

    # -- the dispatcher's latency ---------------------------------------------------------

    def routing_decided(self, seconds: float) -> None:
        self.routing_latency.observe(seconds)

    # -- surveys ---------------------------------------------------------------------------

    def survey_answered(self, queue: str, question: str, answer: str) -> None:
        self.survey.labels(queue, question, answer).inc()
