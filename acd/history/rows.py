"""History entries (a closed call record, an agent's state change) as the rows of the
history's tables (acd.history.schema). Pure: no database, no Redis.

A batch keeps one version of each row, the latest entry's: a record closed then
amended in the same batch is written once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from acd.callflow.record import CallRecord

log = logging.getLogger(__name__)

Row = dict[str, Any]

#: ring results the table knows (acd.callflow.ring_log); anything else reads as failed
RING_RESULTS = frozenset({"answered", "no-answer", "busy", "rejected", "failed", "stopped",
                          "caller-gone"})


@dataclass(frozen=True)
class Entry:
    """One entry of the history stream: its id (`ms-seq`) and its fields."""

    id: str
    fields: Mapping[str, str]

    @property
    def order(self) -> int:
        """The entry's place in the stream as one number (later entries: larger)."""
        ms, _, seq = self.id.partition("-")
        return int(ms) * 10_000 + int(seq or 0)


@dataclass
class Batch:
    """The rows of a batch of entries, one version of each row."""

    calls: dict[str, Row] = field(default_factory=dict)
    ring_attempts: dict[tuple[str, int], Row] = field(default_factory=dict)
    survey_answers: dict[tuple[str, str], Row] = field(default_factory=dict)
    agent_events: dict[tuple[str, float, str], Row] = field(default_factory=dict)
    #: entries that could not be read (logged): acknowledged, never retried
    unreadable: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.calls or self.agent_events)


def batch_of(entries: Iterable[Entry]) -> Batch:
    batch = Batch()
    for entry in sorted(entries, key=lambda e: e.order):
        try:
            kind = entry.fields.get("kind")
            if kind == "call":
                _add_call(batch, json.loads(entry.fields["record"]), entry.order)
            elif kind == "agent":
                _add_agent_event(batch, entry.fields)
            else:
                raise ValueError(f"unknown kind {kind!r}")
        except (KeyError, TypeError, ValueError) as exc:
            log.error("history entry %s skipped: it cannot be read (%s)", entry.id, exc)
            batch.unreadable.append(entry.id)
    return batch


def _add_call(batch: Batch, stored: dict[str, str], revision: int) -> None:
    if not isinstance(stored, dict) or not stored.get("call_id") or \
            not stored.get("arrived_at"):
        raise ValueError("not a whole call record")
    record = CallRecord.from_hash(stored)
    row = call_row(record, revision)
    batch.calls[record.call_id] = row
    for row in ring_rows(record):
        batch.ring_attempts[(row["call_id"], row["attempt"])] = row
    for row in survey_rows(record):
        batch.survey_answers[(row["call_id"], row["question"])] = row


def _add_agent_event(batch: Batch, fields: Mapping[str, str]) -> None:
    agent, state, at = fields["agent"], fields["state"], float(fields["at"])
    if not agent or not state:
        raise ValueError("an agent event without agent or state")
    batch.agent_events[(agent, at, state)] = {"agent": agent, "state": state,
                                              "reason": fields.get("reason", ""), "at": at}


def wait_seconds(record: CallRecord) -> float | None:
    """Seconds in queue until answered or until the caller left it; None if never
    queued."""
    if record.enqueued_at is None:
        return None
    until = record.answered_at or record.left_queue_at or record.ended_at
    if until is None:
        return None
    return round(max(0.0, until - record.enqueued_at), 3)


def call_row(record: CallRecord, revision: int) -> Row:
    r = record
    return {
        "call_id": r.call_id, "caller": r.caller, "called": r.called,
        "arrived_at": r.arrived_at, "ended_at": r.ended_at,
        "queue": r.queues[-1] if r.queues else "",
        "queues": json.dumps(r.queues, ensure_ascii=False),
        "enqueued_at": r.enqueued_at, "answered_at": r.answered_at, "agent": r.agent,
        "wait_seconds": wait_seconds(r), "ring_attempts": r.ring_attempts,
        "talk_seconds": r.talk_seconds, "hold_seconds": r.hold_seconds,
        "wrap_up_seconds": r.wrap_up_seconds, "hung_up_by": r.hung_up_by,
        "hangup_cause": r.hangup_cause, "outcome": r.outcome,
        "outcome_reason": r.outcome_reason, "transfer": r.transfer, "callback": r.callback,
        # the first question's answer: a multi-question survey's record says "1,2,3"
        "survey": r.survey.split(",")[0], "rule": r.rule, "schedule": r.schedule,
        "schedule_state": r.schedule_state,
        "ivr_path": json.dumps(r.ivr_path, ensure_ascii=False),
        "variables": json.dumps(r.variables, ensure_ascii=False),
        "sensitive_variables": json.dumps(r.sensitive_variables, ensure_ascii=False),
        "recording": r.recording, "revision": revision, "direction": r.direction,
        "disposition": r.disposition, "disposition_note": r.disposition_note,
    }


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def ring_rows(record: CallRecord) -> list[Row]:
    rows = []
    for attempt, ring in enumerate(record.rings, start=1):
        started = _number(ring.get("started_at"))
        result = str(ring.get("result") or "")
        rows.append({
            "call_id": record.call_id, "attempt": attempt, "queue": str(ring.get("queue", "")),
            "agent": str(ring.get("agent", "")), "device": str(ring.get("device", "")),
            "started_at": started if started is not None else record.arrived_at,
            "ended_at": _number(ring.get("ended_at")),
            "result": result if result in RING_RESULTS else "failed"})
    return rows


def survey_rows(record: CallRecord) -> list[Row]:
    return [{"call_id": record.call_id, "question": str(answer.get("question", "")),
             "answer": str(answer.get("answer", ""))[:8],
             "queue": str(answer.get("queue", "")), "agent": str(answer.get("agent", "")),
             "answered_at": _number(answer.get("answered_at")) or record.ended_at
             or record.arrived_at}
            for answer in record.survey_answers if answer.get("question")]
