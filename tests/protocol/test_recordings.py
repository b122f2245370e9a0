"""Recordings against a real Redis: post-processing, the index, retention."""

from __future__ import annotations

import os
import time
import wave
from pathlib import Path

import asyncio_redis
import pytest
from polling import eventually

from acd.adapters.recordings import Recordings
from acd.callflow.record import CallRecord

PREFIX = "acdrec:"


def write_wav(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x01\x00" * int(8000 * seconds))


@pytest.fixture
async def redis(redis_server):
    conn = await asyncio_redis.Connection.create(host=redis_server.host,
                                                 port=redis_server.port, db=3)
    await conn.flushdb()
    yield conn
    await conn.flushdb()
    conn.close()


def answered(call_id: str, recordings: Recordings, started: float) -> CallRecord:
    record = CallRecord(call_id, "13800138000", "4008001234", started, agent="1001",
                        answered_at=started + 5)
    record.recording = recordings.path_for(call_id, started)
    return record


async def finish(recordings: Recordings, record: CallRecord, answered: bool = True) -> str:
    return await recordings.finish(record.call_id, record.recording, answered, {
        "agent": record.agent, "queue": "support", "caller": record.caller,
        "called": record.called, "start": record.answered_at})


async def test_a_recording_is_measured_indexed_and_found_by_agent_queue_and_caller(
        tmp_path, redis):
    recordings = Recordings(tmp_path / "recordings", "Asia/Shanghai", redis, PREFIX)
    started = 1_795_000_000.0
    record = answered("1795000000.7", recordings, started)
    assert record.recording.endswith("2026/11/18/1795000000.7.wav")
    write_wav(Path(record.recording), 3.0)
    assert await finish(recordings, record) == record.recording
    for query in ({"agent": "1001"}, {"queue": "support"}, {"caller": "13800138000"}, {}):
        [found] = await recordings.find(**query)
        assert found["path"] == record.recording and found["duration"] == "3.000"
    assert await recordings.find(agent="1002") == []


async def test_an_unanswered_or_too_short_call_leaves_no_recording(tmp_path, redis):
    recordings = Recordings(tmp_path / "recordings", "Asia/Shanghai", redis, PREFIX)
    short = answered("1.1", recordings, 1_795_000_000.0)
    write_wav(Path(short.recording), 0.4)
    assert await finish(recordings, short) == ""
    never = answered("1.2", recordings, 1_795_000_000.0)  # MixMonitor's 44-byte header
    write_wav(Path(never.recording), 0.0)
    assert await finish(recordings, never, answered=False) == ""
    assert not list((tmp_path / "recordings").rglob("*.wav"))
    assert await recordings.find() == []


async def test_retention_removes_old_recordings_and_their_index_and_keeps_new_ones(
        tmp_path, redis):
    recordings = Recordings(tmp_path / "recordings", "Asia/Shanghai", redis, PREFIX)
    now = time.time()
    old = answered("old.1", recordings, now - 100 * 86400)
    new = answered("new.1", recordings, now - 3600)
    for record in (old, new):
        write_wav(Path(record.recording), 2.0)
        await finish(recordings, record)
    # a file nobody indexed (e.g. a crash between write and index) is found by age
    orphan = tmp_path / "recordings" / "2026" / "01" / "01" / "orphan.wav"
    write_wav(orphan, 2.0)
    os.utime(orphan, (now - 100 * 86400, now - 100 * 86400))
    removed = await recordings.purge_older_than(90, now=now)
    assert set(removed) == {"old.1", "orphan"}
    assert not Path(old.recording).exists() and not orphan.exists()
    assert Path(new.recording).exists()
    assert [r["path"] for r in await recordings.find()] == [new.recording]


async def test_an_empty_recording_written_after_the_call_was_finished_is_dropped_too(
        tmp_path, redis, monkeypatch):
    from acd.adapters import recordings as module

    monkeypatch.setattr(module, "LATE_DROP_SECONDS", 0.2)
    recordings = Recordings(tmp_path / "recordings", "Asia/Shanghai", redis, PREFIX)
    never = answered("1.3", recordings, 1_795_000_000.0)
    assert await finish(recordings, never, answered=False) == ""
    write_wav(Path(never.recording), 0.0)  # MixMonitor closes the file as the channel goes
    await eventually(lambda: not Path(never.recording).exists(), within=2)
