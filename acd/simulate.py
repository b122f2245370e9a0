"""Discrete-event simulation of a call centre running the real RoutingEngine.

Poisson arrivals, exponential talk times, exponential patience (abandonment)
and N agents who answer at once. Each strategy is run over several seeds and
reported as mean ± 95% confidence interval next to Erlang C (no abandonment)
or Erlang A (with abandonment). A work-conserving router with identical agents
must match these models within statistical error, whatever its strategy: the
runs use common random numbers (the same arrivals, talk times and patience for
every strategy), so the service figures even come out identical, and the
strategies differ only in who gets the calls (the calls/agent column:
fewest-most answered per agent, averaged over seeds).

    python -m acd.simulate --agents 20 --load 17 --aht 180 --seeds 5
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import sys
from dataclasses import dataclass, field
from typing import TextIO

from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember, RoutingSettings, Strategy

T0 = 1_750_000_000.0
T95 = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 7: 2.447, 8: 2.365, 9: 2.306,
       10: 2.262, 15: 2.145, 20: 2.093}


# -- queueing models -------------------------------------------------------------------


def erlang_c(agents: int, load: float) -> float:
    """Probability that a caller waits (M/M/N), by the stable Erlang B recursion."""
    if load >= agents:
        return 1.0
    b = 1.0
    for k in range(1, agents + 1):
        b = load * b / (k + load * b)
    return agents * b / (agents - load * (1 - b))


def erlang_c_figures(agents: int, load: float, aht: float, sl: float) -> dict[str, float]:
    c = erlang_c(agents, load)
    return {"sl": 1 - c * math.exp(-(agents - load) * sl / aht),
            "asa": c * aht / (agents - load) if agents > load else math.inf,
            "abandon": 0.0, "occupancy": min(load / agents, 1.0), "p_wait": c}


def erlang_a_figures(agents: int, rate: float, aht: float, patience: float) -> dict[str, float]:
    """Erlang A (M/M/N+M) from its birth-death chain: abandon rate, P(wait), occupancy."""
    mu, theta = 1 / aht, 1 / patience
    weights, w = [1.0], 1.0
    for n in range(1, agents + 2000):
        w *= rate / (mu * min(n, agents) + theta * max(n - agents, 0))
        weights.append(w)
        if n > agents and w < 1e-16 * sum(weights):
            break
    total = sum(weights)
    pi = [x / total for x in weights]
    abandon = sum(p * theta * (n - agents) for n, p in enumerate(pi) if n > agents) / rate
    busy = sum(p * min(n, agents) for n, p in enumerate(pi))
    return {"sl": math.nan, "asa": math.nan, "abandon": abandon, "occupancy": busy / agents,
            "p_wait": sum(p for n, p in enumerate(pi) if n >= agents)}


# -- the simulation ------------------------------------------------------------------


@dataclass(frozen=True)
class SimConfig:
    agents: int = 20
    load: float = 17.0  # Erlangs offered
    aht: float = 180.0
    patience: float = 0.0  # mean patience in seconds; 0: nobody abandons
    sl: float = 20.0
    hours: float = 8.0
    warmup: float = 1800.0
    answer_delay: float = 0.0

    @property
    def rate(self) -> float:
        return self.load / self.aht


@dataclass
class RunResult:
    answered_within: int = 0
    answered: int = 0
    abandoned: int = 0
    waits: list[float] = field(default_factory=list)
    talk: float = 0.0
    decisions: int = 0
    #: answered calls per agent over the whole run (fairness, which strategies do change)
    per_agent: list[int] = field(default_factory=list)

    def figures(self, cfg: SimConfig) -> dict[str, float]:
        finished = self.answered + self.abandoned
        window = cfg.hours * 3600
        return {"sl": self.answered_within / finished if finished else math.nan,
                "asa": statistics.fmean(self.waits) if self.waits else math.nan,
                "abandon": self.abandoned / finished if finished else math.nan,
                "occupancy": self.talk / (cfg.agents * window),
                "fewest": min(self.per_agent), "most": max(self.per_agent)}


class Simulation:
    """One run: an event heap (arrivals, answers, hang-ups, abandons) plus the engine's timer."""

    def __init__(self, cfg: SimConfig, strategy: Strategy, seed: int) -> None:
        self.cfg = cfg
        self.rng = random.Random(seed)
        # a separate stream for which ringing agent answers, so that every strategy sees
        # the same arrivals, talk times and patience (common random numbers)
        self.pick = random.Random(seed + 1_000_003)
        agents = [AgentConfig(str(1000 + i)) for i in range(cfg.agents)]
        queue = QueueConfig("sim", strategy, tuple(QueueMember(a.agent_id) for a in agents),
                            ring_timeout_seconds=30, service_level_seconds=cfg.sl)
        self.engine = RoutingEngine([queue], agents, period_key=lambda now: "sim",
                                    settings=RoutingSettings(ring_failure_delay_seconds=0))
        self.events: list[tuple[float, int, str, str, str]] = []
        self.seq = 0
        self.calls = 0
        self.arrived: dict[str, float] = {}
        self.answered: set[str] = set()
        self.result = RunResult()
        self.start = T0 + cfg.warmup
        self.end = self.start + cfg.hours * 3600
        for a in agents:
            self.engine.handle(ev.AgentLoggedIn(a.agent_id, f"SIM/{a.agent_id}"), T0)

    def push(self, when: float, kind: str, call_id: str = "", agent_id: str = "") -> None:
        self.seq += 1
        heapq.heappush(self.events, (when, self.seq, kind, call_id, agent_id))

    def run(self) -> RunResult:
        self.push(T0 + self.rng.expovariate(self.cfg.rate), "arrival")
        while self.events:
            deadline = self.engine.next_deadline()
            if deadline is not None and deadline <= self.events[0][0]:
                self.apply(self.engine.on_timer(deadline), deadline)
                continue
            now, _, kind, call_id, agent_id = heapq.heappop(self.events)
            self.step(now, kind, call_id, agent_id)
        self.result.per_agent = [a["answered"] for a in self.engine.stats()["agents"].values()]
        return self.result

    def step(self, now: float, kind: str, call_id: str, agent_id: str) -> None:
        cfg, rng = self.cfg, self.rng
        if kind == "arrival":
            self.calls += 1
            call_id = f"c{self.calls}"
            self.arrived[call_id] = now
            following = now + rng.expovariate(cfg.rate)
            if following < self.end:
                self.push(following, "arrival")
            if cfg.patience > 0:
                self.push(now + rng.expovariate(1 / cfg.patience), "abandon", call_id)
            event: ev.Event = ev.CallQueued(call_id, "sim", "1")
        elif kind == "answer":
            event = ev.RingAnswered(call_id, agent_id)
        elif kind == "hangup":
            event = ev.CallEnded(call_id, agent_id)
        elif call_id in self.answered:  # an abandon timer after the answer
            return
        else:
            event = ev.CallAbandoned(call_id)
        self.result.decisions += 1
        self.apply(self.engine.handle(event, now), now)

    def apply(self, commands: list[cmd.Command], now: float) -> None:
        for c in commands:
            if isinstance(c, cmd.RingAgents):
                target = self.pick.choice(c.targets)  # ring all: somebody answers
                self.push(now + self.cfg.answer_delay, "answer", c.call_id, target.agent_id)
            elif isinstance(c, cmd.CallRouted):
                self.answered.add(c.call_id)
                self.push(now + self.rng.expovariate(1 / self.cfg.aht), "hangup", c.call_id,
                          c.agent_id)
            elif isinstance(c, cmd.CallCompleted):
                self.record(c)

    def record(self, c: cmd.CallCompleted) -> None:
        arrived = self.arrived.pop(c.call_id)
        if not self.start <= arrived < self.end:
            return  # warm-up, or the drain after the window
        r = self.result
        if c.outcome == "answered":
            r.answered += 1
            r.waits.append(c.waited_seconds)
            r.answered_within += c.waited_seconds <= self.cfg.sl
            r.talk += c.talk_seconds
        elif c.outcome == "abandoned":
            r.abandoned += 1


