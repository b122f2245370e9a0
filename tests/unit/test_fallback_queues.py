"""While acd is away, each acd queue's callers ring that queue's agents in Asterisk's own
queue: the generated queues file (acd asterisk-queues) and the members acd keeps there
(against a fake AMI: which actions Asterisk would be sent)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from acd.adapters.asterisk.fallback_queue import AgentSeen, FallbackQueue
from acd.adapters.asterisk.fallback_queues import (
    CATCH_ALL,
    expected_twins,
    missing_twins,
    penalties,
    render,
    stale_twins,
    twin_of,
    twins_in,
)
from acd.core import commands as cmd
from acd.core.model import AgentState, QueueConfig, QueueMember, Strategy

# -- the queues file -------------------------------------------------------------------------


def sections(text: str) -> dict[str, dict[str, str]]:
    """queues.conf as {section: {key: value}} (comments dropped)."""
    out: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            current = out.setdefault(line.strip("[]"), {})
        elif line and not line.startswith(";"):
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip()
    return out


def test_each_acd_queue_gets_a_native_twin_with_the_nearest_strategy_and_its_times() -> None:
    text = render([
        QueueConfig("support", Strategy.LEAST_CALLS, ring_timeout_seconds=15,
                    wrap_up_seconds=3),
        QueueConfig("vip", Strategy.LONGEST_IDLE, ring_timeout_seconds=20, weight=5),
        QueueConfig("sales", Strategy.ROUND_ROBIN),
        QueueConfig("all", Strategy.RING_ALL),
    ], "config.yaml")
    conf = sections(text)
    assert conf["acd-fallback-support"]["strategy"] == "fewestcalls"
    assert conf["acd-fallback-support"]["timeout"] == "15"
    assert conf["acd-fallback-support"]["wrapuptime"] == "3"
    assert conf["acd-fallback-vip"]["strategy"] == "leastrecent"
    assert conf["acd-fallback-vip"]["weight"] == "5"
    assert conf["acd-fallback-sales"]["strategy"] == "rrmemory"
    assert conf["acd-fallback-all"]["strategy"] == "ringall"
    # what the dialplan's h extension records for acd comes from every twin as from the
    # catch-all: who answered (MEMBERNAME) and after how long (QEHOLDTIME)
    for twin in conf.values():
        assert twin["setinterfacevar"] == "yes" and twin["setqueueentryvar"] == "yes"
        assert twin["ringinuse"] == "no" and twin["joinempty"] == "yes"
    assert "config.yaml" in text.splitlines()[0]


def test_strategies_app_queue_lacks_are_given_the_nearest_and_say_so() -> None:
    text = render([QueueConfig("complaints", Strategy.SHORTEST_TALK_TIME),
                   QueueConfig("fast", Strategy.FASTEST_ANSWER)], "config.yaml")
    assert sections(text)["acd-fallback-complaints"]["strategy"] == "fewestcalls"
    assert sections(text)["acd-fallback-fast"]["strategy"] == "leastrecent"
    assert "shortest-talk-time has no app_queue equivalent" in text
    assert "fastest-answer has no app_queue equivalent" in text


def test_a_queue_name_asterisk_cannot_spell_gets_no_twin_and_check_says_so() -> None:
    text = render([QueueConfig("售后 queue")], "config.yaml")
    assert twin_of("售后 queue") is None
    assert sections(text) == {}
    assert "its callers go to the catch-all" in text
    [warning] = missing_twins(["售后 queue"], text, "asterisk/queues_fallback.conf")
    assert "cannot be an app_queue queue" in warning


def test_check_warns_of_a_queue_added_since_the_file_was_written() -> None:
    text = render([QueueConfig("support")], "config.yaml")
    assert twins_in(text) == {"acd-fallback-support"}
    assert missing_twins(["support"], text, "f.conf") == []
    [warning] = missing_twins(["support", "billing"], text, "f.conf")
    assert "[acd-fallback-billing]" in warning and "acd asterisk-queues" in warning
    [no_file] = missing_twins(["support"], None, "f.conf")
    assert "no fallback queues file" in no_file


def test_penalties_come_from_the_queue_members_and_default_to_zero() -> None:
    table = penalties([QueueConfig("support", members=(QueueMember("1001", 0),
                                                       QueueMember("1002", 2)))])
    assert table == {("support", "1001"): 0, ("support", "1002"): 2}
    assert table.get(("support", "1003"), 0) == 0


# -- the members acd keeps there -------------------------------------------------------------


class FakeAmi:
    """Asterisk's queues as AMI shows them: QueueStatus answers with `queues`' params and
    members; every other action is recorded."""

    def __init__(self, queues: Mapping[str, list[dict[str, str]]],
                 strategies: Mapping[str, str] | None = None) -> None:
        self.queues = {name: list(members) for name, members in queues.items()}
        self.strategies = dict(strategies or {})
        self.sent: list[dict[str, str]] = []
        self.connected = True

    async def send(self, action: dict[str, str], *, as_list: bool | None = None,
                   timeout: float | None = None) -> object:
        if action["Action"] == "QueueStatus":
            events: list[dict[str, str]] = []
            for name, members in self.queues.items():
                events.append({"Event": "QueueParams", "Queue": name,
                               "Strategy": self.strategies.get(name, "fewestcalls")})
                events += [{"Event": "QueueMember", "Queue": name, **m} for m in members]
            return events
        self.sent.append(action)
        return {"Response": "Success"}

    def actions(self) -> list[tuple[str, ...]]:
        """What was sent, short: (action, queue, interface, paused/penalty...)."""
        out = []
        for a in self.sent:
            extra = tuple(f"{k}={a[k]}" for k in ("Paused", "Penalty", "Reason") if k in a)
            out.append((a["Action"], a.get("Queue", ""), a.get("Interface", ""), *extra))
        return out


class Agents:
    """The routing core's agents, as the fallback queues read them."""

    def __init__(self, *agents: AgentSeen) -> None:
        self.by_id = {a.agent_id: a for a in agents}

    def set(self, agent: AgentSeen) -> cmd.AgentStateChanged:
        self.by_id[agent.agent_id] = agent
        return cmd.AgentStateChanged(agent.agent_id, AgentState(agent.state), agent.reason,
                                     0.0)

    def all(self) -> list[AgentSeen]:
        return list(self.by_id.values())


