"""Benchmark: routing decisions per second and the latency of one decision.

Scenario "agent frees" (the hot path of a busy centre): every agent is on a
call and 10,000 callers wait; an agent hangs up and the engine offers them the
best waiting caller they can serve. Scenario "call arrives": every agent is
available and a caller arrives. Three queues, agents in two each, 4 skill
profiles, priorities 0-2, 20% of callers needing a skill.

One decision at a time, three ways: the pure engine (`handle`); plus the Redis
claim round trip of `RoutingStore.gate` (release of the finished call, claim of
the new one); plus the engine's changes saved in that same script
(`gate(commands, take_changes())`), i.e. the whole step for an event that comes
alone. Latency: `handle` to the gate's answer.

Then through the real `Dispatcher` with `RoutingCommit` (claims and state in one
script per batch of waiting events), events posted at a steady rate (`--rates`,
0: all at once): decisions/s achieved, and latency from an event's due time to its
ring reaching the command sink (claimed and saved). Each round posts one event per
agent at most (the agents who hang up, or the callers who arrive, are distinct);
between rounds the rings are answered and the line refilled, untimed.

    python bench/bench_routing.py                 # 100, 1,000, 10,000 agents
    python bench/bench_routing.py --agents 1000 --decisions 2000 --rates 5000,0
    python bench/bench_routing.py --agents 1000 --rates 5000,0 --metrics   # + /metrics
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import machine, throwaway_redis  # noqa: E402  (bench/ is the script's folder)
from routing_flow import Flow  # noqa: E402

from acd.adapters.redis.connection import connect_redis  # noqa: E402
from acd.adapters.redis.routing_store import RoutingStore  # noqa: E402
from acd.config.settings import RedisConfig  # noqa: E402
from acd.core import commands as cmd  # noqa: E402
from acd.core import events as ev  # noqa: E402
from acd.core.engine import RoutingEngine  # noqa: E402
from acd.core.model import (  # noqa: E402
    AgentConfig,
    QueueConfig,
    QueueMember,
    RoutingSettings,
    Strategy,
)

T0 = 1_750_000_000.0
SKILLS = [frozenset(), frozenset({"en"}), frozenset({"vip"}), frozenset({"en", "vip"})]
QUEUES = ("sales", "service", "vip")


def configs(agents: int, strategy: Strategy) -> tuple[list[QueueConfig], list[AgentConfig]]:
    """The bench's queues and agents: each agent in two of the three queues."""
    ids = [str(10000 + i) for i in range(agents)]
    members: dict[str, list[QueueMember]] = {q: [] for q in QUEUES}
    for i, a in enumerate(ids):
        for q in (QUEUES[i % 3], QUEUES[(i + 1) % 3]):
            members[q].append(QueueMember(a, penalty=i % 2))
    queues = [QueueConfig(q, strategy, tuple(members[q])) for q in QUEUES]
    return queues, [AgentConfig(a, skills=SKILLS[i % 4]) for i, a in enumerate(ids)]


def build(agents: int, strategy: Strategy) -> RoutingEngine:
    queues, agent_configs = configs(agents, strategy)
    return RoutingEngine(queues, agent_configs, period_key=lambda now: "bench",
                         settings=RoutingSettings(ring_failure_delay_seconds=0))


