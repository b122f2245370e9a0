"""Redis: the routing core's live state, and atomic agent claims shared by acd processes.

One script commits a batch of the dispatcher's work (`gate(commands, changes)`): the
claims its commands need, in order, then the agents, callers and queues that changed
(`engine.take_changes()`), atomically, in one round trip, before any command runs. So a
restart sees the state before or after a batch, never half of one, and a ring that
goes out is already in the saved state. The state is held back when a claim it counts
on is refused: the script puts it aside in Redis (`routing:held:*`), and the next round
trip, which brings the engine's answer to that refusal, applies it and then its own
changes; so the saved state never shows a ring that was not claimed, and the answer's
trip carries only the answer. What a failed round trip could not write (Redis away) is
owed and goes with the next one. Rewriting the whole
snapshot on every change would cost several MB per event at 10,000 agents and callers;
an increment is usually two to five small JSON records. `load()` reads the hashes back
into the snapshot shape that `RoutingEngine.restore` takes. (Lua rather than MULTI/EXEC
because asyncio_redis waits for every QUEUED reply: 5 commands cost 5 round trips.)

Claims make assignment atomic across processes sharing one Redis: the script sets
``agent -> call`` and ``call -> agent`` together or not at all, so no agent gets two
calls and no call two agents. Ring-all offers `reserve` the agents only
(``agent -> call``); the one who answers is then `claim`-ed, binding the call.

Keys (all under the prefix passed in, default ``acd:``):

| key                    | type   | content                                        | expiry    |
|------------------------|--------|------------------------------------------------|-----------|
| routing:meta           | hash   | version, period, seq                           | none      |
| routing:agents         | hash   | agent_id -> JSON agent record (state, stats)   | none      |
| routing:calls          | hash   | call_id -> JSON caller (waiting, callback...)  | none      |
| routing:queues         | hash   | queue -> JSON: round-robin pointer, fairness   | none      |
|                        |        | floors, handle time, statistics                |           |
| routing:held:{name}    | hash   | a batch held back by a refused claim, as the   | none      |
|                        |        | four above; applied by the next round trip     |           |
| claim:agent:{agent_id} | string | "{call_id}<TAB>{owner}": the call holding it   | claim TTL |
| claim:call:{call_id}   | string | "{agent_id}<TAB>{owner}": the agent bound to it| claim TTL |

Each claim records its owner, the process's stable node name: a process
only re-claims (idempotently, e.g. after a lost reply) or releases its own
claims, so two processes can never share one assignment, and one freeing
it cannot pull it from under the other. Give every process sharing a Redis
its own `owner`, and keep it across restarts (restored claims stay yours).

Pub/sub channel ``{prefix}claims:released`` carries the agent id of each
release, for other processes to feed `AgentClaimReleased` to their engine.
The claim TTL (default 4 h) only matters if a process dies holding claims;
use `refresh()` from a heartbeat with a shorter TTL to free them sooner.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import json.encoder
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from acd.adapters.redis.client import Redis
from acd.adapters.redis.link import RedisLink, RedisUnavailable, bounded
from acd.adapters.redis.routing_script import COMMIT_LUA
from acd.adapters.redis.store import Scripts
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.snapshot import Changes, Snapshot

log = logging.getLogger(__name__)

#: a claim operation: (op, agent id, call id); the ops are listed in routing_script.py
Op = tuple[str, str, str]

SECTIONS = ("agents", "calls", "queues")
#: the script's first keys (KEYS[1..8]): the live state, then the state held back
_STATE_KEYS = ("meta", *SECTIONS, *(f"held:{s}" for s in ("meta", *SECTIONS)))
#: how long the routing core's one task waits for a round trip before deciding itself
CLAIM_SECONDS = 0.5
#: the commands that claim or release (most of a batch's commands do neither)
_CLAIMING = frozenset({cmd.RingAgents, cmd.PlaceCallback, cmd.CallRouted, cmd.ReleaseAgent})


def _record_encoder() -> Callable[[Any], str]:
    """JSON text of one record, compact, as `json.dumps` writes it (floats by `repr`).

    `JSONEncoder.encode` builds a new C encoder for every call (and `json.dumps` a new
    JSONEncoder too): about 3 µs of a record's 8-13 here, for 3-4 records a decision.
    The C encoder is built once instead; `json.encoder.c_make_encoder` is CPython's own
    accelerator (undocumented), so without it the plain encoder is used."""
    plain = json.JSONEncoder(separators=(",", ":"), check_circular=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return plain.encode
    # (markers, default, encoder, indent, key_separator, item_separator, sort_keys,
    # skipkeys, allow_nan): the arguments JSONEncoder.iterencode passes for `plain`
    c_encode = make(None, plain.default, json.encoder.encode_basestring_ascii, None,
                    ":", ",", False, False, True)
    return lambda record: "".join(c_encode(record, 0))


#: one encoder for every record (see above)
_encode = _record_encoder()


#: a section of the saved state read in one reply up to this size, else in slices
_WHOLE_AT_MOST = 2000
_SLICE = 500


class RoutingStore:
    def __init__(self, redis: Redis, prefix: str = "acd:", *, owner: str = "acd",
                 claim_ttl_seconds: float = 4 * 3600, link: RedisLink | None = None) -> None:
        self._redis = redis
        self._link = link  # while it says Redis is away, claims are decided here
        self._p = prefix
        self._owner = owner
        self._ttl_ms = str(int(claim_ttl_seconds * 1000))
        self._scripts = Scripts(redis)
        # One commit at a time, in the order they were made: a write retried after a
        # failure can never land after a newer one.
        self._lock = asyncio.Lock()
        #: the state a failed or held-back round trip still owes Redis
        self._owed: Mapping[str, Any] | None = None
        #: releases a failed round trip still owes (else the agents stay claimed), and
        #: the claims decided here while Redis was away: sent first, in order
        self._owed_releases: list[Op] = []
        #: call -> the agent this process claimed bound for it (a single agent's ring)
        self._bound: dict[str, str] = {}
        #: a refused claim held a batch's state back in Redis (routing:held:*): the next
        #: round trip applies it before its own changes
        self._held = False

    @property
    def released_channel(self) -> str:
        return f"{self._p}claims:released"

    def _key(self, name: str) -> str:
        return f"{self._p}routing:{name}"

    def owes(self) -> bool:
        """Whether state or releases wait for a round trip (Redis was away, or a refused
        claim held the state back)."""
        return self._owed is not None or bool(self._owed_releases) or self._held

    # -- state ----------------------------------------------------------------------

    async def save(self, changes: Changes) -> None:
        """Write one increment from `engine.take_changes()` (after what is owed),
        atomically, in one round trip."""
        await self._commit([], changes)

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        """Replace everything with a full snapshot (first start, after a reload)."""
        await self._commit([], snapshot, replace=True)

    async def flush(self) -> None:
        """Write what failed round trips owe (state and releases), if anything."""
        await self._commit([], None)

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
        key = self._key(section)
        if await self._redis.hlen(key) <= _WHOLE_AT_MOST:
            raw = await self._redis.hgetall_asdict(key)
            return {k: json.loads(v) for k, v in raw.items()}
        # a big section (thousands of agents or callers) in slices, decoded on a thread:
        # one reply of tens of thousands of entries held the event loop (the calls) for
        # a third of a second (bench/bench_follower_refresh.py); a follower reads it often
        cursor = await self._redis.hscan(key)
        cursor.count = _SLICE
        raw = await cursor.fetchall()
        return await asyncio.to_thread(lambda: {k: json.loads(v) for k, v in raw.items()})

    async def clear(self) -> None:
        await self._redis.delete([self._key(s) for s in (*SECTIONS, "meta")] +
                                 [self._key(f"held:{s}") for s in ("meta", *SECTIONS)])

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

    async def batch(self, ops: list[Op]) -> list[bool]:
        """Run (op, agent, call) claim operations in order, atomically, in one round trip."""
        return await self._commit(ops, None)

    async def release_stale(self, agent_ids: list[str], keep: dict[str, str]) -> list[str]:
        """After a restart: release this owner's claims on agents that the restored routing
        state does not hold for that call (`keep`: agent -> call it rings or talks to).

        A kill -9 loses the releases not yet written; without this, each such agent
        stayed claimed by a finished call until the claim's TTL (hours), and every offer
        to them was lost. Returns the agents freed."""
        if not agent_ids:
            return []
        keys = [self._agent(a) for a in agent_ids]
        values: list[str | None] = []
        for start in range(0, len(keys), 1000):
            got = await self._redis.mget_aslist(keys[start:start + 1000])
            values += list(got)
        stale: list[Op] = []
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

    async def gate(self, commands: list[cmd.Command], changes: Changes | None = None
                   ) -> tuple[list[cmd.Command], list[ev.Event]]:
        """Claim what the engine's commands offer before they are executed, and save the
        engine's `changes` with the claims: one atomic script, one round trip.

        Returns the commands to execute (ring targets another process holds are
        removed; a ring left with no target is dropped) and the AgentClaimLost
        events to feed back to the engine, which then offers the caller to the next.
        Claims and releases run in the commands' order (a batch of events may release
        an agent and claim them again). A single agent's ring is claimed bound at once,
        so its answer (CallRouted) needs no claim of its own.
        """
        ops, spans = self._claims(commands)
        if changes is not None and not _changed(changes):
            changes = None  # nothing changed: no round trip for the state alone
        if not ops and changes is None and not self.owes():
            return list(commands), []
        try:
            if self._link is not None and not self._link.up:
                raise RedisUnavailable("Redis is away")
            results = await bounded(self._commit(ops, changes), CLAIM_SECONDS)
        except RedisUnavailable:  # (the link says so, once): decided here, owed in order
            self._owe(ops, changes)
            return list(commands), []
        return self._outcome(commands, spans, results)

    def _owe(self, ops: list[Op], changes: Mapping[str, Any] | None) -> None:
        """What Redis could not take now: the claims (decided here: see the module's
        docstring) and releases in order, and the state, for the next round trip."""
        self._owed_releases = self._owed_releases + ops
        self._owed = merge(self._owed, changes)

    def _claims(self, commands: list[cmd.Command]) -> tuple[list[Op], dict[int, slice]]:
        """The claim operations of these commands, in order, and each command's share."""
        ops: list[Op] = []
        spans: dict[int, slice] = {}  # id(command) -> its operations in `ops`
        for c in commands:
            if type(c) not in _CLAIMING:
                continue
            start = len(ops)
            if isinstance(c, cmd.RingAgents):
                op = "r" if len(c.targets) > 1 else "c"
                ops += [(op, t.agent_id, c.call_id) for t in c.targets]
                if op == "c":
                    self._bound[c.call_id] = c.targets[0].agent_id
            elif isinstance(c, cmd.PlaceCallback):
                ops.append(("c", c.agent_id, c.call_id))
                self._bound[c.call_id] = c.agent_id
            elif isinstance(c, cmd.CallRouted):
                if self._bound.get(c.call_id) != c.agent_id:
                    ops.append(("a", c.agent_id, c.call_id))
                    self._bound[c.call_id] = c.agent_id
            elif isinstance(c, cmd.ReleaseAgent):
                ops.append(("x", c.agent_id, c.call_id))
                self._unbind(c.call_id, c.agent_id)
            if len(ops) > start:
                spans[id(c)] = slice(start, len(ops))
        return ops, spans

    def _outcome(self, commands: list[cmd.Command], spans: dict[int, slice],
                 results: list[bool]) -> tuple[list[cmd.Command], list[ev.Event]]:
        if all(results):  # every claim made, every release done: the usual case
            return list(commands), []
        keep: list[cmd.Command] = []
        lost: list[ev.Event] = []
        for c in commands:
            span = spans.get(id(c))
            got = results[span] if span is not None else []
            if isinstance(c, cmd.RingAgents) and not all(got):
                targets = tuple(t for t, ok in zip(c.targets, got, strict=True) if ok)
                lost += [ev.AgentClaimLost(t.agent_id, c.call_id) for t in c.targets
                         if t not in targets]
                if len(c.targets) == 1:
                    self._unbind(c.call_id, c.targets[0].agent_id)
                if targets:
                    keep.append(dataclasses.replace(c, targets=targets))
                continue
            if isinstance(c, cmd.PlaceCallback) and not all(got):
                lost.append(ev.AgentClaimLost(c.agent_id, c.call_id))
                self._unbind(c.call_id, c.agent_id)
                continue
            if isinstance(c, cmd.CallRouted) and not all(got):
                log.warning("call %s: answered by agent %s but bound to another agent in Redis",
                            c.call_id, c.agent_id)
            keep.append(c)
        return keep, lost

    def _unbind(self, call_id: str, agent_id: str) -> None:
        if self._bound.get(call_id) == agent_id:
            del self._bound[call_id]

    # -- the round trip ------------------------------------------------------------------

    async def _commit(self, ops: list[Op], changes: Mapping[str, Any] | None, *,
                      replace: bool = False) -> list[bool]:
        """Owed releases, then `ops`, then the state (owed, then `changes`; or `changes`
        alone, replacing everything): one script. Returns the results of `ops`."""
        async with self._lock:
            owed, owed_releases = self._owed, self._owed_releases
            state = changes if replace else merge(owed, changes)
            ops = owed_releases + ops
            save = "2" if replace else "1" if state is not None or self._held else "0"
            if not ops and save == "0":
                return []
            keys, args = self._packed(ops, state, save)  # refused here: nothing owed
            self._owed, self._owed_releases = None, []
            try:
                reply: str = await self._scripts.run("commit", COMMIT_LUA, keys, args)
            except BaseException:  # (a timeout cancels us too: nothing may be lost)
                self._owed = merge(owed if replace else state, self._owed)
                self._owed_releases = owed_releases + [op for op in ops[len(owed_releases):]
                                                       if op[0] == "x"] + self._owed_releases
                raise
            if save != "0":  # "h": a claim was refused, the state is held (see gate())
                self._held = reply[0] == "h"
            _log_refused(owed_releases, [flag == "1" for flag in reply[1:]])
            return [flag == "1" for flag in reply[1 + len(owed_releases):]]

    def _packed(self, ops: list[Op], state: Mapping[str, Any] | None,
                save: str) -> tuple[list[str], list[str]]:
        """The script's keys and arguments (see COMMIT_LUA)."""
        keys = [self._key(s) for s in _STATE_KEYS]
        data = state or {}
        meta = ("", "", "") if state is None else (
            str(data.get("version", 1)), str(data.get("period", "")), str(data.get("seq", 0)))
        args = [self._ttl_ms, self.released_channel, self._owner, save, *meta,
                "".join(f"{op}\0{agent_id}\0{call_id}\0" for op, agent_id, call_id in ops)]
        ends = 3 * len(ops)
        for section in SECTIONS:
            records = data.get(section, {})
            args.append("".join(f"{name}\0{'' if value is None else _encode(value)}\0"
                                for name, value in records.items()))
            ends += 2 * len(records)
        if sum(arg.count("\0") for arg in args[7:]) != ends:
            raise ValueError("an agent, call or queue name contains a NUL character")
        args.append("1" if self._held and save == "1" else "0")
        for _, agent_id, call_id in ops:
            keys += [self._agent(agent_id), self._call(call_id)]
        return keys, args


def _log_refused(owed: list[Op], done: list[bool]) -> None:
    """A claim decided while Redis was away that another process holds now."""
    for (op, agent_id, call_id), ok in zip(owed, done, strict=False):
        if op in ("c", "r") and not ok:
            log.warning("call %s: agent %s was given it while Redis was away, but another "
                        "acd holds the agent now: the agent may have two calls",
                        call_id, agent_id)


def merge(older: Mapping[str, Any] | None,
          newer: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """Two increments as one: the newer record of each agent, caller and queue wins."""
    if older is None or newer is None:
        return newer if older is None else older
    return {**newer, **{s: {**older.get(s, {}), **newer.get(s, {})} for s in SECTIONS}}


def _changed(data: Mapping[str, Any]) -> bool:
    return any(data.get(s) for s in SECTIONS)
