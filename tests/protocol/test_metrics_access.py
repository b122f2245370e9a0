"""Who may read `GET /metrics`, on the real aiohttp app: the token, a supervisor's or an
admin's session, a scraper on this host only when metrics.allow_loopback says so."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http.app import SERVICES, HttpServices, make_app
from acd.adapters.http.auth import Role, User
from acd.adapters.http.metrics import MetricsAccess, MetricsPage, add_metrics

TOKEN = "a-token-of-twenty-four-c"
Client = Callable[[MetricsAccess], Coroutine[Any, Any, TestClient[Any, Any]]]


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    clients: list[TestClient[Any, Any]] = []
    services = HttpServices(users={"admin": User("admin", Role.ADMIN)})

    async def make(access: MetricsAccess) -> TestClient[Any, Any]:
        app = make_app(services)
        add_metrics(app, MetricsPage(lambda: b"acd_up 1\n", access))
        test_client = TestClient(TestServer(app, host="127.0.0.1"))
        await test_client.start_server()
        clients.append(test_client)
        return test_client

    yield make
    for test_client in clients:
        await test_client.close()


async def test_a_scraper_on_this_host_reads_without_a_token_only_when_allowed(client: Client):
    closed = await client(MetricsAccess(token=TOKEN))
    assert (await closed.get("/metrics")).status == 401
    open_locally = await client(MetricsAccess(token="", allow_loopback=True))
    response = await open_locally.get("/metrics")
    assert response.status == 200
    assert await response.text() == "acd_up 1\n"


async def test_no_token_configured_means_a_bearer_token_is_only_a_session(client: Client):
    http = await client(MetricsAccess(token=""))
    assert (await http.get("/metrics", headers={"Authorization": "Bearer "})).status == 401
    assert (await http.get("/metrics", headers={"Authorization": "Bearer x" * 10})
            ).status == 401


async def test_an_admin_session_reads_the_metrics(client: Client):
    http = await client(MetricsAccess(token=TOKEN))
    services = http.app[SERVICES]
    token = services.sessions.issue(services.users["admin"], services.now())
    response = await http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
