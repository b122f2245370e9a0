"""Events for integrators on the real sandbox: a CRM's webhook (a small aiohttp server in
this test) gets every event of a sipp call, signed and in order, and the events of a
call made while it was down once acd has restarted, none twice."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from acd_service import TEST_CONFIG, AcdService, wait_for
from aiohttp import web
from sipp import PhoneBehaviour, SippAgentPhones, SippCaller

from acd.integration.events import signature_valid

pytestmark = pytest.mark.integration

DIRECT = "4008000001"  # tests/integration/flows/direct.yaml: queue support
SECRET = "integration-webhook-secret"
CALL_EVENTS = ["call.offered", "call.answered", "call.ended"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Receiver:
    """The CRM: takes signed events on /acd; refuses them (503) while `down`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.down = False
        self.events: list[dict[str, Any]] = []
        self.unsigned = 0
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/acd", self.take)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def take(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503)
        body = await request.read()
        if not signature_valid(SECRET, request.headers.get("X-Acd-Timestamp", ""), body,
                               request.headers.get("X-Acd-Signature", ""), time.time()):
            self.unsigned += 1
            return web.Response(status=401)
        self.events.append(json.loads(body))
        return web.Response(status=204)

    def of_call(self, call_id: str) -> list[str]:
        return [e["type"] for e in self.events if e["call_id"] == call_id]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    peer = Receiver()
    await peer.start()
    yield peer
    if peer.runner is not None:
        await peer.runner.cleanup()


@pytest.fixture
def acd_with_webhook(acd_factory, receiver: Receiver, tmp_path: Path) -> Iterator[AcdService]:
    """acd on the test configuration plus one webhook to the receiver (the config file
    sits next to the test one, whose relative paths it shares)."""
    config = TEST_CONFIG.with_name(f"config.webhook-{receiver.port}.yaml")
    config.write_text(TEST_CONFIG.read_text(encoding="utf-8") + f"""
webhooks:
  - name: crm
    url: http://127.0.0.1:{receiver.port}/acd
    secret_env: ACD_TEST_WEBHOOK_SECRET
    retry_base_seconds: 0.2
    retry_max_seconds: 1
""", encoding="utf-8")
    first = acd_factory(ACD_TEST_SECOND_FLOW="direct", ACD_TEST_START_AT="")
    first.stop()  # (the factory's acd: fresh Redis; this test runs its own config)
    service = AcdService({**first.env, "ACD_TEST_WEBHOOK_SECRET": SECRET},
                         tmp_path / "acd.log", config=config)
    service.start()
    try:
        yield service
    finally:
        service.stop()
        config.unlink(missing_ok=True)


async def one_answered_call(acd: AcdService, call_records: Any, caller_number: str,
                            tmp_path: Path) -> str:
    status, body = acd.agent_do("1001", "login")
    assert status == 200, body
    # the agent talks 7 s: longer than the 报工号 the caller hears first (an agent who
    # hangs up during it never spoke to the caller)
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=7.0),
                             workdir=tmp_path / f"phones-{caller_number}")
    # the caller hangs up in the survey after the agent's 7 s (no survey answer)
    caller = SippCaller(caller_number, did=DIRECT, hangup_after=13.0, timeout=60,
                        workdir=tmp_path / f"caller-{caller_number}")
    with phones, caller:
        record = await call_records.wait_call_of(caller_number)
        await call_records.wait_closed_call(record.call_id, timeout=30)
    return str(record.call_id)


async def test_a_webhook_gets_every_event_of_a_sipp_call_in_order(
        acd_with_webhook, receiver, call_records, tmp_path) -> None:
    call_id = await one_answered_call(acd_with_webhook, call_records, "13812349001", tmp_path)
    await asyncio.to_thread(wait_for, lambda: "call.ended" in receiver.of_call(call_id), 15,
                            "the call's end at the webhook")
    assert receiver.of_call(call_id) == CALL_EVENTS and receiver.unsigned == 0
    [ended] = [e for e in receiver.events if e["type"] == "call.ended"]
    assert ended["data"]["caller"] == "13******001"  # masked: full_numbers is off
    states = [e["data"]["state"] for e in receiver.events if e["agent_id"] == "1001"
              and e["type"] == "agent.state"]
    assert "on-call" in states


async def test_events_made_while_the_receiver_was_down_arrive_after_an_acd_restart(
        acd_with_webhook, receiver, call_records, tmp_path) -> None:
    receiver.down = True
    call_id = await one_answered_call(acd_with_webhook, call_records, "13812349002", tmp_path)
    await asyncio.sleep(1)  # a few refused attempts
    await asyncio.to_thread(acd_with_webhook.restart)
    receiver.down = False
    await asyncio.to_thread(wait_for, lambda: "call.ended" in receiver.of_call(call_id), 20,
                            "the events held over the restart")
    await asyncio.sleep(2)  # a repeat would come now
    assert receiver.of_call(call_id) == CALL_EVENTS
    ids = [e["id"] for e in receiver.events]
    assert len(ids) == len(set(ids)), "an event was delivered twice"
    code, status = acd_with_webhook.api("GET", "/api/webhooks")
    assert code == 200 and status["webhooks"][0]["pending"] == 0
