"""What the dialplan writes without acd, read back (acd.adapters.asterisk.lost_calls),
and the sign of life that decides whether it writes (acd.adapters.asterisk.liveness)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from acd.adapters.asterisk.ami import AmiUnavailable
from acd.adapters.asterisk.liveness import ALIVE_VARIABLE, keep_signing
from acd.adapters.asterisk.lost_calls import parse_account
from acd.unseen_calls import keep_recording

DIALPLAN = (Path(__file__).resolve().parents[2] / "asterisk" / "extensions.conf").read_text()


def test_an_account_of_a_call_no_acd_saw_says_whose_call_it_was():
    entry = ("fallback|1796000006|2|1001|1796000030|agent|CONTINUE|24000|"
             "PJSIP/agent1001-0001||4008000001|1796000000.125||138|0013")
    account = parse_account(entry)
    assert account is not None
    assert (account.path, account.agent, account.hung_up_by) == ("fallback", "1001", "agent")
    assert account.talk_seconds == 22.0  # from the fallback queue's answer to the end
    assert (account.called, account.arrived_at) == ("4008000001", 1796000000.125)
    assert account.caller == "138|0013"  # the carrier's number, whole, even with a |


def test_a_conversation_that_ended_without_acd_says_when_to_the_millisecond():
    account = parse_account("talked||||1796000050|caller||41500|PJSIP/agent1001-0002|"
                            "1796000049.875|4008000001|1796000000.5|1796000012.25|"
                            "13800138000",
                            lambda device: "1001" if device == "PJSIP/agent1001" else None)
    assert account is not None and account.agent == "1001"
    assert account.session_ended_at == 1796000049.875
    assert account.bridged_at == 1796000012.25 and account.caller == "13800138000"
    assert account.talk_seconds is None  # from acd's bridge: acd.callflow.ending.talk_until


def test_an_account_from_an_older_dialplan_still_reads():
    account = parse_account("fallback|1796000006|2|1001|1796000030|caller|CONTINUE||")
    assert account is not None and account.caller == "" and account.arrived_at is None
    assert parse_account("something else") is None


def test_the_dialplan_writes_every_field_acd_reads_and_checks_acds_sign_of_life():
    assert f"0${{{ALIVE_VARIABLE}}} <= 1" in DIALPLAN
    assert ("${DIALEDPEERNAME}|${ACD_AGI_ENDED}|${ACD_DID}|${ACD_ARRIVED_AT}|"
            "${ACD_BRIDGED_AT}|${CALLERID(num)})") in DIALPLAN
    # the bridge is noted where acd's Dial string asks for it
    from acd.adapters.asterisk.syntax import AGENT_LEG_HANDLER
    assert "U(acd-agent-bridged^s^1)" in AGENT_LEG_HANDLER
    assert "[acd-agent-bridged]" in DIALPLAN
    assert "Set(MASTER_CHANNEL(ACD_BRIDGED_AT)=${STRFTIME(,,%s.%3q)})" in DIALPLAN
    # an agent's Dial starts as "bridged nobody", which acd and the dialplan both read
    from acd.adapters.asterisk.agi import UNBRIDGED
    assert f"Set(MASTER_CHANNEL(ACD_BRIDGED_AT)={UNBRIDGED})" in DIALPLAN
    assert f'"${{ACD_BRIDGED_AT}}" != "{UNBRIDGED}"' in DIALPLAN


class Ami:
    def __init__(self, fail_first: int = 0) -> None:
        self.sent: list[dict[str, str]] = []
        self.fail_first = fail_first

    async def send(self, action, *, as_list=None, timeout=None):
        if self.fail_first:
            self.fail_first -= 1
            raise AmiUnavailable("AMI is not connected")
        self.sent.append(action)
        return {"Response": "Success"}


async def test_acd_renews_its_sign_of_life_every_period_and_rides_out_ami_outages():
    ami = Ami(fail_first=2)
    task = asyncio.create_task(keep_signing(ami, lambda: 1796000000.9, period=0.01))
    await asyncio.sleep(0.1)
    task.cancel()
    assert ami.sent and ami.sent[0] == {"Action": "Setvar", "Variable": "ACD_ALIVE_AT",
                                        "Value": "1796000000"}


async def test_only_the_leading_acd_records_calls_no_acd_saw():
    class Calls:
        looks = 0

        async def record_unseen(self) -> int:
            Calls.looks += 1
            return 0

    leading = False
    task = asyncio.create_task(keep_recording(Calls(), lambda: leading, period=0.01,
                                              first=0.0))
    await asyncio.sleep(0.05)
    assert Calls.looks == 0
    leading = True
    await asyncio.sleep(0.05)
    task.cancel()
    assert Calls.looks > 0
