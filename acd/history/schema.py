"""The call history's tables: one definition for SQLite and PostgreSQL (SQLAlchemy Core).

The history is what reports are computed from, kept for months; Redis keeps only live
state and a bounded window of recent records. Every row comes from a fact that entered
acd in one place: a closed call record (`calls`, `ring_attempts`, `survey_answers`)
or an agent's state change (`agent_events`). Times are epoch seconds (float, UTC);
reports bucket them in the configured timezone.

Rows are written idempotently (upserts keyed by the primary keys below): a record
amended after it closed, or a history entry applied twice after a crash, leaves one row.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

#: calls.direction of an agent's own call: not an offered call
OUTBOUND = "outbound"

#: an autoincrementing 64-bit key on PostgreSQL; SQLite's rowid alias must be INTEGER
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")

calls = Table(
    "calls", metadata,
    Column("call_id", String(128), primary_key=True),
    Column("caller", String(64), nullable=False, server_default=""),
    Column("called", String(64), nullable=False, server_default=""),
    Column("arrived_at", Float, nullable=False),
    Column("ended_at", Float),
    #: the queue the call was last in ("" when it never reached one); `queues` (JSON
    #: list) is every queue it went through, in order (overflow)
    Column("queue", String(64), nullable=False, server_default=""),
    Column("queues", Text, nullable=False, server_default="[]"),
    Column("enqueued_at", Float),
    Column("answered_at", Float),
    Column("agent", String(64), nullable=False, server_default=""),
    #: seconds in queue until answered or until the caller left it; NULL if never queued
    Column("wait_seconds", Float),
    Column("ring_attempts", Integer, nullable=False, server_default="0"),
    Column("talk_seconds", Float, nullable=False, server_default="0"),
    Column("hold_seconds", Float, nullable=False, server_default="0"),
    Column("wrap_up_seconds", Float, nullable=False, server_default="0"),
    Column("hung_up_by", String(16), nullable=False, server_default=""),
    Column("hangup_cause", String(64), nullable=False, server_default=""),
    #: answered | abandoned | blocked | voicemail | transferred | exited:<reason> |
    #: callback-requested | callback-failed | answered-by-fallback |
    #: unknown-after-restart | shed | ...
    Column("outcome", String(64), nullable=False, server_default=""),
    Column("outcome_reason", Text, nullable=False, server_default=""),
    Column("transfer", String(128), nullable=False, server_default=""),
    #: "" (not offered) | requested | completed | failed | cancelled
    Column("callback", String(16), nullable=False, server_default=""),
    #: the first question's answer ('1' | '2' | '3'), 'not-surveyed' or 'no-answer';
    #: every question's answer is in survey_answers
    Column("survey", String(32), nullable=False, server_default=""),
    Column("rule", String(128), nullable=False, server_default=""),
    Column("schedule", String(64), nullable=False, server_default=""),
    Column("schedule_state", String(16), nullable=False, server_default=""),
    Column("ivr_path", Text, nullable=False, server_default="[]"),       # JSON list
    Column("variables", Text, nullable=False, server_default="{}"),      # JSON object
    Column("sensitive_variables", Text, nullable=False, server_default="[]"),
    Column("recording", String(255), nullable=False, server_default=""),
    #: the history entry that wrote the row (its place in the Redis stream): a row is
    #: only replaced by a later entry, so two writers applying a record's close and its
    #: amendment in either order leave the amendment (added by the history writer)
    Column("revision", BigInteger, nullable=False, server_default="0"),
    #: schema version 2: "" for a call to the 400 number, "outbound" for an agent's own
    #: call (not an offered call: reports of queues and agents' answered calls leave it
    #: out); what the agent filed the call under in wrap-up, and their note
    Column("direction", String(16), nullable=False, server_default=""),
    Column("disposition", String(32), nullable=False, server_default=""),
    Column("disposition_note", Text, nullable=False, server_default=""),
)
Index("calls_arrived", calls.c.arrived_at)
#: schema version 3: the queue report's thresholds are looked up by wait (the few calls
#: at a service-level threshold, acd.reports.rollup_queries)
Index("calls_wait_arrived", calls.c.wait_seconds, calls.c.arrived_at)
#: schema version 3: covering indexes of the agent and survey reports (and the queue
#: report filtered by agent): the database reads a narrow index in time order instead
#: of every wide row of the month (SQLite, a million calls: 4.6 s -> 1.4 s; docs/
#: benchmarks.md section 10)
Index("calls_report", calls.c.arrived_at, calls.c.queue, calls.c.agent, calls.c.direction,
      calls.c.answered_at, calls.c.outcome, calls.c.wait_seconds, calls.c.talk_seconds,
      calls.c.hold_seconds, calls.c.wrap_up_seconds, calls.c.callback, calls.c.transfer)
Index("calls_queue_arrived", calls.c.queue, calls.c.arrived_at)
Index("calls_agent_arrived", calls.c.agent, calls.c.arrived_at)
Index("calls_caller_arrived", calls.c.caller, calls.c.arrived_at)

#: every time an agent was rung for a call (several per call: no answer, then another)
ring_attempts = Table(
    "ring_attempts", metadata,
    Column("call_id", String(128), primary_key=True),
    Column("attempt", Integer, primary_key=True),        # 1, 2, ... in ring order
    Column("queue", String(64), nullable=False, server_default=""),
    Column("agent", String(64), nullable=False),
    Column("device", String(128), nullable=False, server_default=""),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
    #: answered | no-answer | busy | rejected | failed | stopped | caller-gone
    Column("result", String(16), nullable=False),
)
Index("ring_attempts_agent_started", ring_attempts.c.agent, ring_attempts.c.started_at)
Index("ring_attempts_queue_started", ring_attempts.c.queue, ring_attempts.c.started_at)
Index("ring_attempts_report", ring_attempts.c.started_at, ring_attempts.c.agent,
      ring_attempts.c.queue, ring_attempts.c.result, ring_attempts.c.ended_at)

#: one row per answered survey question (a multi-question survey has several)
survey_answers = Table(
    "survey_answers", metadata,
    Column("call_id", String(128), primary_key=True),
    Column("question", String(64), primary_key=True),
    Column("answer", String(8), nullable=False),
    Column("queue", String(64), nullable=False, server_default=""),
    Column("agent", String(64), nullable=False, server_default=""),
    Column("answered_at", Float, nullable=False),
)
Index("survey_answers_answered", survey_answers.c.answered_at)

#: an agent's state changes: the state holds from `at` until the agent's next row
agent_events = Table(
    "agent_events", metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("agent", String(64), nullable=False),
    #: logged-out | available | ringing | on-call | wrap-up | paused (AgentState values)
    Column("state", String(16), nullable=False),
    Column("reason", String(64), nullable=False, server_default=""),
    Column("at", Float, nullable=False),
)
Index("agent_events_agent_at", agent_events.c.agent, agent_events.c.at, agent_events.c.state,
      unique=True)
Index("agent_events_at", agent_events.c.at)
#: schema version 3: each queue a call left for another (an overflow: an exit to a flow
#: that queued it elsewhere, or a transfer to a queue), from `calls.queues`: every queue
#: but the last, where the call ended. Kept by the writer with the call's row; the queue
#: report counts the call as offered and "overflowed out" in each of them.
queue_departures = Table(
    "queue_departures", metadata,
    Column("call_id", String(128), primary_key=True),
    Column("position", Integer, primary_key=True),       # 0: the first queue
    Column("queue", String(64), nullable=False),
)

#: A queue report's roll-up is kept per 15 minutes of UTC time; every zone's UTC offset
#: is a whole number of 15 minutes, so a local 15-minute slot, hour or day is made of
#: whole slots
SLOT_SECONDS = 900
#: waits (s) at which the roll-up counts answered calls "answered within": a queue's
#: service-level threshold on one of them is read from the roll-up alone; another is
#: completed from the calls that waited between the edge below it and it
ANSWERED_WAIT_EDGES = (5, 10, 15, 20, 25, 30, 40, 45, 60, 90, 120, 180, 300)
#: waits (s) at which it counts abandoned calls: for the short-abandon threshold
ABANDONED_WAIT_EDGES = (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 60)


def answered_under(edge: int) -> str:
    """The roll-up column of calls answered after waiting less than `edge` seconds."""
    return f"answered_under_{edge}"


def abandoned_under(edge: int) -> str:
    """The roll-up column of calls abandoned after waiting less than `edge` seconds."""
    return f"abandoned_under_{edge}"


#: schema version 3: per queue and 15-minute slot (calls.queue, by arrival), the sums of
#: the queue report that do not depend on a threshold, and the counts by wait above.
#: The history writer recomputes a slot from the calls' rows in the transaction that
#: writes them (acd.history.rollup), so it is always what the rows say, whatever was
#: re-applied or amended; a month is ~13,000 rows instead of a million.
queue_slots = Table(
    "queue_slots", metadata,
    Column("slot_start", BigInteger, primary_key=True),   # epoch seconds, a multiple of 900
    Column("queue", String(64), primary_key=True),
    Column("offered", Integer, nullable=False),
    Column("answered", Integer, nullable=False),
    #: calls not answered whose outcome is "abandoned", short ones included
    Column("abandoned_all", Integer, nullable=False),
    Column("exited", Integer, nullable=False),
    Column("answered_wait_seconds", Float, nullable=False),
    Column("longest_wait", Float, nullable=False),
    Column("talk_seconds", Float, nullable=False),
    Column("hold_seconds", Float, nullable=False),
    Column("wrap_up_seconds", Float, nullable=False),
    Column("callbacks_requested", Integer, nullable=False),
    Column("callbacks_completed", Integer, nullable=False),
    Column("transfers", Integer, nullable=False),
    #: calls that left this queue for another (queue_departures); `offered` counts them
    Column("overflowed_out", Integer, nullable=False),
    *(Column(answered_under(e), Integer, nullable=False) for e in ANSWERED_WAIT_EDGES),
    *(Column(abandoned_under(e), Integer, nullable=False) for e in ABANDONED_WAIT_EDGES),
)

#: ring results that are not the agent's doing: the caller left, or acd stopped the ring
#: because another agent answered (the agent report's missed rings are the others)
NOT_MISSED = ("answered", "stopped", "caller-gone")

#: ringing times (s) at which the agents' roll-up counts answered rings "answered within"
#: (ringing <= edge): the answer-within threshold (about three rings, 15 s by default)
#: on one of them is read from the roll-up alone; another is completed from the rings
#: that rang between the edge below it and it
RING_ANSWER_EDGES = (5, 10, 15, 20, 25, 30, 45, 60)


def rings_answered_within(edge: int) -> str:
    """The agents' roll-up column of rings answered after ringing at most `edge` s."""
    return f"rings_answered_within_{edge}"


