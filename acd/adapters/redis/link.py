"""Whether Redis answers now: one truth for health, for the writes held while it is away,
and for the one log line that says it went (and the one that says it is back).

The pool's connections report when they are logged in and when they are lost (acd.
adapters.redis.connection); a PING every HEARTBEAT_SECONDS catches a Redis that keeps
its connections but stops answering (a stopped process, a long script, a full disk).
Code outside the adapters sees only `RedisUnavailable`, a builtin ConnectionError.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncio_redis

log = logging.getLogger(__name__)

T = TypeVar("T")

#: how long one command on the call path may wait for Redis before the call goes on
#: without it (Redis answers in well under a millisecond when it answers at all)
CALL_PATH_SECONDS = 1.0
#: a PING this often while connected, answered within as long
HEARTBEAT_SECONDS = 1.0
#: error replies of a Redis that will take the command again soon (starting, a script
#: running, a replica promoted or not yet): the write is held, not dropped
TRANSIENT_REPLIES = ("LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN")


class RedisUnavailable(ConnectionError):
    """Redis cannot be reached right now (stopped, restarting, not answering in time)."""


#: what a command raises when Redis is away (an HTTP request then answers 503)
UNREACHABLE_ERRORS: tuple[type[Exception], ...] = (RedisUnavailable,
                                                   asyncio_redis.NotConnectedError)


def unreachable(exc: BaseException) -> bool:
    """Whether a failed command says Redis is away (try again later), rather than a
    mistake that trying again would repeat (a wrong type, a script error)."""
    if isinstance(exc, asyncio_redis.NotConnectedError | TimeoutError | OSError):
        return True  # OSError: also ConnectionError, so RedisUnavailable
    return isinstance(exc, asyncio_redis.ErrorReply) and str(exc).startswith(TRANSIENT_REPLIES)


async def bounded(work: Awaitable[T], seconds: float = CALL_PATH_SECONDS) -> T:
    """`work`, or RedisUnavailable when Redis is away or does not answer within `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            return await work
    except Exception as exc:
        if unreachable(exc) and not isinstance(exc, RedisUnavailable):
            raise RedisUnavailable(str(exc) or type(exc).__name__) from exc
        raise


class RedisLink:
    """Up while at least one connection is logged in and Redis answers PINGs."""

    def __init__(self, where: str) -> None:
        self.where = where
        self._ready: set[int] = set()  # id() of the connections logged in
        self._scout: int | None = None  # id() of the one connection trying fast while down
        self._stalled = ""  # why PINGs fail while connections stand ('' when they answer)
        self._refused = ""  # why Redis refused a login, logged once per outage
        self._down_since: float | None = None  # monotonic; None while up or never up
        self._up = asyncio.Event()
        self._on_return: list[Callable[[], None]] = []
        #: times Redis went away since start (the metrics)
        self.outages = 0

    @property
    def up(self) -> bool:
        return bool(self._ready) and not self._stalled

    def on_return(self, callback: Callable[[], None]) -> None:
        """Call `callback` each time Redis answers again after an outage."""
        self._on_return.append(callback)

    async def wait_up(self) -> None:
        await self._up.wait()

    # -- what the connections report ------------------------------------------------------

    def connection_ready(self, connection: object) -> None:
        self._ready.add(id(connection))
        if self._scout == id(connection):
            self._scout = None
        self._changed("")

    def scouting(self, connection: object) -> bool:
        """Whether this connection tries to reach Redis at the fast pace while it is away:
        one does; the others follow when it is back (64 connections trying every
        0.25 s cost 4 % of a core)."""
        if self._scout is None:
            self._scout = id(connection)
        return self._scout == id(connection)

    def connection_lost(self, connection: object) -> None:
        self._ready.discard(id(connection))
        if not self._ready:
            self._stalled = ""  # a new connection is a new start: its login answered
        self._changed("the connection was lost")

    def login_refused(self, why: str) -> None:
        if why != self._refused:
            self._refused = why
            log.error("Redis at %s refused acd's login (%s): check redis: in the config",
                      self.where, why)

    # -- the heartbeat ----------------------------------------------------------------------

    async def watch(self, ping: Callable[[], Awaitable[object]]) -> None:
        """Run until cancelled: while connected, a PING every HEARTBEAT_SECONDS."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            if not self._ready:
                continue  # the connections say when they are back
            try:
                await bounded(ping(), HEARTBEAT_SECONDS)
            except RedisUnavailable as exc:
                if self._ready and not isinstance(exc.__cause__,
                                                  asyncio_redis.NotConnectedError):
                    self._stalled = str(exc) or "no answer"
                    self._changed(f"no answer to PING within {HEARTBEAT_SECONDS:g} s")
            except Exception:
                log.exception("Redis heartbeat failed")
            else:
                if self._stalled:
                    self._stalled = ""
                    self._changed("")

    def _changed(self, why: str) -> None:
        up = self.up
        if up == self._up.is_set():
            return
        if not up:
            self._up.clear()
            self._down_since = time.monotonic()
            self.outages += 1
            log.error("Redis at %s is unreachable (%s): calls are served from memory; call "
                      "records and routing state are kept and written when it is back",
                      self.where, why)
            return
        self._up.set()
        self._refused = ""
        if self._down_since is not None:
            log.warning("Redis at %s is back after %.1f s", self.where,
                        time.monotonic() - self._down_since)
            self._down_since = None
            for callback in self._on_return:
                try:
                    callback()
                except Exception:
                    log.exception("a task for Redis's return failed")
