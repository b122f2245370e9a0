"""The IVR: flows written in YAML, their validator and a pure interpreter.

Pure: no asyncio, aiohttp or Asterisk here. The call's session drives the
interpreter (acd.callflow.arrival); the flows folder is read and reloaded by
acd.adapters.flows, and lookups are asked over HTTP by acd.adapters.http.lookup.
"""

from acd.ivr.actions import (
    CallerHangup,
    Hangup,
    Outcome,
    QueueHandoff,
    Transferred,
    Voicemail,
)
from acd.ivr.checks import PromptRecordings
from acd.ivr.flowset import FlowErrors, build_flowset, speech_to_prepare
from acd.ivr.interpreter import Interpreter
from acd.ivr.lookup import LookupRequest, LookupResult, LookupStatus
from acd.ivr.model import FlowSet, NodeId, UnknownFlow, resolve_entry
from acd.ivr.schedule import FixedScheduleOracle, ScheduleDecision, ScheduleOracle

__all__ = [
    "CallerHangup",
    "FixedScheduleOracle",
    "FlowErrors",
    "FlowSet",
    "Hangup",
    "Interpreter",
    "LookupRequest",
    "LookupResult",
    "LookupStatus",
    "NodeId",
    "Outcome",
    "PromptRecordings",
    "QueueHandoff",
    "ScheduleDecision",
    "ScheduleOracle",
    "Transferred",
    "UnknownFlow",
    "Voicemail",
    "build_flowset",
    "resolve_entry",
    "speech_to_prepare",
]
