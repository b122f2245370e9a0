"""A generated month of history rows (calls, rings, survey answers, agent states), seeded.

Realistic enough to exercise every report figure: several queues and agents,
answered, abandoned, short-abandoned, exited and never-queued calls, callbacks,
transfers, rings nobody answered, two-question surveys, and agents who log in,
pause for reasons and log out (some across midnight, some before the month began).
The tests' cross-check and bench/bench_reports.py both use it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

QUEUES = ("sales", "support", "vip")
AGENTS = tuple(str(n) for n in range(1001, 1013))
PAUSE_REASONS = ("lunch", "training", "")


@dataclass
class Month:
    calls: list[dict[str, object]] = field(default_factory=list)
    rings: list[dict[str, object]] = field(default_factory=list)
    surveys: list[dict[str, object]] = field(default_factory=list)
    events: list[dict[str, object]] = field(default_factory=list)


def _days(first: date, days: int) -> Iterator[date]:
    for n in range(days):
        yield first + timedelta(days=n)


def generate(first: date, days: int, calls_per_day: int, zone: str, seed: int = 12,
             agent_events: bool = True, queues: tuple[str, ...] = QUEUES,
             agents: tuple[str, ...] = AGENTS, prefix: str = "c") -> Month:
    """`days` from `first`: calls_per_day calls a day (+2 on bucket boundaries); agents'
    states from the day before `first` (a shift that runs into the range)."""
    rng = random.Random(seed)
    tz = ZoneInfo(zone)
    month = Month()
    number = 0
    for day in _days(first, days):
        opening = datetime(day.year, day.month, day.day, 8, tzinfo=tz).timestamp()
        closing = datetime(day.year, day.month, day.day, 22, tzinfo=tz).timestamp()
        for _ in range(calls_per_day):
            number += 1
            _call(rng, month, f"{prefix}{number}", rng.uniform(opening, closing), queues,
                  agents)
        # a few calls exactly on bucket boundaries (10:15:00, 11:00:00 local)
        for hour, minute in ((10, 15), (11, 0)):
            number += 1
            moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
            _call(rng, month, f"{prefix}{number}", moment.timestamp(), queues, agents)
    if agent_events:
        for agent in agents:
            _shifts(rng, month, agent, first - timedelta(days=1), days + 1, tz)
    return month


def _call(rng: random.Random, month: Month, call_id: str, arrived: float,
          queues: tuple[str, ...], agents: tuple[str, ...]) -> None:
    queue = rng.choice(queues)
    kind = rng.choices(["answered", "abandoned", "exited", "callback", "not-queued",
                        "outbound"], weights=[70, 17, 4, 4, 5, 3])[0]
    enqueued = arrived + rng.uniform(3, 30)
    row: dict[str, object] = {
        "call_id": call_id, "caller": f"1380013{rng.randrange(10000):04d}",
        "called": "4008001234", "arrived_at": arrived, "queue": queue,
        "queues": f'["{queue}"]', "enqueued_at": enqueued, "outcome": kind,
        "hung_up_by": "caller"}
    if kind == "outbound":  # an agent's own call: neither offered nor answered for reports
        agent = rng.choice(agents)
        row.update(queue=rng.choice(["", queue]), direction="outbound", agent=agent,
                   answered_at=arrived + 10, talk_seconds=rng.uniform(30, 300),
                   outcome="answered", ended_at=arrived + 200, enqueued_at=None)
        month.calls.append(row)
        return
    if kind == "not-queued":
        row.update(queue="", queues="[]", enqueued_at=None, outcome="ivr-hangup",
                   ended_at=arrived + 20)
        month.calls.append(row)
        return
    wait = rng.choice([rng.uniform(0, 8), rng.uniform(0, 90), rng.uniform(0, 25)])
    row["wait_seconds"] = wait
    attempt, ring_at = 0, enqueued + rng.uniform(0, 2)
    agent = rng.choice(agents)
    if kind == "answered":
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
            attempt += 1
            other = rng.choice(agents)
            result = rng.choices(["no-answer", "busy", "rejected", "failed"],
                                 weights=[80, 8, 8, 4])[0]
            month.rings.append(_ring(call_id, attempt, queue, other, ring_at,
                                     ring_at + rng.uniform(1, 20), result))
            ring_at += 20
        attempt += 1
        answered = enqueued + wait
        month.rings.append(_ring(call_id, attempt, queue, agent,
                                 answered - rng.choice([rng.uniform(1, 14), rng.uniform(1, 30)]),
                                 answered, "answered"))
        talk = rng.uniform(20, 600)
        hold = rng.choice([0.0, 0.0, rng.uniform(5, 120)])
        wrap = rng.uniform(0, 30)
        row.update(answered_at=answered, agent=agent, talk_seconds=talk, hold_seconds=hold,
                   wrap_up_seconds=wrap, ended_at=answered + talk + hold,
                   hung_up_by=rng.choice(["caller", "agent"]))
        if rng.random() < 0.06:
            row.update(outcome="transferred",
                       transfer=rng.choice(["queue:support", "8001", "=cmd|' /C calc'!A0"]))
        _survey(rng, month, row)
    else:
        if rng.random() < 0.3:  # rung, but the caller left or another agent got it
            attempt += 1
            month.rings.append(_ring(call_id, attempt, queue, agent, ring_at, ring_at + 5,
                                     rng.choice(["caller-gone", "stopped", "no-answer"])))
        row["ended_at"] = enqueued + wait
        if kind == "exited":
            row["outcome"] = rng.choice(["exited:timeout", "exited:full"])
        elif kind == "callback":
            row.update(outcome="callback-requested",
                       callback=rng.choice(["requested", "completed", "completed", "failed",
                                            "cancelled"]))
    row["ring_attempts"] = attempt
    if len(month.calls) % 23 == 5:  # overflowed: waited in another queue first
        first = queues[(queues.index(queue) + 1) % len(queues)]
        row["queues"] = f'["{first}", "{queue}"]'
    month.calls.append(row)


def _ring(call_id: str, attempt: int, queue: str, agent: str, started: float,
          ended: float | None, result: str) -> dict[str, object]:
    return {"call_id": call_id, "attempt": attempt, "queue": queue, "agent": agent,
            "device": f"PJSIP/agent{agent}", "started_at": started, "ended_at": ended,
            "result": result}


def _survey(rng: random.Random, month: Month, call: dict[str, object]) -> None:
    taken = rng.random()
    if taken < 0.3:
        call["survey"] = "not-surveyed"
        return
    ended = float(str(call["ended_at"]))
    questions = ["service", "solved"] if taken < 0.85 else ["service"]
    answers = [rng.choices(["1", "2", "3"], weights=[70, 20, 10])[0] for _ in questions]
    call["survey"] = answers[0]
    for n, (question, answer) in enumerate(zip(questions, answers, strict=True)):
        month.surveys.append({"call_id": call["call_id"], "question": question,
                              "answer": answer, "queue": call["queue"],
                              "agent": call["agent"], "answered_at": ended + 5 + 4 * n})


def _shifts(rng: random.Random, month: Month, agent: str, first: date, days: int,
            tz: ZoneInfo) -> None:
    for day in _days(first, days):
        if rng.random() < 0.15:
            continue  # a day off
        start_hour = rng.choice([8, 9, 13, 20])  # 20: a night shift past midnight
        moment = datetime(day.year, day.month, day.day, start_hour, tzinfo=tz).timestamp()
        moment += rng.uniform(-600, 600)
        end = moment + rng.uniform(7, 9) * 3600
        state, reason = "available", ""
        while moment < end:
            month.events.append({"agent": agent, "state": state, "reason": reason,
                                 "at": moment})
            moment += rng.uniform(5, 900)
            state, reason = _next_state(rng, state)
        month.events.append({"agent": agent, "state": "logged-out", "reason": "",
                             "at": moment})


def _next_state(rng: random.Random, state: str) -> tuple[str, str]:
    if state == "available":
        if rng.random() < 0.1:
            return "paused", rng.choice(PAUSE_REASONS)
        return "ringing", ""
    follows = {"ringing": "on-call", "on-call": "wrap-up", "wrap-up": "available",
               "paused": "available"}
    if state == "ringing" and rng.random() < 0.2:
        return "available", ""  # missed
    return follows[state], ""


async def insert(engine: AsyncEngine, month: Month, batch: int = 5000) -> None:
    """The month's rows into the history tables (which must exist), and the queue and
    agent reports' roll-ups recomputed for them, as the history writer keeps them."""
    from acd.history import agent_rollup, rollup
    from acd.history.schema import agent_events, calls, ring_attempts, survey_answers

    columns = [c.name for c in calls.columns]
    async with engine.begin() as conn:
        for table, rows in ((calls, month.calls), (ring_attempts, month.rings),
                            (survey_answers, month.surveys), (agent_events, month.events)):
            names = columns if table is calls else None
            for index in range(0, len(rows), batch):
                chunk = rows[index:index + batch]
                if names:  # every row with every column, so one statement fits them all
                    chunk = [{n: r.get(n, _CALL_DEFAULTS.get(n)) for n in names}
                             for r in chunk]
                await conn.execute(table.insert(), chunk)
        if month.calls:
            arrived = [float(str(c["arrived_at"])) for c in month.calls]
            await rollup.rebuild(conn, min(arrived), max(arrived) + rollup.SLOT_SECONDS)
        moments = [float(str(c["arrived_at"])) for c in month.calls] + [
            float(str(r["started_at"])) for r in month.rings]
        if moments:  # the agents' roll-up too
            await agent_rollup.rebuild(conn, min(moments), max(moments) + rollup.SLOT_SECONDS)


_CALL_DEFAULTS: dict[str, object] = {
    "caller": "", "called": "", "ended_at": None, "enqueued_at": None, "answered_at": None,
    "agent": "",
    "wait_seconds": None, "ring_attempts": 0, "talk_seconds": 0.0, "hold_seconds": 0.0,
    "wrap_up_seconds": 0.0, "hung_up_by": "", "hangup_cause": "", "outcome": "",
    "outcome_reason": "", "transfer": "", "callback": "", "survey": "", "rule": "",
    "schedule": "", "schedule_state": "", "ivr_path": "[]", "variables": "{}",
    "sensitive_variables": "[]", "recording": "", "queues": "[]", "revision": 0,
    "direction": "", "disposition": "", "disposition_note": ""}
