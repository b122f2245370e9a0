"""Benchmark: the call-record CSV export, its memory, and what it costs the calls.

Fills a throw-away Redis with --calls call records (default 100,000), then
exports the oldest 10,000 and all of them through the real path: GET
/api/calls.csv on aiohttp's server on loopback (acd's app, acd's CallStore),
downloaded by curl in its own process, as a browser would. Meanwhile, in the
server's process and event loop:

- a ticker sleeps 10 ms at a time and records how late it wakes: the time a
  FastAGI session (a coroutine on the same loop) would wait for its turn;
- a probe sends a Redis GET every 10 ms on the same pool: what a FastAGI
  session's Redis call would wait behind the export's scripts;
- the ticker samples the resident memory (RSS): its peak during the export.

The calls are written by a child process, so the server's process starts lean
and its RSS is the export's own.

Rows: "stream" (the export as shipped), "stream masked" (a role that may not
see numbers), and "whole text" (how main exported before: one HGETALL per id,
then the whole CSV built and sent at once). A second table gives the cost of
a record read three ways (why the store reads with a script).

    python bench/bench_export.py                       # 10,000 and 100,000 calls
    python bench/bench_export.py --calls 20000 --sizes 2000,20000 --skip-whole
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from common import machine, throwaway_redis  # noqa: E402  (bench/ is the script's folder)

from acd.adapters.http.app import HttpServices, make_app  # noqa: E402
from acd.adapters.http.auth import Role, User  # noqa: E402
from acd.adapters.redis.store import CallStore, connect_redis, score_bound  # noqa: E402
from acd.callflow.record import CallRecord  # noqa: E402
from acd.config.settings import RedisConfig  # noqa: E402

T0 = 1_795_000_000.0  # 2026-11-18
PREFIX = "acdbench-export:"
PAGE = os.sysconf("SC_PAGE_SIZE")


def call(i: int) -> CallRecord:
    """A call as the call path leaves it: IVR path, variables, queue, agent, survey."""
    number = f"138{i:08d}"
    arrived = T0 + i * 0.5
    return CallRecord(
        f"{int(arrived)}.{i}", number, "4008001234", arrived, ended_at=arrived + 95.25,
        ivr_path=["main:welcome", "main:menu", "main:sales"],
        variables={"caller": number, "called": "4008001234", "call_id": f"{int(arrived)}.{i}",
                   "lang": "zh", "menu": "1"},
        queues=["sales"], enqueued_at=arrived + 12.5, answered_at=arrived + 20.75,
        agent=str(1001 + i % 50), ring_attempts=1, talk_seconds=74.5, wrap_up_seconds=5.0,
        hung_up_by="caller", hangup_cause="16", outcome="answered", survey="1",
        recording=f"/var/spool/acd/recordings/2026/11/18/{int(arrived)}.{i}.wav")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class Monitor:
    """The ticker and the Redis probe, run while one export runs."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self.late: list[float] = []
        self.probe: list[float] = []
        self.rss_start = self.rss_peak = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False

    def start(self) -> None:
        gc.collect()
        self.rss_start = self.rss_peak = rss()
        self._running = True
        self._tasks = [asyncio.create_task(self._tick()), asyncio.create_task(self._probe())]

    async def stop(self) -> None:
        self._running = False
        await asyncio.gather(*self._tasks)

    async def _tick(self) -> None:
        while self._running:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            self.late.append(time.perf_counter() - start - 0.01)
            self.rss_peak = max(self.rss_peak, rss())

    async def _probe(self) -> None:
        while self._running:
            start = time.perf_counter()
            await self.redis.get(f"{PREFIX}probe")
            self.probe.append(time.perf_counter() - start)
            await asyncio.sleep(0.01)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def fill(store: CallStore, redis: Any, count: int) -> None:
    """The calls, written as the call path writes them (open_call), 500 at a time."""
    have = int(await redis.zcard(f"{PREFIX}calls:by_start"))
    for start in range(have, count, 500):
        records = [call(i) for i in range(start, min(start + 500, count))]
        await asyncio.gather(*(store.open_call(r.call_id, r.fields()) for r in records))


