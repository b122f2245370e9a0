"""The lookup node against a real aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from acd.ivr import HttpLookupClient, QueueHandoff, run_flow
from acd.ivr.lookup import LookupRequest, LookupStatus, field_at

from .fakes import FakeChannel, FakeSchedules, LabelPrompts, flows_from


async def order(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    if number == "404404":
        raise web.HTTPNotFound()
    if number == "500500":
        raise web.HTTPInternalServerError()
    if number == "777777":
        await asyncio.sleep(2)
    if number == "888888":
        return web.Response(text="<html>oops</html>", content_type="text/html")
    return web.json_response({"order": number, "status": "shipped",
                              "caller": request.query.get("caller"),
                              "items": [{"name": "路由器"}], "paid": True})


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_get("/orders/{number}", order)
    app.router.add_post("/orders/{number}", order)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def client() -> AsyncIterator[HttpLookupClient]:
    client = HttpLookupClient()
    yield client
    await client.close()


def url(server: TestServer, number: str) -> str:
    return str(server.make_url(f"/orders/{number}"))


async def test_found_order_returns_its_fields(server: TestServer, client: HttpLookupClient):
    result = await client.fetch(LookupRequest(url(server, "123456"), params={"caller": "138"}))
    assert result.status is LookupStatus.OK
    assert result.fields["status"] == "shipped"
    assert result.fields["caller"] == "138"


async def test_post_sends_params_as_json(server: TestServer, client: HttpLookupClient):
    result = await client.fetch(LookupRequest(url(server, "1"), "POST", {"caller": "138"}))
    assert result.status is LookupStatus.OK


@pytest.mark.parametrize(("number", "status"), [
    ("404404", LookupStatus.NOT_FOUND),
    ("500500", LookupStatus.ERROR),
    ("888888", LookupStatus.ERROR),
])
async def test_http_statuses_and_bad_bodies_map_to_branches(
    server: TestServer, client: HttpLookupClient, number: str, status: LookupStatus
):
    assert (await client.fetch(LookupRequest(url(server, number)))).status is status


async def test_slow_answer_times_out_as_error(server: TestServer, client: HttpLookupClient):
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await client.fetch(LookupRequest(url(server, "777777"), timeout=0.2))
    assert result.status is LookupStatus.ERROR
    assert "no answer within" in result.detail
    assert loop.time() - started < 1.5


async def test_refused_connection_is_an_error(client: HttpLookupClient):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once the socket is closed
    result = await client.fetch(LookupRequest(f"http://127.0.0.1:{port}/x", timeout=1))
    assert result.status is LookupStatus.ERROR


def test_fields_are_read_by_dotted_path_as_text():
    data = {"a": {"b": [{"c": 5}]}, "ok": False, "none": None}
    assert field_at(data, "a.b.0.c") == "5"
    assert field_at(data, "ok") == "false"
    assert field_at(data, "none") is None
    assert field_at(data, "a.x") is None
    assert field_at(data, "a.b") == '[{"c": 5}]'


FLOW = """
nodes:
  ask:
    type: collect
    variable: order
    max_length: 6
    prompt: {text: 订单号}
    next: find
    exhausted: agent
  find:
    type: lookup
    url: {base}/orders/${order}
    timeout: 0.5
    store: {status: status, item: items.0.name}
    ok: found
    not_found: missing
    error: agent
  found: {type: queue, queue: support}
  missing: {type: queue, queue: complaints}
  agent: {type: queue, queue: vip}
"""


@pytest.mark.parametrize(("number", "queue"), [
    ("123456", "support"), ("404404", "complaints"), ("500500", "vip"), ("777777", "vip"),
])
async def test_flow_branches_on_a_real_lookup(
    server: TestServer, client: HttpLookupClient, number: str, queue: str
):
    flows = flows_from({"main": FLOW.replace("{base}", str(server.make_url("")).rstrip("/"))})
    result = await run_flow(
        FakeChannel([number]), flows, "main", now=lambda: 0.0, schedules=FakeSchedules(),
        lookup_client=client, announcement=lambda: None, prompt_library=LabelPrompts())
    assert isinstance(result.outcome, QueueHandoff)
    assert result.outcome.queue == queue
    if queue == "support":
        assert result.variables["status"] == "shipped"
        assert result.variables["item"] == "路由器"