class Bench:
    def __init__(self, agents: int, strategy: Strategy, store: RoutingStore | None,
                 persist: bool) -> None:
        self.engine = build(agents, strategy)
        self.agents = self.engine.agent_ids()
        self.store, self.persist = store, persist
        self.rng = random.Random(7)
        self.now = T0
        self.calls = 0
        self.talking: dict[str, str] = {}  # agent -> call
        #: the dispatcher rows' gate calls: (wall, this process's CPU) ns each
        self.trip_times: list[tuple[int, int]] = []

    def new_caller(self) -> ev.CallQueued:
        self.calls += 1
        needs = frozenset({"en"}) if self.rng.random() < 0.2 else frozenset()
        return ev.CallQueued(f"c{self.calls}", self.rng.choice(QUEUES), "1",
                             self.rng.randrange(3), needs)

    def queue_call(self) -> list[cmd.Command]:
        return self.engine.handle(self.new_caller(), self.now)

    async def settle(self, commands: list[cmd.Command], gated: bool = False) -> None:
        """Answer whatever rang (untimed), so agents end up talking."""
        batch = commands
        while batch:
            if self.store is not None and not gated:
                batch, _ = await self.store.gate(batch)
            gated = False
            rings = [c for c in batch if isinstance(c, cmd.RingAgents)]
            batch = []
            for ring in rings:
                agent = ring.targets[0].agent_id
                self.talking[agent] = ring.call_id
                batch += self.engine.handle(ev.RingAnswered(ring.call_id, agent), self.now)
        if self.store is not None:
            await self.store.save(self.engine.take_changes())

    async def timed(self, event: Any, samples: list[int]) -> list[cmd.Command]:
        start = time.perf_counter_ns()
        out = self.engine.handle(event, self.now)
        if self.store is not None:
            out, _ = await self.store.gate(out, self.engine.take_changes() if self.persist
                                           else None)
        samples.append(time.perf_counter_ns() - start)
        return out

    async def fill(self, waiting: int) -> None:
        """Every agent on a call, `waiting` callers in line."""
        for a in self.agents:
            await self.settle(self.engine.handle(ev.AgentLoggedIn(a, f"SIP/{a}"), self.now))
        while len(self.talking) < len(self.agents):
            await self.settle(self.queue_call())
        for _ in range(waiting):
            self.queue_call()
        if self.store is not None:
            await self.store.save(self.engine.take_changes())

    async def agent_frees(self, waiting: int, decisions: int) -> list[int]:
        await self.fill(waiting)
        samples: list[int] = []
        for _ in range(decisions):
            self.now += 0.01
            agent = self.agents[self.rng.randrange(len(self.agents))]
            call = self.talking.pop(agent)
            out = await self.timed(ev.CallEnded(call, agent), samples)
            assert any(isinstance(c, cmd.RingAgents) for c in out), "no caller was offered"
            await self.settle(out, gated=True)
            self.queue_call()  # keep the waiting line at its size
        return samples

    async def call_arrives(self, decisions: int) -> list[int]:
        for a in self.agents:
            self.engine.handle(ev.AgentLoggedIn(a, f"SIP/{a}"), self.now)
        if self.store is not None:
            await self.store.save(self.engine.take_changes())
        samples: list[int] = []
        for _ in range(decisions):
            self.now += 0.01
            self.calls += 1
            call = f"c{self.calls}"
            out = await self.timed(ev.CallQueued(call, self.rng.choice(QUEUES), "1",
                                                 self.rng.randrange(3)), samples)
            ring = next(c for c in out if isinstance(c, cmd.RingAgents))
            agent = ring.targets[0].agent_id
            follow = self.engine.handle(ev.RingAnswered(call, agent), self.now)
            follow += self.engine.handle(ev.CallEnded(call, agent), self.now)
            if self.store is not None:
                await self.store.gate(follow)
                await self.store.save(self.engine.take_changes())
        return samples


    async def agent_frees_flow(self, flow: Flow, waiting: int, decisions: int,
                               freeze: bool) -> tuple[list[int], int]:
        """Rounds of distinct agents hanging up; between rounds they answer, a caller
        joins the line for each."""
        await self.fill(waiting)
        flow.start(freeze)
        samples: list[int] = []
        elapsed = 0
        while len(samples) < decisions:
            agents = self.rng.sample(self.agents, min(len(self.agents), decisions - len(samples)))
            took, ns = await flow.round([(a, ev.CallEnded(self.talking.pop(a), a))
                                         for a in agents])
            samples += took
            elapsed += ns
            self.talking.update((a, flow.rung[a][0]) for a in agents)
            await flow.settle([e for a in agents for e in (
                ev.RingAnswered(self.talking[a], a), self.new_caller())])
        await flow.stop()
        return samples, elapsed

    async def call_arrives_flow(self, flow: Flow, decisions: int,
                                freeze: bool) -> tuple[list[int], int]:
        """Rounds of callers arriving to free agents; between rounds each is answered and
        hangs up."""
        for a in self.agents:
            self.engine.handle(ev.AgentLoggedIn(a, f"SIP/{a}"), self.now)
        if self.store is not None:
            await self.store.save(self.engine.take_changes())
        flow.start(freeze)
        samples: list[int] = []
        elapsed = 0
        while len(samples) < decisions:
            # a quarter of the agents: each caller finds a free agent of their queue
            calls = [self.new_caller() for _ in range(min(len(self.agents) // 4,
                                                          decisions - len(samples)))]
            took, ns = await flow.round([(c.call_id, c) for c in calls])
            samples += took
            elapsed += ns
            await flow.settle([e for c in calls for e in (
                ev.RingAnswered(c.call_id, flow.rung[c.call_id][0]),
                ev.CallEnded(c.call_id, flow.rung[c.call_id][0]))])
        await flow.stop()
        return samples, elapsed


