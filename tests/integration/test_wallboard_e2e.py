"""The wallboard's stream on the sandbox: a sipp caller waiting shows within a second of
acd queueing them, and leaves the wallboard when they hang up."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest
from sipp import SippCaller

pytestmark = pytest.mark.integration

CALLER = "13812340013"


@pytest.fixture(scope="module")
def acd(acd_factory):
    return acd_factory(ACD_TEST_SECOND_FLOW="direct")


async def next_message(ws: aiohttp.ClientWebSocketResponse, deadline: float) -> dict[str, Any]:
    msg = await ws.receive(timeout=max(0.01, deadline - time.monotonic()))
    assert msg.type is aiohttp.WSMsgType.TEXT, (msg.type, msg.data, msg.extra)
    return dict(json.loads(msg.data))


async def test_a_sipp_caller_waiting_is_on_the_wallboard_within_a_second_then_leaves_it(
        acd, call_records, asterisk, tmp_path):
    token = await asyncio.to_thread(acd.token)  # an admin: numbers in full
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"{acd.http}/api/live")
        await ws.send_str(json.dumps({"type": "auth", "token": token}))
        assert (await next_message(ws, time.monotonic() + 5))["type"] == "snapshot"
        # nobody is logged in: the caller waits in the queue, then hangs up after 6 s
        caller = SippCaller(CALLER, did="4008000001", hangup_after=6, timeout=30,
                            workdir=tmp_path / "caller")
        with caller:
            deadline = time.monotonic() + 15
            row, sent_at = None, 0.0
            while row is None:
                message = await next_message(ws, deadline)
                row = next((r for r in message.get("callers", {}).values()
                            if r["caller"] == CALLER), None)
                sent_at = message["now"]
            # acd's own clock (shifted in the sandbox): queued -> on the stream
            assert sent_at - row["arrived_at"] < 1.0
            record = await call_records.wait_queued_call_of(CALLER)
            assert row["id"] == record.call_id
            key = f"{row['queue']}/{row['id']}"
            while key not in message.get("gone", {}).get("callers", []):
                message = await next_message(ws, deadline + 10)
            await asyncio.to_thread(caller.wait, 30)
        await ws.close()
