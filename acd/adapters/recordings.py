"""Call recordings: where MixMonitor writes them, post-processing, index and retention.

Asterisk's MixMonitor writes `recordings/YYYY/MM/DD/<call-id>.wav` (both sides
mixed, bridged audio only). After the call, pydub measures it and optionally
converts it to MP3; the index in Redis lets supervisors find recordings by
agent, queue, caller and time. Keys (prefix `acd:`):

| key                        | type | content                                 |
|----------------------------|------|-----------------------------------------|
| rec:{call_id}              | hash | path, agent, queue, caller, called, start, duration, size |
| rec:by_time                | zset | call_id scored by start                 |
| rec:by_agent:{agent}       | zset | call_id scored by start                 |
| rec:by_queue:{queue}       | zset | call_id scored by start                 |
| rec:by_caller:{caller}     | zset | call_id scored by start                 |

A call never answered, or shorter than MIN_SECONDS, leaves no file and no entry. While
Redis is away, index entries are held in memory and written when it is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
import wave
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from acd.adapters.redis.client import Redis
from acd.adapters.redis.link import RedisLink
from acd.adapters.redis.outbox import Outbox
from acd.adapters.redis.store import Scripts, flat_fields, score_bound

log = logging.getLogger(__name__)

MIN_SECONDS = 1.0


@dataclass(frozen=True)
class RecordingInfo:
    call_id: str
    path: str
    duration: float
    size: int


#: when a never-bridged call's empty recording is looked for a second time
LATE_DROP_SECONDS = 10.0


def is_complete(path: Path) -> bool:
    """True once MixMonitor has closed the WAV: Asterisk writes the sizes at close."""
    try:
        with wave.open(str(path)) as w:
            expected = w.getnframes() * w.getsampwidth() * w.getnchannels()
        return expected > 0 and path.stat().st_size >= expected + 44
    except (OSError, EOFError, wave.Error):
        return False


def measure(path: Path, output_format: str) -> tuple[Path, float]:
    """Blocking: duration via pydub, conversion when asked (run in an executor)."""
    from pydub import AudioSegment

    audio = AudioSegment.from_file(path)
    duration = len(audio) / 1000.0
    if output_format == "mp3" and duration >= MIN_SECONDS:
        target = path.with_suffix(".mp3")
        audio.export(target, format="mp3", bitrate="32k")
        path.unlink()
        return target, duration
    return path, duration


# KEYS: the recording's hash, then its indexes; ARGV: call id, start, field, value...
_INDEX = """
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
for i = 2, #KEYS do redis.call('ZADD', KEYS[i], ARGV[2], ARGV[1]) end
"""


# KEYS: an index; ARGV: max score, min score, offset, count, the hashes' key prefix.
# Newest first: [call id, [field, value, ...]], ... (an entry purged meanwhile: no fields)
_PAGE = """
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', ARGV[3],
                       ARGV[4])
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', ARGV[5] .. id)
end
return out
"""


class Recordings:
    def __init__(self, root: Path, timezone: str, redis: Redis | None = None,
                 prefix: str = "acd:", output_format: str = "wav",
                 link: RedisLink | None = None) -> None:
        self.root = root.resolve()
        self.tz = ZoneInfo(timezone)
        #: None: recordings are kept but not indexed (nor found, nor purged)
        self.redis = redis
        self.prefix = prefix
        self.output_format = output_format
        self._scripts = Scripts(redis) if redis is not None else None
        #: (keys, args) of index entries, held while Redis is away
        self._held: Outbox[tuple[list[str], list[str]]] | None = Outbox(
            link, self._write_index, lambda _older, newer: newer,
            "recording index entries") if link is not None and redis is not None else None

    def path_for(self, call_id: str, started: float) -> str:
        """The absolute path (without doubt about its folder) MixMonitor writes to."""
        day = datetime.fromtimestamp(started, self.tz)
        safe_id = "".join(c for c in call_id if c.isalnum() or c in ".-_")
        return str(self.root / f"{day:%Y/%m/%d}" / f"{safe_id}.wav")

    async def finish(self, call_id: str, path: str, answered: bool,
                     index: Mapping[str, object]) -> str:
        """After the call: wait for the file, measure (or convert) and index it; or drop
        it. The final path, '' when the call leaves no recording (never answered,
        shorter than MIN_SECONDS, missing)."""
        if not path:
            return ""
        file = Path(path)
        if not answered:  # MixMonitor wrote a header only: no bridge, no recording
            self._drop(file)  # (unlinking a file it still has open is fine)
            # MixMonitor may create the (empty) file only as the channel closes, after
            # acd has finished with the call: look again once it surely has
            asyncio.get_running_loop().call_later(LATE_DROP_SECONDS, self._drop, file)
            return ""
        for _ in range(100):  # MixMonitor finishes the file when the channel is gone
            if is_complete(file):
                break
            await asyncio.sleep(0.1)
        if not file.exists():
            log.error("call %s: recording %s is missing (was MixMonitor able to write to "
                      "the recordings folder?)", call_id, file)
            return ""
        loop = asyncio.get_running_loop()
        try:
            final, duration = await loop.run_in_executor(None, measure, file,
                                                         self.output_format)
        except Exception as exc:
            log.error("call %s: recording %s is unreadable (%s); kept, not indexed",
                      call_id, file, exc)
            return path
        if duration < MIN_SECONDS:
            self._drop(final)
            return ""
        info = RecordingInfo(call_id, str(final), duration, final.stat().st_size)
        if self._scripts is not None:
            await self._index(info, index)
        return str(final)

    def _drop(self, file: Path) -> None:
        if file.resolve().is_relative_to(self.root):  # never a path outside recordings/
            file.unlink(missing_ok=True)

    async def _index(self, info: RecordingInfo, index: Mapping[str, object]) -> None:
        p, start = self.prefix, index.get("start") or 0.0
        agent, queue, caller = (str(index.get(k, "")) for k in ("agent", "queue", "caller"))
        fields = {"path": info.path, "agent": agent, "queue": queue, "caller": caller,
                  "called": str(index.get("called", "")), "start": str(start),
                  "duration": f"{info.duration:.3f}", "size": str(info.size)}
        indexes = [f"{p}{key}" for key in ("rec:by_time", f"rec:by_agent:{agent}",
                                           f"rec:by_queue:{queue}", f"rec:by_caller:{caller}")]
        entry = ([f"{p}rec:{info.call_id}", *indexes],
                 [info.call_id, str(start), *flat_fields(fields)])
        if self._held is not None:
            await self._held.write(info.call_id, entry)
        else:
            await self._write_index(info.call_id, entry)

    async def _write_index(self, _call_id: str, entry: tuple[list[str], list[str]]) -> None:
        assert self._scripts is not None
        await self._scripts.run("index_recording", _INDEX, *entry)

    async def flush(self, seconds: float) -> None:
        """Shutdown: index entries held while Redis was away are written now, if it lets."""
        if self._held is not None:
            await self._held.flush(seconds)

    async def find(self, *, agent: str = "", queue: str = "", caller: str = "",
                   since: float = 0, until: float | None = None) -> list[dict[str, str]]:
        key = (f"rec:by_agent:{agent}" if agent else f"rec:by_queue:{queue}" if queue
               else f"rec:by_caller:{caller}" if caller else "rec:by_time")
        redis = self._index_store()
        ids = await redis.zrangebyscore_asdict(
            f"{self.prefix}{key}", score_bound(since),
            score_bound(until if until is not None else float("inf")))
        return [await redis.hgetall_asdict(f"{self.prefix}rec:{i}") for i in ids]

    async def page(self, *, agent: str = "", queue: str = "", caller: str = "",
                   since: float = 0, until: float = float("inf"), offset: int = 0,
                   count: int = 100) -> list[tuple[str, dict[str, str]]]:
        """(call id, index entry), newest first, from the most selective index: the
        console's search pages through these and filters the rest itself."""
        key = (f"rec:by_agent:{agent}" if agent else f"rec:by_queue:{queue}" if queue
               else f"rec:by_caller:{caller}" if caller else "rec:by_time")
        self._index_store()
        assert self._scripts is not None
        top = "+inf" if until == float("inf") else repr(until)
        reply = await self._scripts.run(
            "page_recordings", _PAGE, [f"{self.prefix}{key}"],
            [top, repr(since), str(offset), str(count), f"{self.prefix}rec:"])
        found = []
        for i in range(0, len(reply or []), 2):
            flat = list(reply[i + 1] or [])
            fields = dict(zip(flat[::2], flat[1::2], strict=True))
            if fields:
                found.append((str(reply[i]), {str(k): str(v) for k, v in fields.items()}))
        return found

    def file_of(self, stored: str) -> Path | None:
        """The file an index entry or call record names, if it is a file inside the
        recordings folder: a stored path is never trusted further than that."""
        if not stored:
            return None
        path = Path(stored).resolve()
        return path if path.is_relative_to(self.root) and path.is_file() else None

    async def entry(self, call_id: str) -> dict[str, str]:
        """The index entry of one call's recording ({} when there is none)."""
        return await self._index_store().hgetall_asdict(f"{self.prefix}rec:{call_id}")

    async def purge_older_than(self, days: float, now: float | None = None) -> list[str]:
        """Retention: delete recordings older than `days`; log each one removed.

        The index entry goes first, then the file: a crash in between leaves an
        orphan file, which the next run finds by walking the folder.
        """
        cutoff = (now if now is not None else time.time()) - days * 86400
        removed = []
        redis = self._index_store()
        old = await redis.zrangebyscore_asdict(
            f"{self.prefix}rec:by_time", score_bound(float("-inf")), score_bound(cutoff))
        for call_id in old:
            data = await redis.hgetall_asdict(f"{self.prefix}rec:{call_id}")
            tx = await redis.multi()
            await tx.delete([f"{self.prefix}rec:{call_id}"])
            for key in ("rec:by_time", f"rec:by_agent:{data.get('agent', '')}",
                        f"rec:by_queue:{data.get('queue', '')}",
                        f"rec:by_caller:{data.get('caller', '')}"):
                await tx.zrem(f"{self.prefix}{key}", [call_id])
            await tx.exec()
            path = Path(data.get("path", ""))
            if path.is_relative_to(self.root):
                path.unlink(missing_ok=True)
            removed.append(call_id)
            log.info("retention: removed recording of call %s (%s)", call_id, path)
        for orphan in self._orphans(cutoff):
            orphan.unlink(missing_ok=True)
            removed.append(orphan.stem)
            log.info("retention: removed unindexed old file %s", orphan)
        return removed

    def _index_store(self) -> Redis:
        if self.redis is None:
            raise RuntimeError("recordings without Redis have no index to search or purge")
        return self.redis

    def _orphans(self, cutoff: float) -> list[Path]:
        return [p for p in self.root.glob("*/*/*/*") if p.is_file()
                and p.stat().st_mtime < cutoff]