def summary(samples: list[int]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2] / 1e6
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1e6
    return len(samples) / (sum(samples) / 1e9), p50, p99


@contextmanager
def redis_server(host: str, port: int) -> Iterator[tuple[str, int]]:
    """The given Redis if it answers, else a throw-away redis-server on a free port."""
    with socket.socket() as s:
        s.settimeout(0.3)
        if s.connect_ex((host, port)) == 0:
            yield host, port
            return
    with throwaway_redis() as free:
        yield "127.0.0.1", free


async def serial_row(bench: Bench, scenario: str, args: argparse.Namespace,
                     decisions: int) -> tuple[list[int], float, list[str]]:
    """One decision at a time: latencies, decisions/s, the last columns."""
    if scenario == "agent frees":
        samples = await bench.agent_frees(args.waiting, decisions)
    else:
        samples = await bench.call_arrives(decisions)
    return samples, len(samples) / (sum(samples) / 1e9), [
        "-" if bench.store is None else "1", "-", "-"]


async def flow_row(bench: Bench, scenario: str, args: argparse.Namespace,
                   rate: float) -> tuple[list[int], float, list[str]]:
    """Through the dispatcher at `rate`: latencies, decisions/s, the last columns."""
    flow = Flow(bench.engine, bench.store, bench.now, rate)
    if args.metrics:  # as acd.app wires them: a sink for the orders, the latency hook
        from acd.adapters.prometheus.exposition import AcdMetrics

        metrics = AcdMetrics()
        flow.dispatcher.add_sink(metrics.events.on_routing)
        flow.dispatcher.observe_latency(metrics.events.routing_decided)
    if scenario == "agent frees":
        samples, elapsed = await bench.agent_frees_flow(flow, args.waiting, args.decisions,
                                                        args.gc_freeze)
    else:
        samples, elapsed = await bench.call_arrives_flow(flow, args.decisions, args.gc_freeze)
    if flow.trip_times:
        bench.trip_times = flow.trip_times
    return samples, len(samples) / (elapsed / 1e9), [
        f"{len(samples) / flow.trips:.1f}" if flow.trips else "-",
        f"{flow.cpu_ns / len(samples) / 1e3:.0f}", f"{max(flow.gc_pauses, default=0):.1f}"]


