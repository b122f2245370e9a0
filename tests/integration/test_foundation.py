"""The foundation on the real sandbox: a call reaches acd over FastAGI, is recorded in
Redis and seen on AMI; acd survives Asterisk going away and coming back."""

from __future__ import annotations

import asyncio
import subprocess
import time

import pytest
from acd_service import REPO, wait_for
from sipp import SippCaller

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def acd(acd_factory):
    return acd_factory(ACD_TEST_SECOND_FLOW="hello")


async def test_a_call_to_the_400_number_is_answered_by_acd_and_recorded(
        acd, ami, call_records, tmp_path):
    channels: list[str] = []
    ami.register_event("Newchannel", lambda _m, e: channels.append(e.get("Uniqueid"))
                       if e.get("CallerIDNum") == "13912345678" else None)
    caller = SippCaller("13912345678", did="4008000001", hangup_after=None, timeout=30,
                        workdir=tmp_path / "caller")
    with caller:
        await asyncio.to_thread(caller.wait, 30)
    [call] = caller.calls()
    assert call.answered and call.ended_by == "them"  # acd played hello-world and hung up
    assert channels, "the call never showed on AMI"
    record = await call_records.wait_closed_call(channels[0])
    assert (record.caller, record.called) == ("13912345678", "4008000001")
    assert record.ivr_path == ["hello:hello", "hello:bye"]
    assert record.ended_at >= record.arrived_at
    assert record.hung_up_by == "system"


async def test_acd_serves_again_within_ten_seconds_of_asterisk_coming_back(
        acd, asterisk_sandbox, call_records, tmp_path):
    log_before = acd.log_text()
    subprocess.run(["bash", str(REPO / "scripts/sandbox.sh"), "stop"], check=True,
                   capture_output=True)
    wait_for(lambda: "AMI" in acd.log_text()[len(log_before):] and "lost" in
             acd.log_text()[len(log_before):], 15, "acd to report the lost AMI connection")
    started = subprocess.run(["bash", str(REPO / "scripts/sandbox.sh"), "start"],
                             capture_output=True, text=True)
    assert started.returncode == 0, started.stdout + started.stderr
    back_at = time.monotonic()
    wait_for(lambda: "is back" in acd.log_text()[len(log_before):], 10,
             "acd to log in to AMI again")
    assert time.monotonic() - back_at < 10
    assert acd.proc.poll() is None  # no restart of its own
    caller = SippCaller("13700000001", did="4008000001", hangup_after=None, timeout=30,
                        workdir=tmp_path / "caller")
    with caller:
        await asyncio.to_thread(caller.wait, 30)
    assert caller.calls()[0].answered
    record = await call_records.wait_call_of("13700000001")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.ivr_path == ["hello:hello", "hello:bye"]