#: schema version 4: per agent and 15-minute slot, the agent report's sums: the calls the
#: agent answered (by the call's arrival, as the report buckets them) and the rings (by
#: the ring's start). Kept like queue_slots, by the history writer in the transaction
#: that writes the rows (acd.history.agent_rollup); a month of 150 agents is ~250,000
#: rows instead of a million calls and 1.2 million rings.
agent_slots = Table(
    "agent_slots", metadata,
    Column("slot_start", BigInteger, primary_key=True),   # epoch seconds, a multiple of 900
    Column("agent", String(64), primary_key=True),
    Column("answered", Integer, nullable=False),
    Column("talk_seconds", Float, nullable=False),
    Column("hold_seconds", Float, nullable=False),
    Column("wrap_up_seconds", Float, nullable=False),
    Column("transfers", Integer, nullable=False),
    Column("rings", Integer, nullable=False),
    Column("rings_answered", Integer, nullable=False),
    Column("missed_rings", Integer, nullable=False),
    Column("ring_answer_seconds", Float, nullable=False),
    *(Column(rings_answered_within(e), Integer, nullable=False) for e in RING_ANSWER_EDGES),
)
#: one agent's report reads its own slots, not every agent's of the range
Index("agent_slots_agent", agent_slots.c.agent, agent_slots.c.slot_start)