async def main_async(args: argparse.Namespace) -> None:
    strategy = Strategy(args.strategy)
    print(f"machine: {machine()}")
    print(f"strategy {strategy.value}; {args.decisions} timed decisions per row; latency in ms"
          f"{'; gc.freeze() before the dispatcher rows' if args.gc_freeze else ''}"
          f"{'; metrics attached to the dispatcher' if args.metrics else ''}")
    with redis_server(args.redis_host, args.redis_port) as (host, port):
        # acd's own client (acd.adapters.redis.connection: argument type checks off), a
        # pool as large as acd's default: what the routing store uses in production
        redis = await connect_redis(RedisConfig(host=host, port=port, db=args.redis_db),
                                    poolsize=RedisConfig().pool_size, retry_forever=False)
        info = (await redis.info("server"))._data
        info = info.decode() if isinstance(info, bytes) else str(info)
        version = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                        if line.startswith("redis_version:")), "?")
        print(f"redis {version} at {host}:{port} db {args.redis_db} (loopback TCP)")
        print()
        print("| scenario | agents | waiting | mode | decisions/s | p50 ms | p99 ms "
              "| events per trip | CPU µs per decision | longest GC pause ms |")
        print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
        trips: list[str] = []  # the round trips of the dispatcher rows, printed after
        rows = [(m, None) for m in ("engine", "engine+claims", "engine+claims+persist")]
        rows += [(m, r) for r in args.rates for m in ("engine", "engine+claims+persist")]
        for agents in args.agents:
            for mode, rate in rows:
                for scenario in ("agent frees", "call arrives"):
                    prefix = f"bench-{os.getpid()}-{agents}-{mode}:"
                    store = None if mode == "engine" else RoutingStore(redis, prefix)
                    bench = Bench(agents, strategy, store, persist=mode.endswith("persist"))
                    if rate is None:
                        decisions = args.decisions * (4 if mode == "engine" else 1)
                        samples, per_s, more = await serial_row(bench, scenario, args,
                                                                decisions)
                        label = mode
                    else:
                        samples, per_s, more = await flow_row(bench, scenario, args, rate)
                        label = (f"dispatcher, {mode}, " +
                                 (f"{rate:,.0f}/s offered" if rate else "all at once"))
                    _, p50, p99 = summary(samples)
                    waiting = args.waiting if scenario == "agent frees" else 0
                    print(f"| {scenario} | {agents:,} | {waiting:,} | {label} | {per_s:,.0f} | "
                          f"{p50:.3f} | {p99:.3f} | {' | '.join(more)} |", flush=True)
                    if bench.trip_times:
                        trips.append(f"| {scenario} | {agents:,} | {label} | "
                                     f"{trip_spread(bench.trip_times)} |")
                    if store is not None:
                        cursor = await redis.scan(match=f"{prefix}*")
                        keys = await cursor.fetchall()
                        if keys:
                            await redis.delete(list(keys))
        redis.close()
    if trips:
        print()
        print("The dispatcher rows' gate round trips, µs: wall time, and what is left of it "
              "after this process's CPU (waiting for Redis's script, the wake-ups, a core)")
        print()
        print("| scenario | agents | mode | trips | wall p50 | p90 | p99 | max "
              "| waiting p50 | p90 | p99 | max |")
        print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for line in trips:
            print(line)


def trip_spread(times: list[tuple[int, int]]) -> str:
    """Trips, then wall and waiting time: p50, p90, p99, max (µs)."""
    def spread(values: list[int]) -> list[str]:
        ordered = sorted(values)
        picks = [ordered[min(len(ordered) - 1, int(len(ordered) * q))] for q in (.5, .9, .99)]
        return [f"{v / 1e3:,.0f}" for v in (*picks, ordered[-1])]
    return " | ".join([f"{len(times):,}", *spread([w for w, _ in times]),
                       *spread([max(0, w - c) for w, c in times])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=lambda s: [int(x) for x in s.split(",")],
                        default=[100, 1000, 10000], help="comma-separated agent counts")
    parser.add_argument("--waiting", type=int, default=10000, help="callers waiting (10000)")
    parser.add_argument("--decisions", type=int, default=3000, help="timed decisions per row")
    parser.add_argument("--rates", type=lambda s: [float(x) for x in s.split(",")],
                        default=[2500.0, 5000.0, 0.0],
                        help="decisions/s offered to the dispatcher, comma-separated (0: all "
                             "at once)")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="leave the state built before the dispatcher rows out of "
                             "garbage collections (gc.freeze), as `acd serve` does once "
                             "started (acd.gc_policy): the collector's share of the tail")
    parser.add_argument("--metrics", action="store_true",
                        help="the dispatcher rows with the Prometheus metrics attached")
    parser.add_argument("--strategy", default=Strategy.LEAST_CALLS.value,
                        choices=[s.value for s in Strategy if s is not Strategy.RING_ALL])
    parser.add_argument("--redis-host", default="127.0.0.1")
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument("--redis-db", type=int, default=15)
    asyncio.run(main_async(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
