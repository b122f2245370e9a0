"""The login throttle, driven by a hand-set clock: no sleeping."""

from __future__ import annotations

from acd.adapters.http.throttle import LoginThrottle


def fail(throttle: LoginThrottle, user: str, address: str, now: float) -> None:
    assert throttle.admit(user, address, now) == 0
    throttle.finish(user, address, succeeded=False, now=now)


def test_repeated_failures_are_throttled_per_user_and_per_address():
    throttle = LoginThrottle(limit=5, first_delay=5)
    for number in range(5):
        fail(throttle, "alice", f"10.0.0.{number}", now=100)
    assert throttle.admit("alice", "10.9.9.9", now=100) == 5  # alice's name, from anywhere
    for name in ("a", "b", "c", "d", "e"):
        fail(throttle, name, "10.1.1.1", now=100)
    assert throttle.admit("bob", "10.1.1.1", now=100) == 5  # that address, for any name
    assert throttle.admit("bob", "10.1.1.2", now=100) == 0


def test_the_delay_doubles_with_each_further_failure_up_to_a_ceiling():
    throttle = LoginThrottle(limit=3, first_delay=10, max_delay=60)
    now = 0.0
    for _ in range(3):
        fail(throttle, "alice", "a", now)
    waits = []
    for _ in range(4):
        wait = throttle.admit("alice", "a", now)
        waits.append(wait)
        now += wait
        fail(throttle, "alice", "a", now)
    assert waits == [10, 20, 40, 60]


def test_a_success_clears_the_users_failures_but_not_the_addresses():
    throttle = LoginThrottle(limit=3, first_delay=10)
    for _ in range(2):
        fail(throttle, "alice", "a", now=0)
    assert throttle.admit("alice", "a", now=0) == 0
    throttle.finish("alice", "a", succeeded=True, now=0)
    fail(throttle, "alice", "b", now=0)
    fail(throttle, "alice", "b", now=0)
    assert throttle.admit("alice", "c", now=0) == 0  # two failures since the success
    throttle.finish("alice", "c", succeeded=True, now=0)
    fail(throttle, "mallory", "a", now=0)
    assert throttle.admit("alice", "a", now=0) == 10  # "a" failed three times in all


def test_failures_are_forgotten_after_a_quiet_window():
    throttle = LoginThrottle(limit=3, window=300, first_delay=10)
    for _ in range(2):
        fail(throttle, "alice", "a", now=0)
    fail(throttle, "alice", "a", now=301)  # the first two are forgotten
    assert throttle.admit("alice", "a", now=301) == 0


def test_attempts_in_progress_count_against_the_limit():
    throttle = LoginThrottle(limit=3, max_pending=100)
    assert [throttle.admit("alice", f"10.0.0.{n}", now=0) for n in range(4)] == [0, 0, 0, 1]
    throttle = LoginThrottle(max_pending=2)
    assert [throttle.admit(f"u{n}", f"10.0.0.{n}", now=0) for n in range(3)] == [0, 0, 1]
    throttle.finish("u0", "10.0.0.0", succeeded=True, now=0)
    assert throttle.admit("u2", "10.0.0.2", now=0) == 0


def test_the_throttle_remembers_a_bounded_number_of_names_and_addresses():
    throttle = LoginThrottle(max_keys=50)
    for number in range(1000):
        fail(throttle, f"user{number}", f"10.0.{number // 250}.{number % 250}", now=number)
    assert throttle.tracked() <= 100
    assert throttle.admit("alice", "10.9.9.9", now=2000) == 0
    throttle.finish("alice", "10.9.9.9", succeeded=True, now=2000)
    assert throttle.tracked() <= 100
