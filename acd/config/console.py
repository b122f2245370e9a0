"""The `console:` section: the supervisors' live wallboard (acd/console, /console/)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from acd.console.wallboard import Thresholds
from acd.core.model import QueueConfig
from acd.yamlsource import LocatedDict, SourceError


@dataclass(frozen=True)
class ConsoleConfig:
    #: a pause longer than this is coloured on the wallboard (0: never)
    pause_alert_seconds: float = 900.0
    #: per pause reason, instead of pause_alert_seconds (e.g. lunch: 3600)
    pause_alert_by_reason: dict[str, float] = field(default_factory=dict)
    #: a change reaches the pages at most this often (milliseconds); bursts are coalesced
    flush_ms: int = 200
    #: the audit log (supervisors' actions, recordings played) keeps this many days...
    audit_retention_days: float = 180.0
    #: ...and at most this many entries
    audit_max_entries: int = 200_000
    #: an agent user may find and replay their own calls' recordings (the console's
    #: recordings page); supervisors and admins always may
    agents_replay_own: bool = False
    #: earlier versions of a flow kept when the flow editor saves (var/flow-versions/)
    flow_versions_kept: int = 20
    #: where they are kept, a folder per flow (relative to config.yaml's folder)
    flow_versions_dir: str = "var/flow-versions"

    def problems(self) -> list[tuple[str, str]]:
        """(key, what is wrong) for each value the wallboard cannot run on."""
        found: list[tuple[str, str]] = []
        if not (math.isfinite(self.pause_alert_seconds) and self.pause_alert_seconds >= 0):
            found.append(("pause_alert_seconds", "must be seconds, 0 (never) or more"))
        for reason, seconds in self.pause_alert_by_reason.items():
            if not (math.isfinite(seconds) and seconds >= 0):
                found.append(("pause_alert_by_reason",
                              f"{reason}: must be seconds, 0 (never) or more"))
        if not (math.isfinite(self.audit_retention_days) and self.audit_retention_days > 0):
            found.append(("audit_retention_days", "must be more than 0 days"))
        if self.audit_max_entries < 1:
            found.append(("audit_max_entries", "must be 1 or more"))
        if not 1 <= self.flow_versions_kept <= 1000:
            found.append(("flow_versions_kept", "must be 1 to 1000"))
        if not 20 <= self.flush_ms <= 1000:
            found.append(("flush_ms", "must be 20 to 1000 (a change shows within 1 s)"))
        return found


def check_console(config: ConsoleConfig, root: Any, errors: list[SourceError]) -> None:
    """The `console:` values acd cannot run on, each at its file:line."""
    node = root.get("console") if isinstance(root, LocatedDict) else None
    for key, message in config.problems():
        pos = node.pos(key) if isinstance(node, LocatedDict) and key in node else \
            (root.pos() if isinstance(root, LocatedDict) else None)
        errors.append(SourceError(pos, f"console.{key}: {message}"))


def thresholds(config: ConsoleConfig, queues: Iterable[QueueConfig]) -> Thresholds:
    """What the wallboard colours, from the console section and the queues' service-level
    times."""
    return Thresholds(pause_alert_seconds=config.pause_alert_seconds,
                      pause_alert_by_reason=dict(config.pause_alert_by_reason),
                      service_level_seconds={q.name: q.service_level_seconds for q in queues})
