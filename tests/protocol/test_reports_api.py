"""GET /api/reports/...: chart-ready JSON, CSV and XLSX downloads, roles and bad requests,
on aiohttp's test server over a real SQLite history."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.auth import Role, User
from acd.adapters.http.reports import REPORTS, ReportService
from acd.reports.database import create_tables, open_history
from acd.reports.engine import ReportEngine
from acd.reports.queries import Thresholds
from tests.history_month import generate, insert

ZONE = "Asia/Shanghai"
DAY = "from=2026-11-02&to=2026-11-03"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    engine = open_history(f"sqlite+aiosqlite:///{tmp_path}/history.db")
    await create_tables(engine)
    month = generate(date(2026, 11, 2), 2, 40, ZONE, seed=1)
    month.calls[0]["queue"] = "=HYPERLINK(\"http://x\")"  # a name a spreadsheet would run
    await insert(engine, month)
    users = {"sam": User("sam", Role.SUPERVISOR, password="s-pw"),
             "root": User("root", Role.ADMIN, password="r-pw"),
             "alice": User("alice", Role.AGENT, password="a-pw", agent_id="1001")}
    app = make_app(HttpServices(users=users))
    app[REPORTS] = ReportService(ZONE, 31, ReportEngine(engine, Thresholds()))
    async with TestClient(TestServer(app)) as c:
        yield c
    await engine.dispose()


async def login(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/login", json={"username": user, "password": password})
    assert resp.status == 200
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


@pytest.mark.parametrize("kind", ["queues", "agents", "surveys", "agent-states"])
async def test_a_supervisor_gets_each_report_as_rows_and_a_series_per_entity(
        client: TestClient, kind: str) -> None:
    headers = await login(client, "sam", "s-pw")
    resp = await client.get(f"/api/reports/{kind}?{DAY}&interval=hour", headers=headers)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["report"] == kind and body["interval"] == "hour"
    assert body["from"] == "2026-11-02T00:00:00+08:00"
    assert body["to"] == "2026-11-04T00:00:00+08:00"
    assert len(body["buckets"]) == 48
    names = [c["name"] for c in body["columns"]]
    assert names[0] == "bucket" and body["rows"]
    assert all(len(row) == len(names) for row in body["rows"])
    for series in body["series"].values():  # one value per bucket, ready for a chart
        assert all(len(values) == 48 for values in series.values())


async def test_an_admin_may_read_reports_an_agent_may_not_and_a_stranger_must_log_in(
        client: TestClient) -> None:
    url = f"/api/reports/queues?{DAY}"
    assert (await client.get(url, headers=await login(client, "root", "r-pw"))).status == 200
    refused = await client.get(url, headers=await login(client, "alice", "a-pw"))
    assert refused.status == 403
    assert (await client.get(url)).status == 401


@pytest.mark.parametrize(("query", "says"), [
    ("from=2026-11-02", "give both from and to"),
    ("from=yesterday&to=2026-11-03", "'yesterday' is not a date"),
    ("from=2026-11-03&to=2026-11-02T08:00", "must be after from"),
    (f"{DAY}&interval=week", "interval must be one of 15m|hour|day|total"),
    ("from=2026-01-01&to=2026-11-30", "at most 31 days per report"),
    (f"{DAY}&format=pdf", "format must be one of json|csv|xlsx"),
    (f"{DAY}&form=2026-11-01", "unknown parameter 'form'"),
    (f"{DAY}&queue={'q' * 65}", "queue is at most 64 characters"),
])
async def test_a_malformed_request_is_refused_with_what_to_fix(
        client: TestClient, query: str, says: str) -> None:
    resp = await client.get(f"/api/reports/queues?{query}",
                            headers=await login(client, "sam", "s-pw"))
    assert resp.status == 400
    assert says in (await resp.json())["message"]


async def test_an_unknown_report_is_not_found(client: TestClient) -> None:
    resp = await client.get(f"/api/reports/weather?{DAY}",
                            headers=await login(client, "sam", "s-pw"))
    assert resp.status == 404
    assert "queues, agents, surveys, agent-states" in (await resp.json())["message"]


async def test_filters_narrow_a_report_to_one_queue(client: TestClient) -> None:
    resp = await client.get(f"/api/reports/queues?{DAY}&interval=total&queue=vip",
                            headers=await login(client, "sam", "s-pw"))
    body = await resp.json()
    assert [row[1] for row in body["rows"]] == ["vip"]


async def test_a_report_has_a_row_for_all_queues_whose_ratios_come_from_the_sums(
        client: TestClient) -> None:
    headers = await login(client, "sam", "s-pw")
    body = await (await client.get(f"/api/reports/queues?{DAY}&interval=total",
                                   headers=headers)).json()
    names = [c["name"] for c in body["columns"]]
    rows = {row[1]: dict(zip(names, row, strict=True)) for row in body["rows"]}
    every, queues = rows.pop("(all)"), rows.values()
    assert every["offered"] == sum(q["offered"] for q in queues)
    assert every["answered_in_service_level"] == sum(q["answered_in_service_level"]
                                                     for q in queues)
    assert every["longest_wait"] == max(q["longest_wait"] for q in queues)
    base = every["offered"] - every["short_abandoned"] - every["overflowed_out"]
    assert every["service_level"] == round(every["answered_in_service_level"] / base, 4)
    assert "(all)" in body["series"]  # a line of its own on a chart
    agents = await (await client.get(f"/api/reports/agents?{DAY}&interval=total",
                                     headers=headers)).json()
    assert "(all)" in {row[1] for row in agents["rows"]}
    one = await (await client.get(f"/api/reports/queues?{DAY}&interval=total&queue=vip",
                                  headers=headers)).json()
    assert [row[1] for row in one["rows"]] == ["vip"]  # a report of one queue: no total


async def test_the_csv_download_has_the_json_rows_and_spreadsheet_formulas_stay_text(
        client: TestClient) -> None:
    headers = await login(client, "sam", "s-pw")
    as_json = await (await client.get(f"/api/reports/queues?{DAY}&interval=total",
                                      headers=headers)).json()
    resp = await client.get(f"/api/reports/queues?{DAY}&interval=total&format=csv",
                            headers=headers)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(await resp.text())))
    assert lines[0] == [c["name"] for c in as_json["columns"]]
    assert len(lines) == 1 + len(as_json["rows"])
    queues = [line[1] for line in lines[1:]]
    assert "'=HYPERLINK(\"http://x\")" in queues and "sales" in queues
    assert "(all)" in queues
    offered = {line[1]: int(line[2]) for line in lines[1:]}
    assert offered["sales"] == next(r[2] for r in as_json["rows"] if r[1] == "sales")


async def test_the_xlsx_download_is_a_workbook_with_the_report_sheet(
        client: TestClient) -> None:
    resp = await client.get(f"/api/reports/agents?{DAY}&format=xlsx",
                            headers=await login(client, "sam", "s-pw"))
    assert resp.status == 200
    assert "spreadsheetml" in resp.headers["Content-Type"]
    book = zipfile.ZipFile(io.BytesIO(await resp.read()))
    assert book.testzip() is None
    assert "xl/worksheets/sheet1.xml" in book.namelist()
    assert 'name="agents"' in book.read("xl/workbook.xml").decode()
    sheet = book.read("xl/worksheets/sheet1.xml").decode()  # constant_memory: inline text
    assert "<t>answered_within_rings_share</t>" in sheet and "<t>1001</t>" in sheet


async def test_reports_say_unavailable_when_the_history_database_is_not_open(
        tmp_path: Path) -> None:
    users = {"sam": User("sam", Role.SUPERVISOR, password="s-pw")}
    app = make_app(HttpServices(users=users))
    app[REPORTS] = ReportService(ZONE, 31)
    async with TestClient(TestServer(app)) as c:
        resp = await c.get(f"/api/reports/queues?{DAY}", headers=await login(c, "sam", "s-pw"))
        assert resp.status == 503
        assert "history database is not open" in (await resp.json())["message"]


async def test_the_service_reads_the_history_database_the_writer_keeps(
        tmp_path: Path) -> None:
    from acd.config.settings import load_config
    from acd.history.store import HistoryDatabase
    from acd.reports.database import history_url
    from acd.reports.wiring import attach

    (tmp_path / "config.yaml").write_text(
        "timezone: Asia/Shanghai\nreports: {max_range_days: 7}\n")
    config = load_config(tmp_path / "config.yaml")
    writer_side = HistoryDatabase(history_url(config))  # var/history.db beside the config
    await writer_side.open()
    await insert(writer_side.engine, generate(date(2026, 11, 2), 1, 20, ZONE, seed=4))
    await writer_side.close()
    app = make_app(HttpServices(users={"sam": User("sam", Role.SUPERVISOR, password="s-pw")}))
    attach(app, config, [])
    async with TestClient(TestServer(app)) as c:
        headers = await login(c, "sam", "s-pw")
        resp = await c.get(f"/api/reports/queues?{DAY}&interval=total", headers=headers)
        assert resp.status == 200
        assert sum(row[2] for row in (await resp.json())["rows"]) > 10
        too_long = await c.get("/api/reports/queues?from=2026-11-01&to=2026-11-30",
                               headers=headers)
        assert "at most 7 days" in (await too_long.json())["message"]


async def test_reports_say_the_history_is_off_when_it_is_disabled(tmp_path: Path) -> None:
    from acd.config.settings import load_config
    from acd.reports.wiring import attach

    (tmp_path / "config.yaml").write_text("history: {enabled: false}\n")
    app = make_app(HttpServices(users={"sam": User("sam", Role.SUPERVISOR, password="s-pw")}))
    attach(app, load_config(tmp_path / "config.yaml"), [])
    async with TestClient(TestServer(app)) as c:
        resp = await c.get(f"/api/reports/queues?{DAY}", headers=await login(c, "sam", "s-pw"))
        assert resp.status == 503
        assert "history.enabled: false" in (await resp.json())["message"]


async def test_a_reloaded_config_changes_the_service_level_of_the_next_report(
        tmp_path: Path) -> None:
    """What SIGHUP does (acd.app reload -> acd.reports.wiring.reconfigure): a supervisor
    who raises sales' service level to 60 s sees more calls within it, without a restart."""
    from acd.config.sections import load_sections
    from acd.config.settings import load_config
    from acd.reports.database import history_url
    from acd.reports.wiring import attach, reconfigure

    def config_with(sales_level: int, short: int) -> tuple[object, list]:
        (tmp_path / "config.yaml").write_text(
            "timezone: Asia/Shanghai\nqueues:\n"
            f"  sales: {{service_level_seconds: {sales_level}}}\n  support: {{}}\n"
            f"  vip: {{}}\nreports: {{short_abandon_seconds: {short}, max_range_days: 7}}\n")
        config = load_config(tmp_path / "config.yaml")
        return config, load_sections(config).queues

    from acd.history.store import HistoryDatabase

    config, queues = config_with(5, 5)
    writer_side = HistoryDatabase(history_url(config))  # var/history.db beside the config
    await writer_side.open()
    await insert(writer_side.engine, generate(date(2026, 11, 2), 2, 80, ZONE, seed=6))
    await writer_side.close()
    app = make_app(HttpServices(users={"sam": User("sam", Role.SUPERVISOR, password="s-pw")}))
    attach(app, config, queues)
    async with TestClient(TestServer(app)) as c:
        headers = await login(c, "sam", "s-pw")

        async def sales() -> dict[str, object]:
            body = await (await c.get(f"/api/reports/queues?{DAY}&interval=total&queue=sales",
                                      headers=headers)).json()
            names = [col["name"] for col in body["columns"]]
            return dict(zip(names, body["rows"][0], strict=True))

        before = await sales()
        reconfigure(app, *config_with(60, 10))
        after = await sales()
    assert after["answered_in_service_level"] > before["answered_in_service_level"]
    assert after["service_level"] > before["service_level"]
    assert after["short_abandoned"] >= before["short_abandoned"]
    assert after["offered"] == before["offered"]
