"""Calls the routing core overflowed, from their sessions' records to the queue report,
on both real databases: a call moved from support to complaints and answered there is
complaints' answered call and support's overflowed-out one; an `also` overflow stays
support's unless complaints' agent answers it."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from acd.callflow import facts as f
from acd.core.model import OverflowMode
from acd.history.rows import Entry, batch_of
from acd.history.store import HistoryDatabase
from tests.protocol.test_history_rollup import ZONE, database, queue_report
from tests.unit.callflow.harness import AGENT, AGENT2, T0, Call, answered_dial, ring

__all__ = ["database"]  # the fixture: both databases

DAY = datetime.fromtimestamp(T0, ZoneInfo(ZONE)).date().isoformat()


def closed(call_id: str, overflow: f.QueueOverflowed | None, answer_in: str | None
           ) -> Entry:
    """A call waits 30 s in support, overflows (or not), is answered by support's agent
    1001 or complaints' 1002, or hangs up; its closed record as the history gets it."""
    call = Call.new()
    call.settle()
    if overflow is not None:
        call.feed(overflow, after=30)
    if answer_in is None:
        call.feed(f.CallerHungUp(), after=10)
    else:
        target = AGENT if answer_in == "support" else AGENT2
        call.feed(ring(target, queue=answer_in), after=5)
        call.settle()
        call.feed(f.CallerBridged(), after=3)
        call.feed(answered_dial(target), after=60)
        call.settle()
        call.feed(f.Collected("1"), after=3)
        call.settle()
        call.feed(f.CallerHungUp())
    call.end()
    assert call.closed == 1
    record = dataclasses.replace(call.record, call_id=call_id)
    return Entry(f"{len(call_id)}-{call_id[1:]}", {"kind": "call",
                                                   "record": json.dumps(record.to_hash())})


async def test_overflowed_calls_count_in_the_queue_they_ended_in_and_left_the_first(
        database: HistoryDatabase) -> None:
    move = f.QueueOverflowed("support", "complaints", OverflowMode.MOVE)
    also = f.QueueOverflowed("support", "complaints", OverflowMode.ALSO)
    await database.apply(batch_of([
        closed("c1", move, "complaints"),   # moved, answered by complaints' agent
        closed("c2", None, "support"),      # never overflowed
        closed("c3", also, None),           # offered to complaints too, hung up
        closed("c4", also, "complaints"),   # offered to complaints too, answered there
        closed("c5", move, None),           # moved, hung up in complaints
    ]))
    for rollup in (True, False):  # from the roll-up, and from the calls
        report = {queue: figures for (_, queue), figures in (await queue_report(
            database, rollup=rollup, start=DAY, end=DAY, interval="day")).items()}
        support, complaints = report["support"], report["complaints"]
        assert (support["offered"], support["overflowed_out"], support["answered"],
                support["abandoned"]) == (5, 3, 1, 1)
        assert (complaints["offered"], complaints["overflowed_out"], complaints["answered"],
                complaints["abandoned"]) == (3, 0, 2, 1)
        assert complaints["talk_seconds"] == 120.0 and support["talk_seconds"] == 60.0
