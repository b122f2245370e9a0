"""The live stream's fan-out: the wallboard model fed from the routing core, its deltas
sent to every connected page (WebSocket), bursts coalesced, slow pages resynced.

The dispatcher calls `after_batch` once per batch of routing events; that only marks
the wallboard stale and arms one timer. When it fires (at most every `interval`
seconds), the model reads the routing core's views once and yields one delta, encoded
once per kind of viewer and handed to each page. So a burst of a thousand events costs
one read of the views, and a change shows on the pages within `interval` plus the
network.

A page that cannot keep up never makes acd hold more than one pending delta for it:
deltas merge while a send is in progress; when the merged delta grows past `max_rows`
the page gets a fresh snapshot instead, and a send that takes longer than
`send_timeout` closes the socket (the page reconnects and starts from a snapshot).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from acd.console.wallboard import Message, Viewer, Wallboard, for_viewer, merge
from acd.core.engine import RoutingEngine
from acd.core.errors import UnknownAgent
from acd.core.snapshot import Changes
from acd.core.views import AgentView, QueueView
from acd.integration.events import Event, concerns_agent, masked, unknown_patterns, wanted

log = logging.getLogger(__name__)

#: the WebSocket close code of a page that fell too far behind (it reconnects)
CLOSE_TOO_SLOW = 4408
#: the close code of a session that ended (logged out, expired, user removed)
CLOSE_LOGGED_OUT = 4401
#: integrators' events waiting for one page at most; past that it is too slow
MAX_EVENTS = 1000


class LiveViews(Protocol):
    """The routing core's views (EngineViews)."""

    def agents(self) -> list[AgentView]: ...

    def agent(self, agent_id: str) -> AgentView | None:
        """None: no such agent (removed by a reload)."""
        ...

    def queues(self) -> list[QueueView]: ...


class EngineViews:
    """The routing engine's views, read from the event loop's one thread between two
    batches of the dispatcher (the engine is never changed while they are read)."""

    def __init__(self, engine: RoutingEngine) -> None:
        self.engine = engine

    def agents(self) -> list[AgentView]:
        return [self.engine.agent_view(a) for a in self.engine.agent_ids()]

    def agent(self, agent_id: str) -> AgentView | None:
        try:
            return self.engine.agent_view(agent_id)
        except UnknownAgent:
            return None

    def queues(self) -> list[QueueView]:
        return [self.engine.queue_view(q) for q in self.engine.queue_names()]


class Socket(Protocol):
    """What the stream needs of a WebSocket (aiohttp's WebSocketResponse)."""

    @property
    def closed(self) -> bool: ...

    async def send_str(self, data: str, compress: int | None = None) -> None: ...

    async def close(self, *, code: int = ..., message: bytes = ...) -> bool: ...


def encode(message: Message) -> str:
    return encode_json(message)


def encode_json(message: object) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


class LiveClient:
    """One connected page: at most one pending delta (or a pending snapshot)."""

    def __init__(self, socket: Socket, viewer: Viewer, still_allowed: Callable[[], bool],
                 max_rows: int) -> None:
        self.socket = socket
        self.viewer = viewer
        self.still_allowed = still_allowed
        self.max_rows = max_rows
        self.resync = True  # the first message is a snapshot
        self.pending: Message | None = None
        self.text: str | None = None  # `pending` encoded, when it is one shared delta
        self.wake = asyncio.Event()
        self.wake.set()
        #: the event types this page subscribed to ({"type": "subscribe", ...}), and
        #: the events waiting for it, encoded
        self.subscribed: tuple[str, ...] = ()
        self.events: deque[str] = deque()
        self.too_slow = False

    def offer(self, part: Message, text: str | None) -> None:
        if self.resync:
            return  # the snapshot, taken when it is sent, will hold this change
        if self.pending is None:
            self.pending, self.text = part, text
        else:
            self.pending, self.text = merge(self.pending, part, self.max_rows), None
            if self.pending is None:
                self.resync = True
        self.wake.set()

    def ask_resync(self) -> None:
        self.resync, self.pending, self.text = True, None, None
        self.wake.set()


