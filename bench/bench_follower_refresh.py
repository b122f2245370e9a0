"""What a follower of an active cluster pays to show the routing state: every 0.5 s
(acd.cluster_node.REFRESH_SECONDS) it reads the state the leader saved in Redis and
restores an engine from it for its views. Printed per size (every agent talking, as
many callers waiting): the CPU of the read and of the restore, the share of one core
that costs, and how long the event loop (calls) is held meanwhile.

    python bench/bench_follower_refresh.py [--sizes 100,1000,10000] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import asyncio_redis

sys.path.insert(0, str(Path(__file__).parent))
from bench_routing import T0, Bench, configs  # noqa: E402
from common import machine, throwaway_redis  # noqa: E402

from acd.adapters.redis.routing_store import RoutingStore  # noqa: E402
from acd.cluster_node import COST_FACTOR, REFRESH_SECONDS  # noqa: E402
from acd.core.engine import RoutingEngine  # noqa: E402
from acd.core.model import Strategy  # noqa: E402


class Lateness:
    """How late a 1 ms ticker on the event loop runs: what a call's next FastAGI command
    would wait while a refresh runs."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            due = time.perf_counter() + 0.001
            await asyncio.sleep(0.001)
            self.worst = max(self.worst, time.perf_counter() - due)

    async def stop(self) -> float:
        await asyncio.sleep(0.005)  # (the tick held up by the last block records it)
        self._task.cancel()
        return self.worst


async def row(port: int, agents: int, rounds: int
              ) -> tuple[int, int, float, float, float, float]:
    """(agents, calls, read CPU s, restore CPU s, loop stall s with the restore in the
    loop, loop stall s with it on a thread as acd does), medians."""
    redis = await asyncio_redis.Pool.create("127.0.0.1", port, poolsize=2)
    store = RoutingStore(redis, f"follow{agents}:")
    bench = Bench(agents, Strategy.LEAST_CALLS, store, persist=True)
    await store.save_snapshot(bench.engine.snapshot())
    await bench.fill(waiting=agents)
    queues, agent_configs = configs(agents, Strategy.LEAST_CALLS)
    reads, restores, in_loop, threaded, calls = [], [], [], [], 0
    for _ in range(rounds):
        ticker = Lateness()
        started = time.process_time()
        saved = await store.load()
        read = time.process_time()
        assert saved is not None
        RoutingEngine.restore(queues, agent_configs, saved, T0)
        reads.append(read - started)
        restores.append(time.process_time() - read)
        in_loop.append(await ticker.stop())
        ticker = Lateness()
        saved = await store.load()
        await asyncio.to_thread(RoutingEngine.restore, queues, agent_configs, saved, T0)
        threaded.append(await ticker.stop())
        calls = len(saved["calls"])
    redis.close()
    return (agents, calls, statistics.median(reads), statistics.median(restores),
            statistics.median(in_loop), statistics.median(threaded))


async def main_async(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}")
    print(f"refresh every {REFRESH_SECONDS:g} s; CPU seconds (time.process_time), median of "
          f"{args.rounds}")
    print("core share: at one refresh every 0.5 s / as acd spaces them (>= 5x their cost)")
    print("loop stall: the worst lateness of a 1 ms timer during a refresh, restore in the "
          "loop / on a thread (acd)")
    print(f"{'agents':>7} {'calls':>7} {'read ms':>8} {'restore ms':>11} {'core share':>13} "
          f"{'every s':>8} {'loop stall ms':>14}")
    with throwaway_redis() as port:
        for size in args.sizes:
            agents, calls, read, restore, in_loop, threaded = await row(port, size,
                                                                        args.rounds)
            cost = read + restore
            every = max(REFRESH_SECONDS, COST_FACTOR * cost)
            print(f"{agents:>7} {calls:>7} {read * 1000:>8.1f} {restore * 1000:>11.1f} "
                  f"{cost / REFRESH_SECONDS:>6.0%} / {cost / every:>3.0%} {every:>8.2f} "
                  f"{in_loop * 1000:>6.0f} / {threaded * 1000:<5.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[100, 1000, 10000])
    parser.add_argument("--rounds", type=int, default=10)
    asyncio.run(main_async(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
