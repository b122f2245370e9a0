"""Redis: the connection, call records, active calls and the global announcement.

Keys written here (all under the configured prefix, default `acd:`):

| key                       | type | content                                   | expiry |
|---------------------------|------|-------------------------------------------|--------|
| call:{call_id}            | hash | CallRecord fields (acd.callflow.record)             | none   |
| calls:by_start            | zset | call_id scored by arrival time (epoch s)  | none   |
| calls:active              | set  | call ids not yet closed (restart recovery)| none   |
| announcement              | str  | JSON list of prompt refs, absent when off | none   |

Routing state lives in acd.adapters.redis.routing_store, caller lists in
acd.adapters.redis.list_store; each module documents its own keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncio_redis

from acd.adapters.redis.client import LuaScript, Redis
from acd.callflow.record import CallRecord
from acd.config.settings import RedisConfig

log = logging.getLogger(__name__)


class _UncheckedProtocol(asyncio_redis.RedisProtocol):  # type: ignore[misc]
    """asyncio-redis checks every argument's type with inspect.getcallargs on every
    command: a tenth of acd's CPU under load, for mistakes mypy and the tests catch."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(enable_typechecking=False, **kwargs)


class _TlsConnection(asyncio_redis.Connection):  # type: ignore[misc]
    """asyncio_redis's connection over TLS (it only knows plain TCP and unix sockets)."""

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


async def _probe(config: RedisConfig) -> None:
    """One connection tried, authenticated and closed before the pool opens.

    asyncio_redis's own connections retry in silence and authenticate in a task whose
    failure nobody hears, so a refused port, a certificate that does not verify or a
    password the server refuses is seen here first, with what to do about it.
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


async def _open_pool(config: RedisConfig, poolsize: int) -> asyncio_redis.Pool:
    await _probe(config)
    password = config.password or None
    if config.socket:  # asyncio_redis: port 0 means `host` is a unix socket's path
        return await asyncio_redis.Pool.create(
            host=config.socket, port=0, db=config.db, password=password,
            poolsize=poolsize, auto_reconnect=True, protocol_class=_UncheckedProtocol)
    if not config.tls:
        return await asyncio_redis.Pool.create(
            host=config.host, port=config.port, db=config.db, password=password,
            poolsize=poolsize, auto_reconnect=True, protocol_class=_UncheckedProtocol)
    # asyncio_redis's Pool.create builds plain connections; the same pool, built from
    # TLS ones (Pool keeps them in _connections and hands them out round robin).
    class TlsConnection(_TlsConnection):
        ssl_context = _tls_context(config)
        server_hostname = config.host if config.tls_verify_hostname else None

    pool = asyncio_redis.Pool()
    pool._host, pool._port, pool._poolsize = config.host, config.port, poolsize
    pool._connections = list(await asyncio.gather(*(
        TlsConnection.create(host=config.host, port=config.port, db=config.db,
                             password=password, auto_reconnect=True,
                             protocol_class=_UncheckedProtocol)
        for _ in range(poolsize))))
    return pool


def where_is(config: RedisConfig) -> str:
    return config.socket or f"{config.host}:{config.port}"


async def connect_redis(config: RedisConfig, *, poolsize: int = 4,
                        retry_forever: bool = True) -> asyncio_redis.Pool:
    """Open a pool (AUTH and TLS as configured); while Redis is unreachable, say so and
    retry with backoff. A refused password is not retried: it will not get better."""
    delay = 0.5
    while True:
        try:
            pool = await asyncio.wait_for(_open_pool(config, poolsize), 10)
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


class RedisRefused(Exception):
    """Redis answered but will not serve acd (a wrong password, AUTH required)."""


def changes_channel(prefix: str) -> str:
    """The pub/sub channel on which writers say what changed ("lists", "announcement"),
    so that every acd sharing the Redis reads it again (acd.adapters.redis.changes)."""
    return f"{prefix}changes"


def score_bound(value: float, *, exclude: bool = False) -> object:
    """asyncio_redis's ZScoreBoundary, which wants a float or the strings '+inf'/'-inf'.

    It writes a float with six decimals: fine for a range's ends, not for a cursor.
    """
    from asyncio_redis import ZScoreBoundary

    if value == float("inf"):
        return ZScoreBoundary("+inf")
    if value == float("-inf"):
        return ZScoreBoundary("-inf")
    return ZScoreBoundary(float(value), exclude_boundary=exclude)


class Scripts:
    """Lua scripts by name, loaded on first use and again after Redis forgot them.

    One EVALSHA is one round trip on any pooled connection, where MULTI holds a
    connection for every command of the transaction: under load the pool ran dry.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._loaded: dict[str, LuaScript] = {}

    # Any: what the script returns (each caller knows its script's reply)
    async def run(self, name: str, code: str, keys: list[str], args: list[str]) -> Any:
        for attempt in (1, 2):
            script = self._loaded.get(name)
            if script is None:
                script = self._loaded[name] = await self._redis.register_script(code)
            try:
                reply = await script.run(keys=keys, args=args)
                return await reply.return_value()
            except asyncio_redis.ScriptKilledError:
                # asyncio_redis reports NOSCRIPT (Redis restarted, SCRIPT FLUSH) this way
                self._loaded.pop(name, None)
                if attempt == 2:
                    raise
        return None


