"""Invariants under random event sequences (hypothesis).

- no agent ever holds two calls, no call is connected to two agents;
- no caller waits while an eligible agent who can serve them is available;
- a ring goes to the best waiting caller the agent can serve (priority, then arrival);
- every caller ends answered, abandoned, exited or callback-failed, exactly once;
- refused requests change nothing; increments add up to the snapshot; restore is exact.
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from routing_harness import T0, agent, apply_changes, fixed_period, queue

from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.calls import CallState
from acd.core.engine import RoutingEngine
from acd.core.errors import RoutingError
from acd.core.model import OverflowMode, OverflowRule, RoutingSettings, Strategy

AGENTS = [agent("1001", "en"), agent("1002"), agent("1003", "en", "vip"), agent("1004", "vip"),
          agent("1005")]
REASONS = ["no-answer", "rejected", "busy", "unavailable"]


def configs(strategy: Strategy, mode: OverflowMode, extra: bool = False) -> list[Any]:
    return [
        queue("a", members=["1001", ("1002", 1), "1003", "1004", *(["1005"] if extra else [])],
              strategy=strategy,
              wrap_up_seconds=5, max_wait_seconds=200, announce_period_seconds=20,
              auto_pause_after=2, overflow=(OverflowRule(30, "b", mode),)),
        queue("b", members=["1003", "1005", ("1001", 2)], strategy=Strategy.LONGEST_IDLE,
              ring_timeout_seconds=10),
    ]


class Checker:
    def __init__(self, engine: RoutingEngine) -> None:
        self.engine = engine
        self.engaged: dict[str, str] = {}  # agent -> call, from commands
        self.completed: dict[str, str] = {}
        self.queued: set[str] = set()
        self.reloads = 0

    def commands(self, out: list[Any], before: dict[str, Any]) -> None:
        st = self.engine._st
        for c in out:
            if isinstance(c, cmd.ReleaseAgent):
                assert self.engaged.get(c.agent_id) == c.call_id, c
                del self.engaged[c.agent_id]
            elif isinstance(c, cmd.RingAgents | cmd.PlaceCallback):
                agents = ([t.agent_id for t in c.targets] if isinstance(c, cmd.RingAgents)
                          else [c.agent_id])
                for a in agents:
                    assert a not in self.engaged, f"{a} offered {c.call_id} while holding " \
                                                  f"{self.engaged.get(a)}"
                    self.engaged[a] = c.call_id
                self.ring_was_best(c.call_id, agents, before)
            elif isinstance(c, cmd.CallCompleted):
                assert c.call_id not in self.completed, f"{c.call_id} completed twice"
                assert c.outcome in ("answered", "abandoned", "exited", "callback-failed")
                self.completed[c.call_id] = c.outcome
            elif isinstance(c, cmd.AgentStateChanged) and c.state.value == "logged-out":
                assert c.agent_id not in self.engaged
        for a in st.agents.values():
            if a.call_id:
                assert self.engaged.get(a.agent_id) == a.call_id

    def ring_was_best(self, call_id: str, agents: list[str], before: dict[str, Any]) -> None:
        """No caller still waiting, who waited before this step, should have come first."""
        st = self.engine._st
        rung = before["calls"].get(call_id) or st.calls[call_id].to_dict()
        key = (-rung["priority"], rung["seq"])
        for a in agents:
            skills = st.agents[a].config.skills
            for name in st.agent_queues[a]:
                for other_id in st.queues[name].waiting.call_ids():
                    other = st.calls[other_id]
                    was = before["calls"].get(other_id)
                    if was is None or was["state"] != "waiting" or not other.skills <= skills:
                        continue
                    if name not in was["queues"]:
                        continue
                    assert (-other.priority, other.seq) > key, (
                        f"{a} rung for {call_id} while better {other_id} waited in {name}")

    def state(self) -> None:
        st = self.engine._st
        holders: dict[str, str] = {}
        for call in st.calls.values():
            people = list(call.ringing) + ([call.agent_id] if call.agent_id else [])
            if call.state is CallState.CONNECTED:
                assert len(people) == 1
            for a in people:
                assert a not in holders, f"{a} holds {holders.get(a)} and {call.call_id}"
                holders[a] = call.call_id
        for call in st.calls.values():  # work conservation
            if call.state is not CallState.WAITING:
                continue
            for name in call.queues:
                for a in st.queues[name].pool.agent_ids():
                    agent_ = st.agents[a]
                    assert agent_.eligible
                    assert not call.skills <= agent_.config.skills, (
                        f"{call.call_id} waits in {name} while {a} is available")
        for a in st.agents.values():
            assert (a.agent_id in st.pooled) == a.eligible


@settings(max_examples=int(os.environ.get("ROUTING_EXAMPLES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=hs.data(), strategy=hs.sampled_from(list(Strategy)),
       mode=hs.sampled_from(list(OverflowMode)), delay=hs.sampled_from([0.0, 5.0]))
def test_random_event_sequences_keep_every_invariant(data, strategy, mode, delay):
    queues = configs(strategy, mode)
    engine = RoutingEngine(queues, AGENTS, period_key=fixed_period,
                           settings=RoutingSettings(ring_failure_delay_seconds=delay))
    check = Checker(engine)
    store: dict[str, Any] = {}
    now, next_call = T0, 0
    engine.on_timer(now)  # opens the statistics period
    for _ in range(data.draw(hs.integers(10, 80), label="steps")):
        st = engine._st
        calls = sorted(st.calls) or ["nocall"]
        a = data.draw(hs.sampled_from([x.agent_id for x in AGENTS]))
        c = data.draw(hs.sampled_from(calls))
        call = st.calls.get(c)
        ringing = call.ringing if call is not None else []
        kind = data.draw(hs.sampled_from([
            "login", "login", "logout", "pause", "resume", "wrap", "reach", "queue", "queue",
            "queue", "abandon", "answer", "answer", "fail", "end", "end", "transfer",
            "callback", "callback-failed", "claim-lost", "claim-released", "advance",
            "advance", "reload"]))
        event: Any = None
        if kind == "advance":
            now += data.draw(hs.floats(0, 40))
        elif kind == "queue":
            next_call += 1
            event = ev.CallQueued(f"k{next_call}", data.draw(hs.sampled_from(["a", "b"])), "1",
                                  data.draw(hs.integers(0, 2)),
                                  data.draw(hs.sampled_from([frozenset(), frozenset({"en"}),
                                                             frozenset({"vip"})])))
            check.queued.add(event.call_id)
        elif kind in ("answer", "fail") and ringing:
            who = data.draw(hs.sampled_from(ringing))
            event = (ev.RingAnswered(c, who) if kind == "answer" else
                     ev.RingFailed(c, who, data.draw(hs.sampled_from(REASONS))))
        elif kind in ("end", "transfer") and call is not None and call.agent_id:
            event = (ev.CallEnded(c, call.agent_id) if kind == "end"
                     else ev.CallTransferred(c, call.agent_id, "8000"))
        elif kind == "claim-lost" and ringing:
            event = ev.AgentClaimLost(data.draw(hs.sampled_from(ringing)), c)
        elif kind == "reload":
            pass
        else:
            event = {
                "login": ev.AgentLoggedIn(a, f"SIP/{a}"), "logout": ev.AgentLoggedOut(a),
                "pause": ev.AgentPaused(a, "break"), "resume": ev.AgentResumed(a),
                "wrap": ev.WrapUpEnded(a), "reach": ev.AgentDeviceReachability(
                    a, data.draw(hs.booleans())),
                "abandon": ev.CallAbandoned(c), "callback": ev.CallbackRequested(c, "139"),
                "callback-failed": ev.CallbackFailed(c), "claim-released":
                    ev.AgentClaimReleased(a), "answer": ev.RingAnswered(c, a),
                "fail": ev.RingFailed(c, a), "end": ev.CallEnded(c, a),
                "transfer": ev.CallTransferred(c, a, "x"), "claim-lost": ev.AgentClaimLost(a, c),
            }[kind]
        before = engine.snapshot()
        if kind == "reload":  # alternate between two member lists, keeping everything else
            check.reloads += 1
            queues = configs(strategy, mode, extra=check.reloads % 2 == 1)
            out = engine.reconfigure(queues, AGENTS, now)
            check.commands(out, before)
            check.state()
            apply_changes(store, engine.take_changes())
            assert store == engine.snapshot()
            continue
        if event is None:
            out = []
            while (d := engine.next_deadline()) is not None and d <= now:
                step_before = engine.snapshot()
                step = engine.on_timer(d)
                check.commands(step, step_before)
                out += step
            out += engine.on_timer(now)
        else:
            try:
                out = engine.handle(event, now)
            except RoutingError:
                assert engine.snapshot() == before
                continue
            if isinstance(event, ev.AgentClaimLost) and event.agent_id in (
                    before["calls"].get(event.call_id, {}).get("ringing", ())):
                del check.engaged[event.agent_id]  # the adapter never got that claim
            check.commands(out, before)
        check.state()
        apply_changes(store, engine.take_changes())
        assert store == engine.snapshot()

    data_ = json.loads(json.dumps(engine.snapshot()))
    twin = RoutingEngine.restore(queues, AGENTS, data_, now, period_key=fixed_period,
                                 settings=engine._st.settings)
    assert twin.snapshot() == engine.snapshot()
    assert twin.on_timer(now) == engine.on_timer(now)
    assert twin.snapshot() == engine.snapshot()

    # drain: every caller must end one way or another, never lost
    for call_id in sorted(engine._st.calls):
        call = engine._st.calls.get(call_id)
        if call is None:
            continue
        before = engine.snapshot()
        if call.state is CallState.CONNECTED:
            check.commands(engine.handle(ev.CallEnded(call_id, call.agent_id), now), before)
        elif call.is_callback:
            check.commands(engine.handle(ev.CallbackCancelled(call_id), now), before)
        else:
            check.commands(engine.handle(ev.CallAbandoned(call_id), now), before)
    assert engine._st.calls == {}
    assert set(check.completed) == check.queued
