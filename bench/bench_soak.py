"""Soak: calls flowing for minutes while acd is killed (-9) and restarted every minute and
Redis is restarted once; then acd's records are checked against what Asterisk itself saw.

    python bench/bench_soak.py                  # 10 minutes, 30 calls/s, 20 agents
    python bench/bench_soak.py --minutes 2      # a shorter run

Everything runs on this machine: the sandbox Asterisk (started if it is not running), a
Redis of the bench's own on port 6392 (its data saved on its restart, as a deployment's
would be), 20 sipp agent phones (answer at once, hang up after --talk seconds; the
报工号 is a short silence so they may), sipp callers who wait until served, and
`acd serve --config bench/config.yaml`.

Asterisk's own view of each call, independent of acd, is read from AMI by the bench's own
manager session: which agent phones each caller's channel was bridged with (BridgeEnter),
and its hang-up. The table compares it with acd's call records:

- offered: calls placed; answered: callers Asterisk bridged with an agent;
- doubled: callers bridged with agents more than once (a repeated conversation; must be 0);
- lost: callers never bridged with an agent (these callers never hang up on their own:
  every one of them wants an agent; must be 0);
- unknown: records that say `unknown-after-restart` (with their reason): acd could not
  know how the call ended, and says so rather than guess;
- disagree: records that are missing, still open, or whose outcome or agent is not what
  Asterisk saw (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_callpath as cp  # noqa: E402
from common import machine  # noqa: E402

from acd.callflow.record import CallRecord  # noqa: E402

DID = cp.DIDS[("acd", 20)]
PREFIX = "acdbench:"


def say(text: str) -> None:
    print(f"[soak] {time.strftime('%H:%M:%S')} {text}", flush=True)


# -- Redis of the bench's own, restartable with its data ------------------------------

class SoakRedis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(cp.REDIS_PORT), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--dbfilename", "soak.rdb", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cp.wait_for(lambda: not cp.port_free(cp.REDIS_PORT), 10, "the bench Redis")

    def restart(self, away: float) -> float:
        """SHUTDOWN SAVE (its data on disk), `away` seconds down, start again; the seconds
        it was away."""
        began = time.monotonic()
        subprocess.run(["redis-cli", "-p", str(cp.REDIS_PORT), "shutdown", "save"],
                       capture_output=True, check=False)
        if self.proc is not None:
            self.proc.wait(timeout=30)
        time.sleep(max(0.0, away - (time.monotonic() - began)))
        self.start()
        return time.monotonic() - began

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@contextlib.contextmanager
def soak_redis(folder: Path) -> Iterator[SoakRedis]:
    if not cp.port_free(cp.REDIS_PORT):
        raise SystemExit(f"port {cp.REDIS_PORT} is taken: the bench wants its own Redis there")
    redis = SoakRedis(folder)
    redis.start()
    subprocess.run(["redis-cli", "-p", str(cp.REDIS_PORT), "flushall"], check=True,
                   capture_output=True)
    try:
        yield redis
    finally:
        redis.stop()


# -- Asterisk's view, from AMI ------------------------------------------------------------

@dataclass
class Seen:
    """One caller's channel as Asterisk showed it."""

    caller: str = ""
    #: agent phones (agent1001...) this channel shared a bridge with, one per bridge
    agents: list[str] = field(default_factory=list)
    hung_up: bool = False