# KEYS: call hash, calls:by_start, calls:active; ARGV: call id, arrival, field, value...
_OPEN_CALL = """
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
"""
# KEYS: call hash, calls:by_start; ARGV: call id, arrival, field, value...
_RECORD_CALL = """
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
"""
# KEYS: call hash, calls:active; ARGV: call id, field, value...
_CLOSE_CALL = """
if #ARGV > 1 then redis.call('HSET', KEYS[1], unpack(ARGV, 2)) end
redis.call('SREM', KEYS[2], ARGV[1])
"""


# KEYS: calls:by_start; ARGV: first rank, last rank, call hash key prefix.
# The records of a rank range as one JSON text. asyncio_redis parses a reply in
# Python, one coroutine per item, 46 items per HGETALL: read one at a time or
# pipelined, a record cost ~250 us on the bench machine, this ~25 (docs/
# benchmarks.md). The hashes' names come from the zset, so they cannot be
# declared in KEYS (fine on one Redis; acd does not use Cluster). An empty table
# would encode as '{}', hence the '[]'.
_CALLS_BY_RANK = """
local ids = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2])
if #ids == 0 then return '[]' end
local out = {}
for i, id in ipairs(ids) do
  local flat = redis.call('HGETALL', ARGV[3] .. id)
  local record = {}
  for j = 1, #flat, 2 do record[flat[j]] = flat[j + 1] end
  out[i] = record
end
return cjson.encode(out)
"""

#: a call record as stored in its hash: CallRecord.to_hash()
CallHash = dict[str, str]
#: records per script run: Redis spends ~10 us on each and serves no one else
#: meanwhile, so a batch holds it ~1 ms; the export's memory is a few batches
BATCH = 100


def flat_fields(fields: dict[str, str]) -> list[str]:
    return [item for pair in fields.items() for item in pair]


def _records(hashes: list[CallHash]) -> list[CallRecord]:
    """The readable records; one damaged hash is logged, not the end of a list."""
    records = []
    for data in hashes:
        try:
            records.append(CallRecord.from_hash(data))
        except (TypeError, ValueError) as exc:
            log.error("skipping unreadable call record %s: %s", data.get("call_id", "?"), exc)
    return records


