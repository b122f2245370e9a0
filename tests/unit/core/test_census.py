"""The head counts the metrics read (acd.core.census) say what the supervisors' views
say: callers waiting and since when, callers ringing, agents by state per queue."""

from __future__ import annotations

from collections import Counter

from routing_harness import T0, Harness, queue

from acd.core import events as ev


def from_views(h: Harness) -> dict[str, object]:
    engine = h.engine
    queues = {}
    for name in engine.queue_names():
        view = engine.queue_view(name)
        queues[name] = {
            "waiting": len(view["waiting"]),
            # (the view lists a caller back in line after a failed ring there too)
            "ringing": len([c for c in view["ringing"] if c["call_id"] not in
                            {w["call_id"] for w in view["waiting"]}]),
            "oldest_arrival": min((c["arrived_at"] for c in view["waiting"]), default=None),
            "members": dict(Counter(m["state"] for m in view["members"].values())),
            "available": view["available"],
            "service_level": view["stats"]["service_level"],
        }
    agents = Counter(engine.agent_view(a)["state"] for a in engine.agent_ids())
    return {"queues": queues, "agents": dict(agents)}


def from_census(h: Harness) -> dict[str, object]:
    counts = h.engine.census()
    return {"queues": {q["queue"]: {k: v for k, v in q.items()
                                    if k not in ("queue", "average_handle_seconds")}
                       for q in counts["queues"]},
            "agents": counts["agents"]}


def test_head_counts_agree_with_the_views_through_a_busy_spell():
    h = Harness([queue("sales", ["1", "2", "3"]), queue("service", ["3", "4"])])
    assert from_census(h) == from_views(h)
    h.login("1", "2", "3", "4")
    h.send(ev.AgentPaused("4", "lunch"))
    h.serve("c1", "sales")  # answered and ended: today's service level exists
    h.call("c2", "sales")
    h.answer("c2")
    h.call("c3", "sales")  # rings the next free agent
    h.advance(5)
    h.call("c4", "service")
    h.call("c5", "sales")
    h.advance(7)
    h.call("c6", "sales")  # nobody left: waits
    h.call("c7", "service")
    assert from_census(h) == from_views(h)
    census = {q["queue"]: q for q in h.engine.census()["queues"]}
    assert census["sales"]["waiting"] >= 1
    assert census["sales"]["oldest_arrival"] is not None
    assert census["sales"]["oldest_arrival"] >= T0
    h.send(ev.CallAbandoned("c6"))
    assert from_census(h) == from_views(h)
    assert h.state("3") == "ringing"
    h.send(ev.RingFailed("c3", "3", "rejected"))  # c3 back in line (or rung anew)
    assert from_census(h) == from_views(h)
