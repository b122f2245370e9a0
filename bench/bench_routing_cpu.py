"""Benchmark: where the CPU of one routing decision goes, piece by piece.

The path from an event to its claimed and saved ring, at 10,000 agents and 10,000
waiting callers ("agent frees", as bench_routing.py): the event loop delivering the event
to the dispatcher (a routing core that decides nothing, events sent by another process
over a socket, as bench_routing.py sends them), the engine's `handle`,
`take_changes()`, the gate's packing (claims and JSON records), and one round trip of
the gate's script to Redis (acd's own client). Each piece is timed in blocks with
`time.process_time_ns` (this process's CPU, not the wall clock): the lowest block is
what the piece costs on a quiet machine, the median what it cost in this run. On a
shared machine the two differ; the lowest moves little between runs. Two more rows are
not this process's CPU but lie on the decision's path: the script's own time inside
Redis (`INFO commandstats`, on the other core) and the round trip's wall time (the ring
waits for it).

    python bench/bench_routing_cpu.py            # about a minute
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_routing import Bench, redis_server  # noqa: E402  (bench/ is the script's folder)
from common import machine  # noqa: E402
from routing_flow import Flow  # noqa: E402

from acd.adapters.redis.connection import connect_redis  # noqa: E402
from acd.adapters.redis.routing_store import RoutingStore  # noqa: E402
from acd.config.settings import RedisConfig  # noqa: E402
from acd.core import commands as cmd  # noqa: E402
from acd.core import events as ev  # noqa: E402
from acd.core.model import Strategy  # noqa: E402

BLOCK = 100  # decisions per timed block


class NoDecisions:
    """A routing core that answers each event with one ring and keeps no state: what is
    left is the cost of getting an event to the dispatcher and its ring to the sink."""

    def handle(self, event: str, now: float) -> list[cmd.Command]:
        return [cmd.RingAgents(event, "q", (cmd.RingTarget(event, "SIP/x"),), 20.0)]

    def on_timer(self, now: float) -> list[cmd.Command]:
        return []

    def next_deadline(self) -> float | None:
        return time.time() + 30  # a ring's timer, as the engine always has one


async def script_usec(redis: Any) -> float:
    """µs Redis has spent in EVALSHA so far (every client's: give the bench a Redis of its
    own, as it starts by default)."""
    info = (await redis.info("commandstats"))._data
    text = info.decode() if isinstance(info, bytes) else str(info)
    line = next((x for x in text.splitlines() if x.startswith("cmdstat_evalsha:")), "")
    return float(line.split("usec=", 1)[1].split(",", 1)[0]) if line else 0.0


def spread(blocks: list[float]) -> str:
    return f"{min(blocks):.1f} | {statistics.median(blocks):.1f}"


async def delivery(rate: float, decisions: int) -> list[float]:
    flow = Flow(NoDecisions(), None, time.time(), rate)  # type: ignore[arg-type]
    flow.start()
    blocks = []
    for r in range(decisions // 1000):
        before = flow.cpu_ns
        await flow.round([(f"e{r}-{i}", f"e{r}-{i}") for i in range(1000)])  # type: ignore[misc]
        blocks.append((flow.cpu_ns - before) / 1000 / 1e3)
    await flow.stop()
    return blocks


async def pieces(redis: Any, store: RoutingStore, decisions: int, batch: int
                 ) -> dict[str, list[float]]:
    bench = Bench(10000, Strategy.LEAST_CALLS, store, persist=True)
    await bench.fill(10000)
    times: dict[str, list[float]] = {k: [] for k in ("handle", "take_changes", "packing",
                                                     "round trip", "in Redis", "wall")}
    clock: Callable[[], int] = time.process_time_ns
    for _ in range(decisions // BLOCK):
        spent = dict.fromkeys(times, 0)
        trips = 0
        for start in range(0, BLOCK, batch):
            commands: list[cmd.Command] = []
            agents = bench.rng.sample(list(bench.talking), min(batch, BLOCK - start))
            in_redis = await script_usec(redis)  # (an INFO round trip: outside the timing)
            t0 = clock()
            for agent in agents:
                bench.now += 0.001
                commands += bench.engine.handle(ev.CallEnded(bench.talking.pop(agent), agent),
                                                bench.now)
            t1 = clock()
            changes = bench.engine.take_changes()
            t2 = clock()
            ops, _ = store._claims(commands)
            keys, args = store._packed(ops, changes, "1")
            t3, w3 = clock(), time.perf_counter_ns()
            await store.gate(commands, changes)  # (packs again: subtracted below)
            t4, w4 = clock(), time.perf_counter_ns()
            spent["wall"] += w4 - w3
            spent["in Redis"] += int((await script_usec(redis) - in_redis) * 1e3)
            trips += 1
            spent["handle"] += t1 - t0
            spent["take_changes"] += t2 - t1
            spent["packing"] += t3 - t2
            spent["round trip"] += (t4 - t3) - (t3 - t2)
            await bench.settle(commands, gated=True)
            for _ in agents:
                bench.queue_call()
            await store.save(bench.engine.take_changes())
        for key in times:
            per = BLOCK if key not in ("round trip", "in Redis", "wall") else trips
            times[key].append(spent[key] / per / 1e3)
    return times


async def main_async(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}")
    print(f"{args.decisions} decisions per piece, in blocks of {BLOCK}; µs of CPU: "
          "lowest block | median block")
    print()
    print("| piece | per | batch of 1: lowest | median | batch of 5: lowest | median |")
    print("|---|---|---:|---:|---:|---:|")
    with redis_server(args.redis_host, args.redis_port) as (host, port):
        if args.plain_client:  # what bench_routing.py measured before (type checks on)
            import asyncio_redis

            redis = await asyncio_redis.Connection.create(host, port, db=args.redis_db)
        else:
            redis = await connect_redis(RedisConfig(host=host, port=port, db=args.redis_db),
                                        poolsize=RedisConfig().pool_size, retry_forever=False)
        results = {}
        for batch in (1, 5):
            store = RoutingStore(redis, f"bench-cpu-{batch}:")
            results[batch] = await pieces(redis, store, args.decisions, batch)
            await store.clear()
        for key, per in (("handle", "decision"), ("take_changes", "decision"),
                         ("packing", "decision"), ("round trip", "trip"),
                         ("in Redis", "trip"), ("wall", "trip")):
            print(f"| {key} | {per} | {spread(results[1][key])} | "
                  f"{spread(results[5][key])} |")
        redis.close()
    for rate in (2500.0, 5000.0):
        blocks = await delivery(rate, args.decisions)
        print(f"| event delivery at {rate:,.0f}/s (no engine, no Redis) | decision | "
              f"{spread(blocks)} | | |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=3000, help="per piece (3000)")
    parser.add_argument("--plain-client", action="store_true",
                        help="a plain asyncio_redis connection (argument type checks on) "
                             "instead of acd's connect_redis")
    parser.add_argument("--redis-host", default="127.0.0.1")
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument("--redis-db", type=int, default=15)
    asyncio.run(main_async(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
