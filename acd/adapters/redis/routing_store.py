"""Redis: the routing core's live state, and atomic agent claims shared by acd processes.

Persistence is incremental. A moment after events are handled (SaveBehind),
`engine.take_changes()` goes to `save()`, which writes only the agents, callers and
queues that changed, in one Lua script (atomic, one round trip): a restart sees
the state before or after a batch of events, never half of one. Rewriting the
whole snapshot on every change would cost several MB per event at 10,000
agents and callers; an increment is usually two to five small JSON records.
`load()` reads the hashes back into the snapshot shape that
`RoutingEngine.restore` takes. (Lua rather than MULTI/EXEC because
asyncio_redis waits for every QUEUED reply: 5 commands cost 5 round trips.)

Claims make assignment atomic across processes sharing one Redis: a Lua
script sets ``agent -> call`` and ``call -> agent`` together or not at all,
so no agent gets two calls and no call two agents. Ring-all offers `reserve`
the agents only (``agent -> call``); the one who answers is then `claim`-ed,
binding the call. `gate()` applies this to one step's commands in a single
round trip (release of the finished call, claim of the next).

Keys (all under the prefix passed in, default ``acd:``):

| key                    | type   | content                                        | expiry    |
|------------------------|--------|------------------------------------------------|-----------|
| routing:meta           | hash   | version, period, seq                           | none      |
| routing:agents         | hash   | agent_id -> JSON agent record (state, stats)   | none      |
| routing:calls          | hash   | call_id -> JSON caller (waiting, callback...)  | none      |
| routing:queues         | hash   | queue -> JSON: round-robin pointer, fairness   | none      |
|                        |        | floors, handle time, statistics                |           |
| claim:agent:{agent_id} | string | "{call_id}<TAB>{owner}": the call holding it   | claim TTL |
| claim:call:{call_id}   | string | "{agent_id}<TAB>{owner}": the agent bound to it| claim TTL |

Each claim records its owner, the process's stable node name: a process
only re-claims (idempotently, e.g. after a lost reply) or releases its own
claims, so two processes can never share one assignment, and one freeing
it cannot pull it from under the other. Give every process sharing a Redis
its own `owner`, and keep it across restarts (restored claims stay yours).

While Redis is away, the gate decides claims here, from this process's routing state
alone, and owes them to Redis: they go first, in order, in the next round trip once it
answers. A single acd loses nothing by it. Several processes sharing the Redis cannot
see each other's claims meanwhile: one of them may ring an agent another has given a
call (a claim owed that Redis refuses on its return is logged). Refusing new
assignments instead would strand every caller of a process cut off from Redis, the
failure acd is built to survive; callers come first.

Pub/sub channel ``{prefix}claims:released`` carries the agent id of each
release, for other processes to feed `AgentClaimReleased` to their engine.
The claim TTL (default 4 h) only matters if a process dies holding claims;
use `refresh()` from a heartbeat with a shorter TTL to free them sooner.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from acd.adapters.redis.client import Redis
from acd.adapters.redis.link import RedisLink, RedisUnavailable, bounded, unreachable
from acd.adapters.redis.store import Scripts
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.snapshot import Changes, Snapshot

log = logging.getLogger(__name__)

# One script runs a batch of claim operations, in order, in one round trip.
# KEYS: agent key and call key per operation; ARGV: ttl ms, release channel,
# owner, then (op, agent id, call id) per operation. Ops: c claim (bind both),
# r reserve (the agent only: ring all), x release, e extend expiry.
CLAIMS_LUA = """
local ttl, channel, owner = ARGV[1], ARGV[2], ARGV[3]
local out = {}
for i = 1, (#ARGV - 3) / 3 do
  local op, agent, call = ARGV[3 * i + 1], ARGV[3 * i + 2], ARGV[3 * i + 3]
  local akey, ckey = KEYS[2 * i - 1], KEYS[2 * i]
  local my_call, my_agent = call .. '\t' .. owner, agent .. '\t' .. owner
  local held, bound = redis.call('GET', akey), redis.call('GET', ckey)
  local free = (not held or held == my_call) and (not bound or bound == my_agent)
  local ok = 0
  if op == 'c' and free then
    redis.call('SET', akey, my_call, 'PX', ttl)
    redis.call('SET', ckey, my_agent, 'PX', ttl)
    ok = 1
  elseif op == 'r' and free then
    redis.call('SET', akey, my_call, 'PX', ttl)
    ok = 1
  elseif op == 'x' then
    if held == my_call then
      redis.call('DEL', akey)
      redis.call('PUBLISH', channel, agent)
      ok = 1
    end
    if bound == my_agent then redis.call('DEL', ckey) end
  elseif op == 'e' and held == my_call then
    redis.call('PEXPIRE', akey, ttl)
    if bound == my_agent then redis.call('PEXPIRE', ckey, ttl) end
    ok = 1
  end
  out[i] = ok
end
return out
"""

# KEYS: meta, agents, calls, queues; ARGV: clear first (0/1), version, period,
# seq, then (section index 2-4, field, JSON or '' to delete) per record.
SAVE_LUA = """
if ARGV[1] == '1' then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4]) end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'period', ARGV[3], 'seq', ARGV[4])
for i = 5, #ARGV, 3 do
  local key = KEYS[tonumber(ARGV[i])]
  if ARGV[i + 2] == '' then
    redis.call('HDEL', key, ARGV[i + 1])
  else
    redis.call('HSET', key, ARGV[i + 1], ARGV[i + 2])
  end
