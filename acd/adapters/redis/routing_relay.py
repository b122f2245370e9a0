"""Redis: routing events from every acd to the one that leads the routing core, and
its orders back to the acd that holds each call (cluster.mode: active).

| key                   | type | content                                          |
|-----------------------|------|--------------------------------------------------|
| routing:inbox         | list | events for the leader, oldest at the tail        |
| routing:inbox:taken   | list | events the leader took and has not finished yet  |
| routing:to:<node>     | list | the leader's answers and orders for that node    |
|                       |      | (expires a day after it was last empty)          |
| routing:owners        | hash | call id -> the node whose FastAGI holds the call |

A follower pushes `{"id", "from", "event"}` (id '' for a post), or `{"own", "from"}`
for a call it took over from an acd that died. The leader moves entries to `taken` (up
to BATCH at a time), hands each to its dispatcher and removes it once handled, i.e.
once the routing commit has saved its batch; a leader killed meanwhile leaves it for
the next one, which handles `taken` first. An entry handled and saved in the moment
before the kill is handled again: the core refuses or ignores a fact that no longer
matches its state (a CallQueued twice is DuplicateCall, a repeated answer or hang-up is
ignored), except a ring failure repeated after the core rang the same agent for the
same caller again within that moment. The leader sends each order about a call to the
call's owner, in the order the core gave them, and a submitted event's answer after
the orders of its batch. Writes go out in order, as many as are waiting in one round
trip (one Lua script).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

import asyncio_redis

from acd.adapters.redis.client import Redis
from acd.adapters.redis.store import Scripts
from acd.cluster.codec import Codec, routing_codec
from acd.core import commands as cmd
from acd.core import errors as core_errors
from acd.core import events as ev

log = logging.getLogger(__name__)

#: a submitted event unanswered this long: no leader (a failover takes < 5 s)
SUBMIT_SECONDS = 8.0
#: orders for a node that does not read them (it died for good) are dropped this late
NODE_LIST_SECONDS = 86400
#: how long one blocking read waits before it looks at its stop flag again
BLOCK_SECONDS = 1


class RelayRedis(Redis, Protocol):
    """What the relay needs of asyncio_redis (a connection or a pool)."""

    async def lrange_aslist(self, key: str, start: int, stop: int) -> list[str]: ...


class BlockingRedis(Protocol):
    """A connection of its own for the blocking reads (they hold it while they wait)."""

    async def brpoplpush(self, source: str, destination: str, timeout: int) -> str: ...

    async def blpop(self, keys: list[str], timeout: int) -> Any: ...


class LeaderUnreachable(Exception):
    """No acd led the routing core within SUBMIT_SECONDS: try again shortly."""


def _keys(prefix: str) -> tuple[str, str, str]:
    return f"{prefix}routing:inbox", f"{prefix}routing:inbox:taken", f"{prefix}routing:owners"


def to_node(prefix: str, node: str) -> str:
    return f"{prefix}routing:to:{node}"


async def _timed_out(call: Awaitable[Any]) -> Any:
    """A blocking read; None when it timed out (asyncio_redis raises for that)."""
    try:
        return await call
    except asyncio_redis.exceptions.TimeoutError:
        return None


# ARGV: groups of four (what, key, value, extra), run in order in one round trip:
# lpush / rpush (extra: the list's expiry when it is new) / lrem / hset (extra: value) /
# hdel. (Keys outside KEYS: a single Redis, as everywhere in acd; not Redis Cluster.)
_WRITE = """
for i = 1, #ARGV, 4 do
  local what, key, value, extra = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if what == 'lpush' then redis.call('LPUSH', key, value)
  elseif what == 'rpush' then
    if redis.call('RPUSH', key, value) == 1 then redis.call('EXPIRE', key, extra) end
  elseif what == 'lrem' then redis.call('LREM', key, 1, value)
  elseif what == 'hset' then redis.call('HSET', key, value, extra)
  elseif what == 'hdel' then redis.call('HDEL', key, value) end
