"""Hold and resume during a conversation: the caller hears music (Asterisk plays it),
the record keeps the time on hold apart from the talk time."""

from __future__ import annotations

from harness import answered_dial
from test_session_paths import connected, end_survey, queued

from acd.callflow import facts as f


def test_time_on_hold_is_recorded_and_not_counted_as_talk():
    call = connected(queued())
    call.feed(f.HoldChanged(True, "agent"), after=10)
    call.feed(f.HoldChanged(False, "agent"), after=25)
    call.feed(answered_dial(), after=5)  # the agent hangs up 40 s after the bridge
    end_survey(call)
    assert call.stored["talk_seconds"] == 15.0 and call.stored["hold_seconds"] == 25.0
    assert call.closed == 1


def test_a_call_that_ends_on_hold_counts_the_hold_until_the_end():
    call = connected(queued())
    call.feed(f.HoldChanged(True, "agent"), after=10)
    call.feed(answered_dial(), after=20)
    end_survey(call)
    assert call.stored["talk_seconds"] == 10.0 and call.stored["hold_seconds"] == 20.0


def test_repeated_holds_add_up_and_a_stray_resume_changes_nothing():
    call = connected(queued())
    call.feed(f.HoldChanged(False, "agent"), after=1)   # no hold in progress
    call.feed(f.HoldChanged(True, "agent"), after=1)
    call.feed(f.HoldChanged(True, "agent"), after=2)    # Asterisk said it twice
    call.feed(f.HoldChanged(False, "agent"), after=3)
    call.feed(f.HoldChanged(True, "caller"), after=4)
    call.feed(f.HoldChanged(False, "caller"), after=5)
    call.feed(answered_dial(), after=6)
    end_survey(call)
    assert call.stored["hold_seconds"] == 10.0 and call.stored["talk_seconds"] == 12.0


def test_a_hold_before_the_agent_answered_is_not_counted():
    call = queued()
    call.feed(f.HoldChanged(True, "caller"), after=3)
    call.feed(f.HoldChanged(False, "caller"), after=3)
    connected(call)
    call.feed(answered_dial(), after=30)
    end_survey(call)
    assert call.stored.get("hold_seconds", 0.0) == 0.0 and call.stored["talk_seconds"] == 30.0
