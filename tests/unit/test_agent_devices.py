"""An agent's device is always a configured agent phone, chosen by the phone itself or,
from the API, among the phones that agent may use."""

from __future__ import annotations

import asyncio

import pytest

from acd.agents.desk import AgentDesk, DeviceNotAllowed
from acd.agents.phone import AgentPhone
from acd.clock import FixedClock
from acd.config.routing import DevicePolicy
from acd.config.sections import load_sections
from acd.config.settings import ConfigError, load_config
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember
from acd.dispatcher import Dispatcher

POLICY = DevicePolicy(frozenset(f"PJSIP/agent{n}" for n in range(1001, 1006)),
                      {"1003": ("PJSIP/agent1003", "PJSIP/agent1005")})


@pytest.fixture
async def desk():
    agents = [AgentConfig("1001", pin="1111"), AgentConfig("1002", pin="2222"),
              AgentConfig("1003")]
    engine = RoutingEngine([QueueConfig("q", members=tuple(QueueMember(a.agent_id)
                                                            for a in agents))], agents)
    dispatcher = Dispatcher(engine, FixedClock(1_795_000_000.0))
    dispatcher.start()
    yield AgentDesk(agents, dispatcher, devices=POLICY)
    await dispatcher.stop()


async def test_an_agent_cannot_log_in_on_a_device_that_is_not_theirs(desk):
    for device in ("PJSIP/agent1002", "PJSIP/attacker", "PJSIP/agent1001&PJSIP/x",
                   "PJSIP/agent1001\nEXEC System id", "Local/13800138000@acd-transfer"):
        with pytest.raises(DeviceNotAllowed):
            await desk.api_action("1001", "login", {"device": device})
    assert desk.dispatcher.engine.agent_view("1001")["state"] == "logged-out"


async def test_an_agent_logs_in_from_the_api_on_their_own_phone_by_default(desk):
    await desk.api_action("1001", "login", {})
    assert desk.dispatcher.engine.agent_view("1001")["device"] == "PJSIP/agent1001"
    await desk.api_action("1003", "login", {"device": "PJSIP/agent1005"})
    assert desk.dispatcher.engine.agent_view("1003")["device"] == "PJSIP/agent1005"


async def test_an_agent_cannot_log_another_agent_out_by_naming_their_device(desk):
    await desk.login("1002", "PJSIP/agent1005", "2222")  # at 1005's desk, from its phone
    with pytest.raises(DeviceNotAllowed, match="in use by agent 1002"):
        await desk.api_action("1003", "login", {"device": "PJSIP/agent1005"})
    assert desk.dispatcher.engine.agent_view("1002")["state"] != "logged-out"
    # a supervisor may move the agent there (the API says who asks)
    await desk.api_action("1003", "login", {"device": "PJSIP/agent1005"}, supervisor=True)
    assert desk.dispatcher.engine.agent_view("1002")["state"] == "logged-out"


async def test_logging_in_at_a_phone_takes_it_over_hot_desking(desk):
    await desk.login("1001", "PJSIP/agent1004", "1111")
    await desk.login("1002", "PJSIP/agent1004", "2222")
    assert desk.dispatcher.engine.agent_view("1001")["state"] == "logged-out"
    assert desk.agent_on_device("PJSIP/agent1004") == "1002"


async def test_star71_from_a_phone_that_is_not_an_agent_phone_is_refused(desk):
    played: list[str] = []

    class Phone:
        channel_name = "PJSIP/supervisor1-00000001"

        async def answer(self) -> None: ...

        async def play(self, prompts, escape_digits=""):
            played.extend(prompts)
            return ""

        async def get_digits(self, *args, **kwargs):
            raise AssertionError("no agent number is asked for on a phone that is not an agent's")

    class Prompts:  # a recording per phrase, named by its key
        async def paths(self, prompts):
            return [p.name for p in prompts]

    await AgentPhone(desk, Prompts(), ("zh", "en")).login(Phone())
    assert played == ["unknown_phone"]


def test_agent_devices_are_configured_with_ranges_and_checked(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        'agents:\n  "1001": {devices: [PJSIP/agent1001, "PJSIP/hotdesk{01..03}"]}\n'
        'agent_devices: ["PJSIP/agent{1001..1020}"]\n')
    sections = load_sections(load_config(config))
    assert sections.devices.devices_of("1001") == (
        "PJSIP/agent1001", "PJSIP/hotdesk01", "PJSIP/hotdesk02", "PJSIP/hotdesk03")
    assert sections.devices.is_agent_phone("PJSIP/agent1020")
    assert not sections.devices.is_agent_phone("PJSIP/agent1021")
    config.write_text('agents:\n  "1001": {devices: ["PJSIP/agent1001&PJSIP/x"]}\n')
    with pytest.raises(ConfigError, match=r"config.yaml:2:\d+: agents.1001.devices"):
        load_sections(load_config(config))


async def test_an_agent_logs_in_and_out_of_one_queue_from_the_api(desk):
    from acd.core.errors import UnknownQueue

    await desk.api_action("1001", "login", {})
    await desk.api_action("1001", "queue-logout", {"queue": "q"})
    assert desk.dispatcher.engine.agent_view("1001")["serving"] == []
    await desk.api_action("1001", "queue-login", {"queue": "q"})
    assert desk.dispatcher.engine.agent_view("1001")["serving"] == ["q"]
    with pytest.raises(UnknownQueue):
        await desk.api_action("1001", "queue-logout", {"queue": "nope"})
    with pytest.raises(ValueError, match="queue"):
        await desk.api_action("1001", "queue-logout", {})


async def test_logging_out_during_a_call_applies_when_it_ends_and_then_forgets_the_phone(desk):
    from acd.core import events as ev

    desk.dispatcher.add_sink(desk.on_routing)
    await desk.api_action("1001", "login", {})
    await desk.dispatcher.submit(ev.CallQueued("c1", "q", "13800138000"))
    await desk.dispatcher.submit(ev.RingAnswered("c1", "1001"))
    answer = await desk.api_action("1001", "logout", {})
    assert answer["pending"] is True
    assert desk.dispatcher.engine.agent_view("1001")["pending_logout"]
    assert desk.agent_on_device("PJSIP/agent1001") == "1001"  # still on the call
    await desk.dispatcher.submit(ev.CallEnded("c1", "1001"))
    assert desk.dispatcher.engine.agent_view("1001")["state"] == "logged-out"
    await asyncio.sleep(0.05)  # the sink's work (forgetting the phone) runs as a task
    assert desk.agent_on_device("PJSIP/agent1001") is None
