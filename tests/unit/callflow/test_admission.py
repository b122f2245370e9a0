"""Admission with a hand-set clock: which new calls are taken on, which are shed and how,
and what a shed call leaves in the books."""

from __future__ import annotations

import pytest

from acd.callflow.admission import (
    Admission,
    AdmissionConfig,
    Course,
    Over,
    Shed,
    ShedTo,
    shed_record,
)

T0 = 1_795_000_000.0


def arrivals(admission: Admission, calls: int, at: float) -> list[Shed | None]:
    return [admission.admit(at) for _ in range(calls)]


def taken(verdicts: list[Shed | None]) -> int:
    return sum(1 for v in verdicts if v is None)


def test_without_caps_every_caller_is_taken_on():
    admission = Admission()
    assert taken(arrivals(admission, 10_000, T0)) == 10_000
    assert admission.sessions == 10_000


def test_a_burst_over_the_bucket_is_shed_and_the_rest_taken_on():
    admission = Admission(AdmissionConfig(max_calls_per_second=10, burst=20))
    verdicts = arrivals(admission, 50, T0)
    assert taken(verdicts) == 20
    assert verdicts[20:] == [Shed(Over.RATE, Course.BUSY_PROMPT)] * 30


def test_without_a_burst_the_bucket_holds_one_seconds_worth():
    admission = Admission(AdmissionConfig(max_calls_per_second=7.5))
    assert taken(arrivals(admission, 20, T0)) == 8


def test_the_bucket_refills_at_the_rate():
    admission = Admission(AdmissionConfig(max_calls_per_second=10, burst=20))
    arrivals(admission, 20, T0)  # empty
    assert admission.admit(T0 + 0.05) is not None  # half a token: not yet
    assert taken(arrivals(admission, 10, T0 + 0.5)) == 5
    assert taken(arrivals(admission, 100, T0 + 60)) == 20  # never more than the burst


def test_a_flood_is_cut_to_the_rate():
    admission = Admission(AdmissionConfig(max_calls_per_second=100, burst=100))
    # 150 calls a second for 10 s, one every 1/150 s
    verdicts = [admission.admit(T0 + i / 150) for i in range(1500)]
    assert 100 * 10 <= taken(verdicts) <= 100 * 10 + 100  # the rate, plus the first burst


def test_a_clock_set_back_refills_nothing():
    admission = Admission(AdmissionConfig(max_calls_per_second=1, burst=1))
    assert admission.admit(T0) is None
    assert admission.admit(T0 - 3600) is not None
    assert admission.admit(T0 - 3600 + 1) is None  # a second after the new "now"


def test_calls_over_the_session_cap_are_shed_until_one_ends():
    admission = Admission(AdmissionConfig(max_sessions=3))
    assert taken(arrivals(admission, 3, T0)) == 3
    assert admission.admit(T0 + 1) == Shed(Over.SESSIONS, Course.BUSY_PROMPT)
    admission.release()  # a call ends: its place is free again
    assert admission.admit(T0 + 2) is None
    assert admission.admit(T0 + 3) is not None


def test_a_call_over_the_session_cap_takes_no_token():
    admission = Admission(AdmissionConfig(max_sessions=1, max_calls_per_second=1, burst=2))
    assert admission.admit(T0) is None
    assert admission.admit(T0) == Shed(Over.SESSIONS, Course.BUSY_PROMPT)
    admission.release()
    assert admission.admit(T0) is None  # the second token is still there


def test_a_shed_call_takes_no_session():
    admission = Admission(AdmissionConfig(max_calls_per_second=1, burst=1))
    arrivals(admission, 5, T0)
    assert admission.sessions == 1


def test_calls_never_shed_hold_a_session_past_the_cap_and_keep_new_callers_out():
    admission = Admission(AdmissionConfig(max_sessions=2))
    for _ in range(3):  # back after a restart, a callback, a transfer: never refused
        admission.hold()
    assert admission.sessions == 3
    assert admission.admit(T0) is not None
    admission.release()
    admission.release()
    assert admission.admit(T0) is None


def test_callers_are_sent_to_the_fallback_when_configured():
    admission = Admission(AdmissionConfig(max_sessions=1, shed_to=ShedTo.FALLBACK,
                                          max_busy_prompts=1))
    admission.admit(T0)
    assert arrivals(admission, 3, T0) == [Shed(Over.SESSIONS, Course.FALLBACK)] * 3
    assert admission.busy_prompts == 0


def test_past_the_busy_prompts_cap_shed_callers_are_hung_up_until_a_prompt_ends():
    admission = Admission(AdmissionConfig(max_calls_per_second=1, burst=1,
                                          max_busy_prompts=2))
    admission.admit(T0)
    first, second, third = arrivals(admission, 3, T0)
    assert first == second == Shed(Over.RATE, Course.BUSY_PROMPT)
    assert third == Shed(Over.RATE, Course.HANG_UP)
    admission.shed_over(third)
    assert admission.admit(T0) == Shed(Over.RATE, Course.HANG_UP)
    assert first is not None
    admission.shed_over(first)  # that caller heard the prompt and was hung up
    assert admission.admit(T0) == Shed(Over.RATE, Course.BUSY_PROMPT)


def test_new_caps_apply_to_the_next_caller_and_the_calls_in_acd_stay_counted():
    admission = Admission(AdmissionConfig(max_sessions=5))
    arrivals(admission, 4, T0)
    admission.reconfigure(AdmissionConfig(max_sessions=4))
    assert admission.admit(T0) == Shed(Over.SESSIONS, Course.BUSY_PROMPT)
    admission.reconfigure(AdmissionConfig())
    assert admission.admit(T0) is None
    assert admission.sessions == 5


def test_a_shed_call_is_one_closed_record_that_says_why():
    record = shed_record("1795000000.1", "13800138000", "4008001234", "zh", T0,
                         Shed(Over.RATE, Course.BUSY_PROMPT))
    assert (record.outcome, record.arrived_at, record.ended_at) == ("shed", T0, T0)
    assert record.ivr_path == ["admission:rate:busy"]
    assert record.hung_up_by == "system"
    assert record.caller == "13800138000" and record.variables == {"lang": "zh"}
    assert not record.queues and not record.agent


def test_a_call_shed_to_the_fallback_is_not_hung_up_by_acd():
    record = shed_record("1795000000.1", "13800138000", "4008001234", "zh", T0,
                         Shed(Over.SESSIONS, Course.FALLBACK))
    assert record.ivr_path == ["admission:sessions:fallback"] and record.hung_up_by == ""


@pytest.mark.parametrize(("config", "problem"), [
    (AdmissionConfig(max_sessions=-1), ("max_sessions", "must be 0 (no cap) or more")),
    (AdmissionConfig(max_calls_per_second=-5), ("max_calls_per_second",
                                                "must be 0 (no cap) or more")),
    (AdmissionConfig(max_calls_per_second=float("inf")),
     ("max_calls_per_second", "must be a number of calls (0: no cap)")),
    (AdmissionConfig(burst=10), ("burst", "has no effect without max_calls_per_second "
                                          "(the rate the burst refills at)")),
])
def test_caps_acd_cannot_run_on_are_problems(config, problem):
    assert config.problems() == [problem]


def test_sensible_caps_are_no_problem():
    assert AdmissionConfig(200, 80, 160, ShedTo.FALLBACK, 100).problems() == []
    assert AdmissionConfig().problems() == [] and not AdmissionConfig().limited
