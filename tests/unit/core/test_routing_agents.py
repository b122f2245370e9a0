"""The agent state machine: legal moves, refusals, pauses, wrap-up, no-answer, reachability."""

from __future__ import annotations

import pytest
from routing_harness import T0, Harness, queue

from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.errors import IllegalTransition, UnknownAgent, UnknownPauseReason
from acd.core.model import AgentState


def harness(**kw):
    return Harness([queue(members=["1001", "1002"], wrap_up_seconds=30, **kw)])


def put_in(h: Harness, state: str) -> None:
    """Bring agent 1001 (the only one logged in) into `state`."""
    if state == "logged-out":
        return
    h.login("1001")
    if state == "paused":
        h.send(ev.AgentPaused("1001", "break"))
    if state in ("ringing", "on-call", "wrap-up"):
        h.call("c1")
    if state in ("on-call", "wrap-up"):
        h.answer("c1", "1001")
    if state == "wrap-up":
        h.hang_up("c1", "1001")
    assert h.state("1001") == state


LEGAL = [
    ("logged-out", ev.AgentLoggedIn("1001", "PJSIP/1001"), "available"),
    ("available", ev.AgentPaused("1001", "break"), "paused"),
    ("available", ev.AgentLoggedOut("1001"), "logged-out"),
    ("paused", ev.AgentResumed("1001"), "available"),
    ("paused", ev.AgentPaused("1001", "meeting"), "paused"),
    ("paused", ev.AgentLoggedOut("1001"), "logged-out"),
    ("ringing", ev.RingAnswered("c1", "1001"), "on-call"),
    ("ringing", ev.AgentPaused("1001", "away"), "paused"),
    ("ringing", ev.AgentLoggedOut("1001"), "logged-out"),
    ("on-call", ev.CallEnded("c1", "1001"), "wrap-up"),
    ("on-call", ev.AgentPaused("1001", "busy"), "on-call"),  # applied after the call
    ("on-call", ev.AgentLoggedOut("1001"), "on-call"),  # applied after the call
    ("wrap-up", ev.WrapUpEnded("1001"), "available"),
    ("wrap-up", ev.AgentResumed("1001"), "available"),
    ("wrap-up", ev.AgentPaused("1001", "break"), "paused"),
    ("wrap-up", ev.AgentLoggedOut("1001"), "logged-out"),
]


@pytest.mark.parametrize(("start", "event", "end"), LEGAL)
def test_legal_moves_take_the_agent_to_the_expected_state(start, event, end):
    h = harness()
    put_in(h, start)
    h.advance(7)
    h.send(event)
    assert h.state("1001") == end
    view = h.engine.agent_view("1001")
    if end != start:
        assert view["since"] == h.now
        assert h.of(cmd.AgentStateChanged)[-1] == cmd.AgentStateChanged(
            "1001", AgentState(end), view["reason"], h.now)


ILLEGAL = [
    ("available", ev.AgentLoggedIn("1001", "PJSIP/1001"), "already logged in"),
    ("paused", ev.AgentLoggedIn("1001", "PJSIP/1001"), "already logged in"),
    ("logged-out", ev.AgentLoggedOut("1001"), "already logged out"),
    ("logged-out", ev.AgentPaused("1001", "break"), "log in first"),
    ("logged-out", ev.AgentResumed("1001"), "log in first"),
    ("available", ev.AgentResumed("1001"), "already available"),
    ("ringing", ev.AgentResumed("1001"), "answer the ringing call"),
    ("on-call", ev.AgentResumed("1001"), "the agent is on a call"),
    ("available", ev.WrapUpEnded("1001"), "not in wrap-up"),
    ("logged-out", ev.WrapUpEnded("1001"), "not in wrap-up"),
]


@pytest.mark.parametrize(("start", "event", "hint"), ILLEGAL)
def test_illegal_moves_are_refused_with_a_readable_error_and_no_change(start, event, hint):
    h = harness()
    put_in(h, start)
    h.engine.on_timer(h.now)  # opens the statistics period
    before = h.engine.snapshot()
    with pytest.raises(IllegalTransition) as refused:
        h.engine.handle(event, h.now + 1)
    assert str(refused.value).startswith(f"agent 1001 cannot go from {start} to ")
    assert str(refused.value).endswith(hint)
    assert h.engine.snapshot() == before


def test_an_unknown_agent_or_pause_reason_is_refused_by_name():
    h = harness()
    with pytest.raises(UnknownAgent, match="agent 4711 is not configured"):
        h.send(ev.AgentLoggedIn("4711", "PJSIP/4711"))
    h.login("1001")
    with pytest.raises(UnknownPauseReason, match="'nap' is not configured"):
        h.send(ev.AgentPaused("1001", "nap"))