class AsteriskView:
    """Caller channels of [acd-inbound] and the agent phones they were bridged with."""

    def __init__(self) -> None:
        self.calls: dict[str, Seen] = {}
        self._bridges: dict[str, set[str]] = defaultdict(set)  # bridge -> caller ids
        self._agents_in: dict[str, set[str]] = defaultdict(set)  # bridge -> agent phones

    def on_event(self, _manager: object, event: dict[str, str]) -> None:
        name, uid = event.get("Event"), event.get("Uniqueid", "")
        channel = event.get("Channel", "")
        if name == "Newchannel" and event.get("Context") == "acd-inbound":
            self.calls[uid] = Seen(event.get("CallerIDNum", ""))
        elif name == "BridgeEnter":
            bridge = event.get("BridgeUniqueid", "")
            if uid in self.calls:
                self._bridges[bridge].add(uid)
                for agent in self._agents_in[bridge]:
                    self.calls[uid].agents.append(agent)
            elif channel.startswith("PJSIP/agent"):
                agent = channel.split("/", 1)[1].rsplit("-", 1)[0]
                self._agents_in[bridge].add(agent)
                for caller in self._bridges[bridge]:
                    self.calls[caller].agents.append(agent)
        elif name == "BridgeDestroy":
            bridge = event.get("BridgeUniqueid", "")
            self._bridges.pop(bridge, None)
            self._agents_in.pop(bridge, None)
        elif name == "Hangup" and uid in self.calls:
            self.calls[uid].hung_up = True


async def watch_asterisk(view: AsteriskView, stop: asyncio.Event) -> None:
    from panoramisk import Manager

    manager = Manager(host="127.0.0.1", port=5038, username=cp.os.environ["ACD_AMI_USER"],
                      secret=cp.os.environ["ACD_AMI_SECRET"], ping_delay=5)
    for name in ("Newchannel", "BridgeEnter", "BridgeDestroy", "Hangup"):
        manager.register_event(name, view.on_event)
    await manager.connect()
    try:
        await stop.wait()
    finally:
        manager.close()


# -- the run ------------------------------------------------------------------------------

@dataclass
class Outcome:
    offered: int
    answered: int
    doubled: int
    lost: int
    unknown: int
    disagree: int
    restarts: int
    redis_away: float
    examples: list[str]


async def records_of(ids: list[str]) -> dict[str, CallRecord]:
    """acd's records of these calls, from the bench's Redis."""
    import asyncio_redis

    conn = await asyncio_redis.Connection.create(host="127.0.0.1", port=cp.REDIS_PORT)
    try:
        records = {}
        for call_id in ids:
            fields = await conn.hgetall_asdict(f"{PREFIX}call:{call_id}")
            if fields:
                records[call_id] = CallRecord.from_hash(fields)
        return records
    finally:
        conn.close()


def compare(view: AsteriskView, records: dict[str, CallRecord], offered: int,
            ) -> tuple[int, int, int, int, int, list[str]]:
    answered = doubled = unknown = disagree = 0
    examples: list[str] = []
    for call_id, seen in view.calls.items():
        record = records.get(call_id)
        if len(seen.agents) > 1:
            doubled += 1
            examples.append(f"{call_id}: bridged with {seen.agents}")
        if seen.agents:
            answered += 1
        why = ""
        if record is None:
            why = "no record"
        elif not record.ended_at:
            why = f"record still open ({record.outcome or 'no outcome'})"
        elif record.outcome == "unknown-after-restart":
            unknown += 1
            if len(examples) < 10:
                examples.append(f"{call_id}: unknown ({record.outcome_reason})")
        elif seen.agents:
            if record.outcome not in ("answered", "answered-by-fallback"):
                why = f"Asterisk bridged it with {seen.agents[0]}, record says {record.outcome}"
            elif f"agent{record.agent}" != seen.agents[-1]:
                why = f"Asterisk: {seen.agents[-1]}, record: agent{record.agent}"
        elif record.outcome in ("answered", "answered-by-fallback"):
            why = f"record says answered by {record.agent}; Asterisk bridged it with no agent"
        if why:
            disagree += 1
            if len(examples) < 10:
                examples.append(f"{call_id}: {why}")
    return answered, doubled, offered - answered, unknown, disagree, examples


