"""Logins, sessions and users over HTTP, with aiohttp's test client and a hand-set clock."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from acd.adapters.http import auth
from acd.adapters.http.app import SERVICES, Handler, HttpServices, make_app, replace_users
from acd.adapters.http.auth import ITERATIONS, Role, Sessions, User, hash_password
from acd.adapters.http.throttle import LoginThrottle

HASHED = hash_password("a-pw")
PASSWORDS = ("a-pw", "s-pw", "r-pw")


class NoAgents:
    def agents(self) -> list[dict[str, Any]]:
        return []


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def the_users() -> dict[str, User]:
    return {
        "alice": User("alice", Role.AGENT, password_hash=HASHED, agent_id="1001"),
        "sam": User("sam", Role.SUPERVISOR, password="s-pw"),
        "root": User("root", Role.ADMIN, password="r-pw"),
        "nopass": User("nopass", Role.ADMIN),
    }


@web.middleware
async def remote_from_header(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Tests speak from several client addresses over one loopback connection."""
    remote = request.headers.get("X-Test-Remote")
    return await handler(request.clone(remote=remote) if remote else request)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(clock: FakeClock) -> HttpServices:
    return HttpServices(users=the_users(), views=NoAgents(), now=clock,
                        sessions=Sessions(ttl=3600, per_user=3),
                        throttle=LoginThrottle(limit=3, window=300, first_delay=10))


@pytest.fixture
async def client(services: HttpServices) -> AsyncIterator[TestClient]:
    app = make_app(services)
    app.middlewares.append(remote_from_header)
    async with TestClient(TestServer(app)) as c:
        yield c


async def login(client: TestClient, user: str, password: str, remote: str = "10.0.0.1",
                ) -> Any:
    return await client.post("/api/login", json={"username": user, "password": password},
                             headers={"X-Test-Remote": remote})


async def bearer(client: TestClient, user: str, password: str) -> dict[str, str]:
    resp = await login(client, user, password)
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def token_works(client: TestClient, headers: dict[str, str]) -> bool:
    resp = await client.get("/api/agents", headers=headers)
    return resp.status != 401  # 200, or 403 for an agent: the token itself was accepted


async def test_a_login_never_delays_the_event_loop(client, monkeypatch):
    loop = asyncio.get_running_loop()
    threads: list[int] = []
    loop_ran: list[bool] = []
    real = auth.verify_hash

    def blocking_verify(encoded: str, password: str) -> bool:
        threads.append(threading.get_ident())
        # the check goes on only once the event loop has run a callback meanwhile: were it
        # checked on the loop's own thread, the loop could not, and the wait would time out
        turned = threading.Event()
        loop.call_soon_threadsafe(turned.set)
        loop_ran.append(turned.wait(5))
        return real(encoded, password)

    monkeypatch.setattr(auth, "verify_hash", blocking_verify)
    responses = await asyncio.gather(login(client, "alice", "a-pw"),
                                     login(client, "ghost", "x", remote="10.0.0.2"))
    assert [r.status for r in responses] == [200, 401]
    assert loop_ran and all(loop_ran)  # the loop ran during every password check
    assert threading.get_ident() not in threads


async def test_unknown_users_cost_as_much_as_known_ones(client, monkeypatch):
    calls: list[tuple[int, int]] = []
    real = hashlib.pbkdf2_hmac

    def counting(name: str, password: bytes, salt: bytes, iterations: int, *a: Any) -> bytes:
        calls.append((iterations, len(salt)))
        return real(name, password, salt, iterations, *a)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting)
    attempts = [("alice", "wrong"), ("alice", "a-pw"), ("sam", "wrong"), ("sam", "s-pw"),
                ("nopass", ""), ("ghost", "x")]
    for number, (user, password) in enumerate(attempts):
        calls.clear()
        resp = await login(client, user, password, remote=f"10.0.1.{number}")
        assert resp.status in (200, 401)
        assert calls == [(ITERATIONS, 16)], (user, calls)


async def test_repeated_failures_are_throttled_per_user_and_per_address(client, clock):
    # per user: three failures from three addresses lock alice's name, wherever from
    for number in range(3):
        assert (await login(client, "alice", "nope", remote=f"10.0.2.{number}")).status == 401
    resp = await login(client, "alice", "a-pw", remote="10.0.2.9")
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) == 10
    body = await resp.json()
    assert body["error"] == "too_many_requests" and "try again" in body["message"]
    assert (await login(client, "sam", "s-pw", remote="10.0.2.9")).status == 200
    # per address: three names guessed from one address lock that address for everyone
    for name in ("ghost", "root", "nobody"):
        assert (await login(client, name, "nope", remote="10.0.3.1")).status == 401
    assert (await login(client, "sam", "s-pw", remote="10.0.3.1")).status == 429
    assert (await login(client, "sam", "s-pw", remote="10.0.3.2")).status == 200
    # the delay passes, and a further failure doubles it
    clock.advance(11)
    assert (await login(client, "alice", "nope", remote="10.0.2.9")).status == 401
    resp = await login(client, "alice", "a-pw", remote="10.0.2.9")
    assert resp.status == 429 and int(resp.headers["Retry-After"]) == 20


