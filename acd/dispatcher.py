"""The one task that owns the routing core.

Telephony and HTTP adapters `post()` core events; this task feeds them to the
engine with the current time, hands the commands that come back to the sinks
that execute them (the call registry for a caller's orders, the callback dialer,
the routing store...), persists the new state and re-arms one timer from the
engine's next deadline. Because only this task touches the engine, no locks are
needed.

Events that wait in the inbox are handled as one batch (up to `max_batch`): the
engine takes them one by one, in order, then the gate claims and saves for the whole
batch in one Redis round trip before any of its commands runs. One round trip per
event was the ceiling (about 1,500 decisions/s); a batch costs one round trip however
many events it holds, and an event alone still goes through at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

from acd.clock import Clock

log = logging.getLogger(__name__)

# The core's events and commands: type parameters, so that this module does not import
# the core (acd.app makes a Dispatcher[Event, Command] of the routing engine).
E = TypeVar("E")
C = TypeVar("C")
E_contra = TypeVar("E_contra", contravariant=True)


class Engine(Protocol[E_contra, C]):
    def handle(self, event: E_contra, now: float) -> list[C]: ...
    def on_timer(self, now: float) -> list[C]: ...
    def next_deadline(self) -> float | None: ...


CommandSink = Callable[[C], Awaitable[None] | None]
#: commands -> (commands to run, events to feed back to the engine)
Gate = Callable[[list[C]], Awaitable[tuple[list[C], list[E]]]]


def _what(event: object) -> str:
    """An event for the log: its kind and call or agent, never a caller's number."""
    ids = [getattr(event, name) for name in ("call_id", "agent_id") if hasattr(event, name)]
    return f"{type(event).__name__}({', '.join(map(str, ids))})"


class _Apply(Generic[C]):
    """A change of the engine itself (e.g. reconfigure), run inside the dispatcher task."""

    def __init__(self, fn: Callable[[float], list[C]]) -> None:
        self.fn = fn