class CallStore:
    def __init__(self, redis: Redis, prefix: str = "acd:") -> None:
        self._redis = redis
        self._p = prefix
        self._scripts = Scripts(redis)

    def _key(self, call_id: str) -> str:
        return f"{self._p}call:{call_id}"

    # -- the call session's writes (acd.callflow): whole, changes, the last changes ----

    async def open_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        await self._scripts.run(
            "open_call", _OPEN_CALL,
            [self._key(call_id), f"{self._p}calls:by_start", f"{self._p}calls:active"],
            [call_id, repr(fields["arrived_at"]), *flat_fields(CallRecord.encode(fields))])

    async def save_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        if changes:
            await self._redis.hmset(self._key(call_id), CallRecord.encode(changes))

    async def close_call(self, call_id: str, changes: Mapping[str, object]) -> None:
        await self._scripts.run(
            "close_call", _CLOSE_CALL, [self._key(call_id), f"{self._p}calls:active"],
            [call_id, *flat_fields(CallRecord.encode(changes))])

    async def record_call(self, call_id: str, fields: Mapping[str, object]) -> None:
        await self._scripts.run(
            "record_call", _RECORD_CALL, [self._key(call_id), f"{self._p}calls:by_start"],
            [call_id, repr(fields["arrived_at"]), *flat_fields(CallRecord.encode(fields))])

    async def get_call(self, call_id: str) -> CallRecord | None:
        data = await self._redis.hgetall_asdict(self._key(call_id))
        return CallRecord.from_hash(data) if data else None

    async def active_call_ids(self) -> set[str]:
        return set(await self._redis.smembers_asset(f"{self._p}calls:active"))

    async def recent_calls(self, limit: int = 100) -> list[CallRecord]:
        """The `limit` latest calls, newest first."""
        if limit < 1:  # ZRANGE 0 -1 is the whole set
            return []
        total = int(await self._redis.zcard(f"{self._p}calls:by_start"))
        records: list[CallRecord] = []
        async for batch in self._by_rank(max(0, total - limit), total):
            records.extend(_records(batch))
        return records[::-1]

    async def call_hashes(self, since: float = 0, until: float = float("inf"),
                          ) -> AsyncIterator[list[CallHash]]:
        """Calls arrived in [since, until] as stored, oldest first, BATCH at a time.

        The stored form (CallRecord.to_hash) is what an export writes: parsing
        each into a CallRecord and back cost more than reading it. The range is
        fixed by rank when iteration starts: calls that arrive while it runs rank
        after it, so no row is skipped or repeated because of them.
        """
        by_start = f"{self._p}calls:by_start"
        first = int(await self._redis.zcount(by_start, score_bound(float("-inf")),
                                             score_bound(since, exclude=True)))
        end = int(await self._redis.zcount(by_start, score_bound(float("-inf")),
                                           score_bound(until)))
        async for batch in self._by_rank(first, end):
            yield batch

    async def _by_rank(self, first: int, end: int) -> AsyncIterator[list[CallHash]]:
        """The hashes of the calls ranked first..end-1 in calls:by_start, one script
        run per batch; a call whose hash is gone is left out.

        Ranks, not ZRANGEBYSCORE with LIMIT: an offset is walked one member at a
        time (quadratic over an export), and a score as a cursor would be rounded
        to six decimals (score_bound).
        """
        for start in range(first, end, BATCH):
            text = await self._scripts.run(
                "calls_by_rank", _CALLS_BY_RANK, [f"{self._p}calls:by_start"],
                [str(start), str(min(start + BATCH, end) - 1), f"{self._p}call:"])
            yield [data for data in json.loads(text) if data]

    # -- the global announcement (IVR) ---------------------------------------

    async def set_announcement(self, prompts: list[dict[str, str]] | None) -> None:
        key = f"{self._p}announcement"
        if prompts:
            await self._redis.set(key, json.dumps(prompts, ensure_ascii=False))
        else:
            await self._redis.delete([key])
        await self._redis.publish(changes_channel(self._p), "announcement")

    async def announcement(self) -> list[object] | None:
        raw = await self._redis.get(f"{self._p}announcement")
        return json.loads(raw) if raw else None
