"""The lookup node: the request the flow makes, and the HTTP client's answers from a real
aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from acd.adapters.http.lookup import HttpLookupClient
from acd.ivr import Interpreter, NodeId, QueueHandoff
from acd.ivr.actions import AnnouncementFetched, FetchLookup, Finish, LookupAnswered
from acd.ivr.lookup import DEFAULT_MAX_BYTES, LookupRequest, LookupStatus, field_at

from .fakes import errors_of, flows_from
from .walk import Replies


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


async def echo(request: web.Request) -> web.Response:
    return web.json_response({"value": request.match_info["value"],
                              "raw_path": request.rel_url.raw_path,
                              "query": dict(request.query)})


async def deep(request: web.Request) -> web.Response:
    return web.Response(text='{"a": ' + "[" * 30_000 + "]" * 30_000 + "}",
                        content_type="application/json")


async def moved(request: web.Request) -> web.Response:
    raise web.HTTPFound("/orders/123456")


def answer_of(size: int) -> bytes:
    """A JSON object of exactly `size` bytes."""
    return json.dumps({"pad": "x" * (size - 11)}).encode()


async def sized(request: web.Request) -> web.StreamResponse:
    body = answer_of(int(request.match_info["size"]))
    if request.query.get("chunked"):  # no Content-Length: the body is counted as it comes
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(0, len(body), 1000):
            await response.write(body[i:i + 1000])
        await response.write_eof()
        return response
    return web.Response(body=body, content_type="application/json")


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_get("/orders/{number}", order)
    app.router.add_post("/orders/{number}", order)
    app.router.add_get("/echo/{value}/end", echo)
    app.router.add_get("/moved", moved)
    app.router.add_get("/deep", deep)
    app.router.add_get("/sized/{size}", sized)
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
    interp = Interpreter(flows, NodeId("main", "ask"), {})
    caller = Replies([number])
    action = interp.start()
    while not isinstance(action, Finish):
        if isinstance(action, FetchLookup):
            action = interp.send(LookupAnswered(await client.fetch(action.request)))
        else:
            action = interp.send(caller.reply(action))
    assert isinstance(action.outcome, QueueHandoff)
    assert action.outcome.queue == queue
    if queue == "support":
        assert interp.variables["status"] == "shipped"
        assert interp.variables["item"] == "路由器"


def base(server: TestServer) -> str:
    return str(server.make_url("")).rstrip("/")


LOOKUP = """
nodes:
  find:
    type: lookup
    url: {url}
    {extra}
    ok: done
    error: done
  done: {{type: hangup}}
"""


def request_for(url: str, variables: dict[str, str], extra: str = "") -> LookupRequest:
    """The request the interpreter makes for a lookup node with this url."""
    flows = flows_from({"main": LOOKUP.format(url=url, extra=extra)},
                       extra_variables=set(variables))
    interp = Interpreter(flows, NodeId("main", "find"), variables)
    interp.start()
    action = interp.send(AnnouncementFetched(()))
    assert isinstance(action, FetchLookup)
    return action.request


@pytest.mark.parametrize("value", [
    "..", ".", "../admin", "a/b", "x?y=1", "#top", "%2e%2e", "%2F", "a.b", "订单 1",
])
async def test_a_templated_value_is_one_path_segment_whatever_it_holds(
    server: TestServer, client: HttpLookupClient, value: str
):
    request = request_for(base(server) + "/echo/${v}/end", {"v": value})
    result = await client.fetch(request)
    assert result.status is LookupStatus.OK
    assert result.fields["value"] == value  # the route matched: the path kept its shape
    assert result.fields["raw_path"].count("/") == 3
    assert "." not in result.fields["raw_path"]  # no dot segment for anyone to resolve


async def test_query_parameters_are_sent_encoded_as_parameters(
    server: TestServer, client: HttpLookupClient
):
    request = request_for(base(server) + "/echo/x/end?kind=${v}", {"v": "a&b=c#d"},
                          extra="params: {q: '${v}'}")
    result = await client.fetch(request)
    assert result.fields["query"] == {"kind": "a&b=c#d", "q": "a&b=c#d", "caller": "",
                                      "called": ""}


async def test_a_redirect_is_an_error_unless_the_flow_follows_redirects(
    server: TestServer, client: HttpLookupClient
):
    assert request_for(base(server) + "/moved", {}).follow_redirects is False
    refused = await client.fetch(request_for(base(server) + "/moved", {}))
    assert (refused.status, refused.detail) == (LookupStatus.ERROR, "HTTP 302")
    followed = await client.fetch(request_for(base(server) + "/moved", {},
                                              extra="follow_redirects: true"))
    assert followed.status is LookupStatus.OK
    assert followed.fields["order"] == "123456"


@pytest.mark.parametrize("chunked", ["", "?chunked=1"])
async def test_an_answer_larger_than_max_bytes_is_an_error_with_a_log_line(
    server: TestServer, client: HttpLookupClient, caplog: pytest.LogCaptureFixture,
    chunked: str
):
    caplog.set_level(logging.WARNING, logger="acd.adapters.http.lookup")
    request = request_for(f"{base(server)}/sized/5001{chunked}", {}, extra="max_bytes: 5000")
    assert request.max_bytes == 5000
    result = await client.fetch(request)
    assert result.status is LookupStatus.ERROR
    assert result.detail == "the answer is larger than 5000 bytes (the node's max_bytes)"
    assert "the answer is larger than 5000 bytes" in caplog.text


async def test_an_answer_of_exactly_max_bytes_is_read(
    server: TestServer, client: HttpLookupClient
):
    for chunked in ("", "?chunked=1"):
        url = f"{base(server)}/sized/{DEFAULT_MAX_BYTES}{chunked}"
        result = await client.fetch(request_for(url, {}))
        assert result.status is LookupStatus.OK, result.detail


async def test_an_answer_nested_deeper_than_python_can_parse_is_an_error_not_a_traceback(
    server: TestServer, client: HttpLookupClient, caplog: pytest.LogCaptureFixture
):
    result = await client.fetch(request_for(base(server) + "/deep", {}))
    assert result.status is LookupStatus.ERROR
    assert result.detail.startswith("RecursionError")
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize(("extra", "error"), [
    ("max_bytes: 0", "5:5: lookup node 'find': 'max_bytes' must be between 1 and 1048576, "
                     "not 0"),
    ("max_bytes: 2000000", "5:5: lookup node 'find': 'max_bytes' must be between 1 and "
                           "1048576, not 2000000"),
    ("follow_redirects: maybe", "5:5: lookup node 'find': 'follow_redirects' must be true "
                                "or false, not 'maybe'"),
])
def test_lookup_limits_are_checked_at_load_time(extra: str, error: str):
    assert errors_of(LOOKUP.format(url="http://crm.test/x", extra=extra)) == [error]


def test_a_lookup_url_may_not_take_its_host_from_a_variable():
    assert errors_of(LOOKUP.format(url="http://${caller}.crm.test/x", extra="")) == [
        "4:5: lookup node 'find': 'url' may use variables in its path and query only, not "
        "in the host: the flow decides whom it asks"]
