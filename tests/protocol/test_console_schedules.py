"""Company dates through the console's API against a real Redis: supervisors read each
schedule's state, admins add and remove dates; the next decision uses them at once, a
restarted acd and another acd (told by the change feed) too; every change is audited;
each refusal is clear."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncio_redis
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http import schedule_routes
from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.audit import add_audit
from acd.adapters.http.auth import Role, User
from acd.adapters.redis.audit_store import AuditStore
from acd.adapters.redis.changes import follow_changes
from acd.adapters.redis.company_date_store import CompanyDateStore
from acd.adapters.schedule_dates import ScheduleDates
from acd.config.settings import RedisConfig
from acd.rules.calendar import StatutoryCalendar
from acd.rules.schedule import CompanyDate, Schedule, ScheduleBook, ScheduleState

DB = 11
NATIONAL_DAY = CompanyDate(date(2026, 10, 1), date(2026, 10, 7), ScheduleState.HOLIDAY,
                           name="国庆")


def at(*parts: int) -> float:
    return datetime(*parts, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


NOW = at(2026, 12, 24, 10)  # a Thursday, 10:00


def configured() -> ScheduleBook:
    weekly = [((9 * 3600, 18 * 3600),)] * 5 + [(), ()]
    calendar = StatutoryCalendar(frozenset())
    return ScheduleBook({
        "support": Schedule("support", weekly, statutory=False,
                            company_dates=[NATIONAL_DAY], calendar=calendar),
        "night": Schedule("night", [((0, 86400),)] * 7, statutory=False, calendar=calendar)})


@pytest_asyncio.fixture
async def redis(redis_server: Any) -> AsyncIterator[Any]:
    connection = await asyncio_redis.Connection.create(
        host=redis_server.host, port=redis_server.port, db=DB)
    yield connection
    connection.close()


@pytest_asyncio.fixture
async def prefix() -> str:
    return f"test-sched-{uuid.uuid4().hex[:8]}:"


@pytest_asyncio.fixture
async def client(redis: Any, prefix: str) -> AsyncIterator[TestClient]:
    users = {"alice": User("alice", Role.AGENT, password="a", agent_id="1001"),
             "sam": User("sam", Role.SUPERVISOR, password="s"),
             "root": User("root", Role.ADMIN, password="r")}
    app = make_app(HttpServices(users=users))
    ticks = iter(range(1000))
    add_audit(app, AuditStore(redis, prefix + "audit:"), lambda: NOW + next(ticks))
    published: list[ScheduleBook] = []
    dates = ScheduleDates(CompanyDateStore(redis, prefix), configured(), published.append)
    await dates.load()
    schedule_routes.register(app, dates, lambda: NOW)
    async with TestClient(TestServer(app)) as c:
        c.dates = dates  # type: ignore[attr-defined]
        c.published = published  # type: ignore[attr-defined]
        yield c


async def auth(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def test_supervisors_read_the_schedules_and_only_admins_change_company_dates(client):
    reads = [("GET", "/api/schedules"), ("GET", "/api/schedules/support")]
    writes = [("POST", "/api/schedules/support/dates"),
              ("DELETE", "/api/schedules/support/dates/2026-10-01")]
    for method, path in reads + writes:
        assert (await client.request(method, path, json={})).status == 401, path
        refused = [("alice", "a")] + ([("sam", "s")] if (method, path) in writes else [])
        for user, password in refused:
            resp = await client.request(method, path, json={},
                                        headers=await auth(client, user, password))
            assert resp.status == 403, (path, user)
            assert "needs the" in (await resp.json())["message"]
    sam = await auth(client, "sam", "s")
    for _, path in reads:
        assert (await client.get(path, headers=sam)).status == 200


async def test_the_schedules_say_their_state_now_and_their_company_dates(client):
    sam = await auth(client, "sam", "s")
    body = await (await client.get("/api/schedules", headers=sam)).json()
    support = next(s for s in body["schedules"] if s["name"] == "support")
    assert support["now"]["state"] == "open"
    assert support["now"]["reason"] == "open 09:00-18:00"
    assert support["dates"] == [{"from": "2026-10-01", "to": "2026-10-07", "state": "holiday",
                                 "hours": None, "label": "国庆", "flow": "", "prompt": "",
                                 "source": "config"}]
    day = await (await client.get("/api/schedules/support?date=2026-10-02",
                                  headers=sam)).json()
    assert day["date"] == "2026-10-02"
    assert day["day"] == [{"from": "00:00", "state": "holiday",
                           "reason": "company dates 2026-10-01..2026-10-07 (国庆)"}]


async def test_an_added_company_holiday_decides_the_next_call_and_survives_a_restart(
        client, redis, prefix):
    root = await auth(client, "root", "r")
    resp = await client.post("/api/schedules/support/dates", headers=root, json={
        "date": "2026-12-24", "state": "holiday", "label": "公司年会"})
    assert resp.status == 201
    body = await resp.json()
    assert body["now"] == {"state": "holiday", "reason": "company date 2026-12-24 (公司年会)",
                           "next_change": at(2026, 12, 25, 0)}  # closed from midnight
    assert client.published[-1].decide("support", NOW).state is ScheduleState.HOLIDAY

    restarted = ScheduleDates(CompanyDateStore(redis, prefix), configured())
    await restarted.load()
    assert restarted.book.decide("support", NOW).state is ScheduleState.HOLIDAY
    listed = restarted.describe("support", NOW)["dates"]
    assert [(d["from"], d["source"]) for d in listed] == [("2026-10-01", "config"),
                                                         ("2026-12-24", "console")]


async def test_removing_a_configured_date_hides_it_until_it_is_added_again(client, redis,
                                                                           prefix):
    root = await auth(client, "root", "r")
    resp = await client.delete("/api/schedules/support/dates/2026-10-05?to=2026-10-07",
                               headers=root)
    assert (await resp.json()) == {"removed_days": 3}
    dates = client.dates.describe("support", NOW)["dates"]
    assert [(d["from"], d["to"]) for d in dates] == [("2026-10-01", "2026-10-04")]
    restarted = ScheduleDates(CompanyDateStore(redis, prefix), configured())
    await restarted.load()
    assert restarted.book.decide("support", at(2026, 10, 6, 10)).state is ScheduleState.OPEN
    again = await client.delete("/api/schedules/support/dates/2026-10-06", headers=root)
    assert again.status == 404
    assert "no company date" in (await again.json())["message"]


async def test_another_acd_applies_an_edit_once_the_change_feed_tells_it(
        client, redis, prefix, redis_server):
    other = ScheduleDates(CompanyDateStore(redis, prefix), configured())
    heard = asyncio.Event()

    def invalidate() -> None:
        other.invalidate()
        heard.set()

    config = RedisConfig(host=redis_server.host, port=redis_server.port, db=DB, prefix=prefix)
    feed = asyncio.create_task(follow_changes(config, {"company_dates": invalidate}))
    try:
        await asyncio.wait_for(heard.wait(), 5)
        heard.clear()
        root = await auth(client, "root", "r")
        await client.post("/api/schedules/night/dates", headers=root,
                          json={"date": "2026-12-24", "state": "closed"})
        await asyncio.wait_for(heard.wait(), 5)
        deadline = asyncio.get_running_loop().time() + 5
        while other.book.decide("night", NOW).state is not ScheduleState.CLOSED:
            assert asyncio.get_running_loop().time() < deadline, "the edit never applied"
            await asyncio.sleep(0.02)
    finally:
        feed.cancel()


async def test_bad_edits_are_refused_with_what_to_write(client):
    root = await auth(client, "root", "r")
    cases = [
        ("POST", "/api/schedules/nope/dates", {"date": "2026-12-24", "state": "closed"}, 404,
         "no schedule 'nope'"),
        ("POST", "/api/schedules/support/dates", {"date": "2026-12-24", "state": "shut"}, 400,
         "state is open, closed or holiday"),
        ("POST", "/api/schedules/support/dates",
         {"date": "2026-12-24", "state": "open", "hours": ["9-18"]}, 400, "HH:MM-HH:MM"),
        ("DELETE", "/api/schedules/support/dates/yesterday", None, 400, "YYYY-MM-DD"),
        ("DELETE", "/api/schedules/support/dates/2026-10-05?to=2026-10-01", None, 400,
         "is before"),
        ("DELETE", "/api/schedules/support/dates/2026-12-01", None, 404, "no company date"),
        ("GET", "/api/schedules/support?date=tomorrow", None, 400, "YYYY-MM-DD"),
        ("GET", "/api/schedules/nope", None, 404, "no schedule"),
    ]
    for method, path, body, status, words in cases:
        resp = await client.request(method, path, json=body, headers=root)
        assert resp.status == status, (path, await resp.text())
        assert words in (await resp.json())["message"], path
    resp = await client.post("/api/schedules/support/dates", data=b"[", headers=root)
    assert resp.status == 400


async def test_company_date_changes_are_audited_with_the_schedule_and_the_day(client):
    root = await auth(client, "root", "r")
    await client.post("/api/schedules/support/dates", headers=root, json={
        "date": "2026-12-24", "state": "holiday", "label": "公司年会"})
    await client.delete("/api/schedules/support/dates/2026-12-24", headers=root)
    await client.get("/api/schedules", headers=root)  # reading is not an action
    entries = await (await client.get("/api/audit", headers=root)).json()
    assert [(e["action"], e["user"], e["schedule"], e["date"], e.get("state"),
             e.get("label"), e["status"]) for e in entries] == [
        ("schedule.date.remove", "root", "support", "2026-12-24", None, None, 200),
        ("schedule.date.set", "root", "support", "2026-12-24", "holiday", "公司年会", 201)]


async def test_a_company_date_spoiled_in_redis_is_skipped_and_the_others_apply(redis, prefix):
    key = f"{prefix}company_dates"
    await redis.hset(key, "support|2026-12-24", '{"state": "closed"}')
    await redis.hset(key, "support|2026-12-25", '{"state": "shut"}')
    await redis.hset(key, "support|someday", '{"state": "closed"}')
    dates = ScheduleDates(CompanyDateStore(redis, prefix), configured())
    await dates.load()
    assert dates.book.decide("support", NOW).state is ScheduleState.CLOSED
    assert dates.book.decide("support", at(2026, 12, 25, 10)).state is ScheduleState.OPEN
