"""What a call tells integrators, at the one place each fact enters the session.

Each function emits one `TellIntegrators` order with the event's data in acd's words
(acd.integration.events names the types). The data holds the caller's number and the
IVR's values unmasked: the event feed masks them per consumer (a webhook's
`full_numbers`, a WebSocket user's role), never here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from acd.callflow import orders as o
from acd.core.commands import RingTarget

if TYPE_CHECKING:
    from acd.callflow.session import CallSession


def _tell(s: CallSession, kind: str, agent_id: str, data: dict[str, object]) -> None:
    s.emit(o.TellIntegrators(kind, s.record.call_id, agent_id, s.now, data))


def offered(s: CallSession, queue: str, targets: Sequence[RingTarget]) -> None:
    """An agent's phone rings for the call (one event per agent rung): what a screen pop
    needs, the caller and what the IVR collected."""
    record = s.record
    for target in targets:
        _tell(s, "call.offered", target.agent_id, {
            "queue": queue, "device": target.device, "caller": record.caller,
            "called": record.called, "variables": dict(record.variables),
            "sensitive_variables": list(record.sensitive_variables),
            "ivr_path": list(record.ivr_path), "arrived_at": record.arrived_at,
            "vip": record.variables.get("vip") == "1"})


def overflowed(s: CallSession, from_queue: str, to_queue: str, mode: str) -> None:
    """An overflow rule handed the waiting caller on: moved to `to_queue` (`move`), or
    offered to its agents too (`also`)."""
    record = s.record
    waited = s.now - record.enqueued_at if record.enqueued_at is not None else None
    _tell(s, "call.overflowed", "", {"from_queue": from_queue, "to_queue": to_queue,
                                     "mode": mode, "waited_seconds": waited})


def answered(s: CallSession, agent_id: str, queue: str) -> None:
    record = s.record
    waited = s.now - record.enqueued_at if record.enqueued_at is not None else None
    _tell(s, "call.answered", agent_id, {"queue": queue, "waited_seconds": waited})


def hold_changed(s: CallSession, agent_id: str, held: bool, by: str) -> None:
    _tell(s, "call.held" if held else "call.resumed", agent_id,
          {"by": by, "hold_seconds": s.record.hold_seconds})


def transferred(s: CallSession, agent_id: str, kind: str, target: str) -> None:
    _tell(s, "call.transferred", agent_id, {"kind": kind, "target": target})


def survey_answered(s: CallSession, survey: str, answers: list[dict[str, object]]) -> None:
    """The caller's survey is over with at least one answer (one event for all its
    questions)."""
    if answers:
        _tell(s, "survey.answered", s.record.agent, {"survey": survey,
                                                      "answers": list(answers)})


def ended(s: CallSession) -> None:
    """The record is closed: all of it, the IVR's variables included."""
    _tell(s, "call.ended", s.record.agent, s.record.fields())
