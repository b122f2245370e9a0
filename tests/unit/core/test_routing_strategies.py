"""Strategies: who is offered the next call, and fairness of the counts they use."""

from __future__ import annotations

from routing_harness import Harness, agent, queue

from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.model import AgentConfig, Strategy

S = Strategy


def test_longest_idle_offers_the_agent_idle_since_the_earliest_time():
    h = Harness([queue(members=["1001", "1002", "1003"])])
    h.login("1003")
    h.advance(10)
    h.login("1001", "1002")
    h.call("c1")
    assert h.rung("c1") == ["1003"]


def test_longest_idle_counts_from_the_end_of_the_last_call():
    h = Harness([queue(members=["1001", "1002"])])
    h.login("1001", "1002")
    assert h.serve("c1") == "1001"
    assert h.serve("c2") == "1002"
    assert h.serve("c3") == "1001"


def test_ties_are_broken_by_agent_number_in_numeric_order():
    h = Harness([queue(members=["10", "9", "100"], strategy=S.LEAST_CALLS)])
    h.login("100", "10", "9")
    h.send(ev.AgentPaused("100", "break"))
    h.send(ev.AgentPaused("10", "break"))
    h.send(ev.AgentPaused("9", "break"))
    for a in ("100", "10", "9"):
        h.send(ev.AgentResumed(a))
    # same count, same idle-since (login time): the lowest number wins, numerically
    h.call("c1")
    assert h.rung("c1") == ["9"]


def test_least_calls_offers_the_agent_with_fewest_answered_calls():
    h = Harness([queue(members=["1001", "1002", "1003"], strategy=S.LEAST_CALLS)])
    h.login("1001", "1002", "1003")
    served = [h.serve(f"c{i}") for i in range(6)]
    assert sorted(served) == ["1001", "1001", "1002", "1002", "1003", "1003"]
    h.send(ev.AgentPaused("1002", "break"))
    h.serve("c6")
    h.serve("c7")
    h.send(ev.AgentResumed("1002"))
    h.call("c8")
    assert h.rung("c8") == ["1002"]


def test_least_calls_ties_go_to_the_longest_idle_agent():
    h = Harness([queue(members=["1001", "1002"], strategy=S.LEAST_CALLS)])
    h.login("1001", "1002")
    assert h.serve("c1") == "1001"
    assert h.serve("c2") == "1002"
    # both answered one call; 1001 hung up first, so has been idle longer
    h.call("c3")
    assert h.rung("c3") == ["1001"]


def test_shortest_talk_time_offers_the_agent_with_least_talk_in_the_period():
    h = Harness([queue(members=["1001", "1002"], strategy=S.SHORTEST_TALK_TIME)])
    h.login("1001", "1002")
    assert h.serve("c1", talk=300) == "1001"
    assert h.serve("c2", talk=50) == "1002"
    assert h.serve("c3", talk=50) == "1002"
    h.call("c4")
    assert h.rung("c4") == ["1002"]  # two calls but 100 s of talk against 300 s


def test_round_robin_follows_member_order_and_continues_where_it_stopped():
    h = Harness([queue(members=["1003", "1001", "1002"], strategy=S.ROUND_ROBIN)])
    h.login("1001", "1002", "1003")
    assert [h.serve(f"c{i}") for i in range(4)] == ["1003", "1001", "1002", "1003"]


def test_round_robin_skips_a_busy_member_and_keeps_its_place_in_the_rotation():
    h = Harness([queue(members=["1001", "1002", "1003"], strategy=S.ROUND_ROBIN)])
    h.login("1001", "1002", "1003")
    h.call("long")
    h.answer("long", "1001")  # 1001 stays on this call
    assert h.serve("c1") == "1002"
    assert h.serve("c2") == "1003"
    assert h.serve("c3") == "1002"  # wraps around, skipping busy 1001
    h.hang_up("long", "1001")
    assert h.serve("c4") == "1003"  # continues after 1002, not back at the start


def test_ring_all_rings_every_available_agent_and_stops_the_others_on_answer():
    h = Harness([queue(members=["1001", "1002", "1003"], strategy=S.RING_ALL)])
    h.login("1001", "1002", "1003")
    h.call("c1")
    assert h.rung("c1") == ["1001", "1002", "1003"]
    assert len(h.of(cmd.RingAgents)) == 1  # one command, several targets
    h.answer("c1", "1002")
    assert h.of(cmd.StopRinging) == [cmd.StopRinging("c1", ("1001", "1003"))]
    assert h.state("1001") == h.state("1003") == "available"
    assert h.state("1002") == "on-call"


