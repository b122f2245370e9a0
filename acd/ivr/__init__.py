"""The IVR: flows written in YAML, their validator, a pure interpreter and its async runner."""

from acd.ivr.actions import (
    CallerHangup,
    Hangup,
    Outcome,
    QueueHandoff,
    Transferred,
    Voicemail,
)
from acd.ivr.interpreter import Interpreter
from acd.ivr.lookup import HttpLookupClient, LookupClient, LookupRequest, LookupResult
from acd.ivr.model import FlowSet, NodeId, UnknownFlow
from acd.ivr.registry import FlowErrors, FlowRegistry, build_flowset, read_flow_files
from acd.ivr.runner import (
    AnnouncementProvider,
    FlowResult,
    PromptResolver,
    resolve_entry,
    run_flow,
)
from acd.ivr.schedule import FixedScheduleOracle, ScheduleDecision, ScheduleOracle

__all__ = [
    "AnnouncementProvider",
    "CallerHangup",
    "FixedScheduleOracle",
    "FlowErrors",
    "FlowRegistry",
    "FlowResult",
    "FlowSet",
    "Hangup",
    "HttpLookupClient",
    "Interpreter",
    "LookupClient",
    "LookupRequest",
    "LookupResult",
    "NodeId",
    "Outcome",
    "PromptResolver",
    "QueueHandoff",
    "ScheduleDecision",
    "ScheduleOracle",
    "Transferred",
    "UnknownFlow",
    "Voicemail",
    "build_flowset",
    "read_flow_files",
    "resolve_entry",
    "run_flow",
]
