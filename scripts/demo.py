"""Simulated traffic for scripts/run.sh: agents' phones and a trickle of callers.

Starts every agent's softphone (sipp on 5071: rings 1 s, talks 5-10 s, then
hangs up), logs the sandbox agents in with *71 (agent number, #, PIN, #), then
sends a caller to the 400 number every few seconds who presses 1 and waits
for the agent. Prints one line per thing that happens. Stops on Ctrl-C,
SIGTERM or after --duration seconds, and never leaves a sipp behind.

    python scripts/demo.py [--duration 60] [--interval 8] [--agents 1001,1002]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import shutil
import signal
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))  # the sipp toolkit lives with the tests

from sipp import (  # noqa: E402
    AgentCall,
    Dtmf,
    PhoneBehaviour,
    SippAgentDialer,
    SippAgentPhones,
    SippCaller,
    SippError,
    UacCall,
)

DID = "4008001234"
#: what each of a demo caller's key presses means, in order
PRESSES = ("product support", "hardware", "survey: satisfied")
WORKDIR = REPO / "var" / "demo"


def say(message: str) -> None:
    print(f"[demo {time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=0, help="seconds; 0 = until stopped")
    parser.add_argument("--interval", type=float, default=8, help="seconds between callers")
    parser.add_argument("--agents", default="1001,1002,1003,1004,1005",
                        help="agent numbers to log in (their PIN is the number in the sandbox)")
    parser.add_argument("--press-at", type=float, default=4.0,
                        help="seconds after the answer at which callers press 1")
    return parser.parse_args()


async def log_in(agents: list[str]) -> None:
    """Dial *71 from each agent's phone and type the number and PIN."""
    dialers = [
        SippAgentDialer(f"agent{agent}", "*71", Dtmf.sequence(f"{agent}#{agent}#", start=2.0),
                        hangup_after=None, port=5080 + i, timeout=40,
                        workdir=WORKDIR / f"login-{agent}").start()
        for i, agent in enumerate(agents)
    ]
    for agent, dialer in zip(agents, dialers, strict=True):
        try:
            await dialer.finished()
        except SippError:
            say(f"agent{agent}: *71 login did not finish (see {dialer.workdir})")
            continue
        calls = dialer.calls()
        if calls and calls[0].answered:
            say(f"agent{agent} dialed *71 and typed number and PIN")
        else:
            say(f"agent{agent}: *71 was not answered (see {dialer.workdir})")


class Reporter:
    """Prints each new event of the callers and the agents' phones once."""

    def __init__(self) -> None:
        self.seen: set[tuple[object, ...]] = set()

    def _once(self, key: tuple[object, ...], message: str) -> None:
        if key not in self.seen:
            self.seen.add(key)
            say(message)

    def callers(self, calls: list[UacCall]) -> None:
        for call in calls:
            who = f"caller {call.party}"
            if call.answered_at is not None and call.invited_at is not None:
                self._once((call.number, "answered"), f"{who} -> {DID}: answered after "
                           f"{call.answered_at - call.invited_at:.2f}s")
            for i, (_at, digit) in enumerate(call.dtmf_sent):
                meaning = f" ({PRESSES[i]})" if i < len(PRESSES) else ""
                self._once((call.number, "dtmf", i), f"{who} pressed {digit}{meaning}")
            if call.ended_at is not None and call.answered_at is not None:
                by = "hung up" if call.ended_by == "us" else "was hung up on"
                self._once((call.number, "ended"), f"{who} {by} after "
                           f"{call.ended_at - call.answered_at:.1f}s")
            elif call.final_status and call.final_status != 200:
                self._once((call.number, "failed"), f"{who} got {call.final_status}")

    def agents(self, calls: list[AgentCall]) -> None:
        for call in calls:
            key = ("agent", call.number)
            self._once((*key, "ring"), f"{call.agent} rings")
            if call.outcome == "answered":
                self._once((*key, "answered"), f"{call.agent} answered")
            if call.outcome == "cancelled":
                self._once((*key, "cancelled"), f"{call.agent} stopped ringing (not answered)")
            if call.ended_at is not None and call.outcome == "answered":
                by = "hung up" if call.ended_by == "us" else "was hung up on"
                self._once((*key, "ended"), f"{call.agent} {by}")


async def run(args: argparse.Namespace, stop: asyncio.Event) -> None:
    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)
    rng = random.Random()
    agents = [a.strip() for a in args.agents.split(",") if a.strip()]
    talk = {f"agent{n}": PhoneBehaviour(answer_after=1.0, talk_time=rng.uniform(5, 10))
            for n in range(1001, 1021)}
    lifetime = args.duration + 120 if args.duration else 7 * 24 * 3600
    numbers = [f"1380013{rng.randrange(10000):04d}" for _ in range(50)]
    with SippAgentPhones(PhoneBehaviour(answer_after=1.0, talk_time=7.0), talk,
                         timeout=lifetime, workdir=WORKDIR / "phones") as phones:
        say("agent phones ready on 127.0.0.1:5071 (answer after 1 s, talk 5-10 s)")
        await log_in(agents)
        say(f"a caller to {DID} every {args.interval:g}s, pressing 1 (product support) "
            f"{args.press_at:g}s after the answer, then 1 (hardware)")
        with SippCaller(numbers, did=DID, calls=1_000_000, rate=1 / args.interval,
                        # 1: product support, 1: hardware; 1 again: "satisfied" in the survey
                        hangup_after=45.0, dtmf=[Dtmf(args.press_at, "1"),
                                                 Dtmf(args.press_at + 4, "1"),
                                                 Dtmf(args.press_at + 24, "1")],
                        timeout=lifetime,
                        workdir=WORKDIR / "callers") as callers:
            reporter = Reporter()
            deadline = time.monotonic() + args.duration if args.duration else None
            while not stop.is_set() and callers.running:
                reporter.callers(callers.calls())
                reporter.agents(phones.calls())
                if deadline is not None and time.monotonic() > deadline:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=0.5)
            answered = sum(1 for call in callers.calls() if call.answered)
            talked = sum(1 for call in phones.calls() if call.outcome == "answered")
    say(f"stopped: {answered} callers answered, {talked} calls taken by agents "
        f"(sipp logs in {WORKDIR.relative_to(REPO)}/)")


def main() -> int:
    args = parse_args()

    async def guarded() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(args, stop)

    try:
        asyncio.run(guarded())
    except SippError as exc:
        say(f"sipp failed: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
