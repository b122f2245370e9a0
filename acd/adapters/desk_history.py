"""What the agent's desk reads from the call history (SQL, acd.history's tables): a
caller's previous calls and the survey split of an agent's calls today.

Both are narrow reads on indexed columns (calls_caller_arrived, calls_agent_arrived), so
a screen pop costs one short query however large the history is. The history is fed
from Redis by its writer: a call that ended a moment ago may not be here yet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.history.schema import calls

#: earlier calls a screen pop lists at most
MAX_PREVIOUS = 20


class DeskHistory:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def previous_calls(self, caller: str, *, but: str,
                             limit: int = MAX_PREVIOUS) -> list[dict[str, Any]]:
        """The caller's calls, newest first, without the call `but` (the one ringing)."""
        query = (select(calls.c.call_id, calls.c.arrived_at, calls.c.agent, calls.c.queue,
                        calls.c.outcome, calls.c.direction, calls.c.talk_seconds,
                        calls.c.survey, calls.c.disposition, calls.c.disposition_note)
                 .where(calls.c.caller == caller, calls.c.call_id != but)
                 .order_by(calls.c.arrived_at.desc()).limit(limit))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [dict(row) for row in rows]

    async def survey_split(self, agent_id: str, since: float) -> dict[str, int]:
        """How many of the agent's calls since `since` got each survey value."""
        query = (select(calls.c.survey, func.count())
                 .where(calls.c.agent == agent_id, calls.c.arrived_at >= since)
                 .group_by(calls.c.survey))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {str(survey): int(count) for survey, count in rows}
