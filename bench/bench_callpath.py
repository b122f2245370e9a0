"""Benchmark: acd's call path on the sandbox Asterisk, next to Asterisk's own app_queue.

    python bench/bench_callpath.py latency     # agent free -> next INVITE, 5 agents
    python bench/bench_callpath.py load        # highest sustained call rate, 20 agents

Both run from the repository root. They start the sandbox Asterisk if it is not
running (and stop it again afterwards), a Redis of their own on port 6392
(``--save ''``, stopped afterwards), sipp phones on 5061 (callers) and 5071 (every
agent), and ``acd serve --config bench/config.yaml`` (FastAGI 4573, HTTP 8080).
app_queue runs on the same Asterisk through the sandbox-only DIDs of
``asterisk/sandbox/extensions_sandbox.conf`` (queues in ``queues_sandbox.conf``).

latency: 5 agents with fixed talk times 3.0/3.5/4.0/4.5/5.0 s, answering after
0.2 s; 90 callers at 3/s wait for the far end's BYE, so callers always wait. A
sample is the gap between an agent phone's BYE (sent when its talk time is over)
and the next INVITE to that phone, counted only while some caller was waiting.

load: 20 agents answering at once and hanging up after 100 ms. Each step sends a
bounded burst (``--seconds`` worth of calls at the step's rate) and waits for every
call to end (hard timeout). A caller's wait = INVITE at the agent - the caller's
INVITE; a step is sustained when no call failed, every caller reached an agent who
answered, and no caller waited more than 1 s beyond what an ideal ACD with the same
20 agents would have made it wait (an M/D/20 replay of the same arrivals with
0.1 s service). CPU% is utime+stime of the process over the step's wall time
(100% = one core).

With acd's admission caps (``--max-sessions``, ``--max-cps``, ``--burst``,
``--shed-to``, ``--max-busy-prompts``) acd sheds callers past them on purpose: each step
then counts answered, shed (acd's record says `shed` and the caller was refused or
hung up without reaching an agent) and failed calls apart; a step where every call
was answered or shed, none failed, and the answered ones waited no longer than the
ideal ACD says, held ("shed" in the last column).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import heapq
import io
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
sys.path.insert(0, str(REPO))

from acd_service import HTTP, AcdService, wait_for  # noqa: E402
from common import machine  # noqa: E402  (bench/ is the script's folder)
from sipp import (  # noqa: E402
    AgentCall,
    PhoneBehaviour,
    SippAgentPhones,
    SippCaller,
    UacCall,
)

SANDBOX = REPO / "scripts" / "sandbox.sh"
ENV_FILE = REPO / "var" / "sandbox.env"
PID_FILE = REPO / "var" / "sandbox" / "run" / "asterisk.pid"
CONFIG = REPO / "bench" / "config.yaml"
REDIS_PORT = 6392
REDIS_SOCKET = REPO / "var" / "bench" / "redis.sock"
HZ = os.sysconf("SC_CLK_TCK")

# DIDs: acd's (bench/config.yaml numbers) and app_queue's (extensions_sandbox.conf)
DIDS = {
    ("acd", 5): "4008001234", ("acd", 20): "4008001220",
    ("app_queue", 5): "4008009905", ("app_queue", 20): "4008009920",
}
AGENTS5 = [f"agent{n}" for n in range(1001, 1006)]
AGENTS20 = [f"agent{n}" for n in range(1001, 1021)]
TALK5 = dict(zip(AGENTS5, (3.0, 3.5, 4.0, 4.5, 5.0), strict=True))


def say(text: str) -> None:
    print(f"[bench] {text}", flush=True)


# -- sipp, with what the bench needs on top of the test toolkit ------------------------

class BenchCaller(SippCaller):
    """Callers at exactly ``rate`` per second (sipp -r RATE -rp 1000), no call limit."""

    def _arguments(self) -> list[str]:
        args = super()._arguments()
        i = args.index("-r")
        args[i:i + 4] = ["-r", f"{self.rate:g}", "-rp", "1000", "-l", "100000"]
        return args


class BenchPhones(SippAgentPhones):
    """The agents' phones, with each INVITE's From user (the caller's number), so each
    caller is matched to the agent leg that served it."""

    def from_users(self) -> dict[str, str]:
        """Call-ID of each INVITE -> From user (tests/integration/scenarios/uas.xml logs
        it with every INVITE)."""
        return {call.call_id: call.from_user for call in self.calls() if call.from_user}

    def bye_sent(self) -> dict[str, float]:
        """Call-ID -> when this phone sent its BYE (sipp's -trace_shortmsg)."""
        sent: dict[str, float] = {}
        path = self.workdir / "messages.csv"
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                p = line.split("\t")
                if len(p) >= 7 and p[3] == "S" and p[5].strip().endswith(" BYE") \
                        and p[6].startswith("BYE "):
                    sent.setdefault(p[4], float(p[2]))
        return sent


# -- the environment: sandbox, Redis, acd ---------------------------------------------

def load_sandbox_env() -> None:
    for line in ENV_FILE.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            os.environ[key.strip()] = value.strip()


def sandbox(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SANDBOX), *args], cwd=REPO, capture_output=True,
                          text=True, check=check, timeout=180)


