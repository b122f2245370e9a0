"""The IVR: flows written in YAML, their validator and a pure interpreter."""

from acd.ivr.actions import (
    CallerHangup,
    Hangup,
    Outcome,
    QueueHandoff,
    Transferred,
    Voicemail,
)
from acd.ivr.interpreter import Interpreter
from acd.ivr.lookup import LookupRequest, LookupResult, LookupStatus
from acd.ivr.model import FlowSet, NodeId, UnknownFlow, resolve_entry
from acd.ivr.registry import FlowErrors, FlowRegistry, build_flowset, read_flow_files
from acd.ivr.schedule import FixedScheduleOracle, ScheduleDecision, ScheduleOracle

__all__ = [
    "CallerHangup",
    "FixedScheduleOracle",
    "FlowErrors",
    "FlowRegistry",
    "FlowSet",
    "Hangup",
    "Interpreter",
    "LookupRequest",
    "LookupResult",
    "LookupStatus",
    "NodeId",
    "Outcome",
    "QueueHandoff",
    "ScheduleDecision",
    "ScheduleOracle",
    "Transferred",
    "UnknownFlow",
    "Voicemail",
    "build_flowset",
    "read_flow_files",
    "resolve_entry",
]