end
return 1
"""

SECTIONS = ("agents", "calls", "queues")
#: how long the routing core's one task waits for claims before deciding them itself
CLAIM_SECONDS = 0.5


class RoutingStore:
    def __init__(self, redis: Redis, prefix: str = "acd:", *, owner: str = "acd",
                 claim_ttl_seconds: float = 4 * 3600, link: RedisLink | None = None) -> None:
        self._redis = redis
        self._link = link  # while it says Redis is away, claims are decided here
        self._p = prefix
        self._owner = owner
        self._ttl_ms = str(int(claim_ttl_seconds * 1000))
        self._scripts = Scripts(redis)
        #: releases the gate deferred (see gate()), and claims decided while Redis was
        #: away: applied first, in order, by the next round trip
        self._releases: list[tuple[str, str, str]] = []
        #: call -> the agent this process claimed bound for it (a single agent's ring)
        self._bound: dict[str, str] = {}

    @property
    def released_channel(self) -> str:
        return f"{self._p}claims:released"

    def _key(self, name: str) -> str:
        return f"{self._p}routing:{name}"

    # -- state ----------------------------------------------------------------------

    async def save(self, changes: Changes) -> None:
        """Write one increment from `engine.take_changes()`, atomically, in one round trip."""
        await self._save(changes, clear=False)

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        """Replace everything with a full snapshot (first start, after a reload)."""
        await self._save(snapshot, clear=True)

    async def _save(self, data: Mapping[str, Any], *, clear: bool) -> None:
        args = ["1" if clear else "0", str(data.get("version", 1)), str(data.get("period", "")),
                str(data.get("seq", 0))]
        for index, section in enumerate(SECTIONS, start=2):
            for name, value in data.get(section, {}).items():
                encoded = "" if value is None else json.dumps(value, separators=(",", ":"))
                args += [str(index), name, encoded]
        await self._run("save", SAVE_LUA, [self._key(s) for s in ("meta", *SECTIONS)], args)

    async def load(self) -> Snapshot | None:
        """The persisted state in snapshot shape, or None when nothing was saved."""
        meta = await self._redis.hgetall_asdict(self._key("meta"))
        if not meta:
            return None
        return Snapshot(version=int(meta.get("version", 1)), period=meta.get("period", ""),
                        seq=int(meta.get("seq", 0)), agents=await self._section("agents"),
                        calls=await self._section("calls"),
                        queues=await self._section("queues"))

    async def _section(self, section: str) -> dict[str, Any]:
        raw = await self._redis.hgetall_asdict(self._key(section))
        return {k: json.loads(v) for k, v in raw.items()}

    async def clear(self) -> None:
        await self._redis.delete([self._key(s) for s in (*SECTIONS, "meta")])

    # -- claims ------------------------------------------------------------------------

    def _agent(self, agent_id: str) -> str:
        return f"{self._p}claim:agent:{agent_id}"

    def _call(self, call_id: str) -> str:
        return f"{self._p}claim:call:{call_id}"

    async def claim(self, agent_id: str, call_id: str) -> bool:
        """Bind agent and call to each other, unless either is bound to someone else."""
        return (await self.batch([("c", agent_id, call_id)]))[0]

    async def reserve(self, call_id: str, agent_ids: Iterable[str]) -> list[str]:
        """Ring all: reserve each free agent for the call; returns those reserved."""
        agents = list(agent_ids)
        got = await self.batch([("r", a, call_id) for a in agents])
        return [a for a, ok in zip(agents, got, strict=True) if ok]

    async def release(self, agent_id: str, call_id: str) -> bool:
        """Undo this process's claim or reservation of exactly this pair."""
        return (await self.batch([("x", agent_id, call_id)]))[0]

    async def refresh(self, agent_id: str, call_id: str) -> bool:
        """Extend a held claim's expiry (heartbeat for long calls with a short TTL)."""
        return (await self.batch([("e", agent_id, call_id)]))[0]

    async def batch(self, ops: list[tuple[str, str, str]]) -> list[bool]:
        """Run (op, agent, call) claim operations in order, atomically, in one round trip."""
        if not ops:
            return []
        keys: list[str] = []
        args = [self._ttl_ms, self.released_channel, self._owner]
        for op, agent_id, call_id in ops:
            keys += [self._agent(agent_id), self._call(call_id)]
            args += [op, agent_id, call_id]
        result = await self._run("claims", CLAIMS_LUA, keys, args)
        return [bool(r) for r in result]

    async def release_stale(self, agent_ids: list[str], keep: dict[str, str]) -> list[str]:
        """After a restart: release this owner's claims on agents that the restored routing
        state does not hold for that call (`keep`: agent -> call it rings or talks to).

        A kill -9 loses the releases not yet written (they wait for the next round
        trip); without this, each such agent stayed claimed by a finished call until the
        claim's TTL (hours), and every offer to them was lost. Returns the agents freed."""
        if not agent_ids:
            return []
        keys = [self._agent(a) for a in agent_ids]
        values: list[str | None] = []
        for start in range(0, len(keys), 1000):
            got = await self._redis.mget_aslist(keys[start:start + 1000])
            values += list(got)
        stale: list[tuple[str, str, str]] = []
        for agent_id, value in zip(agent_ids, values, strict=True):
            if value is None:
                continue
            call_id, _, owner = str(value).partition("\t")
            if owner == self._owner and keep.get(agent_id) != call_id:
                stale.append(("x", agent_id, call_id))
        await self.batch(stale)
        return [agent_id for _, agent_id, _ in stale]

    async def holder(self, agent_id: str) -> str | None:
        """The call holding this agent (whichever process claimed it), or None."""
        value = await self._redis.get(self._agent(agent_id))
        return str(value).split("\t", 1)[0] if value is not None else None

    async def bound_agent(self, call_id: str) -> str | None:
        value = await self._redis.get(self._call(call_id))
        return str(value).split("\t", 1)[0] if value is not None else None

    async def gate(self, commands: list[cmd.Command]
                   ) -> tuple[list[cmd.Command], list[ev.Event]]:
        """Claim what the engine's commands offer before they are executed (one round trip).

        Returns the commands to execute (ring targets another process holds are
        removed; a ring left with no target is dropped) and the AgentClaimLost
        events to feed back to the engine, which then offers the caller to the next.

        Releases wait (`flush_releases`, or the next claims' round trip, where they go
        first: an agent released and claimed again in one script); a single agent's
        ring is claimed bound at once, so its answer (CallRouted) needs no round trip.
        """
        ops: list[tuple[str, str, str]] = []
        claimed: list[cmd.Command] = []  # the commands whose claims are in `ops`, in order
        for c in commands:
            if isinstance(c, cmd.RingAgents):
                op = "r" if len(c.targets) > 1 else "c"
                ops += [(op, t.agent_id, c.call_id) for t in c.targets]
                claimed.append(c)
                if op == "c":
                    self._bound[c.call_id] = c.targets[0].agent_id
            elif isinstance(c, cmd.PlaceCallback):
                ops.append(("c", c.agent_id, c.call_id))
                claimed.append(c)
                self._bound[c.call_id] = c.agent_id
            elif isinstance(c, cmd.CallRouted):
                if self._bound.get(c.call_id) != c.agent_id:
                    ops.append(("c", c.agent_id, c.call_id))
                    claimed.append(c)
                    self._bound[c.call_id] = c.agent_id
            elif isinstance(c, cmd.ReleaseAgent):
                self._releases.append(("x", c.agent_id, c.call_id))
                self._bound.pop(c.call_id, None)
        if not ops:
            return list(commands), []
        releases, self._releases = self._releases, []
        try:
            if self._link is not None and not self._link.up:
                raise RedisUnavailable("Redis is away")
            done = await bounded(self.batch(releases + ops), CLAIM_SECONDS)
        except RedisUnavailable:  # (the link says so, once)
            self._releases = releases + ops + self._releases  # owed, in order
            return list(commands), []  # decided here: see the module's docstring
        except Exception:
            self._releases = releases + self._releases
            raise
        _log_refused(releases, done)
        results = iter(done[len(releases):])
        outcome: dict[int, list[bool]] = {}
        for c in claimed:
            count = len(c.targets) if isinstance(c, cmd.RingAgents) else 1
            outcome[id(c)] = [next(results) for _ in range(count)]
        keep: list[cmd.Command] = []
        lost: list[ev.Event] = []
        for c in commands:
            got_all = outcome.get(id(c))
            if isinstance(c, cmd.RingAgents) and got_all is not None:
                got = [t for t, ok in zip(c.targets, got_all, strict=True) if ok]
                lost += [ev.AgentClaimLost(t.agent_id, c.call_id) for t in c.targets
                         if t not in got]
                if got:
                    keep.append(cmd.RingAgents(c.call_id, c.queue, tuple(got), c.timeout))
                continue
            if isinstance(c, cmd.PlaceCallback) and got_all is not None and not got_all[0]:
                lost.append(ev.AgentClaimLost(c.agent_id, c.call_id))
                continue
            if isinstance(c, cmd.CallRouted) and got_all is not None and not got_all[0]:
                log.warning("call %s: answered by agent %s but bound to another agent in Redis",
                            c.call_id, c.agent_id)
            keep.append(c)
        return keep, lost

    async def flush_releases(self) -> None:
        """Apply the releases the gate deferred (other processes may take the agents)."""
        releases, self._releases = self._releases, []
        if releases:
            try:
                done = await self.batch(releases)
            except Exception:
                self._releases = releases + self._releases  # Redis away: try again later
                raise
            _log_refused(releases, done)

    async def _run(self, name: str, code: str, keys: list[str], args: list[str]) -> Any:
        return await self._scripts.run(name, code, keys, args)


