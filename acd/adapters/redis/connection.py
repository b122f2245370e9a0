"""Connections to Redis: the pool acd's stores share, and the change feed's connection.

Built on asyncio_redis's Connection and Pool, with three changes that matter when Redis
goes away and comes back:

- a lost connection is tried again every RETRY_SECONDS (asyncio_redis waits 0.5 s ×
  1.5ⁿ, up to a minute: after a 6 s outage acd saw Redis again 4 s after it was back);
- AUTH, SELECT and a PING are answered before the pool hands a connection out
  (asyncio_redis sends AUTH and SELECT from a task of its own while the connection is
  already in use: a command could overtake them and fail with NOAUTH, or write to
  database 0);
- each connection tells the RedisLink when it is logged in and when it is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import ssl
from collections.abc import Awaitable
from typing import Any, TypeVar

import asyncio_redis

from acd.adapters.redis.link import RedisLink
from acd.config.settings import RedisConfig

log = logging.getLogger(__name__)

T = TypeVar("T")

#: between two tries to reach a Redis that is away: a try costs one refused connect
RETRY_SECONDS = 0.25
#: between two tries of the other connections of a pool (they follow the one that
#: tries at RETRY_SECONDS: RedisLink.scouting) and after a refused login
SLOW_RETRY_SECONDS = 2.0
#: for a TCP connect, and for the login's answers, before the try counts as failed
CONNECT_SECONDS = 2.0


class _Protocol(asyncio_redis.RedisProtocol):  # type: ignore[misc]
    """asyncio_redis's protocol, handed out by the pool only once logged in.

    Argument checks are off: asyncio-redis checks every argument's type with
    inspect.getcallargs on every command, a tenth of acd's CPU under load, for
    mistakes mypy and the tests catch.
    """

    def __init__(self, *, password: str | None = None, db: int = 0,
                 link: RedisLink | None = None, **kwargs: Any) -> None:
        # asyncio_redis's own login (from the password and db it is given) would race
        # the first commands: acd's is in _log_in
        super().__init__(enable_typechecking=False, **kwargs)
        self._login = (password, db)
        self.link = link
        self._ready = False
        self._logging_in: asyncio.Task[None] | None = None
        self.lost = asyncio.Event()
        self.closing = False  # closed on purpose (acd stops): not an outage

    @property
    def is_connected(self) -> bool:
        """What the pool asks before it hands this connection out."""
        return bool(self._is_connected and self._ready)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._ready = False
        self.lost.clear()
        super().connection_made(transport)  # (its own login finds no password and no db)
        self._logging_in = asyncio.get_running_loop().create_task(self._log_in())

    async def _log_in(self) -> None:
        password, db = self._login
        try:
            if password:
                await self.auth(password)
            if db:
                await self.select(db)
        finally:  # auth and select keep them, for asyncio_redis's own login next time
            self.password, self.db = None, 0
        await self.ping()
        self._ready = True
        if self.link is not None:
            self.link.connection_ready(self)

    async def logged_in(self) -> None:
        """Returns once Redis answered the login; raises what went wrong."""
        assert self._logging_in is not None
        async with asyncio.timeout(CONNECT_SECONDS):
            await self._logging_in

    def drop(self) -> None:
        """Close the transport (a login that failed): the connection is tried again."""
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        was_ready, self._ready = self._ready, False
        if self._logging_in is not None and not self._logging_in.done():
            self._logging_in.cancel()
        self.lost.set()
        super().connection_lost(exc)
        if was_ready and self.link is not None and not self.closing:
            self.link.connection_lost(self)


class _Connection(asyncio_redis.Connection):  # type: ignore[misc]
    """asyncio_redis's connection, tried again every RETRY_SECONDS while Redis is away."""

    _reconnecting = False

    async def _reconnect(self) -> None:
        if self._reconnecting:  # a failed login closes the transport, which lands here too
            return
        self._reconnecting = True
        try:
            while not self._closing:
                try:
                    async with asyncio.timeout(CONNECT_SECONDS):
                        await self._connect()
                    await self.protocol.logged_in()
                    if self._closing:  # closed while it was logging in
                        self.protocol.drop()
                    return
                except asyncio_redis.ErrorReply as exc:  # NOAUTH, WRONGPASS, a bad db
                    self.protocol.drop()
                    if self.protocol.link is not None:
                        self.protocol.link.login_refused(str(exc))
                    await asyncio.sleep(SLOW_RETRY_SECONDS)
                    continue
                except (OSError, TimeoutError, asyncio.CancelledError, asyncio_redis.Error):
                    if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                        raise  # (the login's own cancellation, from a lost connection, is not)
                self.protocol.drop()
                await self._pause()
        finally:
            self._reconnecting = False

    async def _pause(self) -> None:
        """Until the next try: RETRY_SECONDS for one connection of the pool while Redis is
        away, the others until that one is back (SLOW_RETRY_SECONDS at most)."""
        link = self.protocol.link
        if link is None or link.up or link.scouting(self.protocol):
            await asyncio.sleep(RETRY_SECONDS)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SLOW_RETRY_SECONDS):
                await link.wait_up()

    def close(self) -> None:
        self.protocol.closing = True
        super().close()

    async def until_lost(self, work: Awaitable[T]) -> T:
        """`work`, unless the connection is lost first (asyncio_redis.ConnectionLostError):
        a subscription's next message is never failed by asyncio_redis."""
        waiting = asyncio.ensure_future(work)
        lost = asyncio.ensure_future(self.protocol.lost.wait())
        try:
            await asyncio.wait({waiting, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
        if not waiting.done():
            waiting.cancel()
            raise asyncio_redis.ConnectionLostError(None)
        return waiting.result()


class _TlsConnection(_Connection):
    """Over TLS (asyncio_redis only knows plain TCP and unix sockets)."""

    ssl_context: ssl.SSLContext | None = None
    server_hostname: str | None = None

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: self.protocol, self.host, self.port,
                                     ssl=self.ssl_context,
                                     server_hostname=self.server_hostname)


def _tls_context(config: RedisConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=config.tls_ca_file or None)
    context.check_hostname = config.tls_verify_hostname
    return context


def _connection_class(config: RedisConfig) -> type[_Connection]:
    if not config.tls or config.socket:
        return _Connection

    class TlsConnection(_TlsConnection):
        ssl_context = _tls_context(config)
        server_hostname = config.host if config.tls_verify_hostname else None

    return TlsConnection


async def _probe(config: RedisConfig) -> None:
    """One connection tried, authenticated and closed before the pool opens.

    asyncio_redis's connections retry in silence, so a refused port, a certificate that
    does not verify or a password the server refuses is seen here first, with what to
    do about it.
    """
    context = _tls_context(config) if config.tls else None
    if config.socket:
        reader, writer = await asyncio.open_unix_connection(config.socket)
    else:
        reader, writer = await asyncio.open_connection(
            config.host, config.port, ssl=context,
            server_hostname=config.host if context and config.tls_verify_hostname else None)
    try:
        where = f"Redis at {where_is(config)}"
        if config.password:
            reply = await _ask(reader, writer, "AUTH", config.password)
            if reply.startswith(b"-ERR AUTH") and b"without any password" in reply:
                raise RedisRefused(f"{where} has no password but redis.password is set: "
                                   "give the server a requirepass (or clear redis.password)")
            if reply.startswith(b"-"):
                raise RedisRefused(f"{where} refused redis.password (ACD_REDIS_PASSWORD): "
                                   "check it against the server's requirepass")
        reply = await _ask(reader, writer, "PING")
        if reply.startswith(b"-NOAUTH"):
            raise RedisRefused(f"{where} needs a password: set redis.password "
                               "(ACD_REDIS_PASSWORD) to the server's requirepass")
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


async def _ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
               *words: str) -> bytes:
    """One Redis command in RESP and the first line of its reply."""
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    writer.write(b"".join(parts))
    await writer.drain()
    return await asyncio.wait_for(reader.readline(), 5)


