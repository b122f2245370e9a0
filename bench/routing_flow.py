"""The routing bench's engine behind the real dispatcher: events posted at a steady rate,
each decision timed from its due time to its ring reaching the command sink."""

from __future__ import annotations

import asyncio
import gc
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

from acd.adapters.redis.routing_commit import RoutingCommit
from acd.adapters.redis.routing_store import RoutingStore
from acd.clock import ShiftedClock
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.dispatcher import Dispatcher
from acd.gc_policy import freeze_started_heap

# The clock process: writes each event's index (4 bytes) to the socket when it is due.
CLOCK = """
import os, struct, sys, time
fd, start, step, count = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
sent = 0
while sent < count:
    wait = start + int(sent * step) - time.perf_counter_ns()
    if wait > 0:
        time.sleep(wait / 1e9)
    now, ready = time.perf_counter_ns(), sent
    while ready < count and start + int(ready * step) <= now:
        ready += 1
    os.write(fd, struct.pack(f"<{ready - sent}I", *range(sent, ready)))
    sent = ready
"""


class Flow:
    def __init__(self, engine: RoutingEngine, store: RoutingStore | None, start_at: float,
                 rate: float) -> None:
        """`rate`: events posted per second in a round (0: all at once)."""
        self.rate = rate
        self.dispatcher: Dispatcher[ev.Event, cmd.Command] = Dispatcher(
            engine, ShiftedClock(start_at))
        self.trips = 0  # gate calls while timed: one Redis round trip each at most
        #: each timed gate call's wall time and this process's CPU time in it, ns: what is
        #: left is waiting for Redis (its script, the wake-ups) or for a core
        self.trip_times: list[tuple[int, int]] = []
        self.cpu_ns = 0  # this process's CPU time while timed
        self.gc_pauses: list[float] = []  # the garbage collector's pauses while timed, ms
        self._gc_start = 0.0
        self._timed = False
        if store is not None:
            commit = RoutingCommit(store, engine.take_changes)
            self.dispatcher.set_gate(self._counted(commit.gate))
            self.dispatcher.after_batch(commit.after_batch)
        self.dispatcher.add_sink(self._sink)
        #: agent id and call id -> (the other id, when the ring reached the sink, ns)
        self.rung: dict[str, tuple[str, int]] = {}
        self._awaited: set[str] = set()
        self._all_rung = asyncio.Event()

    def _counted(self, gate: Callable[[list[cmd.Command]], Awaitable[
            tuple[list[cmd.Command], list[ev.Event]]]]) -> Callable[
            [list[cmd.Command]], Awaitable[tuple[list[cmd.Command], list[ev.Event]]]]:
        async def counted(commands: list[cmd.Command]
                          ) -> tuple[list[cmd.Command], list[ev.Event]]:
            if not self._timed:
                return await gate(commands)
            self.trips += 1
            wall, cpu = time.perf_counter_ns(), time.process_time_ns()
            try:
                return await gate(commands)
            finally:
                self.trip_times.append((time.perf_counter_ns() - wall,
                                        time.process_time_ns() - cpu))
        return counted

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif self._timed:
            self.gc_pauses.append((time.perf_counter() - self._gc_start) * 1e3)

    def _sink(self, command: cmd.Command) -> None:
        if isinstance(command, cmd.RingAgents):
            at = time.perf_counter_ns()
            agent = command.targets[0].agent_id
            self.rung[agent] = (command.call_id, at)
            self.rung[command.call_id] = (agent, at)
            for key in (agent, command.call_id):
                self._awaited.discard(key)
            if not self._awaited:
                self._all_rung.set()

    def start(self, freeze: bool = False) -> None:
        """`freeze`: the heap built so far is left out of garbage collections, as `acd
        serve` does once it has started (acd.gc_policy)."""
        if freeze:
            freeze_started_heap()
        gc.callbacks.append(self._gc)
        self.dispatcher.start()

    async def stop(self) -> None:
        await self.dispatcher.stop()
        gc.callbacks.remove(self._gc)
        gc.unfreeze()

    async def round(self, events: list[tuple[str, ev.Event]]) -> tuple[list[int], int]:
        """Post each (key, event) when due; wait until every key (agent or call) has rung.
        Returns each decision's latency and the round's length, in ns.

        Another process says when each event is due, over a socket, as Asterisk or a
        second acd would: the loop wakes when data comes, as it does in production (an
        asyncio timer would wake it up to 1 ms late; a thread would fight for the GIL)."""
        self.rung.clear()
        self._awaited = {key for key, _ in events}
        self._all_rung.clear()
        step = 1e9 / self.rate if self.rate else 0.0
        start = time.perf_counter_ns() + 200_000_000  # the clock process starts meanwhile
        due = [start + int(i * step) for i in range(len(events))]
        ours, theirs = socket.socketpair()
        clock = subprocess.Popen([sys.executable, "-c", CLOCK, str(theirs.fileno()), str(start),
                                  str(step), str(len(events))], pass_fds=[theirs.fileno()])
        theirs.close()
        pending = bytearray()

        def readable() -> None:
            data = ours.recv(65536)
            if not data:  # the clock process is done: the socket would stay readable
                loop.remove_reader(ours.fileno())
            pending.extend(data)
            whole = len(pending) // 4 * 4
            for (index,) in struct.iter_unpack("<I", pending[:whole]):
                self.dispatcher.post(events[index][1])
            del pending[:whole]

        loop = asyncio.get_running_loop()
        loop.add_reader(ours.fileno(), readable)
        self._timed = True
        cpu = time.process_time_ns()
        try:
            await asyncio.wait_for(self._all_rung.wait(), 60)
        finally:
            self.cpu_ns += time.process_time_ns() - cpu
            self._timed = False
            loop.remove_reader(ours.fileno())
            ours.close()
            await asyncio.to_thread(clock.wait)
        samples = [self.rung[key][1] - at for (key, _), at in zip(events, due, strict=True)]
        return samples, max(self.rung[key][1] for key, _ in events) - start

    async def settle(self, events: list[ev.Event]) -> None:
        """Untimed: post these and wait until the dispatcher has handled them."""
        for event in events:
            self.dispatcher.post(event)
        await self.dispatcher.apply(lambda now: [])