def _log_refused(owed: list[tuple[str, str, str]], done: list[bool]) -> None:
    """A claim decided while Redis was away that another process holds now."""
    for (op, agent_id, call_id), ok in zip(owed, done, strict=False):
        if op in ("c", "r") and not ok:
            log.warning("call %s: agent %s was given it while Redis was away, but another "
                        "acd holds the agent now: the agent may have two calls",
                        call_id, agent_id)


def _meta(data: dict[str, Any]) -> dict[str, str]:
    return {"version": str(data.get("version", 1)), "period": str(data.get("period", "")),
            "seq": str(data.get("seq", 0))}


class SaveBehind:
    """The routing core's changes written a moment after they happen: every event of
    `delay` seconds in one round trip (with the releases the gate deferred), instead of
    one round trip per event. A crash loses at most that moment, which a restart
    recovers like any other (the calls come back; claims stay with their owner).
    """

    def __init__(self, store: RoutingStore, take_changes: Callable[[], Changes],
                 delay: float = 0.02) -> None:
        self.store = store
        self._take = take_changes
        self.delay = delay
        self._timer: asyncio.TimerHandle | None = None
        self._unsaved: Changes | None = None  # changes a failed write still owes Redis
        self._writing: asyncio.Task[None] | None = None

    async def after_batch(self, _commands: list[cmd.Command]) -> None:
        """The dispatcher's hook: decides at once, writes later."""
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.delay, self._due)

    def _due(self) -> None:
        self._timer = None
        if self._writing is None or self._writing.done():
            self._writing = asyncio.get_running_loop().create_task(self.flush())
        else:  # the last write is still on its way: this one follows it
            self._timer = asyncio.get_running_loop().call_later(self.delay, self._due)

    async def flush(self) -> None:
        changes = merge(self._unsaved, self._take())
        self._unsaved = None
        try:
            await self.store.save(changes)
            await self.store.flush_releases()
        except Exception as exc:
            if not unreachable(exc):  # Redis away is logged once, by its link
                log.exception("routing state not saved; retrying with the next change")
            self._unsaved = changes

    async def close(self) -> None:
        """Shutdown: what is owed is written now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._writing is not None:
            await asyncio.gather(self._writing, return_exceptions=True)
        await self.flush()


def merge(older: Changes | None, newer: Changes) -> Changes:
    """Two increments as one: the newer record of each agent, caller and queue wins."""
    if older is None:
        return newer
    merged: Changes = {**newer, "agents": {**older["agents"], **newer["agents"]},
                       "calls": {**older["calls"], **newer["calls"]},
                       "queues": {**older["queues"], **newer["queues"]}}
    return merged