SUPPORT_AND_VIP = {"acd-fallback": [], "acd-fallback-support": [], "acd-fallback-vip": [],
                   "bench-native": [{"Name": "agent1001", "Location": "PJSIP/agent1001",
                                     "Paused": "0"}]}


def seen(agent_id: str, state: str = "available", reason: str = "",
         queues: Mapping[str, int] | None = None) -> AgentSeen:
    return AgentSeen(agent_id, f"PJSIP/agent{agent_id}", state, reason,
                     dict(queues if queues is not None else {"support": 0}))


async def settled(fallback: FallbackQueue) -> None:
    """Let the sending task send what is due."""
    for _ in range(20):
        await asyncio.sleep(0)


async def running(ami: FakeAmi, agents: Agents) -> tuple[FallbackQueue, asyncio.Task[None]]:
    fallback = FallbackQueue(ami, "acd-fallback", agents.all, agents.by_id.get)
    task = fallback.start()
    await fallback.resync()
    await settled(fallback)
    return fallback, task


async def test_an_agent_at_work_joins_the_catch_all_and_each_queue_they_serve_with_its_penalty(
        ) -> None:
    ami = FakeAmi(SUPPORT_AND_VIP)
    agents = Agents(seen("1001", queues={"support": 0, "vip": 2}))
    fallback, task = await running(ami, agents)
    assert sorted(ami.actions()) == [
        ("QueueAdd", "acd-fallback", "PJSIP/agent1001", "Paused=false"),
        ("QueueAdd", "acd-fallback-support", "PJSIP/agent1001", "Paused=false"),
        ("QueueAdd", "acd-fallback-vip", "PJSIP/agent1001", "Paused=false", "Penalty=2"),
    ]
    assert all(a["MemberName"] == "1001" for a in ami.sent)  # what lost_calls reads back
    task.cancel()