def test_pause_reasons_are_configurable():
    h = Harness([queue(members=["1001"])], pause_reasons=frozenset({"小休", "示忙"}))
    h.login("1001")
    h.send(ev.AgentPaused("1001", "小休"))
    assert h.engine.agent_view("1001")["reason"] == "小休"
    with pytest.raises(UnknownPauseReason):
        h.send(ev.AgentPaused("1001", "break"))


def test_time_in_each_state_is_accumulated_per_pause_reason():
    h = harness()
    h.login("1001")
    h.advance(10)
    h.send(ev.AgentPaused("1001", "break"))
    h.advance(300)
    h.send(ev.AgentPaused("1001", "meeting"))
    h.advance(60)
    h.send(ev.AgentResumed("1001"))
    spent = h.engine.agent_view("1001")["stats"]["state_seconds"]
    assert spent == {"available": 10.0, "paused:break": 300.0, "paused:meeting": 60.0}


def test_pausing_a_ringing_agent_offers_the_caller_to_the_next_agent():
    h = harness()
    h.login("1001", "1002")
    h.call("c1")
    h.send(ev.AgentPaused("1001", "away"))
    assert cmd.StopRinging("c1", ("1001",)) in h.out
    assert cmd.ReleaseAgent("1001", "c1") in h.out
    assert h.rung("c1") == ["1002"]


def test_a_pause_asked_for_during_a_call_applies_after_wrap_up():
    h = harness()
    put_in(h, "on-call")
    h.send(ev.AgentPaused("1001", "busy"))
    assert h.engine.agent_view("1001")["pending_pause"] == "busy"
    h.hang_up("c1", "1001")
    assert h.state("1001") == "wrap-up"
    h.advance(30)
    assert (h.state("1001"), h.engine.agent_view("1001")["reason"]) == ("paused", "busy")


def test_ending_wrap_up_applies_a_pending_pause_but_resuming_cancels_it():
    h = harness()
    put_in(h, "on-call")
    h.send(ev.AgentPaused("1001", "busy"))
    h.hang_up("c1", "1001")
    h.send(ev.WrapUpEnded("1001"))
    assert (h.state("1001"), h.engine.agent_view("1001")["reason"]) == ("paused", "busy")
    h.send(ev.AgentResumed("1001"))
    h.call("c2")
    h.answer("c2", "1001")
    h.send(ev.AgentPaused("1001", "busy"))
    h.hang_up("c2", "1001")
    h.send(ev.AgentResumed("1001"))  # "ready" during wrap-up
    assert h.state("1001") == "available"


def test_a_pending_pause_can_be_cancelled_during_the_call():
    h = Harness([queue(members=["1001"])])
    h.login("1001")
    h.call("c1")
    h.answer("c1")
    h.send(ev.AgentPaused("1001", "busy"))
    h.send(ev.AgentResumed("1001"))
    h.hang_up("c1", "1001")
    assert h.state("1001") == "available"


def test_wrap_up_ends_by_itself_after_the_queue_wrap_up_time():
    h = harness()
    put_in(h, "wrap-up")
    h.call("c2")
    assert h.rung("c2") == []  # 1001 is wrapping up: the caller waits
    h.advance(29)
    assert h.state("1001") == "wrap-up"
    h.advance(1)
    assert h.rung("c2") == ["1001"]
    assert cmd.ReleaseAgent("1001", "c1") in h.out
    assert h.engine.stats()["queues"]["sales"]["wrap_up_seconds"] == 30.0


def test_an_agent_may_end_wrap_up_early():
    h = harness()
    put_in(h, "wrap-up")
    h.call("c2")
    h.advance(5)
    h.send(ev.WrapUpEnded("1001"))
    assert h.rung("c2") == ["1001"]
    stats = h.engine.agent_view("1001")["stats"]
    assert stats["wrap_up_seconds"] == 5.0
    h.advance(60)  # the cancelled wrap-up timer does nothing
    assert h.state("1001") == "ringing"


def test_consecutive_no_answers_auto_pause_the_agent_and_tell_supervisors():
    h = Harness([queue(members=["1001"], auto_pause_after=3)], ring_failure_delay_seconds=0)
    h.login("1001")
    h.call("c1")
    for attempt in range(3):
        assert h.rung("c1") == ["1001"], attempt
        h.send(ev.RingFailed("c1", "1001", "no-answer"))
    assert h.of(cmd.AgentAutoPaused) == [cmd.AgentAutoPaused("1001", "no-answer", 3)]
    view = h.engine.agent_view("1001")
    assert (view["state"], view["reason"]) == ("paused", "no-answer")
    h.send(ev.AgentResumed("1001"))
    assert h.rung("c1") == ["1001"]
    assert h.engine.agent_view("1001")["missed_in_row"] == 0