end
return #ARGV / 4
"""

# KEYS: inbox, taken; ARGV: at most this many. The oldest entries, moved to `taken`.
_TAKE = """
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local entry = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
  if not entry then break end
  out[#out + 1] = entry
end
if #out == 0 then return '[]' end
return cjson.encode(out)
"""

#: writes (and inbox entries) taken in one round trip at most
BATCH = 256


class _Outbox:
    """Writes to Redis in the order they were asked for, by one task, as many as are
    waiting in one round trip (a sink or a post must not wait for Redis)."""

    def __init__(self, scripts: Scripts) -> None:
        self._scripts = scripts
        self._queue: asyncio.Queue[tuple[str, str, str, str]] = asyncio.Queue()
        self._writing = False
        #: time.monotonic() when the last write reached Redis (0: none yet)
        self.last_written = 0.0

    def put(self, what: str, key: str, value: str, extra: str = "") -> None:
        self._queue.put_nowait((what, key, value, extra))

    @property
    def idle(self) -> bool:
        """Nothing waits to be written and nothing is being written."""
        return not self._writing and self._queue.empty()

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            self._writing = True
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            args = [item for write in batch for item in write]
            while True:
                try:
                    await self._scripts.run("relay_write", _WRITE, [], args)
                    break
                except Exception as exc:  # Redis away: no write may be skipped
                    log.warning("routing relay write failed (%s); retrying", exc)
                    await asyncio.sleep(0.25)
            self.last_written = time.monotonic()
            self._writing = self._queue.qsize() > 0


class FollowerRouting:
    """The RoutingPort of an acd that does not lead: events go to the leader's inbox;
    the leader's orders for this node's calls come back to `on_command`."""

    def __init__(self, redis: RelayRedis, blocking: BlockingRedis, prefix: str, node: str,
                 on_command: Callable[[cmd.Command], None], codec: Codec | None = None,
                 submit_seconds: float = SUBMIT_SECONDS) -> None:
        self._redis, self._blocking = redis, blocking
        self._inbox = _keys(prefix)[0]
        self._mine = to_node(prefix, node)
        self.node = node
        self.on_command = on_command
        self._codec = codec or routing_codec()
        self._submit_seconds = submit_seconds
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._calls: set[str] = set()  # queued from here and not completed (has_call)
        self._rings: dict[str, float] = {}  # call id -> the deadline of its last ring order
        self._scripts = Scripts(redis)
        self._outbox = _Outbox(self._scripts)

    def start(self) -> list[asyncio.Task[None]]:
        loop = asyncio.get_running_loop()
        return [loop.create_task(self._outbox.run(), name="routing-forward"),
                loop.create_task(self._read_forever(), name="routing-orders")]

    def post(self, event: ev.Event) -> None:
        self._send("", event)

    async def submit(self, event: ev.Event) -> list[cmd.Command]:
        """Raises the core's domain error (same type) when the leader refuses the event.
        The orders it gives reach on_command; none are returned here."""
        request = uuid.uuid4().hex
        future = self._waiting[request] = asyncio.get_running_loop().create_future()
        self._send(request, event)
        try:
            async with asyncio.timeout(self._submit_seconds):
                await future
        except TimeoutError:
            raise LeaderUnreachable(
                f"no acd leads the routing core (no answer in {self._submit_seconds:g} s); "
                "check that one acd holds the lease, then try again") from None
        finally:
            self._waiting.pop(request, None)
        return []

    def has_call(self, call_id: str) -> bool:
        return call_id in self._calls

    @property
    def sent(self) -> tuple[bool, float]:
        """(nothing of this acd's waits to reach the inbox, when the last write did)."""
        return self._outbox.idle, self._outbox.last_written

    def take_over(self, call_id: str) -> None:
        """A call another acd held came back to this one (the dialplan brought it after
        that acd died): the leader's orders about it come here from now on."""
        self._calls.add(call_id)
        text = json.dumps({"own": call_id, "from": self.node}, separators=(",", ":"))
        self._outbox.put("lpush", self._inbox, text)

    def _send(self, request: str, event: ev.Event) -> None:
        if isinstance(event, ev.CallQueued):
            self._calls.add(event.call_id)
        text = json.dumps({"id": request, "from": self.node,
                           "event": self._codec.plain(event)}, separators=(",", ":"))
        self._outbox.put("lpush", self._inbox, text)

    async def _read_forever(self) -> None:
        while True:
            try:
                reply = await _timed_out(self._blocking.blpop([self._mine], BLOCK_SECONDS))
            except Exception as exc:
                log.warning("routing orders not readable (%s); retrying", exc)
                await asyncio.sleep(0.25)
                continue
            if reply is not None:
                self._take(json.loads(reply.value))

    def _take(self, message: dict[str, Any]) -> None:
        if "command" in message:
            self.deliver(self._codec.typed(message["command"]))
            return
        future = self._waiting.get(message.get("reply", ""))
        if future is None or future.done():
            return  # an answer that came after its submit gave up
        if "error" in message:
            future.set_exception(self._codec.decode_error(message["error"]))
        else:
            future.set_result(None)

    def deliver(self, command: cmd.Command) -> None:
        """An order of the leader about a call of this node (also the leader's own). A
        ring this acd already had is not rung again: a new leader re-sends the rings
        under way (LeaderRelay.resend), and the deadline says which ring it is."""
        if isinstance(command, cmd.RingAgents) and command.deadline:
            if self._rings.get(command.call_id) == command.deadline:
                log.info("call %s: ring re-sent by the new leader already under way here",
                         command.call_id)
                return
            self._rings[command.call_id] = command.deadline
        if isinstance(command, cmd.CallCompleted):
            self._calls.discard(command.call_id)
            self._rings.pop(command.call_id, None)
        try:
            self.on_command(command)
        except Exception:
            log.exception("routing order %r failed on this acd", command)


#: the leader's dispatcher: Dispatcher.enqueue, which puts the event in its queue before
#: it returns (the inbox's order is kept against this acd's own posts); `submit` works too
Submit = Callable[[ev.Event], Awaitable[list[cmd.Command]]]


class LeaderRelay:
    """The leading acd's side: takes the inbox into its dispatcher (`submit`), and is a
    dispatcher sink that sends each call's orders to the node holding the call (the
    leader's own calls go to `local`)."""

    def __init__(self, redis: RelayRedis, blocking: BlockingRedis, prefix: str, node: str,
                 submit: Submit, local: Callable[[cmd.Command], None],
                 codec: Codec | None = None) -> None:
        self._redis, self._blocking = redis, blocking
        self._prefix = prefix
        self._inbox, self._taken, self._owners_key = _keys(prefix)
        self.node = node
        self._submit = submit
        self._local = local
        self._codec = codec or routing_codec()
        self.owners: dict[str, str] = {}
        self._loaded = False
        self._left: list[str] = []  # what the last leader took and did not finish
        #: time.monotonic() when a take that found the inbox empty began (0: none yet)
        self.drained_since = 0.0
        self._scripts = Scripts(redis)
        self._outbox = _Outbox(self._scripts)
        self._handling: set[asyncio.Task[None]] = set()

    async def load(self) -> None:
        """Who holds which call, as the last leader left it: read before this acd's core
        decides anything, or its first orders would miss the acds holding the calls.
        What it took and did not finish says it too (a caller it queued in its last
        moment: the owner and the order may both have died in its outbox)."""
        self.owners = dict(await self._redis.hgetall_asdict(self._owners_key))
        self._left = await self._redis.lrange_aslist(self._taken, 0, -1)
        for raw in reversed(self._left):
            with contextlib.suppress(Exception):  # (an unreadable one is dropped in start)
                message = json.loads(raw)
                if "own" in message:
                    self.owners[str(message["own"])] = str(message["from"])
                elif isinstance(event := self._codec.typed(message["event"]), ev.CallQueued):
                    self.owners[event.call_id] = str(message["from"])
        self._loaded = True

    def resend(self, rings: Iterable[cmd.RingAgents], dead: str = "") -> None:
        """Rings the core holds as under way, sent again to the acds holding the calls
        (before anything newer): the last leader may have died between saving a ring
        and sending it, and the caller would wait out the ring timeout. An acd that had
        the order ignores it (FollowerRouting.deliver: same ring, same deadline). Not
        to `dead`, the last leader: its calls come back to an acd through the dialplan
        (whatever it had rung rings on in Asterisk meanwhile)."""
        resent = 0
        for ring in rings:
            # (no owner known: the dead leader queued it straight into its core and died
            # before saying so)
            if dead and self.owners.get(ring.call_id, dead) == dead:
                continue
            self.on_routing(ring)
            resent += 1
        if resent:
            log.info("routing relay: %d ring(s) under way sent again to the acds holding "
                     "the calls (each acd ignores one it already had)", resent)

    async def start(self) -> list[asyncio.Task[None]]:
        """What the last leader took and did not finish, oldest first; then the inbox
        (and who holds which call, if `load` was not called)."""
        if not self._loaded:
            await self.load()
        left = self._left
        if left:
            log.warning("routing relay: handling %d event(s) the previous leader took "
                        "and did not finish", len(left))
        for raw in reversed(left):
            self._handle(raw)
        loop = asyncio.get_running_loop()
        return [loop.create_task(self._outbox.run(), name="routing-relay-out"),
                loop.create_task(self._read_forever(), name="routing-relay-in")]

    def on_routing(self, command: cmd.Command) -> None:
        """A dispatcher sink (in place of the local registry's)."""
        call_id = getattr(command, "call_id", None)
        if isinstance(command, cmd.PlaceCallback):  # the leader's callback dialer calls the
            self._own(command.call_id, self.node)  # customer into its own FastAGI
        owner = self.owners.get(call_id) if isinstance(call_id, str) else None
        if isinstance(command, cmd.CallCompleted) and owner is not None:
            del self.owners[command.call_id]
            self._outbox.put("hdel", self._owners_key, command.call_id)
        if owner is None or owner == self.node:
            self._local(command)
            return
        text = json.dumps({"command": self._codec.plain(command)}, separators=(",", ":"))
        self._send_to(owner, text)

    def _send_to(self, node: str, text: str) -> None:
        # (the list expires: a node that never comes back leaves none for ever)
        self._outbox.put("rpush", to_node(self._prefix, node), text, str(NODE_LIST_SECONDS))

    def own_here(self, call_id: str) -> None:
        """A caller this acd queued straight into its own core (not through the inbox):
        its orders stay here, and a next leader knows whose call it was."""
        self._own(call_id, self.node)

    def _own(self, call_id: str, node: str) -> None:
        """`node` holds the call from now on: the core's orders about it go there."""
        if self.owners.get(call_id) != node:
            self.owners[call_id] = node
            self._outbox.put("hset", self._owners_key, call_id, node)

    async def _read_forever(self) -> None:
        while True:
            try:  # what is waiting, many at a time; else wait for the next one
                began = time.monotonic()
                taken: list[str] = json.loads(await self._scripts.run(
                    "relay_take", _TAKE, [self._inbox, self._taken], [str(BATCH)]))
                if not taken:
                    # everything written to the inbox before `began` is in the
                    # dispatcher's queue now (_handle enqueues as it takes)
                    self.drained_since = began
                    raw = await _timed_out(self._blocking.brpoplpush(
                        self._inbox, self._taken, BLOCK_SECONDS))
                    taken = [] if raw is None else [raw]
            except Exception as exc:
                log.warning("routing inbox not readable (%s); retrying", exc)
                await asyncio.sleep(0.25)
                continue
            for raw in taken:
                self._handle(raw)

    def _handle(self, raw: str) -> None:
        # each event goes into the dispatcher's queue here, in the inbox's order (so the
        # core takes many in one batch, and this acd's own events posted straight to
        # its dispatcher later never overtake them); a task per event waits for its answer
        try:
            message = json.loads(raw)
            if "own" in message:  # (FollowerRouting.take_over)
                self._own(str(message["own"]), str(message["from"]))
                self._outbox.put("lrem", self._taken, raw)
                return
            event = self._codec.typed(message["event"])
            request, sender = str(message.get("id", "")), str(message["from"])
        except Exception as exc:
            log.error("routing inbox: dropped an entry this acd cannot read (%s): %.200s",
                      exc, raw)
            self._outbox.put("lrem", self._taken, raw)
            return
        if isinstance(event, ev.CallQueued):
            self._own(event.call_id, sender)
        handled = self._submit(event)
        task = asyncio.get_running_loop().create_task(
            self._answer(raw, event, request, sender, handled))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def _answer(self, raw: str, event: ev.Event, request: str, sender: str,
                      handled: Awaitable[list[cmd.Command]]) -> None:
        answer: dict[str, Any] = {"reply": request}
        try:
            await handled
        except core_errors.RoutingError as exc:
            answer["error"] = self._codec.encode_error(exc)
            if not request:
                log.error("routing core refused %s from %s: %s", type(event).__name__,
                          sender, exc)
        except Exception as exc:  # the step failed (logged by the dispatcher): the sender
            answer["error"] = self._codec.encode_error(exc)  # hears it now, not in 8 s
        if request:  # (also to this node: its own sessions forward through Redis too)
            text = json.dumps(answer, separators=(",", ":"))
            self._send_to(sender, text)
        self._outbox.put("lrem", self._taken, raw)

    async def close(self) -> None:
        """A clean stop: what is being handled finishes (what is not stays in Redis)."""
        if self._handling:
            with contextlib.suppress(Exception):
                await asyncio.wait(set(self._handling), timeout=1.0)