async def test_calls_cost_no_action_but_pause_logout_and_login_each_do_per_queue() -> None:
    ami = FakeAmi(SUPPORT_AND_VIP)
    agents = Agents(seen("1001"))
    fallback, task = await running(ami, agents)
    ami.sent.clear()
    for state in ("ringing", "on-call", "wrap-up", "available"):  # a call: nothing to send
        fallback.on_routing(agents.set(seen("1001", state)))
    await settled(fallback)
    assert ami.sent == []
    fallback.on_routing(agents.set(seen("1001", "paused", "lunch")))
    await settled(fallback)
    assert sorted(ami.actions()) == [
        ("QueuePause", "acd-fallback", "PJSIP/agent1001", "Paused=true", "Reason=lunch"),
        ("QueuePause", "acd-fallback-support", "PJSIP/agent1001", "Paused=true",
         "Reason=lunch")]
    ami.sent.clear()
    fallback.on_routing(agents.set(seen("1001", "logged-out", queues={})))
    await settled(fallback)
    assert sorted(ami.actions()) == [("QueueRemove", "acd-fallback", "PJSIP/agent1001"),
                                     ("QueueRemove", "acd-fallback-support",
                                      "PJSIP/agent1001")]
    ami.sent.clear()
    fallback.on_routing(agents.set(seen("1001", "paused", "meeting")))  # login, paused
    await settled(fallback)
    assert sorted(ami.actions()) == [
        ("QueueAdd", "acd-fallback", "PJSIP/agent1001", "Paused=true", "Reason=meeting"),
        ("QueueAdd", "acd-fallback-support", "PJSIP/agent1001", "Paused=true",
         "Reason=meeting")]
    task.cancel()


async def test_an_agent_who_logs_out_of_one_queue_leaves_only_its_twin() -> None:
    ami = FakeAmi(SUPPORT_AND_VIP)
    agents = Agents(seen("1001", queues={"support": 0, "vip": 0}))
    fallback, task = await running(ami, agents)
    ami.sent.clear()
    agents.set(seen("1001", queues={"support": 0}))
    fallback.on_routing(cmd.AgentServingChanged("1001", "vip", False))
    await settled(fallback)
    assert ami.actions() == [("QueueRemove", "acd-fallback-vip", "PJSIP/agent1001")]
    ami.sent.clear()
    agents.set(seen("1001", queues={"support": 0, "vip": 0}))
    fallback.on_routing(cmd.AgentServingChanged("1001", "vip", True))
    await settled(fallback)
    assert ami.actions() == [("QueueAdd", "acd-fallback-vip", "PJSIP/agent1001",
                              "Paused=false")]
    task.cancel()


async def test_a_queue_without_a_twin_in_asterisk_is_left_alone() -> None:
    ami = FakeAmi({"acd-fallback": [], "acd-fallback-support": []})
    agents = Agents(seen("1001", queues={"support": 0, "complaints": 0}))
    fallback, task = await running(ami, agents)
    assert {a[1] for a in ami.actions()} == {"acd-fallback", "acd-fallback-support"}
    assert set(fallback.twins) == {"acd-fallback-support"}
    task.cancel()


async def test_after_a_login_members_are_read_back_and_corrected_in_every_queue() -> None:
    # Asterisk kept (persistentmembers) 1001 in support with an old penalty, a stranger in
    # vip and 1002 who logged out while AMI was down; other queues are not acd's business
    ami = FakeAmi({**SUPPORT_AND_VIP,
                   "acd-fallback": [{"Name": "1001", "Location": "PJSIP/agent1001",
                                     "Paused": "0"},
                                    {"Name": "1002", "Location": "PJSIP/agent1002",
                                     "Paused": "0"}],
                   "acd-fallback-support": [{"Name": "1001", "Location": "PJSIP/agent1001",
                                             "Paused": "0", "Penalty": "3"}],
                   "acd-fallback-vip": [{"Name": "1009", "Location": "PJSIP/agent1009",
                                         "Paused": "0"}]})
    agents = Agents(seen("1001", queues={"support": 1}),
                    seen("1002", "logged-out", queues={}))
    fallback, task = await running(ami, agents)
    assert sorted(ami.actions()) == [
        ("QueuePenalty", "acd-fallback-support", "PJSIP/agent1001", "Penalty=1"),
        ("QueueRemove", "acd-fallback", "PJSIP/agent1002"),
        ("QueueRemove", "acd-fallback-vip", "PJSIP/agent1009")]
    task.cancel()