def soak(args: argparse.Namespace) -> Outcome:
    seconds = args.minutes * 60
    count = round(args.rate * seconds)
    folder = cp.run_dir("soak")
    view = AsteriskView()
    restarts, redis_away = 0, 0.0
    with cp.sandbox_running(), soak_redis(folder / "redis") as redis:
        cp.drain()
        env = cp.prompt_cache_for("short")
        acd = cp.AcdService(env, folder / "acd.log", config=cp.CONFIG)
        acd.start()
        for agent in cp.AGENTS20:
            status, body = acd.agent_do(agent.removeprefix("agent"), "login")
            if status != 200:
                raise SystemExit(f"login of {agent} failed: {status} {body}")
        phones = cp.BenchPhones(cp.PhoneBehaviour("answer", answer_after=0.0,
                                                  talk_time=args.talk),
                                workdir=folder / "phones", timeout=seconds + 600)
        caller = cp.BenchCaller(cp.callers(count, 70_000_000), did=DID, calls=count,
                                rate=args.rate, hangup_after=None, timeout=seconds + 300,
                                workdir=folder / "callers")
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        watcher = loop.create_task(watch_asterisk(view, stop))
        loop.run_until_complete(asyncio.sleep(1.0))
        try:
            with phones:
                caller.start()
                began = time.monotonic()
                next_kill = began + args.kill_every
                redis_at = began + args.redis_restart_at
                while caller.running:
                    loop.run_until_complete(asyncio.sleep(0.5))
                    now = time.monotonic()
                    if now >= next_kill and now - began < seconds:
                        acd.stop(signal.SIGKILL)
                        acd.start()
                        restarts += 1
                        say(f"acd killed and restarted ({restarts}); "
                            f"{len(view.calls)} calls so far")
                        next_kill += args.kill_every
                    if redis_at and now >= redis_at:
                        redis_away = redis.restart(args.redis_away)
                        say(f"Redis restarted (away {redis_away:.1f} s)")
                        redis_at = 0.0
                with contextlib.suppress(Exception):
                    caller.wait()
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and cp.active_channels():
                    loop.run_until_complete(asyncio.sleep(0.5))
                loop.run_until_complete(asyncio.sleep(5.0))  # the last records close
        finally:
            stop.set()
            loop.run_until_complete(watcher)
            loop.close()
            for agent in cp.AGENTS20:
                with contextlib.suppress(Exception):
                    acd.agent_do(agent.removeprefix("agent"), "logout")
            acd.stop()
        records = asyncio.run(records_of(list(view.calls)))
    answered, doubled, lost, unknown, disagree, examples = compare(view, records, count)
    say(f"run folder: {folder}")
    return Outcome(count, answered, doubled, lost, unknown, disagree, restarts, redis_away,
                   examples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=30.0, help="calls per second (30)")
    parser.add_argument("--talk", type=float, default=0.1, help="agents' talk time, s")
    parser.add_argument("--kill-every", type=float, default=60.0,
                        help="seconds between kill -9 of acd (60)")
    parser.add_argument("--redis-restart-at", type=float, default=None,
                        help="seconds into the run Redis restarts (default: half way)")
    parser.add_argument("--redis-away", type=float, default=5.0,
                        help="seconds Redis stays down when it restarts (5)")
    args = parser.parse_args()
    if args.redis_restart_at is None:
        args.redis_restart_at = args.minutes * 30 + args.kill_every / 2
    cp.check_ports_free()
    say(machine())
    result = soak(args)
    print()
    print(f"Soak: {args.minutes:g} min at {args.rate:g} calls/s, 20 agents ({args.talk:g} s "
          f"talk), acd killed (-9) and restarted every {args.kill_every:g} s "
          f"({result.restarts} times), Redis restarted once (away {result.redis_away:.1f} s)")
    print()
    print("| offered | answered | doubled | lost | unknown (said so) "
          "| records that disagree with Asterisk |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {result.offered} | {result.answered} | {result.doubled} | {result.lost} "
          f"| {result.unknown} | {result.disagree} |")
    for line in result.examples:
        print(f"  {line}")
    sys.exit(0 if result.doubled == result.lost == result.disagree == 0 else 1)


if __name__ == "__main__":
    main()
