"""The call record: one per call, written when the call ends (and as it goes)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar


@dataclass
class CallRecord:
    call_id: str
    #: the customer's number; on an agent's own call too (direction outbound)
    caller: str
    called: str
    arrived_at: float
    ended_at: float | None = None
    #: what the caller went through: rules, schedule, IVR nodes ('flow:node')
    ivr_path: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    #: variables that hold what a caller typed into a `sensitive` collect node (the
    #: number firewall masks them, and `caller`, for roles without the right)
    sensitive_variables: list[str] = field(default_factory=list)
    rule: str = ""  # the blacklist/whitelist decision that applied, if any
    #: the schedule that decided the call's way (an IVR schedule node; the last one if
    #: several) and what it said: open, closed or holiday. Left out of the stored record
    #: and the API when no schedule was consulted (a blocked caller, a flow without one)
    schedule: str = ""
    schedule_state: str = ""
    queues: list[str] = field(default_factory=list)
    enqueued_at: float | None = None
    answered_at: float | None = None
    agent: str = ""
    ring_attempts: int = 0
    #: the conversation's time off hold; the time on hold is in hold_seconds
    talk_seconds: float = 0.0
    hold_seconds: float = 0.0
    wrap_up_seconds: float = 0.0
    hung_up_by: str = ""  # caller | agent | system
    hangup_cause: str = ""
    outcome: str = ""  # answered | abandoned | blocked | voicemail | transferred | exited | ...
    #: why the outcome is what it is, when that needs saying (e.g. unknown-after-restart)
    outcome_reason: str = ""
    transfer: str = ""
    survey: str = ""  # '1' satisfied, '2' average, '3' unsatisfied, 'not-surveyed', 'no-answer'
    recording: str = ""
    #: "outbound" for an agent's own call (left out for calls to the 400 number)
    direction: str = ""
    #: what the agent filed the call under in wrap-up (config dispositions) and their note
    disposition: str = ""
    disposition_note: str = ""
    #: every agent rung, in ring order (acd.callflow.ring_log): {queue, agent, device,
    #: started_at, ended_at, result}; result '' while the phone still rings
    rings: list[dict[str, object]] = field(default_factory=list)
    #: each answered survey question: {question, answer, queue, agent, answered_at}
    survey_answers: list[dict[str, object]] = field(default_factory=list)
    #: when the caller left the queue without an agent (hung up, exit, callback chosen)
    left_queue_at: float | None = None
    #: '' (not offered) | requested | completed | failed
    callback: str = ""

    #: fields stored as JSON, and what an empty one reads as
    _JSON_FIELDS: ClassVar[dict[str, Callable[[], object]]] = {
        "ivr_path": list, "variables": dict, "queues": list, "sensitive_variables": list,
        "rings": list, "survey_answers": list}

    #: fields that are there only when known: empty, they are left out, not written empty
    _ONLY_WHEN_KNOWN: ClassVar[frozenset[str]] = frozenset({
        "schedule", "schedule_state", "direction", "disposition", "disposition_note"})

    def fields(self) -> dict[str, object]:
        """Every field by name (the schedule's only when one was consulted); lists and
        mappings copied (a snapshot, not a view)."""
        return {name: (list(value) if isinstance(value, list) else
                       dict(value) if isinstance(value, dict) else value)
                for name, value in vars(self).items()
                if value or name not in self._ONLY_WHEN_KNOWN}

    @classmethod
    def encode(cls, fields: Mapping[str, object]) -> dict[str, str]:
        """Fields (all or the changed ones) as the flat strings of a Redis hash."""
        out: dict[str, str] = {}
        for key, value in fields.items():
            if key in cls._JSON_FIELDS:
                out[key] = json.dumps(value, ensure_ascii=False)
            elif value is None:
                out[key] = ""
            else:
                out[key] = str(value)
        return out

    def to_hash(self) -> dict[str, str]:
        """The whole record as the flat strings of a Redis hash."""
        return self.encode(self.fields())

    @classmethod
    def from_hash(cls, data: dict[str, str]) -> CallRecord:
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            raw = data[f.name]
            if f.name in cls._JSON_FIELDS:
                kwargs[f.name] = json.loads(raw) if raw else cls._JSON_FIELDS[f.name]()
            elif f.type in ("float | None",):
                kwargs[f.name] = float(raw) if raw else None
            elif f.type == "float":
                kwargs[f.name] = float(raw or 0)
            elif f.type == "int":
                kwargs[f.name] = int(raw or 0)
            else:
                kwargs[f.name] = raw
        kwargs.setdefault("ivr_path", [])
        kwargs.setdefault("variables", {})
        kwargs.setdefault("queues", [])
        kwargs.setdefault("sensitive_variables", [])
        kwargs.setdefault("rings", [])
        kwargs.setdefault("survey_answers", [])
        return cls(**kwargs)