async def test_a_reload_that_changes_a_penalty_or_a_membership_is_applied() -> None:
    ami = FakeAmi(SUPPORT_AND_VIP)
    agents = Agents(seen("1001", queues={"support": 0}))
    fallback, task = await running(ami, agents)
    ami.sent.clear()
    agents.set(seen("1001", queues={"vip": 4}))  # moved from support to vip, penalty 4
    fallback.refresh_all()
    await settled(fallback)
    assert sorted(ami.actions()) == [
        ("QueueAdd", "acd-fallback-vip", "PJSIP/agent1001", "Paused=false", "Penalty=4"),
        ("QueueRemove", "acd-fallback-support", "PJSIP/agent1001")]
    task.cancel()


async def test_changes_while_ami_is_down_wait_for_the_login() -> None:
    ami = FakeAmi(SUPPORT_AND_VIP)
    agents = Agents(seen("1001"))
    fallback, task = await running(ami, agents)
    ami.sent.clear()
    ami.connected = False
    fallback.on_routing(agents.set(seen("1001", "paused", "break")))
    await settled(fallback)
    assert ami.sent == []
    ami.connected = True
    ami.queues["acd-fallback"] = [{"Name": "1001", "Location": "PJSIP/agent1001",
                                   "Paused": "0"}]
    ami.queues["acd-fallback-support"] = [{"Name": "1001", "Location": "PJSIP/agent1001",
                                           "Paused": "0"}]
    await fallback.resync()
    await settled(fallback)
    assert sorted(ami.actions()) == [
        ("QueuePause", "acd-fallback", "PJSIP/agent1001", "Paused=true", "Reason=break"),
        ("QueuePause", "acd-fallback-support", "PJSIP/agent1001", "Paused=true",
         "Reason=break")]
    task.cancel()


def test_the_dialplan_reads_what_acd_leaves_and_queues_conf_includes_what_it_writes() -> None:
    """A contract in two files: a renamed variable or file would silently send every
    fallback caller to the catch-all."""
    from pathlib import Path

    from acd.adapters.asterisk.agi import PRIORITY_VARIABLE, QUEUE_VARIABLE
    from acd.config.settings import PathsConfig

    asterisk = Path(__file__).resolve().parents[2] / "asterisk"
    dialplan = (asterisk / "extensions.conf").read_text()
    twin = f"{CATCH_ALL}-${{{QUEUE_VARIABLE}}}"
    assert f"QUEUE_EXISTS({twin})" in dialplan
    assert f"Set(QUEUE_PRIO=${{{PRIORITY_VARIABLE}}})" in dialplan
    assert "Queue(${ACD_FALLBACK_QUEUE},c" in dialplan
    included = Path(PathsConfig().fallback_queues).name
    assert f'#tryinclude "{included}"' in (asterisk / "queues.conf").read_text()


def test_asterisk_queues_that_lag_behind_acds_are_named_at_each_login() -> None:
    expected = expected_twins([QueueConfig("support", Strategy.LEAST_CALLS),
                               QueueConfig("vip", Strategy.LONGEST_IDLE),
                               QueueConfig("billing", Strategy.RING_ALL)])
    assert expected == {"acd-fallback-support": "fewestcalls",
                        "acd-fallback-vip": "leastrecent", "acd-fallback-billing": "ringall"}
    found = {"acd-fallback-support": "fewestcalls", "acd-fallback-vip": "rrmemory"}
    assert stale_twins(expected, found) == [
        "no acd-fallback-billing in Asterisk: while acd is away its callers ring every "
        "agent at work",
        "acd-fallback-vip rings by rrmemory in Asterisk, acd's queue by the nearest of "
        "leastrecent"]


async def test_the_login_logs_what_the_operator_must_regenerate(caplog) -> None:
    ami = FakeAmi(SUPPORT_AND_VIP, {"acd-fallback-vip": "ringall"})
    agents = Agents(seen("1001"))
    fallback = FallbackQueue(ami, "acd-fallback", agents.all, agents.by_id.get,
                             lambda: {"acd-fallback-support": "fewestcalls",
                                      "acd-fallback-vip": "leastrecent",
                                      "acd-fallback-billing": "ringall"})
    await fallback.resync()
    logged = [r.getMessage() for r in caplog.records if "fallback queues:" in r.getMessage()]
    assert len(logged) == 2 and all("acd asterisk-queues" in line for line in logged)
    assert "no acd-fallback-billing" in logged[0] and "rings by ringall" in logged[1]
