"""Benchmark: the history writer keeps up with closed calls, on SQLite and PostgreSQL.

One process plays acd: it closes --rate calls a second (default 120) for --seconds
(default 60) through the real CallStore (Redis: open, the answer's checkpoint, the
close with two ring attempts and a survey answer, and the wrap-up's amendment a
moment later), and records four agent state changes per call (ringing, on a call,
wrap-up, available) through the real AgentEventRecorder. The real HistoryWriter runs
in the same process and event loop, as in `acd serve`, and drains the stream into:

- SQLite: a file in a temporary folder (WAL), as the default config;
- PostgreSQL: Debian's postgresql 15 in a throw-away cluster (tests/pg_process.py).

Printed per database: calls closed and applied per second, entries applied, the
largest backlog (stream length, sampled every 0.5 s), the lag from the entry's append
(its stream id, Redis's clock) to the SQL commit (p50/p99/max), and how late a 10 ms
timer wakes in that process (what a FastAGI session on the same loop would wait).
Then what the writer pays per batch: the transactions (HistoryDatabase.apply: the rows,
the departures and both roll-ups' slots recomputed), their entries, and their time.

    python bench/bench_history.py                           # both, 60 s each
    python bench/bench_history.py --writer none,loop,thread  # where the writer runs
    python bench/bench_history.py --databases sqlite --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import asyncio_redis  # noqa: E402
from common import machine, throwaway_redis  # noqa: E402  (bench/ is the script's folder)

from acd.adapters.redis.history_stream import AgentEventRecorder, HistoryStream  # noqa: E402
from acd.adapters.redis.store import CallStore  # noqa: E402
from acd.config.history import HistoryConfig  # noqa: E402
from acd.core import commands as cmd  # noqa: E402
from acd.core.model import AgentState  # noqa: E402
from acd.history import schema  # noqa: E402
from acd.history.rows import Entry  # noqa: E402
from acd.history.service import HistoryService  # noqa: E402
from acd.history.store import HistoryDatabase  # noqa: E402
from acd.history.writer import HistoryWriter  # noqa: E402

AGENTS = [f"{1001 + n}" for n in range(20)]


@dataclass
class Result:
    database: str
    seconds: float
    closed: int
    calls_applied: int
    entries: int
    backlog_max: int
    lag: list[float]
    late: list[float]
    drain_seconds: float
    #: (seconds, entries) of each HistoryDatabase.apply
    batches: list[tuple[float, int]]


#: (seconds, entries) of every batch applied, whichever thread applied it
_applies: list[tuple[float, int]] = []


def _timed_apply() -> None:
    """HistoryDatabase.apply timed (the writer's own, in HistoryService's thread too)."""
    plain = HistoryDatabase.apply

    async def apply(self: HistoryDatabase, batch: Any) -> None:
        began = time.perf_counter()
        await plain(self, batch)
        _applies.append((time.perf_counter() - began,
                         len(batch.calls) + len(batch.agent_events)))

    HistoryDatabase.apply = apply  # type: ignore[method-assign]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def one_call(calls: CallStore, agents: AgentEventRecorder, n: int) -> None:
    now = time.time()
    call_id, agent = f"bench-{n}", AGENTS[n % len(AGENTS)]
    other = AGENTS[(n + 1) % len(AGENTS)]
    await calls.open_call(call_id, {
        "call_id": call_id, "caller": f"1380013{n % 10000:04d}", "called": "4008001234",
        "arrived_at": now - 120, "queues": ["support"], "enqueued_at": now - 115,
        "ivr_path": ["main:menu", "main:support"], "variables": {"lang": "zh"}})
    await calls.save_call(call_id, {"answered_at": now - 90, "agent": agent})
    agents.on_routing(cmd.AgentStateChanged(agent, AgentState.RINGING, "", now - 95))
    agents.on_routing(cmd.AgentStateChanged(agent, AgentState.ON_CALL, "", now - 90))
    await calls.close_call(call_id, {
        "ended_at": now, "talk_seconds": 85.0, "outcome": "answered", "hung_up_by": "agent",
        "ring_attempts": 2, "survey": "1", "hangup_cause": "Normal Clearing",
        "rings": [
            {"queue": "support", "agent": other, "device": f"PJSIP/agent{other}",
             "started_at": now - 114, "ended_at": now - 99, "result": "no-answer"},
            {"queue": "support", "agent": agent, "device": f"PJSIP/agent{agent}",
             "started_at": now - 98, "ended_at": now - 90, "result": "answered"}],
        "survey_answers": [{"question": "satisfaction", "answer": "1", "queue": "support",
                            "agent": agent, "answered_at": now - 2}]})
    agents.on_routing(cmd.AgentStateChanged(agent, AgentState.WRAP_UP, "", now - 5))
    await asyncio.sleep(0.5)  # the agent's wrap-up ends: the closed record is amended
    await calls.save_call(call_id, {"wrap_up_seconds": 10.0})
    agents.on_routing(cmd.AgentStateChanged(agent, AgentState.AVAILABLE, "", time.time()))


async def ticker(late: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(0.01)
        late.append((loop.time() - before - 0.01) * 1000)


async def sample_backlog(stream: HistoryStream, peaks: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peaks.append(await stream.backlog())
        await asyncio.sleep(0.5)


async def run(database_name: str, url: str, redis_port: int, rate: float,
              seconds: float, *, writer_mode: str = "thread", batch: int = 500,
              catch_up: bool = False) -> Result:
    """writer_mode: thread (as `acd serve`: HistoryService, the writer on a loop of its
    own), loop (the writer on the closing process's loop), none (no writer).
    catch_up: the database is away while the calls close; the writer starts after the
    last one (what it costs the loop to apply the whole backlog at once)."""
    prefix = f"bench-history-{database_name}-{writer_mode}-{time.time()}:"
    redis = await asyncio_redis.Pool.create(host="127.0.0.1", port=redis_port, poolsize=8)
    stream = HistoryStream(redis, prefix)
    calls = CallStore(redis, prefix, history_stream=stream.key, keep_closed_seconds=86400)
    database = HistoryDatabase(url)
    await database.open()
    _applies.clear()
    lag: list[float] = []
    applied = {"calls": 0, "entries": 0}

    def on_applied(entries: Sequence[Entry]) -> None:  # (in the writer's thread)
        committed = time.time()
        for entry in entries:
            lag.append(committed - int(entry.id.split("-")[0]) / 1000)
            applied["calls"] += entry.fields.get("kind") == "call"
        applied["entries"] += len(entries)

    async def connect() -> Any:
        return await asyncio_redis.Pool.create(host="127.0.0.1", port=redis_port, poolsize=2)

    service = HistoryService(HistoryConfig(batch_size=batch), url, redis, prefix, "bench",
                             connect, on_applied=on_applied)
    writer = HistoryWriter(stream, database, "bench", on_applied=on_applied, batch_size=batch)
    agents = service.agent_events

    def start_writer() -> None:
        if writer_mode == "thread":
            service.start(time.time)
        elif writer_mode == "loop":
            writer.start()

    recorder = agents.start()
    if not catch_up:
        start_writer()
    stop = asyncio.Event()
    late: list[float] = []
    peaks: list[int] = []
    tasks = [asyncio.create_task(ticker(late, stop)),
             asyncio.create_task(sample_backlog(stream, peaks, stop))]
    loop = asyncio.get_running_loop()
    start = loop.time()
    total = int(rate * seconds)
    running: set[asyncio.Task[None]] = set()
    for n in range(total):
        delay = start + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one_call(calls, agents, n))
        running.add(task)
        task.add_done_callback(running.discard)
    await asyncio.gather(*running)
    produced = loop.time() - start
    if catch_up:
        await agents.flush()
        late.clear()  # from here on: the catch-up alone
        start_writer()
    writing_from = loop.time()
    while writer_mode != "none" and (await stream.backlog() or agents._held):  # noqa: SLF001
        await asyncio.sleep(0.05)
    drained = loop.time() - writing_from
    stop.set()
    await service.stop() if writer_mode == "thread" else await writer.stop()
    await agents.close()
    recorder.cancel()
    for task in tasks:
        task.cancel()
    name = f"{database_name}, writer {writer_mode}" + (", catch-up" if catch_up else "")
    if writer_mode == "none":  # the baseline: the closing alone
        await redis.delete([stream.key])
        await database.close()
        redis.close()
        return Result(name, produced, total, 0, 0, max(peaks or [0]), [0.0], late, 0.0, [])
    rows = await database.count(schema.calls)
    assert rows == total, f"{rows} calls in SQL, {total} closed"
    assert await database.count(schema.ring_attempts) == 2 * total
    assert await database.count(schema.survey_answers) == total
    assert await database.count(schema.agent_events) > 0
    await database.close()
    redis.close()
    return Result(name, produced, total, applied["calls"], applied["entries"],
                  max(peaks or [0]), lag, late, drained, list(_applies))


def print_table(results: list[Result], rate: float) -> None:
    print(f"\n{machine()}\n{rate:g} calls/s offered; each: close + amendment + 4 agent "
          "changes (6 stream entries)\n")
    print("| database | seconds | calls closed/s | calls applied/s | entries applied | "
          "backlog max | lag p50 ms | lag p99 ms | lag max ms | loop late p50 ms | "
          "p99 ms | max ms | drained after s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        span = r.drain_seconds if "catch-up" in r.database else r.seconds + r.drain_seconds
        print(f"| {r.database} | {r.seconds:.1f} | {r.closed / r.seconds:.1f} | "
              f"{r.calls_applied / 2 / span:.1f} | {r.entries:,} | {r.backlog_max:,} | "
              f"{pct(r.lag, 50) * 1000:.0f} | {pct(r.lag, 99) * 1000:.0f} | "
              f"{max(r.lag) * 1000:.0f} | {pct(r.late, 50):.1f} | {pct(r.late, 99):.1f} | "
              f"{max(r.late):.1f} | {r.drain_seconds:.2f} |")
    print("\nWhat the writer pays per batch (HistoryDatabase.apply: one transaction)\n")
    print("| database | batches | calls + agent changes per batch, mean | max | "
          "ms per batch p50 | p99 | max | wall µs per row |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        if not r.batches:
            continue
        took = [seconds * 1000 for seconds, _ in r.batches]
        rows = [n for _, n in r.batches]
        print(f"| {r.database} | {len(r.batches):,} | {sum(rows) / len(rows):.1f} | "
              f"{max(rows)} | {pct(took, 50):.1f} | {pct(took, 99):.1f} | {max(took):.1f} | "
              f"{sum(took) * 1000 / max(1, sum(rows)):.0f} |")


async def main_async(args: argparse.Namespace) -> None:
    _timed_apply()
    results = []
    with throwaway_redis() as port:
        for name in args.databases.split(","):
            if name == "sqlite":
                folder = tempfile.mkdtemp(prefix="acd-bench-history-")
                url = f"sqlite+aiosqlite:///{folder}/var/history.db"
                for mode in args.writer.split(","):
                    results.append(await run(name, url, port, args.rate, args.seconds,
                                             writer_mode=mode, batch=args.batch,
                                             catch_up=args.catch_up and mode != "none"))
            elif name == "postgresql":
                sys.path.insert(0, str(REPO))
                from tests.pg_process import PostgresProcess

                server = PostgresProcess()
                server.start()
                try:
                    for mode in args.writer.split(","):
                        if mode != "none":
                            results.append(await run(name, server.url, port, args.rate,
                                                     args.seconds, writer_mode=mode,
                                                     batch=args.batch,
                                                     catch_up=args.catch_up))
                finally:
                    server.remove()
            else:
                raise SystemExit(f"unknown database {name!r}: sqlite or postgresql")
    print_table(results, args.rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=120.0, help="calls closed per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--batch", type=int, default=500, help="entries per transaction")
    parser.add_argument("--catch-up", action="store_true",
                        help="the database away while calls close: the writer starts after")
    parser.add_argument("--writer", default="thread",
                        help="comma-separated: thread (as acd serve), loop (on the closing "
                             "loop), none (no writer: the closing alone)")
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
