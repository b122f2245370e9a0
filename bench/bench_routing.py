"""Benchmark: routing decisions per second and the latency of one decision.

Scenario "agent frees" (the hot path of a busy centre): every agent is on a
call and 10,000 callers wait; an agent hangs up and the engine offers them the
best waiting caller they can serve. Scenario "call arrives": every agent is
available and a caller arrives. Three queues, agents in two each, 4 skill
profiles, priorities 0-2, 20% of callers needing a skill.

Each decision is timed three ways: the pure engine (`handle`); plus the Redis
claim round trips of `RoutingStore.gate` (release of the finished call, claim
of the new one); plus persisting the increment (`save(take_changes())`), i.e.
the whole step the dispatcher runs.

    python bench/bench_routing.py                 # 100, 1,000, 10,000 agents
    python bench/bench_routing.py --agents 1000 --decisions 2000
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

import asyncio_redis  # noqa: E402
from common import machine, throwaway_redis  # noqa: E402  (bench/ is the script's folder)

from acd.adapters.redis.routing_store import RoutingStore  # noqa: E402
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


def build(agents: int, strategy: Strategy) -> RoutingEngine:
    ids = [str(10000 + i) for i in range(agents)]
    members: dict[str, list[QueueMember]] = {q: [] for q in QUEUES}
    for i, a in enumerate(ids):
        for q in (QUEUES[i % 3], QUEUES[(i + 1) % 3]):
            members[q].append(QueueMember(a, penalty=i % 2))
    queues = [QueueConfig(q, strategy, tuple(members[q])) for q in QUEUES]
    configs = [AgentConfig(a, skills=SKILLS[i % 4])
               for i, a in enumerate(ids)]
    return RoutingEngine(queues, configs, period_key=lambda now: "bench",
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

    def queue_call(self) -> list[cmd.Command]:
        self.calls += 1
        needs = frozenset({"en"}) if self.rng.random() < 0.2 else frozenset()
        return self.engine.handle(ev.CallQueued(f"c{self.calls}", self.rng.choice(QUEUES), "1",
                                                self.rng.randrange(3), needs), self.now)

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
            out, _ = await self.store.gate(out)
            if self.persist:
                await self.store.save(self.engine.take_changes())
        samples.append(time.perf_counter_ns() - start)
        return out

    async def agent_frees(self, waiting: int, decisions: int) -> list[int]:
        for a in self.agents:
            await self.settle(self.engine.handle(ev.AgentLoggedIn(a, f"SIP/{a}"), self.now))
        while len(self.talking) < len(self.agents):
            await self.settle(self.queue_call())
        for _ in range(waiting):
            self.queue_call()
        if self.store is not None:
            await self.store.save(self.engine.take_changes())
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


async def main_async(args: argparse.Namespace) -> None:
    strategy = Strategy(args.strategy)
    print(f"machine: {machine()}")
    print(f"strategy {strategy.value}; {args.decisions} timed decisions per row; latency in ms")
    with redis_server(args.redis_host, args.redis_port) as (host, port):
        redis = await asyncio_redis.Connection.create(host, port, db=args.redis_db)
        info = (await redis.info("server"))._data
        info = info.decode() if isinstance(info, bytes) else str(info)
        version = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                        if line.startswith("redis_version:")), "?")
        print(f"redis {version} at {host}:{port} db {args.redis_db} (loopback TCP)")
        print()
        print("| scenario | agents | waiting | mode | decisions/s | p50 ms | p99 ms |")
        print("|---|---:|---:|---|---:|---:|---:|")
        for agents in args.agents:
            for mode in ("engine", "engine+claims", "engine+claims+persist"):
                for scenario in ("agent frees", "call arrives"):
                    prefix = f"bench-{os.getpid()}-{agents}-{mode}:"
                    store = None if mode == "engine" else RoutingStore(redis, prefix)
                    bench = Bench(agents, strategy, store, persist=mode.endswith("persist"))
                    decisions = args.decisions * (4 if mode == "engine" else 1)
                    if scenario == "agent frees":
                        samples = await bench.agent_frees(args.waiting, decisions)
                        waiting = args.waiting
                    else:
                        samples = await bench.call_arrives(decisions)
                        waiting = 0
                    rate, p50, p99 = summary(samples)
                    print(f"| {scenario} | {agents:,} | {waiting:,} | {mode} | {rate:,.0f} | "
                          f"{p50:.3f} | {p99:.3f} |", flush=True)
                    if store is not None:
                        cursor = await redis.scan(match=f"{prefix}*")
                        keys = await cursor.fetchall()
                        if keys:
                            await redis.delete(list(keys))
        redis.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=lambda s: [int(x) for x in s.split(",")],
                        default=[100, 1000, 10000], help="comma-separated agent counts")
    parser.add_argument("--waiting", type=int, default=10000, help="callers waiting (10000)")
    parser.add_argument("--decisions", type=int, default=3000, help="timed decisions per row")
    parser.add_argument("--strategy", default=Strategy.LEAST_CALLS.value,
                        choices=[s.value for s in Strategy if s is not Strategy.RING_ALL])
    parser.add_argument("--redis-host", default="127.0.0.1")
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument("--redis-db", type=int, default=15)
    asyncio.run(main_async(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
