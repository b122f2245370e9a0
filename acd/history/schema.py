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
