"""The agent's desk as data (pure): who may ask about a call, the caller's previous calls
as the asking role may see them, and an agent's own figures of the day.

The desk page (acd/console/static/desk.html) pops a call's data when the agent's phone
rings; the caller's earlier calls come with it. An agent asks only about a call they
were offered (rung for, talking on, or that reached them earlier); the number itself
never appears in what an agent reads: each earlier call is named by its call id, which
is also what the page's click-to-call sends (POST /api/outbound {"call_id": ...}).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from acd.core.stats import AgentStatsRecord
from acd.privacy import mask_numbers_in

#: the survey answers a split counts (1 satisfied, 2 average, 3 unsatisfied)
SURVEY_ANSWERS = ("1", "2", "3")
#: the fields of a previous call the desk shows (never the caller's or called number)
PREVIOUS_CALL_FIELDS = ("call_id", "arrived_at", "agent", "queue", "outcome", "direction",
                        "talk_seconds", "survey", "disposition", "disposition_note")


def offered_to(agent_id: str, call_id: str, *, current_call: str, record_agent: str,
               rung_agents: Iterable[str]) -> bool:
    """Whether the call was offered to this agent: it rings them or they are on it now
    (the routing core's view), they answered it, or one of its rings was theirs."""
    if not agent_id or not call_id:
        return False
    return current_call == call_id or record_agent == agent_id or agent_id in rung_agents


def rung_agents(rings: Iterable[Mapping[str, object]]) -> set[str]:
    """The agents a call record's `rings` entries name."""
    return {str(ring.get("agent", "")) for ring in rings if ring.get("agent")}


def previous_call(row: Mapping[str, object], sees_numbers: bool) -> dict[str, Any]:
    """One earlier call of the caller as the desk lists it: the note's numbers masked for
    a role without the right to see them (an agent may have typed the number there)."""
    out = {name: row.get(name, "") for name in PREVIOUS_CALL_FIELDS}
    note = out["disposition_note"]
    if not sees_numbers and isinstance(note, str):
        out["disposition_note"] = mask_numbers_in(note)
    return out


def today_figures(stats: AgentStatsRecord,
                  surveys: Mapping[str, int] | None) -> dict[str, Any]:
    """Calls answered, talk time and average handle time (talk and wrap-up per answered
    call, as the wallboard's AHT) from the routing core's statistics of the day, and the
    survey split of the agent's calls today (None: the history is not available)."""
    answered = stats["answered"]
    handled = stats["talk_seconds"] + stats["wrap_up_seconds"]
    return {
        "answered": answered,
        "talk_seconds": round(stats["talk_seconds"], 1),
        "aht_seconds": round(handled / answered, 1) if answered else None,
        "survey": None if surveys is None else {a: int(surveys.get(a, 0))
                                                 for a in SURVEY_ANSWERS},
    }


def day_start(now: float, timezone: str) -> float:
    """Epoch seconds of the local midnight that began the day of `now` (the routing core's
    statistics day, acd.core.periods.daily)."""
    local = datetime.fromtimestamp(now, ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
