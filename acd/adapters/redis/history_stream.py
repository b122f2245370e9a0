"""Redis: the history's durable queue, a stream the history writer drains into SQL.

| key       | type   | content                                               | expiry |
|-----------|--------|-------------------------------------------------------|--------|
| history   | stream | one entry per closed (or amended) call record, and   | none   |
|           |        | per agent state change; consumer group `writers`     |        |

An entry is `kind` = `call` with `record` (the record's hash as JSON, the whole of
it, written by the same script that closes the record: no closed call can miss the
history), or `kind` = `agent` with `agent`, `state`, `reason`, `at`. The writer
deletes an entry once SQL has it; while the database is away the entries wait here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections import deque

from acd.adapters.redis.client import Redis
from acd.core import commands as cmd
from acd.history.rows import Entry

log = logging.getLogger(__name__)

GROUP = "writers"

#: the Lua that appends a call record to the stream (used inside the call store's
#: scripts, so the record's write and its history entry are one atomic step).
#: append_record(hash key, stream key, keep seconds): the whole hash as one entry, and
#: the closed record kept `keep` seconds more in Redis (0: for ever)
APPEND_RECORD_LUA = """
local function append_record(hash, stream, keep)
  if stream ~= '' then
    local flat = redis.call('HGETALL', hash)
    if #flat > 0 then
      local record = {}
      for j = 1, #flat, 2 do record[flat[j]] = flat[j + 1] end
      redis.call('XADD', stream, '*', 'kind', 'call', 'record', cjson.encode(record))
    end
  end
  if tonumber(keep) > 0 then redis.call('EXPIRE', hash, keep) end
end
"""

# KEYS: stream; ARGV: group, consumer, count, idle ms before another's entries are taken.
# Entries this consumer read but did not acknowledge come first (the database failed
# mid-batch), then those another writer left pending for `idle` ms (it died), then new.
_READ = """
pcall(redis.call, 'XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
local mine = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3],
                        'STREAMS', KEYS[1], '0')
if mine[1] and #mine[1][2] > 0 then return cjson.encode(mine[1][2]) end
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[4], '0-0',
                           'COUNT', ARGV[3])
if #claimed[2] > 0 then return cjson.encode(claimed[2]) end
local new = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3],
                       'STREAMS', KEYS[1], '>')
if new and new[1] and #new[1][2] > 0 then return cjson.encode(new[1][2]) end
return '[]'
"""

# KEYS: stream; ARGV: 10 values per entry (kind, agent, state, reason, at with names)
_APPEND_AGENTS = """
for i = 1, #ARGV, 10 do
  redis.call('XADD', KEYS[1], '*', unpack(ARGV, i, i + 9))
end
return #ARGV / 10
"""

# KEYS: stream; ARGV: group, id...
_DONE = """
redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
return redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
"""


def stream_key(prefix: str) -> str:
    return f"{prefix}history"


def _entries(text: str) -> list[Entry]:
    out = []
    for item in json.loads(text):
        entry_id, flat = item[0], item[1]
        if not flat:  # an entry deleted while pending: XAUTOCLAIM gives it as nil
            continue
        out.append(Entry(entry_id, dict(zip(flat[::2], flat[1::2], strict=True))))
    return out


class HistoryStream:
    """The stream as the history writer and the agent-event recorder use it."""

    def __init__(self, redis: Redis, prefix: str = "acd:") -> None:
        from acd.adapters.redis.store import Scripts

        self._redis = redis
        self.key = stream_key(prefix)
        self._scripts = Scripts(redis)

    async def read(self, consumer: str, count: int, claim_idle_ms: int) -> list[Entry]:
        text = await self._scripts.run("history_read", _READ, [self.key],
                                       [GROUP, consumer, str(count), str(claim_idle_ms)])
        return _entries(text)

    async def done(self, ids: list[str]) -> None:
        """SQL has these entries: they leave the stream."""
        if ids:
            await self._scripts.run("history_done", _DONE, [self.key], [GROUP, *ids])

    async def backlog(self) -> int:
        """Entries not yet in SQL (read or not)."""
        return int(await self._scripts.run("history_len", "return redis.call('XLEN', KEYS[1])",
                                           [self.key], []))

    async def append_agent_events(self, events: list[cmd.AgentStateChanged]) -> None:
        await self._scripts.run("history_agents", _APPEND_AGENTS, [self.key],
                                [item for e in events for item in _agent_fields(e)])


def _agent_fields(e: cmd.AgentStateChanged) -> list[str]:
    return ["kind", "agent", "agent", e.agent_id, "state", str(e.state), "reason",
            e.reason or "", "at", repr(float(e.since))]




class AgentEventRecorder:
    """A dispatcher sink: each agent state change goes to the history stream.

    The routing core must not wait for Redis: a change is kept in memory and written
    by a task of its own, many at a time, again after a failure (Redis away), so a
    short outage loses none.
    """

    #: at most this many changes wait in memory (an outage of hours: the oldest go)
    MAX_HELD = 100_000

    def __init__(self, stream: HistoryStream) -> None:
        self._stream = stream
        self._held: deque[cmd.AgentStateChanged] = deque(maxlen=self.MAX_HELD)
        self._wake = asyncio.Event()
        self._failing = False
        self._writing = asyncio.Lock()  # the task and a stop's flush: one at a time

    def on_routing(self, command: cmd.Command) -> None:
        if isinstance(command, cmd.AgentStateChanged):
            self._held.append(command)
            self._wake.set()

    def start(self) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(self._write_forever(),
                                                      name="history-agent-events")

    async def flush(self) -> None:
        """Write what is held now (a stop; tests)."""
        async with self._writing:
            while self._held:
                batch = list(itertools.islice(self._held, 500))
                await self._stream.append_agent_events(batch)
                for _ in batch:
                    self._held.popleft()

    async def _write_forever(self) -> None:
        delay = 0.5
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception as exc:  # Redis away: keep them, try again
                if not self._failing:
                    log.warning("agent state changes not written to the history stream "
                                "(%s); %d held, retrying", exc, len(self._held))
                self._failing = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                self._wake.set()
                continue
            if self._failing:
                log.info("agent state changes written to the history stream again")
            self._failing, delay = False, 0.5

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), 1.0)
