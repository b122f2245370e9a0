"""What a call's session needs to know of the configuration, fixed when the call starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

from acd.callflow.survey import SurveyConfig
from acd.config.routing import QueueTelephony, transfer_codes
from acd.ivr.model import FlowSet


@dataclass(frozen=True)
class RecordingPlan:
    """Where MixMonitor writes a call's recording: <root>/YYYY/MM/DD/<call-id>.wav."""

    root: str
    timezone: str = "Asia/Shanghai"

    def path_for(self, call_id: str, started: float) -> str:
        day = datetime.fromtimestamp(started, ZoneInfo(self.timezone))
        safe_id = "".join(c for c in call_id if c.isascii() and (c.isalnum() or c in ".-_"))
        return str(PurePosixPath(self.root) / f"{day:%Y/%m/%d}" / f"{safe_id}.wav")


@dataclass(frozen=True)
class CallSettings:
    """The configuration one call runs on (a reload applies to the next call)."""

    #: the entry flow and language of each dialled number (DID)
    numbers: Mapping[str, tuple[str, str]]
    flows: FlowSet
    languages: tuple[str, ...] = ("zh", "en")
    surveys: Mapping[str, SurveyConfig] = field(default_factory=dict)
    #: each queue's call-path settings (transfer code, whisper, 报工号)
    telephony: Mapping[str, QueueTelephony] = field(default_factory=dict)
    #: None: calls are not recorded
    recordings: RecordingPlan | None = None
    #: whether the caller lists are consulted
    caller_lists: bool = True
    #: the key a waiting caller presses to be called back
    callback_key: str = "*"
    #: how long an outside number or extension rings when the caller is put through
    put_through_seconds: int = 60

    def entry(self, called: str) -> tuple[str, str]:
        """(flow, language) for a dialled number; the main flow in the first language."""
        return self.numbers.get(called, ("main", self.languages[0]))

    def survey(self, queue: str) -> SurveyConfig:
        return self.surveys.get(queue, SurveyConfig())

    def queue_telephony(self, queue: str) -> QueueTelephony:
        return self.telephony.get(queue, QueueTelephony())

    def transfer_target(self, number: str) -> tuple[str, str]:
        """What a number an agent's phone transferred to means: a queue's code or a
        number to put the caller through to."""
        queue = transfer_codes(dict(self.telephony)).get(number)
        return ("queue", queue) if queue else ("extension", number)