def test_ring_all_rings_only_the_lowest_penalty_level_available():
    h = Harness([queue(members=[("1001", 0), ("1002", 0), ("1003", 1)], strategy=S.RING_ALL)])
    h.login("1001", "1002", "1003")
    h.call("c1")
    assert h.rung("c1") == ["1001", "1002"]
    h.call("c2")
    assert h.rung("c2") == ["1003"]


def test_a_late_answer_in_ring_all_is_hung_up():
    h = Harness([queue(members=["1001", "1002"], strategy=S.RING_ALL)])
    h.login("1001", "1002")
    h.call("c1")
    h.answer("c1", "1001")
    h.send(ev.RingAnswered("c1", "1002"))
    assert h.out == [cmd.StopRinging("c1", ("1002",))]
    assert h.state("1002") == "available"


def test_ring_all_offers_each_free_agent_the_best_caller_it_can_serve():
    h = Harness([queue(members=["1001", "1004"], strategy=S.RING_ALL)],
                [agent("1001", "en"), agent("1004", "vip")])
    h.login("1001", "1004")
    h.call("first")  # rings both: the next two wait
    h.call("vip", priority=1, skills=["en"])  # only 1001 can serve it
    h.call("plain")  # either can
    h.send(ev.CallAbandoned("first"))
    rings = {c.call_id: [t.agent_id for t in c.targets] for c in h.of(cmd.RingAgents)}
    assert rings.get("vip") == ["1001"], rings


def test_lower_penalty_members_are_offered_first():
    h = Harness([queue(members=[("1001", 2), ("1002", 0), ("1003", 1)])])
    h.login("1001")
    h.advance(60)  # 1001 has been idle longest, but has the worst penalty
    h.login("1002", "1003")
    h.call("c1")
    h.call("c2")
    h.call("c3")
    assert [r.targets[0].agent_id for r in h.of(cmd.RingAgents, log=True)] == [
        "1002", "1003", "1001"]


def test_a_late_login_does_not_take_every_call_under_least_calls():
    h = Harness([queue(members=["1001", "1002", "1003"], strategy=S.LEAST_CALLS)])
    h.login("1001", "1002")
    for i in range(20):
        h.serve(f"early{i}")
    h.login("1003")
    served = [h.serve(f"late{i}") for i in range(6)]
    assert served.count("1003") == 2, served
    stats = h.engine.agent_view("1003")["stats"]
    assert stats["answered"] == 2  # the seed only ranks; the statistics stay true


def test_a_late_login_does_not_take_every_call_under_shortest_talk_time():
    h = Harness([queue(members=["1001", "1002", "1003"], strategy=S.SHORTEST_TALK_TIME)])
    h.login("1001", "1002")
    for i in range(10):
        h.serve(f"early{i}", talk=100)
    h.login("1003")
    served = [h.serve(f"late{i}", talk=100) for i in range(6)]
    assert served.count("1003") <= 3, served


def test_an_unanswered_ring_does_not_count_as_a_call():
    h = Harness([queue(members=["1001", "1002"], strategy=S.LEAST_CALLS)])
    h.login("1001", "1002")
    assert h.serve("c1") == "1001"
    assert h.serve("c2") == "1002"
    h.call("c3")
    assert h.rung("c3") == ["1001"]
    h.send(ev.RingFailed("c3", "1001", "no-answer"))
    assert h.rung("c3") == ["1002"]
    h.answer("c3", "1002")
    h.hang_up("c3", "1002")
    h.advance(10)  # 1001's rest after the missed ring is over
    h.call("c4")
    # 1001: 1 answered (+1 missed ring), 1002: 2 answered -> 1001
    assert h.rung("c4") == ["1001"]
    assert h.engine.agent_view("1001")["stats"]["offered"] == 3


def test_an_unanswered_ring_does_not_reset_idle_time():
    h = Harness([queue(members=["1001", "1002"])])
    h.login("1001", "1002")
    h.call("c1")
    h.send(ev.RingFailed("c1", "1001", "no-answer"))
    h.answer("c1", "1002")
    h.hang_up("c1", "1002")
    h.advance(10)
    h.call("c2")
    assert h.rung("c2") == ["1001"]


def test_an_agent_who_rejects_rests_before_the_next_offer():
    h = Harness([queue(members=["1001", "1002"])], ring_failure_delay_seconds=5)
    h.login("1001", "1002")
    h.call("c1")
    h.send(ev.RingFailed("c1", "1001", "rejected"))
    assert h.rung("c1") == ["1002"]
    h.send(ev.RingFailed("c1", "1002", "rejected"))
    assert h.rung() == []  # both rest: the caller waits
    h.advance(5)
    assert h.rung("c1") == ["1001"]