async def test_a_successful_login_resets_the_users_failures(client):
    for _ in range(2):
        assert (await login(client, "alice", "nope", remote="10.0.4.1")).status == 401
    assert (await login(client, "alice", "a-pw", remote="10.0.4.2")).status == 200
    for _ in range(2):
        assert (await login(client, "alice", "nope", remote="10.0.4.3")).status == 401
    assert (await login(client, "alice", "a-pw", remote="10.0.4.4")).status == 200


async def test_logout_revokes_the_token(client):
    headers = await bearer(client, "sam", "s-pw")
    other = await bearer(client, "sam", "s-pw")
    resp = await client.post("/api/logout", headers=headers)
    assert resp.status == 200 and (await resp.json()) == {"logged_out": True}
    assert (await client.get("/api/agents", headers=headers)).status == 401
    assert (await client.post("/api/logout", headers=headers)).status == 401
    assert await token_works(client, other)  # only that token ends


async def test_logout_without_a_valid_token_is_refused(client):
    assert (await client.post("/api/logout")).status == 401
    bogus = {"Authorization": "Bearer not-a-token"}
    resp = await client.post("/api/logout", headers=bogus)
    assert resp.status == 401 and (await resp.json())["error"] == "unauthorized"


async def test_a_token_expires_after_its_ttl(client, clock):
    headers = await bearer(client, "sam", "s-pw")
    clock.advance(3599)
    assert await token_works(client, headers)
    clock.advance(1)
    assert not await token_works(client, headers)


async def test_expired_tokens_are_purged_on_a_timer(services, clock):
    services.purge_every = 0.01
    async with TestClient(TestServer(make_app(services))) as client:
        await bearer(client, "sam", "s-pw")
        await bearer(client, "root", "r-pw")
        assert len(services.sessions) == 2
        clock.advance(3600)
        deadline = time.monotonic() + 5
        while len(services.sessions) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert len(services.sessions) == 0


async def test_the_number_of_live_tokens_per_user_is_bounded(client):
    first = await bearer(client, "sam", "s-pw")
    later = [await bearer(client, "sam", "s-pw") for _ in range(3)]
    assert not await token_works(client, first)  # the oldest of four is revoked
    for headers in later:
        assert await token_works(client, headers)


async def test_reloading_users_revokes_the_tokens_of_removed_and_changed_users(client):
    app = client.server.app
    tokens = {name: await bearer(client, name, pw)
              for name, pw in (("alice", "a-pw"), ("sam", "s-pw"), ("root", "r-pw"))}
    users = the_users()
    del users["root"]
    users["alice"] = User("alice", Role.SUPERVISOR, password_hash=HASHED, agent_id="1001")
    users["eve"] = User("eve", Role.AGENT, password="e-pw", agent_id="1002")
    changed = await replace_users(app, users)
    assert changed == {"alice", "root"}
    assert not await token_works(client, tokens["alice"])
    assert not await token_works(client, tokens["root"])
    assert await token_works(client, tokens["sam"])  # unchanged: still logged in
    assert (await login(client, "root", "r-pw")).status == 401
    assert (await login(client, "eve", "e-pw")).status == 200
    # a new password for sam ends sam's sessions; the old password no longer works
    users["sam"] = User("sam", Role.SUPERVISOR, password="s-pw-2")
    assert await replace_users(app, users) == {"sam"}
    assert not await token_works(client, tokens["sam"])
    assert (await login(client, "sam", "s-pw")).status == 401
    assert (await login(client, "sam", "s-pw-2")).status == 200


@pytest.mark.parametrize("body", [
    {"username": "", "password": "x"},
    {"username": "x" * 257, "password": "x"},
    {"username": "sam", "password": "x" * 1025},
    {"username": "sam", "password": None},
    {"username": ["sam"], "password": "s-pw"},
])
async def test_a_malformed_login_gets_a_400(client, body):
    resp = await client.post("/api/login", json=body)
    assert resp.status == 400
    assert (await resp.json())["error"] == "bad_request"


async def test_no_log_line_or_repr_shows_a_password(client, caplog):
    caplog.set_level(logging.DEBUG)
    for user, password in (("alice", "a-pw"), ("sam", "wrong-s-pw"), ("s-pw", "x")):
        await login(client, user, password)
    users = the_users()
    users["sam"] = User("sam", Role.SUPERVISOR, password="s-pw-new")
    await replace_users(client.server.app, users)
    services = client.server.app[SERVICES]
    shown = caplog.text + repr(services) + repr(the_users()) + str(users["sam"])
    for secret in (*PASSWORDS, "wrong-s-pw", "s-pw-new", HASHED,
                   services.users["sam"].password_hash):
        assert secret not in shown
    assert "login refused for an unknown user" in caplog.text
