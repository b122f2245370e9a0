"""Benchmark: what forwarding to the leading acd costs (cluster.mode active).

One process plays two acds on a throw-away Redis on loopback: a leader (the routing
engine, its dispatcher, the routing commit saving every batch, and the LeaderRelay) and
a follower's FollowerRouting. Printed:

- submit: an agent's pause and resume, one after the other, from the follower, until the
  leader's answer is back (the API's path): p50/p99/max;
- ring: a caller queued on the follower (post) until the leader's RingAgents order is on
  the follower (the call path's extra delay against a single acd): p50/p99/max;
- the same submit straight into the leader's dispatcher, for comparison;
- a burst: as many events posted at once, how many a second the leader takes in.

    python bench/bench_relay.py                 # 2,000 of each
    python bench/bench_relay.py --count 500
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import asyncio_redis  # noqa: E402
from common import machine, throwaway_redis  # noqa: E402  (bench/ is the script's folder)

from acd.adapters.redis.routing_commit import RoutingCommit  # noqa: E402
from acd.adapters.redis.routing_relay import FollowerRouting, LeaderRelay  # noqa: E402
from acd.adapters.redis.routing_store import RoutingStore  # noqa: E402
from acd.clock import SystemClock  # noqa: E402
from acd.core import commands as cmd  # noqa: E402
from acd.core import events as ev  # noqa: E402
from acd.core.engine import RoutingEngine  # noqa: E402
from acd.core.model import AgentConfig, QueueConfig, QueueMember  # noqa: E402
from acd.dispatcher import Dispatcher  # noqa: E402


def summary(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (f"{name:<28} n={len(ms):>5}  p50 {statistics.median(ms):6.2f} ms  "
            f"p99 {p99:6.2f} ms  max {ms[-1]:6.2f} ms")


async def run(port: int, count: int) -> None:
    async def connect() -> Any:
        return await asyncio_redis.Connection.create("127.0.0.1", port)

    engine = RoutingEngine([QueueConfig("sales", members=(QueueMember("1001"),))],
                           [AgentConfig("1001")], period_key=lambda now: "today")
    dispatcher: Dispatcher[ev.Event, cmd.Command] = Dispatcher(engine, SystemClock())
    commit = RoutingCommit(RoutingStore(await connect(), "bench:"), engine.take_changes)
    dispatcher.set_gate(commit.gate)
    dispatcher.after_batch(commit.after_batch)
    rung: dict[str, asyncio.Future[None]] = {}

    def on_command(command: cmd.Command) -> None:
        if isinstance(command, cmd.RingAgents) and command.call_id in rung:
            rung[command.call_id].set_result(None)

    follower = FollowerRouting(await connect(), await connect(), "bench:", "follower",
                               on_command)
    relay = LeaderRelay(await connect(), await connect(), "bench:", "leader",
                        dispatcher.submit, lambda command: None)
    dispatcher.add_sink(relay.on_routing)
    dispatcher.start()
    tasks = [*follower.start(), *await relay.start()]
    await follower.submit(ev.AgentLoggedIn("1001", "PJSIP/1001"))

    forwarded, local, ring = [], [], []
    for n in range(count):
        event = ev.AgentPaused("1001", "busy") if n % 2 == 0 else ev.AgentResumed("1001")
        started = time.perf_counter()
        await follower.submit(event)
        forwarded.append(time.perf_counter() - started)
    for n in range(count):
        event = ev.AgentPaused("1001", "busy") if n % 2 == 0 else ev.AgentResumed("1001")
        started = time.perf_counter()
        await dispatcher.submit(event)
        local.append(time.perf_counter() - started)
    for n in range(count):  # a caller rung, then gone: the agent is free for the next
        call = f"c{n}"
        rung[call] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        follower.post(ev.CallQueued(call, "sales", "13800000000"))
        await rung[call]
        ring.append(time.perf_counter() - started)
        await follower.submit(ev.CallAbandoned(call))
    started = time.perf_counter()  # a burst: posted at once, the last one submitted
    for n in range(count):
        follower.post(ev.AgentPaused("1001", "busy") if n % 2 == 0 else ev.AgentResumed("1001"))
    await follower.submit(ev.AgentDeviceReachability("1001", True))
    burst = count / (time.perf_counter() - started)
    print(machine())
    print(summary("submit, forwarded", forwarded))
    print(summary("submit, on the leader", local))
    print(summary("caller queued -> ring order", ring))
    print(f"{'a burst, forwarded':<28} n={count:>5}  {burst:,.0f} events/s handled")
    for task in tasks:
        task.cancel()
    await dispatcher.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    with throwaway_redis() as port:
        asyncio.run(run(port, args.count))


if __name__ == "__main__":
    main()
