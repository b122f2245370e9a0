"""The leader's look for calls a stopped acd left (acd.orphan_sweep), with a scripted
registry, Redis and Asterisk: which calls it closes, takes over, leaves or lets go."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from acd.orphan_sweep import OrphanSweep


class Registry:
    def __init__(self, held: set[str] = frozenset(), orphans: set[str] = frozenset()) -> None:
        self._held, self._orphans = set(held), set(orphans)
        self.resynced: list[tuple[set[str], dict[str, str]]] = []
        self.let_go_of: set[str] = set()

    def held(self) -> set[str]:
        return self._held | self._orphans

    def orphans(self) -> set[str]:
        return set(self._orphans)

    def let_go(self, call_ids: set[str]) -> None:
        self.let_go_of |= call_ids
        self._orphans -= call_ids

    async def resync(self, live: Mapping[str, str], only: set[str] | None = None) -> None:
        assert only is not None
        self.resynced.append((set(only), dict(live)))
        self._orphans |= {c for c in only if c in live}


def sweep(registry: Registry, open_calls: set[str], elsewhere: set[str],
          live: dict[str, str]) -> OrphanSweep:
    """`live`: call id -> the application its channel runs now."""
    async def opened() -> set[str]:
        return set(open_calls)

    async def held_elsewhere() -> set[str]:
        return set(elsewhere)

    async def channels() -> list[Mapping[str, str]]:
        return [{"Uniqueid": c, "Channel": f"PJSIP/trunk-{c}", "Application": app}
                for c, app in sorted(live.items())]

    return OrphanSweep(registry, opened, held_elsewhere, channels, lambda: True)


async def test_a_call_no_acd_holds_and_asterisk_no_longer_has_is_closed_at_the_second_look():
    registry = Registry(held={"mine"})
    looking = sweep(registry, {"mine", "theirs", "dead"}, {"theirs"},
                    live={"mine": "AGI", "theirs": "Dial"})
    await looking.look()  # (an acd closes its own call moments after its channel goes)
    assert registry.resynced == []
    await looking.look()
    assert registry.resynced == [({"dead"}, {"mine": "PJSIP/trunk-mine",
                                             "theirs": "PJSIP/trunk-theirs"})]


async def test_a_caller_in_asterisks_fallback_queue_is_taken_over_at_once():
    registry = Registry()
    await sweep(registry, {"queued"}, set(), live={"queued": "Queue"}).look()
    assert [only for only, _ in registry.resynced] == [{"queued"}]


async def test_a_live_call_nobody_holds_outside_the_fallback_queue_is_left_alone():
    # a conversation, a goodbye or the dialplan's retry loop: it comes back to an acd or
    # ends; and a follower alive but cut off from Redis keeps the calls it serves
    registry = Registry()
    looking = sweep(registry, {"talking", "retrying", "served"}, set(),
                    live={"talking": "Dial", "retrying": "MusicOnHold", "served": "AGI"})
    for _ in range(3):
        await looking.look()
    assert registry.resynced == []


async def test_an_ended_call_held_again_in_between_is_left_to_its_acd():
    registry = Registry()
    looking = sweep(registry, {"back"}, set(), live={})
    await looking.look()
    looking._held_elsewhere = _returning({"back"})
    await looking.look()
    assert registry.resynced == []


async def test_a_taken_over_call_that_another_acd_holds_since_is_let_go():
    registry = Registry(orphans={"came-back"})
    await sweep(registry, {"came-back"}, {"came-back"}, live={"came-back": "AGI"}).look()
    assert registry.let_go_of == {"came-back"} and registry.resynced == []


async def test_nothing_is_asked_of_redis_or_asterisk_when_every_open_call_is_held_here():
    registry = Registry(held={"a", "b"})

    async def fails() -> set[str]:
        raise AssertionError("not asked")

    looking = OrphanSweep(registry, _returning({"a", "b"}), fails, fails,  # type: ignore[arg-type]
                          lambda: True)
    await looking.look()
    assert registry.resynced == []


def _returning(value: set[str]):  # type: ignore[no-untyped-def]
    async def read() -> set[str]:
        return set(value)
    return read


async def test_an_acd_that_does_not_lead_still_lets_go_of_what_its_login_adopted():
    registry = Registry(orphans={"came-back"})
    looking = OrphanSweep(registry, _returning(set()), _returning({"came-back"}),
                          _returning(set()), lambda: False)  # type: ignore[arg-type]
    task = asyncio.create_task(looking.run())
    await asyncio.sleep(0)
    looking_once = asyncio.get_running_loop().time()
    while not registry.let_go_of and asyncio.get_running_loop().time() - looking_once < 5:
        await asyncio.sleep(0.05)
    task.cancel()
    assert registry.let_go_of == {"came-back"}