def cli(command: str) -> str:
    return sandbox("cli", command).stdout


def asterisk_pid() -> int:
    return int(PID_FILE.read_text().strip())


def active_channels() -> int:
    out = cli("core show channels count")
    for line in out.splitlines():
        if "active channel" in line:
            return int(line.split()[0])
    return -1


def port_free(port: int, kind: int = socket.SOCK_STREAM) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def sandbox_running() -> Iterator[None]:
    started = sandbox("status", check=False).returncode != 0
    if started:
        say("starting the sandbox Asterisk (scripts/sandbox.sh start)")
        sandbox("start")
    load_sandbox_env()
    try:
        ensure_bench_dialplan()
        yield
    finally:
        if started:
            say("stopping the sandbox Asterisk we started")
            sandbox("stop", check=False)


def ensure_bench_dialplan() -> None:
    """The app_queue DIDs and queues exist; a sandbox started before they were added
    gets the overlay copied in and reloaded (what scripts/sandbox.sh start does)."""
    def present() -> bool:
        return ("4008009920" in cli("dialplan show 4008009920@acd-inbound")
                and "bench-native20" in cli("queue show bench-native20"))
    if present():
        return
    say("the running sandbox lacks the bench dialplan/queues: copying the overlay, reloading")
    etc = REPO / "var" / "sandbox" / "etc"
    for name in ("extensions.conf", "queues.conf"):
        shutil.copy(REPO / "asterisk" / name, etc / name)
    for name in ("extensions_sandbox.conf", "queues_sandbox.conf"):
        shutil.copy(REPO / "asterisk" / "sandbox" / name, etc / name)
    cli("dialplan reload")
    cli("queue reload all")
    time.sleep(0.5)
    if not present():
        raise SystemExit("bench dialplan or queues missing after reload: see var/sandbox/log")


@contextlib.contextmanager
def bench_redis() -> Iterator[None]:
    if not port_free(REDIS_PORT):
        raise SystemExit(f"port {REDIS_PORT} is taken: the bench wants its own Redis there")
    REDIS_SOCKET.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                             "--unixsocket", str(REDIS_SOCKET), "--unixsocketperm", "700",
                             "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: not port_free(REDIS_PORT), 10, "the bench Redis")
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def check_ports_free() -> None:
    busy = [p for p in (4573, 8080) if not port_free(p)]
    busy += [p for p in (5061, 5071) if not port_free(p, socket.SOCK_DGRAM)]
    if busy:
        raise SystemExit(f"ports {busy} are in use (a test run or another acd/sipp?)")


