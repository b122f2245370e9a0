"""Redis: the integrators' events, kept in one stream until every webhook has them.

| key            | type   | content                                          | expiry |
|----------------|--------|--------------------------------------------------|--------|
| events         | stream | one entry per event: `event` = its JSON, no id   | none,  |
|                |        | (the entry's id is the event's id)               | capped |
| webhook:{name} | hash   | a webhook's delivery: cursor (last event handed  | none   |
|                |        | over or skipped), delivered_id, delivered_at,    |        |
|                |        | failures, last_error, error_at, next_retry       |        |

The stream is capped at KEEP_EVENTS entries (approximately): a webhook that stays
down for longer than that many events loses the oldest (logged when it happens).

The feed (`EventFeed`) takes events from the routing core (a dispatcher sink: agents'
states) and from calls (the CallEvents port), keeps them in memory in order and
writes them from one task, many at a time, again after a failure (Redis away): the
routing core and the calls never wait for Redis. Once written, each event, with its
id, goes to the feed's listeners (the WebSocket's fan-out, the webhooks' wake-up).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections import deque
from collections.abc import Callable, Mapping

from acd.adapters.redis.client import Redis
from acd.adapters.redis.store import Scripts
from acd.callflow.orders import TellIntegrators
from acd.core import commands as cmd
from acd.integration.events import Event, agent_state_event, call_event

log = logging.getLogger(__name__)

#: events kept in the stream at most (approximately; Redis trims whole nodes)
KEEP_EVENTS = 200_000

# KEYS: stream; ARGV: cap, then one event JSON each. Returns their ids, in order.
_APPEND = """
local ids = {}
for i = 2, #ARGV do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', ARGV[i])
end
return ids
"""

# KEYS: stream; ARGV: after this id ('' = from the start), count
_AFTER = """
local start = '-'
if ARGV[1] ~= '' then start = '(' .. ARGV[1] end
local entries = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', ARGV[2])
if #entries == 0 then return '[]' end
return cjson.encode(entries)
"""

# KEYS: stream, webhook hash. A webhook seen for the first time starts after the last
# event written so far (not with the whole stream's past). Returns its cursor.
_START = """
local cursor = redis.call('HGET', KEYS[2], 'cursor')
if cursor then return cursor end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
cursor = '0-0'
if #last > 0 then cursor = last[1][1] end
redis.call('HSET', KEYS[2], 'cursor', cursor)
return cursor
"""


class EventStream:
    """The stream and the webhooks' delivery state."""

    def __init__(self, redis: Redis, prefix: str = "acd:") -> None:
        self._redis = redis
        self.prefix = prefix
        self.key = f"{prefix}events"
        self._scripts = Scripts(redis)

    async def append(self, events: list[Event]) -> list[str]:
        """Write the events in order; their ids, in the same order."""
        texts = [json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in events]
        ids = await self._scripts.run("events_append", _APPEND, [self.key],
                                      [str(KEEP_EVENTS), *texts])
        return [str(i) for i in ids]

    async def after(self, cursor: str, count: int) -> list[Event]:
        """Up to `count` events written after `cursor`, oldest first, with their ids."""
        text = await self._scripts.run("events_after", _AFTER, [self.key],
                                       [cursor, str(count)])
        out: list[Event] = []
        for entry_id, flat in json.loads(text):
            fields = dict(zip(flat[::2], flat[1::2], strict=True))
            out.append({"id": entry_id, **json.loads(fields["event"])})
        return out

    async def oldest_id(self) -> str:
        text = await self._scripts.run(
            "events_oldest", "local e = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)"
            " if #e == 0 then return '' end return e[1][1]", [self.key], [])
        return str(text or "")

    def _webhook_key(self, name: str) -> str:
        return f"{self.prefix}webhook:{name}"

    async def start_webhook(self, name: str) -> str:
        """The webhook's cursor; a new webhook's is the last event written so far."""
        return str(await self._scripts.run("events_start", _START,
                                           [self.key, self._webhook_key(name)], []))

    async def webhook_state(self, name: str) -> dict[str, str]:
        return await self._redis.hgetall_asdict(self._webhook_key(name))

    async def save_webhook_state(self, name: str, values: Mapping[str, str]) -> None:
        await self._redis.hmset(self._webhook_key(name), dict(values))


class EventFeed:
    """Events in, in order; written to the stream by one task; then told to listeners."""

    #: at most this many events wait in memory (an outage of hours: the oldest go)
    MAX_HELD = 100_000
    BATCH = 500

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream
        self._held: deque[Event] = deque(maxlen=self.MAX_HELD)
        self._listeners: list[Callable[[Event], None]] = []
        self._wake = asyncio.Event()
        self._failing = False
        self._writing = asyncio.Lock()  # the task and a stop's flush: one at a time
        self._task: asyncio.Task[None] | None = None

    # -- in ---------------------------------------------------------------------------

    def on_routing(self, command: cmd.Command) -> None:
        """A dispatcher sink: the agents' states."""
        if isinstance(command, cmd.AgentStateChanged):
            self._hold(agent_state_event(command))

    def call_event(self, notice: TellIntegrators) -> None:
        """The calls' port (acd.callflow.ports.CallEvents)."""
        self._hold(call_event(notice.kind, notice.call_id, notice.agent_id, notice.at,
                              notice.data))

    def _hold(self, event: Event) -> None:
        if len(self._held) == self._held.maxlen:
            log.error("event feed: %d events wait for Redis; the oldest is dropped",
                      len(self._held))
        self._held.append(event)
        self._wake.set()

    # -- out --------------------------------------------------------------------------

    def listen(self, listener: Callable[[Event], None]) -> None:
        """`listener` gets each event once written (with its id), in order."""
        self._listeners.append(listener)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._write_forever(),
                                                            name="event-feed")

    async def flush(self) -> None:
        """Write what is held now (a stop; tests)."""
        async with self._writing:
            while self._held:
                batch = list(itertools.islice(self._held, self.BATCH))
                ids = await self.stream.append(batch)
                for event, event_id in zip(batch, ids, strict=True):
                    self._held.popleft()
                    written = {"id": event_id, **event}
                    for listener in self._listeners:
                        try:
                            listener(written)
                        except Exception:
                            log.exception("event listener failed on %s", event_id)

    async def _write_forever(self) -> None:
        delay = 0.2
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception as exc:  # Redis away: keep them, try again
                if not self._failing:
                    log.warning("integrators' events not written to Redis (%s); %d held, "
                                "retrying", exc, len(self._held))
                self._failing = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                self._wake.set()
                continue
            if self._failing:
                log.info("integrators' events written to Redis again")
            self._failing, delay = False, 0.2

    async def close(self) -> None:
        """Stop the task between two writes (a write cut in the middle would be written
        again, with new ids), then write what is left, for a second at most."""
        if self._task is not None:
            async with self._writing:
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), 1.0)