def test_an_answer_resets_the_count_of_missed_calls():
    h = Harness([queue(members=["1001"], auto_pause_after=2)], ring_failure_delay_seconds=0)
    h.login("1001")
    h.call("c1")
    h.send(ev.RingFailed("c1", "1001", "no-answer"))
    h.answer("c1", "1001")
    h.hang_up("c1", "1001")
    h.call("c2")
    h.send(ev.RingFailed("c2", "1001", "no-answer"))
    assert h.of(cmd.AgentAutoPaused) == []
    assert h.engine.agent_view("1001")["missed_in_row"] == 1
    assert h.rung("c2") == ["1001"]  # no rest configured: offered again at once


def test_the_engine_gives_up_on_a_ring_whose_outcome_is_never_reported():
    h = Harness([queue(members=["1001", "1002"], ring_timeout_seconds=15)],
                ring_grace_seconds=5)
    h.login("1001", "1002")
    h.call("c1")
    h.advance(19)
    assert h.out == []
    h.advance(1)
    assert cmd.StopRinging("c1", ("1001",)) in h.out
    assert h.rung("c1") == ["1002"]
    assert h.engine.agent_view("1001")["stats"]["missed"] == 1


def test_an_unreachable_agent_is_not_offered_calls_until_reachable_again():
    h = harness()
    h.login("1001")
    h.send(ev.AgentDeviceReachability("1001", False))
    h.call("c1")
    assert h.rung() == []
    assert h.state("1001") == "available"
    h.send(ev.AgentDeviceReachability("1001", True))
    assert h.rung("c1") == ["1001"]


def test_an_agent_held_by_another_process_is_skipped_then_retried():
    h = Harness([queue(members=["1001", "1002"])], claim_retry_seconds=10)
    h.login("1001", "1002")
    h.call("c1")
    h.send(ev.AgentClaimLost("1001", "c1"))
    assert h.rung("c1") == ["1002"]
    assert not any(isinstance(c, cmd.ReleaseAgent) for c in h.out)  # never ours to release
    h.call("c2")
    assert h.rung() == []
    h.send(ev.AgentClaimReleased("1001"))
    assert h.rung("c2") == ["1001"]


def test_logging_out_in_wrap_up_releases_the_agent():
    h = harness()
    put_in(h, "wrap-up")
    h.send(ev.AgentLoggedOut("1001"))
    assert cmd.ReleaseAgent("1001", "c1") in h.out
    assert h.engine.agent_view("1001")["since"] == T0


def test_a_logout_asked_for_during_a_call_applies_after_wrap_up():
    h = harness()
    put_in(h, "on-call")
    h.send(ev.AgentLoggedOut("1001"))
    view = h.engine.agent_view("1001")
    assert view["state"] == "on-call" and view["pending_logout"]
    h.hang_up("c1", "1001")
    assert h.state("1001") == "wrap-up"
    h.advance(30)  # the queue's wrap-up
    assert h.state("1001") == "logged-out"
    assert not h.engine.agent_view("1001")["pending_logout"]
    states = [c.state.value for c in h.of(cmd.AgentStateChanged, log=True)]
    assert states[-2:] == ["wrap-up", "logged-out"]
    wrap = h.engine.stats()["agents"]["1001"]["wrap_up_seconds"]
    assert wrap == 30.0  # counted once


def test_a_pending_logout_without_wrap_up_applies_as_the_call_ends():
    h = Harness([queue(members=["1001"])])
    h.login("1001")
    h.call("c1")
    h.answer("c1", "1001")
    h.send(ev.AgentLoggedOut("1001"))
    h.hang_up("c1", "1001")
    assert h.state("1001") == "logged-out"
    h.call("c2")
    assert h.rung("c2") == []


def test_resuming_or_pausing_during_the_call_replaces_a_pending_logout():
    h = harness()
    put_in(h, "on-call")
    h.send(ev.AgentLoggedOut("1001"))
    h.send(ev.AgentResumed("1001"))
    assert not h.engine.agent_view("1001")["pending_logout"]
    h.send(ev.AgentLoggedOut("1001"))
    h.send(ev.AgentPaused("1001", "break"))
    view = h.engine.agent_view("1001")
    assert not view["pending_logout"] and view["pending_pause"] == "break"