# -- reporting -----------------------------------------------------------------------------


def mean_ci(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, math.nan
    t = T95.get(len(values), 1.96 if len(values) > 20 else 2.1)
    return mean, t * statistics.stdev(values) / math.sqrt(len(values))


def fmt(value: float, ci: float, scale: float, unit: str) -> str:
    if math.isnan(value):
        return "-"
    if math.isnan(ci):
        return f"{value * scale:.1f}{unit}"
    return f"{value * scale:.1f} ± {ci * scale:.1f}{unit}"


METRICS = (("sl", 100, "%"), ("asa", 1, " s"), ("abandon", 100, "%"), ("occupancy", 100, "%"))


def report(cfg: SimConfig, strategies: list[Strategy], seeds: int, out: TextIO) -> bool:
    """Print one table; True when the model lies inside every strategy's CI."""
    model = (erlang_c_figures(cfg.agents, cfg.load, cfg.aht, cfg.sl) if cfg.patience <= 0
             else erlang_a_figures(cfg.agents, cfg.rate, cfg.aht, cfg.patience))
    name = "Erlang C" if cfg.patience <= 0 else "Erlang A"
    title = "no abandonment" if cfg.patience <= 0 else f"mean patience {cfg.patience:.0f} s"
    lines = [f"\n{cfg.agents} agents, {cfg.load:g} Erlang offered, AHT {cfg.aht:g} s, {title}, "
             f"SL {cfg.sl:g} s, {cfg.hours:g} h x {seeds} seeds (mean ± 95% CI)",
             f"| {'strategy':<18} | {'service level':>15} | {'ASA':>15} | {'abandoned':>13} "
             f"| {'occupancy':>13} | {'calls/agent':>11} |",
             "|" + "|".join("-" * w for w in (20, 17, 17, 15, 15, 13)) + "|"]
    agree = True
    for strategy in strategies:
        runs = [Simulation(cfg, strategy, seed).run().figures(cfg) for seed in range(seeds)]
        cells = []
        for key, scale, unit in METRICS:
            mean, ci = mean_ci([r[key] for r in runs])
            cells.append(fmt(mean, ci, scale, unit))
            if not math.isnan(model[key]) and not math.isnan(ci) and key != "occupancy":
                agree &= abs(mean - model[key]) <= max(ci, 1e-9) * 1.5
        spread = (f"{statistics.fmean(r['fewest'] for r in runs):.0f}-"
                  f"{statistics.fmean(r['most'] for r in runs):.0f}")
        lines.append(f"| {strategy.value:<18} | {cells[0]:>15} | {cells[1]:>15} | "
                     f"{cells[2]:>13} | {cells[3]:>13} | {spread:>11} |")
    model_cells = [fmt(model[k], math.nan, s, u) for k, s, u in METRICS]
    lines.append(f"| {name + ' (model)':<18} | {model_cells[0]:>15} | {model_cells[1]:>15} | "
                 f"{model_cells[2]:>13} | {model_cells[3]:>13} | {'':>11} |")
    print("\n".join(lines), file=out)
    return agree


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agents", type=int, default=20, help="agents logged in (20)")
    parser.add_argument("--load", type=float, default=17.0, help="offered load in Erlang (17)")
    parser.add_argument("--aht", type=float, default=180.0, help="mean talk time, s (180)")
    parser.add_argument("--patience", type=float, default=120.0,
                        help="mean caller patience, s, for the abandonment run (120; 0: skip)")
    parser.add_argument("--sl", type=float, default=20.0, help="service level threshold, s (20)")
    parser.add_argument("--hours", type=float, default=8.0, help="simulated hours per run (8)")
    parser.add_argument("--warmup", type=float, default=1800.0, help="ignored first seconds")
    parser.add_argument("--seeds", type=int, default=20, help="independent runs per strategy (20)")
    parser.add_argument("--strategies", default=",".join(s.value for s in Strategy),
                        help="comma-separated strategies (all)")


def run(args: argparse.Namespace) -> int:
    strategies = [Strategy(s.strip()) for s in args.strategies.split(",") if s.strip()]
    base = SimConfig(agents=args.agents, load=args.load, aht=args.aht, sl=args.sl,
                     hours=args.hours, warmup=args.warmup)
    agree = report(base, strategies, args.seeds, sys.stdout)
    if args.patience > 0:
        with_abandon = SimConfig(**{**base.__dict__, "patience": args.patience})
        agree &= report(with_abandon, strategies, args.seeds, sys.stdout)
    print("\nmodel inside the confidence intervals: " + ("yes" if agree else "NO"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acd.simulate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