class LiveStream:
    def __init__(self, views: LiveViews, wallboard: Wallboard, now: Callable[[], float], *,
                 period: Callable[[float], str] = lambda now: "", interval: float = 0.2,
                 max_rows: int = 2000, send_timeout: float = 10.0) -> None:
        self.views = views
        #: the statistics day of a time (the routing core's period key)
        self.period = period
        self.wallboard = wallboard
        self.now = now
        self.interval = interval
        self.max_rows = max_rows
        self.send_timeout = send_timeout
        self.clients: set[LiveClient] = set()
        self._stale = True
        #: agents the routing core changed since the last update (None: every agent,
        #: until `watching` tells which)
        self._dirty: set[str] | None = None
        self._told_changes = False
        self._timer: asyncio.TimerHandle | None = None
        self._last_flush = 0.0
        #: deltas sent and their bytes, for the benchmark and /api/health
        self.deltas = 0
        self.bytes_sent = 0

    # -- input: the routing core changed --------------------------------------------

    async def after_batch(self, _commands: Sequence[object]) -> None:
        """The dispatcher's hook: something may have changed (a caller joined, an agent
        paused, a timer fired...); the views say what."""
        self.changed()

    def watching(self, take_changes: Callable[[], Changes]) -> Callable[[], Changes]:
        """`take_changes` (the routing engine's, which the routing commit calls once per
        batch) that also notes which agents changed: a flush then reads those agents'
        views only, not a thousand. The values still come from the views."""

        def take() -> Changes:
            changes = take_changes()
            if self._dirty is not None:
                self._dirty.update(changes["agents"])
            return changes

        self._told_changes = True
        return take

    def changed(self) -> None:
        self._stale = True
        if self._timer is not None or not self.clients:
            return  # no page: nothing to compute until one connects (it gets a snapshot)
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last_flush + self.interval - loop.time())
        self._timer = loop.call_later(delay, self.flush)

    def publish(self, event: Event) -> None:
        """An integrators' event (the event feed's listener): to each page subscribed
        to its type that may see it (a supervisor: all; an agent: their own calls and
        state), numbers masked per role."""
        for client in list(self.clients):
            viewer = client.viewer
            if not client.subscribed or not wanted(event["type"], client.subscribed):
                continue
            if not viewer.sees_everything and not concerns_agent(event, viewer.agent_id):
                continue
            if len(client.events) >= MAX_EVENTS:
                client.too_slow = True
            else:
                client.events.append(encode_json({"type": "event", "event": masked(
                    event, viewer.sees_numbers)}))
            client.wake.set()

    def survey_answered(self, queue: str, answer: str) -> None:
        """A caller's survey answer (acd/adapters/survey_tally.py)."""
        self.wallboard.survey_answered(queue, answer, self.period(self.now()))
        self.changed()

    def restore_surveys(self, surveys: dict[str, dict[str, int]], period: str) -> None:
        """Today's split as it was before a restart (acd/adapters/survey_tally.py)."""
        self.wallboard.restore_surveys(surveys, period)
        self.changed()

    def _update(self) -> Message | None:
        now, dirty = self.now(), self._dirty
        self._dirty = set() if self._told_changes else None
        if dirty is None:
            return self.wallboard.update(self.views.agents(), self.views.queues(), now,
                                         self.period(now))
        views = [v for a in dirty if (v := self.views.agent(a)) is not None]
        return self.wallboard.update(views, self.views.queues(), now, self.period(now),
                                     only_agents=dirty)

    # -- output ------------------------------------------------------------------------

    def flush(self) -> None:
        """Read the views once, send the delta to every page."""
        self._timer = None
        self._last_flush = asyncio.get_running_loop().time()
        if not self._stale:
            return
        self._stale = False
        delta = self._update()
        if delta is None:
            return
        self.deltas += 1
        shared: dict[tuple[bool, bool], tuple[Message | None, str | None]] = {}
        for client in list(self.clients):
            viewer = client.viewer
            if viewer.sees_everything:  # one encoding per kind of supervisor
                key = (True, viewer.sees_numbers)
                if key not in shared:
                    part = for_viewer(delta, viewer)
                    shared[key] = (part, encode(part) if part is not None else None)
                part, text = shared[key]
            else:
                part, text = for_viewer(delta, viewer), None
            if part is not None:
                client.offer(part, text)

    def snapshot_for(self, viewer: Viewer) -> str:
        if self._stale:  # (no page was connected: the model is behind the views)
            self._stale = False
            self._update()
        part = for_viewer(self.wallboard.snapshot(self.now()), viewer)
        assert part is not None  # a snapshot is never empty for anyone
        return encode(part)

    # -- one page --------------------------------------------------------------------

    async def serve(self, socket: Socket, viewer: Viewer, still_allowed: Callable[[], bool],
                    incoming: Callable[[], Awaitable[str | None]]) -> None:
        """Stream to this socket until it closes. `incoming()` returns the page's next
        text message (None: closed); {"type": "resync"} asks for a fresh snapshot;
        {"type": "subscribe", "events": ["call.*", ...]} asks for integrators' events
        too (acknowledged with {"type": "subscribed", ...}; [] ends them)."""
        client = LiveClient(socket, viewer, still_allowed, self.max_rows)
        self.clients.add(client)
        writer = asyncio.create_task(self._write(client), name="live-writer")
        try:
            while (text := await incoming()) is not None:
                with contextlib.suppress(ValueError, AttributeError, TypeError):
                    message = json.loads(text)
                    if message.get("type") == "resync":
                        client.ask_resync()
                    elif message.get("type") == "subscribe":
                        self._subscribe(client, message.get("events"))
        finally:
            self.clients.discard(client)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    @staticmethod
    def _subscribe(client: LiveClient, events: object) -> None:
        reply: dict[str, object]
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            reply = {"type": "error", "message": 'subscribe: "events" is a list of event '
                     'types, e.g. ["call.*", "agent.state"]'}
        elif unknown := unknown_patterns(events):
            reply = {"type": "error", "message": f"subscribe: no event type {unknown[0]!r}"
                     " (docs/integration.md)"}
        else:
            client.subscribed = tuple(events)
            reply = {"type": "subscribed", "events": list(client.subscribed)}
        client.events.append(encode_json(reply))
        client.wake.set()

    async def _write(self, client: LiveClient) -> None:
        while not client.socket.closed:
            await client.wake.wait()
            client.wake.clear()
            if not client.still_allowed():
                await client.socket.close(code=CLOSE_LOGGED_OUT,
                                          message=b"session ended: log in again")
                return
            if client.too_slow:
                await self._close_too_slow(client)
                return
            while client.events:
                if not await self._send(client, client.events.popleft()):
                    return
            if client.resync:
                client.resync, client.pending, client.text = False, None, None
                text = self.snapshot_for(client.viewer)
            elif client.pending is not None:
                text = client.text or encode(client.pending)
                client.pending, client.text = None, None
            else:
                continue
            if not await self._send(client, text):
                return

    async def _send(self, client: LiveClient, text: str) -> bool:
        """False: the page is gone or too slow (closed)."""
        try:
            async with asyncio.timeout(self.send_timeout):
                await client.socket.send_str(text)
        except TimeoutError:
            await self._close_too_slow(client)
            return False
        except (ConnectionError, RuntimeError):
            return False  # the page went away mid-send; `serve` forgets it
        self.bytes_sent += len(text)
        return True

    async def _close_too_slow(self, client: LiveClient) -> None:
        log.warning("live stream: a page fell too far behind (over %.0f s for one message, "
                    "or %d events waiting); closed (it reconnects and gets a snapshot)",
                    self.send_timeout, MAX_EVENTS)
        await client.socket.close(code=CLOSE_TOO_SLOW, message=b"too slow: reconnect")
