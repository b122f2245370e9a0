"""The wallboard's satisfaction split kept in a real Redis per day: a restarted acd (a
new wallboard on the same Redis) shows today's split as it was; another day starts from
zero."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncio_redis
import pytest_asyncio

from acd.adapters.http.live import LiveStream
from acd.adapters.redis.survey_split_store import SurveySplitStore
from acd.adapters.survey_tally import KeptSplit
from acd.console.wallboard import Thresholds, Wallboard
from acd.core.views import QueueView


class OneQueue:
    def agents(self) -> list[object]:
        return []

    def agent(self, agent_id: str) -> None:
        return None

    def queues(self) -> list[QueueView]:
        stats = {"offered": 0, "answered": 0, "abandoned": 0, "service_level": None,
                 "average_speed_of_answer": None, "talk_seconds": 0.0,
                 "wrap_up_seconds": 0.0}
        return [{"queue": "support", "members": {}, "waiting": [], "logged_in": 0,
                 "stats": stats}]  # type: ignore[list-item,typeddict-item]


@pytest_asyncio.fixture
async def store(redis_server: Any) -> AsyncIterator[SurveySplitStore]:
    connection = await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=11)
    yield SurveySplitStore(connection, f"test-split-{uuid.uuid4().hex[:8]}:")
    connection.close()


def an_acd(store: SurveySplitStore, day: list[str]) -> tuple[KeptSplit, LiveStream]:
    live = LiveStream(OneQueue(), Wallboard(Thresholds()), lambda: 0.0,  # type: ignore[arg-type]
                      period=lambda now: day[0])
    return KeptSplit(live, store, lambda: day[0]), live


async def saved(split: KeptSplit) -> None:
    while split._saving:  # the writes to Redis run off the call's path
        await asyncio.sleep(0.01)


def shown_split(live: LiveStream) -> dict[str, int]:
    live._update()
    return live.wallboard.rows["queues"]["support"]["survey"]  # type: ignore[no-any-return]


async def test_a_restarted_acd_shows_the_same_satisfaction_split_as_before(store):
    day = ["2026-12-01"]
    split, live = an_acd(store, day)
    await split.restore()
    for answer in ("1", "1", "2", "3", "1"):
        split.answered("support", answer)
    await saved(split)
    assert shown_split(live) == {"1": 3, "2": 1, "3": 1}

    restarted, live_again = an_acd(store, day)
    await restarted.restore()
    assert shown_split(live_again) == {"1": 3, "2": 1, "3": 1}
    restarted.answered("support", "2")
    await saved(restarted)
    assert shown_split(live_again) == {"1": 3, "2": 2, "3": 1}
    assert (await store.load("2026-12-01"))["support"] == {"1": 3, "2": 2, "3": 1}


async def test_the_next_day_starts_from_zero_and_its_answers_are_kept_apart(store):
    day = ["2026-12-01"]
    split, _ = an_acd(store, day)
    split.answered("support", "1")
    await saved(split)
    day[0] = "2026-12-02"
    tomorrow, live = an_acd(store, day)
    await tomorrow.restore()
    assert shown_split(live) == {"1": 0, "2": 0, "3": 0}
    tomorrow.answered("support", "3")
    await saved(tomorrow)
    assert await store.load("2026-12-02") == {"support": {"3": 1}}
    assert await store.load("2026-12-01") == {"support": {"1": 1}}


async def test_without_redis_the_split_still_shows_and_starts_from_zero(redis_server):
    connection = await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=11)
    store = SurveySplitStore(connection, "test-split-gone:")
    connection.close()  # Redis away
    split, live = an_acd(store, ["2026-12-01"])
    await split.restore()
    split.answered("support", "1")
    await saved(split)
    assert shown_split(live) == {"1": 1, "2": 0, "3": 0}