@contextlib.contextmanager
def acd_running(agents: Sequence[str], log_path: Path, announcement: str,
                redis_over: str = "unix", admission: dict[str, str] | None = None,
                ) -> Iterator[AcdService]:
    subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "flushall"], check=True,
                   capture_output=True)
    env = {**prompt_cache_for(announcement), **(admission or {})}
    if redis_over == "unix":  # Redis on the same host: its socket, as a deployment would
        env["ACD_BENCH_REDIS_SOCKET"] = str(REDIS_SOCKET)
    service = AcdService(env, log_path, config=CONFIG)
    service.start()
    try:
        for agent in agents:
            status, body = service.agent_do(agent.removeprefix("agent"), "login")
            if status != 200:
                raise SystemExit(f"login of {agent} failed: {status} {body}")
        yield service
    finally:
        with contextlib.suppress(Exception):
            for agent in agents:
                service.agent_do(agent.removeprefix("agent"), "logout")
        service.stop()


def admission_env(args: argparse.Namespace) -> dict[str, str]:
    """Environment for acd_running: bench/config.yaml's admission caps."""
    return {"ACD_BENCH_MAX_SESSIONS": str(args.max_sessions),
            "ACD_BENCH_MAX_CPS": f"{args.max_cps:g}", "ACD_BENCH_BURST": str(args.burst),
            "ACD_BENCH_SHED_TO": args.shed_to,
            "ACD_BENCH_MAX_BUSY_PROMPTS": str(args.max_busy_prompts)}


def describe_admission(args: argparse.Namespace) -> str:
    caps = []
    if args.max_sessions:
        caps.append(f"{args.max_sessions} sessions")
    if args.max_cps:
        caps.append(f"{args.max_cps:g} calls/s (burst {args.burst or 'one second'})")
    if not caps:
        return "acd's admission: no caps"
    prompts = f", {args.max_busy_prompts} at once" if args.max_busy_prompts else ""
    return (f"acd's admission: at most {' and '.join(caps)}, shed to {args.shed_to}"
            f"{prompts if args.shed_to == 'busy' else ''}")


SHORT_CLIP_SECONDS = 0.04