async def download(url: str, token: str, target: Path) -> int:
    """The HTTP status of one download by curl into `target`."""
    proc = await asyncio.create_subprocess_exec(
        "curl", "-s", "-o", str(target), "-w", "%{http_code}",
        "-H", f"Authorization: Bearer {token}", url, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    return int(out or 0)


def csv_lines(path: Path) -> int:
    lines = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\r\n")
    return lines


def main_records_to_csv(records: list[CallRecord]) -> str:
    """acd.adapters.redis.store.records_to_csv as it was on main (02a8110)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[f.name for f in fields(CallRecord)])
    writer.writeheader()
    for record in records:
        writer.writerow(record.to_hash())
    return out.getvalue()


@dataclass
class Server:
    url: str
    tokens: dict[str, str]
    runner: web.AppRunner


async def serve(store: CallStore, redis: Any) -> Server:
    users = {name: User(name, Role.SUPERVISOR, password="bench-pw") for name in ("sam", "masked")}
    services = HttpServices(users=users, call_store=store,
                            sees_numbers=lambda user: user.name != "masked")
    app = make_app(services)

    async def whole_text(request: web.Request) -> web.StreamResponse:
        """How main exported: every id, one HGETALL each, the whole text, one response."""
        until = float(request.query.get("until", "inf"))
        ids = await redis.zrangebyscore_asdict(f"{PREFIX}calls:by_start",
                                               score_bound(0.0), score_bound(until))
        records = [await store.get_call(call_id) for call_id in ids]
        text = main_records_to_csv([r for r in records if r])
        return web.Response(text=text, content_type="text/csv", charset="utf-8")

    app.router.add_get("/bench/whole.csv", whole_text)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}"
    tokens = {}
    async with aiohttp.ClientSession() as client:  # logged in as a browser would
        for name in users:
            async with client.post(f"{url}/api/login",
                                   json={"username": name, "password": "bench-pw"}) as resp:
                tokens[name] = (await resp.json())["token"]
    return Server(url, tokens, runner)


async def export_row(server: Server, redis: Any, mode: str, size: int, tmp: Path) -> str:
    until = T0 + (size - 1) * 0.5
    path = "/bench/whole.csv" if mode == "whole text" else "/api/calls.csv"
    token = server.tokens["masked" if mode == "stream masked" else "sam"]
    monitor = Monitor(redis)
    monitor.start()
    start = time.perf_counter()
    status = await download(f"{server.url}{path}?until={until!r}", token, tmp / "calls.csv")
    seconds = time.perf_counter() - start
    await monitor.stop()
    lines = csv_lines(tmp / "calls.csv")  # after the monitor: it takes the loop a while
    if status != 200 or lines != size + 1:
        raise SystemExit(f"{mode} {size}: HTTP {status}, {lines} lines, expected {size + 1}")
    return (f"| {mode} | {size:,} | {seconds:.2f} | {size / seconds:,.0f} | "
            f"{monitor.rss_start / 2**20:.0f} | {monitor.rss_peak / 2**20:.0f} | "
            f"{pct(monitor.late, 0.99):.1f} | {max(monitor.late) * 1000:.1f} | "
            f"{pct(monitor.probe, 0.5):.2f} | {pct(monitor.probe, 0.99):.1f} | "
            f"{max(monitor.probe) * 1000:.1f} |")


async def fetch_costs(store: CallStore, redis: Any, sample: int) -> list[str]:
    """Microseconds per record read: one by one, pipelined, by the batch script."""
    ids = list((await redis.zrange_asdict(f"{PREFIX}calls:by_start", 0, sample - 1)).keys())
    rows = []
    start = time.perf_counter()
    for call_id in ids:
        await store.get_call(call_id)
    rows.append(("HGETALL one at a time", time.perf_counter() - start))
    start = time.perf_counter()
    for i in range(0, sample, 100):
        await asyncio.gather(*(store.get_call(c) for c in ids[i:i + 100]))
    rows.append(("HGETALL pipelined, 100 in flight", time.perf_counter() - start))
    start = time.perf_counter()
    async for _ in store.call_hashes(0, T0 + (sample - 1) * 0.5):
        pass
    rows.append(("one script per 100 (CallStore.call_hashes)", time.perf_counter() - start))
    return [f"| {name} | {seconds / sample * 1e6:.0f} | {sample / seconds:,.0f} |"
            for name, seconds in rows]


@contextmanager
def redis_server(port: int) -> Iterator[int]:
    """The given Redis port, or (port 0) a throw-away redis-server on a free port."""
    if port:
        yield port
        return
    with throwaway_redis() as free:
        yield free


async def fill_only(args: argparse.Namespace) -> None:
    config = RedisConfig(port=args.redis_port, db=args.redis_db, prefix=PREFIX, pool_size=8)
    redis = await connect_redis(config, retry_forever=False)
    await fill(CallStore(redis, PREFIX), redis, args.calls)
    redis.close()


async def main_async(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}")
    with redis_server(args.redis_port) as port, tempfile.TemporaryDirectory() as tmp:
        config = RedisConfig(port=port, db=args.redis_db, prefix=PREFIX)
        redis = await connect_redis(config, retry_forever=False)
        info = await redis.info("server")
        version = getattr(info, "_data", b"")
        version = version.decode() if isinstance(version, bytes) else str(version)
        version = next((line.split(":", 1)[1].strip() for line in version.splitlines()
                        if line.startswith("redis_version:")), "?")
        print(f"redis {version} at 127.0.0.1:{port} db {args.redis_db}; "
              f"pool of {config.pool_size}")
        store = CallStore(redis, PREFIX)
        start = time.perf_counter()
        await asyncio.to_thread(subprocess.run, [
            sys.executable, __file__, "--fill-only", "--calls", str(args.calls),
            "--redis-port", str(port), "--redis-db", str(args.redis_db)], check=True)
        print(f"{args.calls:,} calls in Redis ({time.perf_counter() - start:.0f} s to write, "
              "by a child process)")
        server = await serve(store, redis)
        print()
        print("| export | calls | seconds | rows/s | RSS before MB | RSS peak MB | "
              "loop late p99 ms | "
              "loop late max ms | Redis GET p50 ms | p99 ms | max ms |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        modes = ["stream", "stream masked"] + ([] if args.skip_whole else ["whole text"])
        for mode in modes:
            for size in args.sizes:
                print(await export_row(server, redis, mode, size, Path(tmp)), flush=True)
        await server.runner.cleanup()
        print()
        print("| reading call records | us per record | records/s |")
        print("|---|---:|---:|")
        for line in await fetch_costs(store, redis, args.fetch_sample):
            print(line)
        print()
        print(f"process peak RSS (ru_maxrss): "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        if not args.keep:
            keys = await (await redis.scan(match=f"{PREFIX}*")).fetchall()
            for i in range(0, len(keys), 1000):
                await redis.delete(list(keys)[i:i + 1000])
        redis.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100_000, help="calls written (100,000)")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[10_000, 100_000], help="calls per export, comma-separated")
    parser.add_argument("--skip-whole", action="store_true",
                        help="leave out the whole-text export (slow at 100,000)")
    parser.add_argument("--fetch-sample", type=int, default=5000,
                        help="records read for the second table (5,000)")
    parser.add_argument("--redis-port", type=int, default=0,
                        help="an existing Redis (default: start a throw-away one)")
    parser.add_argument("--redis-db", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="leave the calls in Redis")
    parser.add_argument("--fill-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fill_only:
        asyncio.run(fill_only(args))
        return 0
    if args.redis_port == 6390 and args.redis_db in (0, 1):
        parser.error("db 0 and 1 on 6390 are the demo's; give another --redis-db")
    if max(args.sizes) > args.calls:
        parser.error("--sizes cannot exceed --calls")
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