def test_a_transfer_counts_once_with_talk_time_up_to_the_transfer():
    h = Harness([queue(members=["1001", "1002"], strategy=S.LEAST_CALLS),
                 queue("support", members=["1002"])])
    h.login("1001", "1002")
    h.call("c1")
    h.answer("c1", "1001")
    h.advance(20)
    h.send(ev.CallTransferred("c1", "1001", "support"))
    assert h.of(cmd.CallCompleted)[0].outcome == "answered"
    h.call("c1", "support")  # the same caller re-queued by the transfer
    h.answer("c1", "1002")
    h.advance(100)
    h.send(ev.CallEnded("c1", "1001"))  # a stray hang-up report for the old leg
    h.hang_up("c1", "1002")
    a1 = h.engine.agent_view("1001")["stats"]
    assert (a1["answered"], a1["talk_seconds"], a1["transferred"]) == (1, 20.0, 1)
    a2 = h.engine.agent_view("1002")["stats"]
    assert (a2["answered"], a2["talk_seconds"]) == (1, 100.0)
    stats = h.engine.stats()["queues"]
    assert stats["sales"]["answered"] == 1 and stats["support"]["answered"] == 1


def test_agents_in_several_queues_serve_the_heavier_queue_first():
    h = Harness([queue("low", members=["1001"]), queue("high", members=["1001"], weight=5)])
    h.call("a", "low")
    h.advance(30)
    h.call("b", "high")
    h.login("1001")
    assert h.rung() == ["1001"] and h.of(cmd.RingAgents)[0].call_id == "b"


def test_an_agent_listing_a_queue_is_a_member_with_penalty_zero():
    h = Harness([queue(members=[])], agents=[AgentConfig("1001", queues=("sales",))])
    h.login("1001")
    h.call("c1")
    assert h.rung("c1") == ["1001"]


def answer_after(h: Harness, call_id: str, seconds: float) -> str:
    """Queue a call; whoever rings answers after `seconds`, talks a minute, hangs up."""
    h.call(call_id)
    agent_id = h.rung(call_id)[0]
    h.advance(seconds)
    h.answer(call_id, agent_id)
    h.advance(60)
    h.hang_up(call_id, agent_id)
    return agent_id


def test_fastest_answer_prefers_the_agent_who_answers_soonest_on_average():
    h = Harness([queue(members=["1001", "1002"], strategy=S.FASTEST_ANSWER)])
    h.login("1001", "1002")
    assert answer_after(h, "c1", 12.0) == "1001"  # slow
    assert answer_after(h, "c2", 2.0) == "1002"   # quick (1001 idle since later)
    # 1002: (2 + 2*6) / 3 = 4.7 s on average, 1001: (12 + 12) / 3 = 8 s
    for i in range(3, 7):
        assert answer_after(h, f"c{i}", 2.0) == "1002"
    assert h.engine.agent_view("1002")["state"] == "available"


def test_a_ring_let_time_out_counts_its_whole_length_against_the_agent():
    h = Harness([queue(members=["1001", "1002"], strategy=S.FASTEST_ANSWER,
                       ring_timeout_seconds=20)], ring_failure_delay_seconds=0)
    h.login("1001", "1002")
    h.call("c1")
    assert h.rung("c1") == ["1001"]
    h.advance(20)
    h.send(ev.RingFailed("c1", "1001", "no-answer"))
    assert h.rung("c1") == ["1002"]
    h.advance(3)
    h.answer("c1", "1002")
    h.advance(30)
    h.hang_up("c1", "1002")
    h.call("c2")
    assert h.rung("c2") == ["1002"]  # 3 s beats a missed 20 s


def test_a_newcomer_starts_from_the_prior_neither_first_nor_last():
    h = Harness([queue(members=["1001", "1002", "1003"], strategy=S.FASTEST_ANSWER)],
                answer_speed_prior_seconds=6.0, answer_speed_window=3)
    h.login("1002")
    assert answer_after(h, "c1", 15.0) == "1002"  # slow: (15 + 12) / 3 = 9
    h.login("1001", "1003")                       # no history: 6 each
    assert answer_after(h, "c2", 1.0) == "1001"   # quick: (1 + 12) / 3 = 4.3
    h.call("c3")
    assert h.rung("c3") == ["1001"]
    h.answer("c3", "1001")
    h.call("c4")
    assert h.rung("c4") == ["1003"]  # the newcomer before the slow agent


def test_the_average_covers_only_the_latest_offers():
    h = Harness([queue(members=["1001"], strategy=S.FASTEST_ANSWER)], answer_speed_window=3)
    h.login("1001")
    for i, seconds in enumerate([30.0, 1.0, 1.0, 1.0]):
        answer_after(h, f"c{i}", seconds)
    assert h.engine._st.agents["1001"].answer_speeds == [1.0, 1.0, 1.0]