def prompt_cache_for(mode: str) -> dict[str, str]:
    """Environment for acd_running: which 报工号 acd plays to the caller.

    shipped: acd as it is (espeak-ng "工号 1 0 0 1 为您服务。", about 3.8 s, cached in
    var/prompt-cache). short: a bench-only cache in which that phrase of every bench
    agent is SHORT_CLIP_SECONDS of silence, so an agent may hang up 100 ms after
    answering without hanging up during the announcement (see docs/benchmarks.md).
    off: the bench queues' `announce_agent: false`, as app_queue, which has no 报工号.
    """
    if mode == "shipped":
        return {}
    if mode == "off":
        return {"ACD_BENCH_ANNOUNCE_AGENT": "false"}
    from acd.media.phrases import PHRASES
    from acd.media.playables import Speech
    from acd.media.prompts import PromptLibrary
    cache = REPO / "var" / "bench" / "prompt-cache"
    library = PromptLibrary(REPO / "prompts", cache, ("zh", "en"))
    frames = b"\0\0" * round(8000 * SHORT_CLIP_SECONDS)
    for agent in AGENTS20:
        digits = " ".join(agent.removeprefix("agent"))
        for lang in ("zh", "en"):
            text = PHRASES["serving_agent"][lang].format(digits=digits)
            path = library.cache_base(Speech(text, lang)).with_suffix(".wav")
            path.parent.mkdir(parents=True, exist_ok=True)
            with wave.open(str(path), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(8000)
                out.writeframes(frames)
    return {"ACD_BENCH_PROMPT_CACHE": str(cache)}


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # after the ")": state is field 3, utime 14, stime 15, cutime 16, cstime 17
    return sum(int(fields[i]) for i in (11, 12, 13, 14))


def drain(timeout: float = 60) -> None:
    """Wait until Asterisk has no channel left (the previous step is over)."""
    deadline = time.monotonic() + timeout
    while (n := active_channels()) != 0:
        if time.monotonic() > deadline:
            say(f"warning: {n} channels still up after {timeout:.0f} s (an overloaded step "
                "leaves callers in the fallback queue); hanging them up for the next step")
            cli("channel request hangup all")
            settle = time.monotonic() + 30
            while active_channels() and time.monotonic() < settle:
                time.sleep(0.5)
            time.sleep(2)  # the phones' sipp finishes its last transactions
            return
        time.sleep(0.5)


def run_dir(kind: str) -> Path:
    base = REPO / "var" / "bench"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{kind}-{time.strftime('%H%M%S')}-", dir=base))


def callers(count: int, first: int) -> list[str]:
    return [f"139{first + i:08d}" for i in range(count)]


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


# -- latency ----------------------------------------------------------------------------

@dataclass
class LatencyResult:
    system: str
    gaps_ms: list[float]
    calls: int
    failed: int
    folder: Path


def latency_run(system: str, args: argparse.Namespace, first_caller: int) -> LatencyResult:
    folder = run_dir(f"latency-{system}")
    say(f"latency {system}: {args.callers} callers at {args.rate}/s, 5 agents; logs in {folder}")
    phones = BenchPhones(
        PhoneBehaviour("answer", answer_after=0.2, talk_time=3.0 + args.talk_offset),
        {a: PhoneBehaviour("answer", answer_after=0.2, talk_time=t + args.talk_offset)
         for a, t in TALK5.items()},
        workdir=folder / "phones", timeout=900)
    numbers = callers(args.callers, first_caller)
    caller = BenchCaller(numbers, did=DIDS[(system, 5)], calls=args.callers, rate=args.rate,
                         hangup_after=None, timeout=args.timeout, workdir=folder / "callers")
    with contextlib.ExitStack() as stack:
        if system == "acd":
            stack.enter_context(acd_running(AGENTS5, folder / "acd.log", args.announcement,
                                            args.redis))
        stack.enter_context(phones)
        with caller:
            caller.wait()
        time.sleep(1.5)
    drain()
    return latency_result(system, phones, caller, folder)


def latency_result(system: str, phones: BenchPhones, caller: BenchCaller,
                   folder: Path) -> LatencyResult:
    uac = caller.calls()
    agent_calls = phones.calls()
    froms = phones.from_users()
    byes = phones.bye_sent()
    arrivals = sorted((c.invited_at, c.party) for c in uac if c.invited_at)
    dispatched = sorted((a.invited_at, froms.get(a.call_id, "")) for a in agent_calls)

    def someone_waiting(t: float) -> bool:
        arrived = {p for at, p in arrivals if at < t}
        served = {p for at, p in dispatched if at < t}
        return bool(arrived - served)

    gaps: list[float] = []
    by_agent: dict[str, list] = {}
    for a in agent_calls:
        by_agent.setdefault(a.agent, []).append(a)
    for calls in by_agent.values():
        calls.sort(key=lambda c: c.invited_at)
        for prev, nxt in zip(calls, calls[1:], strict=False):
            if prev.ended_by != "us" or prev.ended_at is None:
                continue
            free_at = byes.get(prev.call_id, prev.ended_at)
            if someone_waiting(free_at):
                gaps.append((nxt.invited_at - free_at) * 1000)
    failed = sum(1 for c in uac if c.final_status != 200 or c.ended_by != "them")
    return LatencyResult(system, gaps, len(uac), failed, folder)


def cmd_latency(args: argparse.Namespace) -> None:
    results = []
    with sandbox_running(), bench_redis():
        for i, system in enumerate(args.systems):
            drain()
            results.append(latency_run(system, args, first_caller=i * 100000))
    print()
    print(f"Dispatch latency: agent's BYE -> next INVITE to that agent, 5 agents, talk "
          f"{3 + args.talk_offset:g}-{5 + args.talk_offset:g} s after the answer, "
          f"{args.callers} callers at {args.rate:g}/s, acd's 报工号: {args.announcement}")
    print()
    print("| system | samples | median ms | p90 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        g = r.gaps_ms
        if g:
            print(f"| {r.system} | {len(g)} | {statistics.median(g):.0f} | {pct(g, 0.9):.0f} | "
                  f"{max(g):.0f} |")
        else:
            print(f"| {r.system} | 0 | – | – | – |")
    print()
    for r in results:
        print(f"{r.system}: {r.calls} calls, {r.failed} failed; min gap "
              f"{min(r.gaps_ms, default=float('nan')):.0f} ms; logs {r.folder.relative_to(REPO)}")


# -- load -------------------------------------------------------------------------------

@dataclass
class LoadResult:
    system: str
    rate: float
    calls: int
    failed: int
    max_wait: float
    max_excess: float
    asterisk_cpu: float
    acd_cpu: float | None
    sipp_cpu: float
    wall: float
    note: str
    folder: Path
    answered: int = 0
    #: CPU milliseconds per answered call
    asterisk_ms: float = float("nan")
    acd_ms: float | None = None
    #: acd's own work per answered call: AGI commands, AMI actions, AMI events handled
    agi_per_call: float | None = None
    ami_actions_per_call: float | None = None
    ami_events_per_call: float | None = None
    #: callers acd shed on purpose (its records), refused or hung up without an agent
    shed: int = 0
    #: acd's own count of the calls it shed (calls_shed in /api/health); None: app_queue
    acd_shed: int | None = None

    @property
    def held(self) -> bool:
        """No call failed and the answered callers waited no longer than they should:
        the load was carried, or shed on purpose."""
        return self.failed == 0 and self.max_excess <= 1.0

    @property
    def sustained(self) -> bool:
        """Held, with every caller answered."""
        return self.held and self.shed == 0

    @property
    def verdict(self) -> str:
        return "yes" if self.sustained else "shed" if self.held else "no"


@dataclass
class StepCalls:
    """What became of a step's calls, seen from the phones (and acd's records)."""

    answered: int
    shed: int
    failed: int
    #: (wait, arrival) of each caller who reached an agent's phone
    waits: list[tuple[float, float]]
    #: arrivals of the callers acd did not shed: what an ideal ACD would have had to serve
    arrivals: list[float]
    #: the failed calls by final SIP status / who ended them
    statuses: dict[str, int]
    #: INVITEs to agents that were not answered
    rings: int


def tally(count: int, uac: Sequence[UacCall], agent_calls: Sequence[AgentCall],
          froms: dict[str, str], shed_callers: set[str]) -> StepCalls:
    """Each of `count` callers answered (reached an agent who answered, and the far end
    ended the call), shed (acd's record says so, and the caller was refused or hung up
    without reaching an agent), or failed (anything else, also a call never placed)."""
    served: dict[str, float] = {}
    answered_parties: set[str] = set()
    for a in agent_calls:
        party = froms.get(a.call_id, "")
        served.setdefault(party, a.invited_at)
        if a.outcome == "answered":
            answered_parties.add(party)
    answered = shed = 0
    waits: list[tuple[float, float]] = []
    arrivals: list[float] = []
    statuses: dict[str, int] = {}
    for c in uac:
        ended_by_far_end = c.final_status == 200 and c.ended_by == "them"
        refused = c.final_status is not None and c.final_status != 200
        if c.invited_at is not None and ended_by_far_end and c.party in served \
                and c.party in answered_parties:
            answered += 1
        elif c.party in shed_callers and c.party not in served \
                and (ended_by_far_end or refused):
            shed += 1
        else:
            key = f"{c.final_status or 'no answer'}/{c.ended_by or 'open'}"
            statuses[key] = statuses.get(key, 0) + 1
        if c.invited_at is not None and c.party not in shed_callers:
            arrivals.append(c.invited_at)
        if c.party in served and c.invited_at is not None:
            waits.append((served[c.party] - c.invited_at, c.invited_at))
    never_placed = max(0, count - len(uac))  # sipp timed out first
    if never_placed:
        statuses["never placed"] = never_placed
    rings = sum(1 for a in agent_calls if a.outcome != "answered")
    return StepCalls(answered, shed, count - answered - shed, waits, sorted(arrivals),
                     statuses, rings)


def ideal_waits(arrivals: Sequence[float], servers: int, service: float) -> list[float]:
    """Waits in an ideal FIFO ACD with `servers` agents and a fixed service time."""
    free = [0.0] * servers
    waits = []
    for t in arrivals:
        earliest = heapq.heappop(free)
        start = max(t, earliest)
        waits.append(start - t)
        heapq.heappush(free, start + service)
    return waits


def load_step(system: str, rate: float, args: argparse.Namespace, acd: AcdService | None,
              first_caller: int) -> LoadResult:
    count = max(1, round(rate * args.seconds))
    folder = run_dir(f"load-{system}-{rate:g}")
    phones = BenchPhones(PhoneBehaviour("answer", answer_after=0.0, talk_time=args.talk),
                         workdir=folder / "phones", timeout=args.seconds + 300)
    numbers = callers(count, first_caller)
    caller = BenchCaller(numbers, did=DIDS[(system, 20)], calls=count, rate=rate,
                         hangup_after=None, timeout=args.seconds + args.grace,
                         workdir=folder / "callers")
    ast = asterisk_pid()
    note = ""
    since = time.time() - 1.0  # acd's records of this step's calls arrived after this
    with phones:
        pids = {"asterisk": ast, "phones": phones._proc.pid}  # noqa: SLF001
        if acd is not None and acd.proc is not None:
            pids["acd"] = acd.proc.pid
        before = {k: cpu_ticks(p) for k, p in pids.items()}
        counted = acd_counters(acd)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the caller sipp, once reaped
        t0 = time.monotonic()
        caller.start()
        try:
            caller.wait()
        except Exception as exc:  # noqa: BLE001 - a timed-out step is a result, not a crash
            note = f"sipp: {str(exc).splitlines()[0]}"
        wall = time.monotonic() - t0
        after = {k: cpu_ticks(p) for k, p in pids.items()}
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        time.sleep(1.0)
        done = acd_counters(acd)
    sipp_seconds = ((after["phones"] - before["phones"]) / HZ
                    + reaped.ru_utime + reaped.ru_stime - children.ru_utime - children.ru_stime)
    cpu = {k: (after[k] - before[k]) / HZ / wall * 100 for k in pids}

    try:
        shed_callers = acd_shed_callers(acd, since)
    except (OSError, ValueError) as exc:  # the step's result stands; its shed count is off
        say(f"warning: acd's call records could not be read ({exc}): shed calls count as "
            "failed in this step")
        shed_callers = set()
    calls = tally(count, caller.calls(), phones.calls(), phones.from_users(), shed_callers)
    notes = [note] if note else []
    if calls.rings:
        notes.append(f"{calls.rings} unanswered rings")
    if calls.statuses:
        notes.append(", ".join(f"{k}: {v}" for k, v in calls.statuses.items()))
    acd_shed = done.get("calls_shed", 0) - counted.get("calls_shed", 0) if done else None
    if acd_shed is not None and acd_shed != len(shed_callers):
        notes.append(f"acd counted {acd_shed} shed, its records say {len(shed_callers)}")
    ideal = dict(zip(calls.arrivals, ideal_waits(calls.arrivals, 20, args.talk),
                     strict=False))
    max_wait = max((w for w, _ in calls.waits), default=float("nan"))
    max_excess = max((w - ideal.get(at, 0.0) for w, at in calls.waits), default=float("inf"))
    n = max(1, calls.answered)
    per_call = {k: (done.get(k, 0) - counted.get(k, 0)) / n for k in done} if done else {}
    ms = {k: (after[k] - before[k]) / HZ * 1000 / n for k in pids}
    return LoadResult(system, rate, count, calls.failed, max_wait, max_excess,
                      cpu["asterisk"], cpu.get("acd"), sipp_seconds / wall * 100, wall,
                      "; ".join(notes), folder, calls.answered, ms["asterisk"], ms.get("acd"),
                      per_call.get("agi_commands"), per_call.get("ami_actions"),
                      per_call.get("ami_events"), calls.shed, acd_shed)


def acd_counters(acd: AcdService | None) -> dict[str, int]:
    """acd's work counters (GET /api/health), {} for app_queue."""
    if acd is None:
        return {}
    status, body = acd.api("GET", "/api/health", auth=False)
    return dict(body.get("counters", {})) if status == 200 else {}


def acd_shed_callers(acd: AcdService | None, since: float) -> set[str]:
    """The callers whose records (arrived after `since`) say acd shed them, read as a
    supervisor reads them: the CSV export. Empty for app_queue."""
    if acd is None:
        return set()
    request = urllib.request.Request(f"{HTTP}/api/calls.csv?since={since:.3f}",
                                     headers={"Authorization": f"Bearer {acd.token()}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return shed_in_export(response.read().decode("utf-8"))


def shed_in_export(text: str) -> set[str]:
    """The callers of the `shed` records in acd's call export (GET /api/calls.csv)."""
    return {row["caller"] for row in csv.DictReader(io.StringIO(text))
            if row.get("outcome") == "shed"}


def cmd_load(args: argparse.Namespace) -> None:
    results: list[LoadResult] = []
    with sandbox_running(), bench_redis():
        for s, system in enumerate(args.systems):
            if s > 0 and results and not results[-1].held:
                # An overloaded step leaves Asterisk with stale state (devices in use,
                # callers in the fallback queue) that failed the next system's first
                # steps: each system starts on a fresh Asterisk.
                say("restarting the sandbox Asterisk so that the next system starts clean")
                sandbox("stop", check=False)
                sandbox("start")
                load_sandbox_env()
                ensure_bench_dialplan()
            drain()
            with contextlib.ExitStack() as stack:
                acd = None
                if system == "acd":
                    acd = stack.enter_context(acd_running(
                        AGENTS20, run_dir("load-acd") / "acd.log", args.announcement,
                        args.redis, admission_env(args)))
                misses = 0
                for r, rate in enumerate(args.rates):
                    drain()
                    time.sleep(1.0)
                    say(f"load {system}: {rate:g} calls/s for {args.seconds:g} s")
                    res = load_step(system, rate, args, acd,
                                    first_caller=s * 10_000_000 + r * 100_000)
                    results.append(res)
                    acd_part = "" if res.acd_cpu is None else (
                        f", acd {res.acd_cpu:.0f}% ({res.acd_ms:.2f} ms/call, "
                        f"{res.agi_per_call or 0:.1f} AGI, {res.ami_actions_per_call or 0:.1f} "
                        f"AMI actions, {res.ami_events_per_call or 0:.1f} AMI events per call)")
                    say(f"  -> {res.calls} calls, {res.answered} answered, {res.shed} shed, "
                        f"{res.failed} failed, max wait "
                        f"{res.max_wait:.2f} s (excess {res.max_excess:.2f} s), Asterisk "
                        f"{res.asterisk_cpu:.0f}% ({res.asterisk_ms:.2f} ms/call){acd_part}, "
                        f"sipp {res.sipp_cpu:.0f}% {res.note}")
                    misses = 0 if res.held else misses + 1
                    if misses >= args.stop_after:
                        say(f"  {system}: {misses} step(s) in a row not held, stopping")
                        break
    print()
    print(f"Load: 20 agents answering at once, {args.talk * 1000:.0f} ms talk time, "
          f"{args.seconds:g} s bursts, acd's 报工号: {args.announcement}; "
          f"{describe_admission(args)}; 100% CPU = one core of {os.cpu_count()}")
    print()
    print("\n".join(load_report(results, args.systems, REPO)))


def load_report(results: Sequence[LoadResult], systems: Sequence[str],
                base: Path) -> list[str]:
    """The load table (markdown) and the summary under it."""
    lines = [
        "| system | rate/s | calls | answered | shed | failed | acd shed | max wait s | "
        "Asterisk CPU % | acd CPU % | Asterisk ms/call | acd ms/call | AGI cmds/call | "
        "AMI actions/call | AMI events/call | sustained |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]

    def num(value: float | None, digits: int) -> str:
        return "–" if value is None else f"{value:.{digits}f}"

    for r in results:
        lines.append(
            f"| {r.system} | {r.rate:g} | {r.calls} | {r.answered} | {r.shed} | {r.failed} | "
            f"{'–' if r.acd_shed is None else r.acd_shed} | {r.max_wait:.2f} | "
            f"{r.asterisk_cpu:.0f} | {num(r.acd_cpu, 0)} | {r.asterisk_ms:.2f} | "
            f"{num(r.acd_ms, 2)} | {num(r.agi_per_call, 1)} | "
            f"{num(r.ami_actions_per_call, 1)} | {num(r.ami_events_per_call, 1)} | "
            f"{r.verdict} |")
    lines.append("")
    best: dict[str, float] = {}
    held: dict[str, float] = {}
    for r in results:
        if r.sustained:
            best[r.system] = max(best.get(r.system, 0.0), r.rate)
        if r.held and r.shed:
            held[r.system] = max(held.get(r.system, 0.0), r.rate)
    for system in systems:
        lines.append(f"{system}: highest sustained rate {best.get(system, 0):g} calls/s")
        if system in held:
            lines.append(f"{system}: highest rate held by shedding (none failed) "
                         f"{held[system]:g} calls/s")
    if best.get("app_queue"):
        lines.append(f"acd / app_queue = {best.get('acd', 0) / best['app_queue']:.2f}")
    for r in results:
        where = r.folder.relative_to(base) if r.folder.is_relative_to(base) else r.folder
        lines.append(f"  {r.system} {r.rate:g}/s: wall {r.wall:.1f} s, sipp CPU "
                     f"{r.sipp_cpu:.0f}%, max excess wait {r.max_excess:.2f} s"
                     f"{', ' + r.note if r.note else ''}; {where}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    lat = sub.add_parser("latency", help="agent free -> next INVITE, 5 agents")
    lat.add_argument("--callers", type=int, default=65)
    lat.add_argument("--rate", type=float, default=3.0)
    lat.add_argument("--timeout", type=float, default=300.0, help="hard limit per system")
    lat.add_argument("--talk-offset", type=float, default=4.0,
                     help="added to the 3.0-5.0 s talk times: the agent talks that long "
                          "after acd's 3.8 s 报工号 ends (0: hang up during it)")
    lat.add_argument("--announcement", choices=("shipped", "short", "off"), default="shipped")
    lat.add_argument("--systems", type=lambda s: s.split(","), default=["acd", "app_queue"])
    lat.add_argument("--redis", choices=("unix", "tcp"), default="unix",
                     help="how acd reaches its Redis (same host: its unix socket)")
    load = sub.add_parser("load", help="highest sustained call rate, 20 agents")
    load.add_argument("--rates", type=lambda s: [float(x) for x in s.split(",")],
                      default=[10, 20, 40, 60, 80, 100, 120])
    load.add_argument("--seconds", type=float, default=10.0, help="burst length per step")
    load.add_argument("--talk", type=float, default=0.1, help="agent talk time, s")
    load.add_argument("--grace", type=float, default=90.0,
                      help="hard limit per step beyond the burst, s")
    load.add_argument("--stop-after", type=int, default=2,
                      help="stop a system after this many steps in a row that were not "
                           "held (a call failed, or a caller waited too long)")
    load.add_argument("--announcement", choices=("shipped", "short", "off"), default="off")
    load.add_argument("--systems", type=lambda s: s.split(","), default=["acd", "app_queue"])
    load.add_argument("--redis", choices=("unix", "tcp"), default="unix",
                      help="how acd reaches its Redis (same host: its unix socket)")
    load.add_argument("--max-sessions", type=int, default=0,
                      help="acd's admission.max_sessions: calls in acd at once (0: no cap)")
    load.add_argument("--max-cps", type=float, default=0.0,
                      help="acd's admission.max_calls_per_second (0: no cap)")
    load.add_argument("--burst", type=int, default=0,
                      help="acd's admission.burst (0: one second's worth)")
    load.add_argument("--shed-to", choices=("busy", "fallback"), default="busy",
                      help="what a shed caller gets: the lines-busy prompt, or app_queue")
    load.add_argument("--max-busy-prompts", type=int, default=0,
                      help="acd's admission.max_busy_prompts (0: no cap)")
    args = parser.parse_args()
    os.chdir(REPO)
    if os.geteuid() != 0:
        raise SystemExit("run as root (scripts/sandbox.sh needs it)")
    check_ports_free()
    say(machine())
    {"latency": cmd_latency, "load": cmd_load}[args.command](args)


if __name__ == "__main__":
    main()