async def _connections(config: RedisConfig, count: int, *, link: RedisLink | None,
                       auto_reconnect: bool) -> list[_Connection]:
    """`count` connections, logged in; none left behind if one cannot be made."""
    host, port = (config.socket, 0) if config.socket else (config.host, config.port)
    kind = _connection_class(config)
    protocol = functools.partial(_Protocol, link=link)
    made = [asyncio.ensure_future(kind.create(
        host=host, port=port, db=config.db, password=config.password or None,
        auto_reconnect=auto_reconnect, protocol_class=protocol)) for _ in range(count)]
    try:
        connections = list(await asyncio.gather(*made))
        if not auto_reconnect:  # (a reconnecting one waited for its login in _reconnect)
            await asyncio.gather(*(c.protocol.logged_in() for c in connections))
        return connections
    except BaseException:
        for task in made:
            if task.done() and not task.cancelled() and task.exception() is None:
                task.result().close()
            task.cancel()
        raise


async def _open_pool(config: RedisConfig, poolsize: int,
                     link: RedisLink | None) -> asyncio_redis.Pool:
    await _probe(config)
    # asyncio_redis's Pool.create builds its own plain connections; the same pool, built
    # from these (Pool keeps them in _connections and hands them out round robin)
    pool = asyncio_redis.Pool()
    pool._host, pool._port, pool._poolsize = config.socket or config.host, config.port, poolsize
    pool._connections = await _connections(config, poolsize, link=link, auto_reconnect=True)
    return pool


def where_is(config: RedisConfig) -> str:
    return config.socket or f"{config.host}:{config.port}"


async def connect_redis(config: RedisConfig, *, poolsize: int = 4, retry_forever: bool = True,
                        link: RedisLink | None = None) -> asyncio_redis.Pool:
    """Open a pool (AUTH and TLS as configured); while Redis is unreachable, say so and
    retry with backoff. A refused password is not retried: it will not get better.
    `link` hears from each connection when it is logged in and when it is lost."""
    delay = 0.5
    while True:
        try:
            pool = await asyncio.wait_for(_open_pool(config, poolsize, link), 10)
            await pool.ping()
            log.info("Redis connected at %s db %s%s", where_is(config), config.db,
                     " over TLS" if config.tls else "")
            return pool
        except asyncio_redis.ErrorReply as exc:  # e.g. a db number the server lacks
            raise RedisRefused(f"Redis at {where_is(config)} refused acd: {exc}. "
                               "Check redis: in the config") from None
        except ssl.SSLCertVerificationError as exc:
            raise RedisRefused(
                f"Redis at {where_is(config)}: its TLS certificate does not "
                f"verify ({exc.verify_message}). Set redis.tls_ca_file to the CA that "
                "signed it") from None
        except (OSError, TimeoutError, ssl.SSLError, asyncio_redis.Error) as exc:
            if not retry_forever:
                raise
            log.error("Redis at %s is unreachable (%s); retrying in %.1f s. "
                      "Start it with scripts/redis.sh start or fix redis: in the config",
                      where_is(config), exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def open_subscriber(config: RedisConfig) -> _Connection:
    """One connection for a subscription, not reconnected by itself: whoever follows
    the subscription opens a new one when it is lost (`until_lost`), and knows that
    messages may have been missed meanwhile."""
    await _probe(config)
    return (await _connections(config, 1, link=None, auto_reconnect=False))[0]


class RedisRefused(Exception):
    """Redis answered but will not serve acd (a wrong password, AUTH required)."""