class Dispatcher(Generic[E, C]):
    def __init__(self, engine: Engine[E, C], clock: Clock, max_batch: int = 64) -> None:
        self.engine = engine
        self.clock = clock
        #: events handled per round trip at most: bounds one batch's latency under a burst
        self.max_batch = max_batch
        #: (event, its sender's future, when it was posted: time.perf_counter())
        self._inbox: asyncio.Queue[tuple[E | _Apply[C], asyncio.Future[list[C]] | None,
                                         float]] = asyncio.Queue()
        self._sinks: list[CommandSink[C]] = []
        self._after_batch: list[Callable[[list[C]], Awaitable[None]]] = []
        self._gate: Gate[C, E] | None = None
        self._latency: Callable[[float], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._stopping = False

    # -- wiring ----------------------------------------------------------------

    def add_sink(self, sink: CommandSink[C]) -> None:
        """Receives every command, in order; decides at once, returns work (a coroutine)
        only when there is some."""
        self._sinks.append(sink)

    def after_batch(self, hook: Callable[[list[C]], Awaitable[None]]) -> None:
        """Awaited after each batch of events, with the commands it produced."""
        self._after_batch.append(hook)

    def set_gate(self, gate: Gate[C, E]) -> None:
        """Runs once per batch before its commands are executed: returns (commands to run,
        events to feed back).

        The Redis claim gate: an agent another acd process holds is not rung; the
        engine hears of it (AgentClaimLost) and offers the caller to the next. It also
        saves the engine's changes, in the same round trip.
        """
        self._gate = gate

    def observe_latency(self, observe: Callable[[float], None]) -> None:
        """Called with each event's seconds from its post to its batch's commands handed
        to the sinks (the inbox, the engine, the gate's Redis round trip): the metrics."""
        self._latency = observe

    @property
    def backlog(self) -> int:
        """Events posted and not yet taken into a batch."""
        return self._inbox.qsize()

    # -- input -------------------------------------------------------------------

    def post(self, event: E) -> None:
        self._inbox.put_nowait((event, None, time.perf_counter()))

    async def submit(self, event: E) -> list[C]:
        """Post an event and wait until it is handled; domain errors are raised here.

        Returns the commands executed for the batch the event was handled in (its own
        when it came alone)."""
        return await self._handled(event)

    def enqueue(self, event: E) -> asyncio.Future[list[C]]:
        """`submit`, with the event in the inbox when this returns (not when the
        caller's task next runs): for a caller whose events must keep their order
        with other posts (acd.adapters.redis.routing_relay)."""
        return self._put(event)

    async def apply(self, fn: Callable[[float], list[C]]) -> list[C]:
        """Run fn(now) -> commands on the engine from the dispatcher task (no races)."""
        return await self._handled(_Apply(fn))

    async def _handled(self, item: E | _Apply[C]) -> list[C]:
        return await self._put(item)

    def _put(self, item: E | _Apply[C]) -> asyncio.Future[list[C]]:
        future: asyncio.Future[list[C]] = asyncio.get_running_loop().create_future()
        self._inbox.put_nowait((item, future, time.perf_counter()))
        return future

    # -- the loop ----------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="dispatcher")
        self._task.add_done_callback(self._ended)

    @property
    def running(self) -> bool:
        """The routing core takes events (health: its one task has not ended)."""
        return self._task is not None and not self._task.done()

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not self._stopping:  # nothing decides for callers any more: say so, once
            error = None if task.cancelled() else task.exception()
            log.critical("routing core stopped: %s", error or "its task was cancelled",
                         exc_info=error)

    async def stop(self, timeout: float = 2.0) -> None:
        """Stop the loop: the batch being handled finishes, the rest stay in Redis."""
        self._stopping = True
        if self._task is None:
            return
        self._task.cancel()
        # asyncio.wait, not gather: a task that swallowed its cancellation must not
        # hold up the shutdown (Python 3.11's wait_for could; the loop no longer uses it)
        await asyncio.wait({self._task}, timeout=timeout)

    async def _run(self) -> None:
        while not self._stopping:
            deadline = self.engine.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self.clock.now())
            batch = []
            try:
                if self._inbox.empty():  # (else no timer to arm and cancel: a busy loop)
                    # asyncio.timeout, not wait_for: on 3.11 wait_for returns the item (and
                    # loses the cancellation) when an event arrives as the task is cancelled
                    async with asyncio.timeout(timeout):
                        batch.append(await self._inbox.get())
            except TimeoutError:
                pass
            while len(batch) < self.max_batch and not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            try:
                await self._step(batch)
            except Exception as exc:  # the loop must outlive any one batch
                log.exception("routing step failed on %s",
                              ", ".join(_what(item) for item, _, _ in batch) or "timer")
                for _, future, _ in batch:
                    if future is not None and not future.done():
                        future.set_exception(exc)

    async def _step(self, batch: list[tuple[E | _Apply[C],
                                            asyncio.Future[list[C]] | None, float]]) -> None:
        now = self.clock.now()
        commands: list[C] = []
        deadline = self.engine.next_deadline()
        if deadline is not None and deadline <= now:  # due, even while events keep coming
            commands += self._handle(None, None, now)
        for item, future, _ in batch:
            commands += self._handle(item, future, self.clock.now())
        if self._gate is not None:
            commands = await self._through_gate(commands, self.clock.now())
        for _, future, _ in batch:
            if future is not None and not future.done():
                future.set_result(commands)
        for command in commands:
            self._deliver(command)
        if self._latency is not None:
            handed_out = time.perf_counter()
            for _, _, posted in batch:
                self._latency(handed_out - posted)
        for hook in self._after_batch:
            try:
                await hook(commands)
            except Exception:
                log.exception("after-batch hook failed (state may not be persisted)")

    def _handle(self, item: E | _Apply[C] | None, future: asyncio.Future[list[C]] | None,
                now: float) -> list[C]:
        """One event (None: the timer) through the engine; a refusal goes to its sender."""
        try:
            if item is None:
                return self.engine.on_timer(now)
            if isinstance(item, _Apply):
                return item.fn(now)
            return self.engine.handle(item, now)
        except Exception as exc:  # a domain error concerns one request, never the loop
            if future is not None and not future.done():
                future.set_exception(exc)
            else:
                log.error("routing core refused %s: %s", _what(item), exc)
            return []

    async def _through_gate(self, commands: list[C], now: float) -> list[C]:
        assert self._gate is not None
        allowed: list[C] = []
        for _ in range(100):  # each round feeds back lost claims; bounded, never a spin
            try:
                kept, lost = await self._gate(commands)
            except Exception:
                # Redis unreachable or saturated: ring anyway rather than strand callers;
                # only a second acd sharing this Redis could then double-book an agent.
                log.exception("agent claims unavailable; proceeding without them")
                return allowed + commands
            allowed += kept
            if not lost:
                break
            commands = []
            for event in lost:
                commands += self.engine.handle(event, now)
        return allowed

    def _deliver(self, command: C) -> None:
        for sink in self._sinks:
            try:
                result = sink(command)
            except Exception:
                log.exception("command sink failed on %r", command)
                continue
            if asyncio.iscoroutine(result):
                task = asyncio.get_running_loop().create_task(result)
                self._background.add(task)
                task.add_done_callback(self._background.discard)
