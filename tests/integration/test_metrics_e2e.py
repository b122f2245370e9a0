"""`GET /metrics` on the sandbox: after a real call through Asterisk, a Prometheus scrape
shows it answered in its queue with its survey key, Asterisk's AGI answer times, and the
AMI link up; the caller's number appears nowhere. (Written for the lead's sandbox runs;
tests/protocol/test_metrics.py proves the same on a scripted Asterisk.)"""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sipp import Dtmf, PhoneBehaviour, SippAgentPhones, SippCaller

pytestmark = pytest.mark.integration

DIRECT = "4008000001"  # tests/integration/flows/direct.yaml: queue support
CALLER = "13811113333"


@pytest.fixture(scope="module")
def acd(acd_factory):
    return acd_factory(ACD_TEST_SECOND_FLOW="direct", ACD_TEST_START_AT="")


def scrape(acd) -> str:
    request = urllib.request.Request(acd.http + "/metrics",
                                     headers={"Authorization": f"Bearer {acd.token()}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return response.read().decode()


def value(text: str, name: str, **labels: str) -> float:
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


async def test_a_real_call_shows_in_the_metrics_without_its_number(acd, asterisk, tmp_path):
    status, body = acd.agent_do("1001", "login")
    assert status == 200, body
    before = scrape(acd)
    phones = SippAgentPhones(PhoneBehaviour(answer_after=1.0, talk_time=6.0),
                             workdir=tmp_path / "phones")
    caller = SippCaller(CALLER, did=DIRECT, hangup_after=None, timeout=40,
                        dtmf=[Dtmf(at, "1") for at in (9.0, 11.0, 13.0, 15.0)],
                        workdir=tmp_path / "caller")
    try:
        with phones, caller:
            await asyncio.to_thread(caller.wait, caller.timeout)
        deadline = asyncio.get_running_loop().time() + 15
        while True:
            text = scrape(acd)
            answered = value(text, "acd_queue_calls_total", queue="support",
                             outcome="answered") - value(before, "acd_queue_calls_total",
                                                         queue="support", outcome="answered")
            surveyed = value(text, "acd_survey_answers_total", queue="support", answer="1") \
                - value(before, "acd_survey_answers_total", queue="support", answer="1")
            if answered == 1 and surveyed == 1:
                break
            assert asyncio.get_running_loop().time() < deadline, text[-3000:]
            await asyncio.sleep(0.2)
        assert value(text, "acd_fastagi_command_seconds_count", command="ANSWER") >= 1
        assert value(text, "acd_queue_answer_wait_seconds_count", queue="support") >= 1
        assert value(text, "acd_ami_connected") == 1
        assert CALLER not in text
    finally:
        acd.agent_do("1001", "logout")
