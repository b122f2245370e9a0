"""Benchmark: the cost of one Prometheus scrape of `GET /metrics` (acd.adapters.prometheus).

The scrape reads the routing core's head counts (acd.core.census: one pass over agents
and calls) on the event loop, so its time is time no call is served; the last column
is what building the supervisors' views instead would cost. Agents all on calls
and callers waiting in three queues (bench_routing's set-up), the counters and
histograms fed with a day's worth of calls; then the text rendered `--scrapes` times.

    python bench/bench_metrics.py                       # 100/50, 1,000/500, 10,000/5,000
    python bench/bench_metrics.py --sizes 1000:500 --scrapes 200
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_routing import QUEUES, T0, Bench  # noqa: E402  (bench/ is the script's folder)
from common import machine  # noqa: E402

from acd.adapters.prometheus.exposition import AcdMetrics  # noqa: E402
from acd.adapters.prometheus.live import LiveSources  # noqa: E402
from acd.clock import FixedClock  # noqa: E402
from acd.core import commands as cmd  # noqa: E402
from acd.core import events as ev  # noqa: E402
from acd.core.model import Strategy  # noqa: E402
from acd.dispatcher import Dispatcher  # noqa: E402
from acd.routing_service import RoutingService  # noqa: E402


def fed(metrics: AcdMetrics, calls: int) -> None:
    """A day's counters: every outcome, answer waits, AGI answer times, survey keys."""
    rng = random.Random(3)
    events = metrics.events
    events.start_queues(list(QUEUES))
    for n in range(calls):
        queue = QUEUES[n % 3]
        outcome = rng.choice(("answered",) * 8 + ("abandoned", "exited"))
        events.on_routing(cmd.CallRouted(f"c{n}", queue, "1", rng.uniform(0, 60)))
        events.on_routing(cmd.CallCompleted(f"c{n}", queue, outcome, "1", 10.0, 100.0))
        events.routing_decided(rng.uniform(0.0002, 0.004))
        for name in ("ANSWER", "SET MUSIC", "GET FULL", "HANGUP"):
            events.command_answered(name, rng.uniform(0.0003, 0.002))
        events.survey_answered(queue, "satisfaction", rng.choice("123"))


async def row(agents: int, waiting: int, scrapes: int) -> str:
    bench = Bench(agents, Strategy.LEAST_CALLS, None, persist=False)
    await bench.fill(waiting)
    engine = bench.engine
    routing = RoutingService(Dispatcher(engine, FixedClock(T0)), engine)
    metrics = AcdMetrics()
    fed(metrics, 20_000)
    metrics.watch(LiveSources(
        views=routing, now=lambda: T0 + 30, agi_sessions_open=lambda: waiting + agents,
        ami_connected=lambda: True, ami_logins=lambda: 1, redis_up=lambda: True,
        redis_outages=lambda: 0, routing_running=lambda: True, routing_backlog=lambda: 0))
    took: list[float] = []
    counts: list[float] = []
    views: list[float] = []
    size = 0
    for _ in range(scrapes):
        start = time.perf_counter()
        routing.census()
        counts.append(time.perf_counter() - start)
        start = time.perf_counter()
        size = len(metrics.render())
        took.append(time.perf_counter() - start)
    for _ in range(max(3, scrapes // 10)):  # what the supervisors' views would cost
        start = time.perf_counter()
        routing.queues()
        routing.agents()
        views.append(time.perf_counter() - start)
    return (f"| {agents:,} | {waiting:,} | {len(QUEUES)} | {median(took):.1f} | "
            f"{p99(took):.1f} | {median(counts):.2f} | {median(views):.1f} | {size:,} |")


def median(seconds: list[float]) -> float:
    return sorted(seconds)[len(seconds) // 2] * 1e3


def p99(seconds: list[float]) -> float:
    return sorted(seconds)[int(len(seconds) * 0.99)] * 1e3


async def added_per_decision(decisions: int) -> str:
    """The metrics' work per routing decision, on the orders of real decisions (agent
    frees, 1,000 agents, 500 waiting): the post's timestamp, the latency observed, every
    order through the metrics sink. Best of 5 runs: CPU work, not the machine's noise."""
    bench = Bench(1000, Strategy.LEAST_CALLS, None, persist=False)
    await bench.fill(500)
    events = []
    orders: list[list[cmd.Command]] = []
    for _ in range(decisions):
        bench.now += 0.01
        agent = bench.agents[bench.rng.randrange(len(bench.agents))]
        event = ev.CallEnded(bench.talking.pop(agent), agent)
        out = bench.engine.handle(event, bench.now)
        events.append(event)
        orders.append(out)
        await bench.settle(out, gated=True)
        bench.queue_call()
    metrics = AcdMetrics().events
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for out in orders:
            posted = time.perf_counter()
            for order in out:
                metrics.on_routing(order)
            metrics.routing_decided(time.perf_counter() - posted)
        best = min(best, time.perf_counter() - start)
    per_order = sum(map(len, orders)) / decisions
    return (f"| {decisions:,} | {per_order:.1f} | {best / decisions * 1e6:.2f} |")


async def main_async(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}")
    print(f"{args.scrapes} scrapes per row; counters fed with 20,000 calls")
    print()
    print("| agents | waiting | queues | scrape p50 ms | scrape p99 ms | of which head counts "
          "p50 ms | (the views instead, p50 ms) | bytes |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for agents, waiting in args.sizes:
        print(await row(agents, waiting, args.scrapes), flush=True)
    print()
    print("| decisions | orders per decision | metrics µs per decision (best of 5) |")
    print("|---:|---:|---:|")
    print(await added_per_decision(3000))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=[(100, 50), (1000, 500), (10000, 5000)],
                        type=lambda s: [tuple(int(x) for x in p.split(":"))
                                        for p in s.split(",")],
                        help="agents:waiting pairs, comma-separated")
    parser.add_argument("--scrapes", type=int, default=100)
    asyncio.run(main_async(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
