"""The call path on the real sandbox: a caller reaches an agent's softphone, hears the
agent's number, is recorded, and answers the survey; strategies pick the right agent."""

from __future__ import annotations

import asyncio
import time
import wave
from pathlib import Path

import pytest
from acd_service import wait_for
from sipp import Dtmf, PhoneBehaviour, SippAgentPhones, SippCaller

from acd.media.playables import Speech
from acd.media.prompts import PromptLibrary
from acd.rules.caller_entries import make_entry

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DIRECT = "4008000001"  # enters tests/integration/flows/direct.yaml: queue support


@pytest.fixture(scope="module")
def acd(acd_factory):
    # the real clock: a shifted one restarts with each acd, and these tests restart acd
    return acd_factory(ACD_TEST_SECOND_FLOW="direct", ACD_TEST_START_AT="")


@pytest.fixture
def logged_in(acd):
    """Log agents in through the API; log everyone out afterwards."""
    def login(*agents: str) -> None:
        for agent in agents:
            status, body = acd.agent_do(agent, "login")
            assert status == 200, body
    yield login
    for agent in ("1001", "1002", "1003"):
        acd.agent_do(agent, "logout")


def wav_seconds(path: str) -> float:
    with wave.open(path) as w:
        return w.getnframes() / w.getframerate()


async def run_caller(caller: SippCaller) -> None:
    with caller:
        await asyncio.to_thread(caller.wait, caller.timeout)


async def test_answered_call_is_announced_recorded_surveyed_and_fully_recorded(
        acd, logged_in, call_records, asterisk, tmp_path):
    logged_in("1001")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=1.0, talk_time=9.0),
                             workdir=tmp_path / "phones")
    # The agent answers at ~1 s; the caller hears "agent 1 0 0 1 will serve you" (~3 s),
    # talks, and the agent hangs up at ~10 s. The caller keeps pressing 2 from second 12
    # on: the first press that lands in the survey is the answer.
    caller = SippCaller("13811112222", did=DIRECT, hangup_after=None, timeout=40,
                        dtmf=[Dtmf(at, "2") for at in (12.0, 14.0, 16.0, 18.0)],
                        workdir=tmp_path / "caller")
    with phones:
        await run_caller(caller)
        [agent_call] = phones.calls()
    assert agent_call.agent == "agent1001" and agent_call.outcome == "answered"
    assert agent_call.ended_by == "us"  # the agent hung up first
    record = await call_records.wait_call_of("13811112222")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.outcome == "answered" and record.agent == "1001"
    assert record.queues == ["support"] and record.ring_attempts == 1
    assert record.hung_up_by == "agent"
    assert record.survey == "2"
    assert record.enqueued_at and record.answered_at and record.ended_at
    assert 4.0 < record.talk_seconds < 9.0  # bridged time, after the announcement
    assert record.ivr_path == ["direct:to_support"]
    assert Path(record.recording).is_file()
    assert abs(wav_seconds(record.recording) - record.talk_seconds) <= 1.0
    assert "/recordings/" in record.recording
    assert record.hangup_cause  # Asterisk's cause, from AMI
    # ... and the history (SQLite, tests/integration/config.yaml) has it, its ring and
    # its rating, written behind the call by the history writer
    history = wait_for(lambda: history_rows(record.call_id), 15,
                       "the call, its ring and its survey answer in the history database")
    call, rings, answers = history
    assert (call["outcome"], call["agent"], call["queue"]) == ("answered", "1001", "support")
    assert [(r["agent"], r["result"]) for r in rings] == [("1001", "answered")]
    assert [(a["question"], a["answer"]) for a in answers] == [("satisfaction", "2")]


HISTORY_DB = REPO / "var" / "integration-history.db"


def history_rows(call_id: str) -> tuple[dict, list[dict], list[dict]] | None:
    """The call's rows in the history, once its survey answer is there (None before)."""
    import sqlite3

    if not HISTORY_DB.exists():
        return None
    with sqlite3.connect(HISTORY_DB) as db:
        db.row_factory = sqlite3.Row
        try:
            answers = db.execute("SELECT * FROM survey_answers WHERE call_id = ?",
                                 (call_id,)).fetchall()
        except sqlite3.OperationalError:  # not created yet
            return None
        if not answers:
            return None
        call = db.execute("SELECT * FROM calls WHERE call_id = ?", (call_id,)).fetchone()
        rings = db.execute("SELECT * FROM ring_attempts WHERE call_id = ? ORDER BY attempt",
                           (call_id,)).fetchall()
    return dict(call), [dict(r) for r in rings], [dict(a) for a in answers]


async def test_caller_who_hangs_up_while_waiting_is_counted_abandoned(
        acd, call_records, asterisk, tmp_path):
    caller = SippCaller("13833334444", did=DIRECT, hangup_after=2.0, timeout=20,
                        workdir=tmp_path / "caller")
    await run_caller(caller)
    record = await call_records.wait_call_of("13833334444")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.outcome == "abandoned" and record.hung_up_by == "caller"
    assert record.agent == "" and record.enqueued_at


async def test_caller_who_hangs_up_while_the_agent_rings_stops_the_ringing(
        acd, logged_in, call_records, asterisk, tmp_path):
    logged_in("1002")
    phones = SippAgentPhones(PhoneBehaviour(mode="ignore"), workdir=tmp_path / "phones")
    caller = SippCaller("13855556666", did=DIRECT, hangup_after=2.0, timeout=20,
                        workdir=tmp_path / "caller")
    with phones:
        await run_caller(caller)
        wait_for(lambda: phones.calls() and phones.calls()[0].outcome == "cancelled", 5,
                 "the agent's phone to stop ringing")
    record = await call_records.wait_call_of("13855556666")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.outcome == "abandoned" and record.ring_attempts == 1


async def test_agent_who_does_not_answer_is_skipped_and_caller_offered_to_next(
        acd, logged_in, call_records, asterisk, tmp_path):
    logged_in("1003")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=5.0),
                             {"agent1003": PhoneBehaviour(mode="ignore")},
                             workdir=tmp_path / "phones")
    caller = SippCaller("13877778888", did=DIRECT, hangup_after=None, timeout=40,
                        workdir=tmp_path / "caller")
    with phones:
        with caller:
            await phones.wait_for_calls(1, timeout=10)  # 1003, the only one logged in
            logged_in("1002")  # available now, but the call is 1003's until it times out
            await asyncio.to_thread(caller.wait, caller.timeout)
        agents = [(c.agent, c.outcome) for c in phones.calls()]
    assert agents[0] == ("agent1003", "cancelled")  # rang 4 s, never answered
    assert agents[-1] == ("agent1002", "answered")
    record = await call_records.wait_call_of("13877778888")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.agent == "1002" and record.ring_attempts == 2


async def test_restart_during_a_bridged_call_keeps_the_call_and_completes_its_record(
        acd, logged_in, call_records, asterisk, tmp_path):
    logged_in("1001")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=14.0),
                             workdir=tmp_path / "phones")
    caller = SippCaller("13812340000", did=DIRECT, hangup_after=None, timeout=60,
                        dtmf=[Dtmf(at, "1") for at in (18.0, 20.0, 22.0, 24.0)],
                        workdir=tmp_path / "caller")
    with phones, caller:
        record = await call_records.wait_call_of("13812340000")
        await call_records.wait_answered(record.call_id)  # bridged (and recorded): talking
        await asyncio.to_thread(acd.restart)
        await asyncio.to_thread(caller.wait, 60)
        [agent_call] = phones.calls()
    assert agent_call.ended_by == "us"  # the conversation lasted until the agent hung up
    record = await call_records.wait_call_of("13812340000")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.agent == "1001" and record.outcome == "answered"
    assert record.hung_up_by == "agent" and record.survey == "1"
    # from the bridge acd saw to the agent's hang-up, when the Dial's session ended
    # (Asterisk's clock): not the time acd was away or the caller's wait before
    assert agent_call.ended_at is not None and record.answered_at is not None
    assert abs(record.answered_at + record.talk_seconds - agent_call.ended_at) < 1.0, record
    assert Path(record.recording).is_file()
    assert acd.agent("1001")["state"] in ("available", "wrap-up")  # freed after the call


async def test_a_waiting_caller_keeps_its_place_across_a_restart(
        acd, logged_in, call_records, asterisk, tmp_path):
    caller = SippCaller("13812349999", did=DIRECT, hangup_after=None, timeout=60,
                        workdir=tmp_path / "caller")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=6.0),
                             workdir=tmp_path / "phones")
    with phones, caller:
        await call_records.wait_queued_call_of("13812349999")  # waiting: nobody is logged in
        await asyncio.to_thread(acd.restart)
        logged_in("1002")
        await asyncio.to_thread(caller.wait, 60)
        agents = [c.agent for c in phones.calls()]
    assert agents == ["agent1002"]
    record = await call_records.wait_call_of("13812349999")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.agent == "1002" and "resumed" in record.ivr_path


async def test_an_agent_transfers_the_caller_to_another_queue_and_the_record_follows(
        acd, logged_in, call_records, asterisk, tmp_path):
    logged_in("1001")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5), workdir=tmp_path / "phones")
    caller = SippCaller("13812345555", did=DIRECT, hangup_after=20.0, timeout=40,
                        workdir=tmp_path / "caller")
    with phones, caller:
        await phones.wait_for_calls(1, timeout=10)
        record = await call_records.wait_call_of("13812345555")
        await call_records.wait_answered(record.call_id)  # answered, announced, talking
        # 1001 asks for a pause (it applies after this call) so 1002 takes the caller
        assert acd.agent_do("1001", "pause", reason="break")[0] == 200
        logged_in("1002")
        status, body = acd.api("POST", f"/api/calls/{record.call_id}/transfer",
                               {"queue": "complaints"}, user=("agent1001", "test-agent"))
        assert status == 200, body
        assert body["from_agent"] == "1001"
        await asyncio.to_thread(caller.wait, 40)
        calls = [(c.agent, c.outcome, c.ended_by) for c in phones.calls()]
    assert calls[0] == ("agent1001", "answered", "them")  # acd took the caller away
    assert calls[-1][:2] == ("agent1002", "answered")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.transfer == "queue:complaints"
    assert record.queues == ["support", "complaints"] and record.agent == "1002"
    assert record.hung_up_by == "caller" and Path(record.recording).is_file()


async def test_an_agent_transfers_from_the_phone_to_a_queue_and_the_record_follows(
        acd, logged_in, call_records, asterisk, tmp_path):
    logged_in("1001")
    # 1001 presses the phone's transfer key after 8 s and dials 602 (complaints' code)
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5),
                             {"agent1001": PhoneBehaviour(answer_after=0.5, talk_time=8.0,
                                                          transfer_to="602")},
                             workdir=tmp_path / "phones")
    caller = SippCaller("13812347777", did=DIRECT, hangup_after=20.0, timeout=40,
                        workdir=tmp_path / "caller")
    with phones, caller:
        await phones.wait_for_calls(1, timeout=10)
        record = await call_records.wait_call_of("13812347777")
        await call_records.wait_answered(record.call_id)
        assert acd.agent_do("1001", "pause", reason="break")[0] == 200  # after this call
        logged_in("1002")
        await asyncio.to_thread(caller.wait, 40)
        calls = phones.calls()
    assert [(c.agent, c.outcome, c.transferred_to) for c in calls] == [
        ("agent1001", "answered", "602"), ("agent1002", "answered", "")]
    [uac] = caller.calls()
    assert uac.ended_by == "us"  # the caller talked to 1002 until hanging up
    record = await call_records.wait_call_of("13812347777")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.transfer == "queue:complaints"
    assert record.queues == ["support", "complaints"] and record.agent == "1002"
    assert "transfer:queue:complaints" in record.ivr_path
    assert record.hung_up_by == "caller" and record.outcome == "answered"
    # one recording for the whole call, both agents in it
    assert wav_seconds(record.recording) > 20.0 - 2 * 4.0 - 2.0  # less the two 报工号


async def test_an_agent_transfers_from_the_phone_to_an_extension(
        acd, logged_in, call_records, asterisk, tmp_path):
    logged_in("1001")
    # the transfer key is pressed after the 报工号 (~3.8 s), once the caller is bridged
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=6.0,
                                            transfer_to="8100"),
                             workdir=tmp_path / "phones")
    supervisor = SippAgentPhones(PhoneBehaviour(answer_after=0.3, talk_time=3.0), port=5073,
                                 workdir=tmp_path / "supervisor")
    caller = SippCaller("13812348888", did=DIRECT, hangup_after=None, timeout=40,
                        workdir=tmp_path / "caller")
    with phones, supervisor, caller:
        await asyncio.to_thread(caller.wait, 40)
        [agent_call] = phones.calls()
        [engineer] = supervisor.calls()
    assert agent_call.transferred_to == "8100"
    assert engineer.agent == "supervisor1" and engineer.outcome == "answered"
    record = await call_records.wait_call_of("13812348888")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.transfer == "extension:8100" and record.outcome == "transferred"
    assert record.agent == "1001" and record.talk_seconds >= 1.0


async def test_an_agent_who_pauses_while_ringing_stops_ringing_and_the_caller_moves_on(
        acd, logged_in, call_records, asterisk, tmp_path):
    logged_in("1001")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=6.0),
                             {"agent1001": PhoneBehaviour("ignore")},
                             workdir=tmp_path / "phones")
    caller = SippCaller("13812349191", did=DIRECT, hangup_after=None, timeout=40,
                        workdir=tmp_path / "caller")
    missed_before = acd.agent("1001")["stats"]["missed"]
    with phones, caller:
        await phones.wait_for_calls(1, timeout=10)
        await asyncio.to_thread(wait_for, lambda: acd.agent("1001")["state"] == "ringing", 5,
                                "acd to see agent 1001 ringing")
        assert acd.agent_do("1001", "pause", reason="away")[0] == 200
        logged_in("1002")
        await phones.wait_for_calls(2, timeout=10)
        await asyncio.to_thread(caller.wait, 40)
        calls = [(c.agent, c.outcome) for c in phones.calls()]
    assert calls == [("agent1001", "cancelled"), ("agent1002", "answered")]
    # the pause stopped the ringing: had the 4 s ring timeout ended it, the core would
    # count a missed call (and a late no-answer after the pause counts for nothing)
    agent = acd.agent("1001")
    assert (agent["state"], agent["reason"]) == ("paused", "away")
    assert agent["stats"]["missed"] == missed_before
    record = await call_records.wait_call_of("13812349191")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.agent == "1002" and record.ring_attempts == 2


def played_to(channel_prefix: str, since: str) -> list[str]:
    """Files Asterisk played to channels named channel_prefix-* (its verbose log)."""
    log = REPO / "var" / "sandbox" / "log" / "full.log"
    files = []
    for line in log.read_text(errors="replace").splitlines():
        if line[1:24] >= since and f"<{channel_prefix}-" in line and "Playing '" in line:
            files.append(line.split("Playing '", 1)[1].split("'", 1)[0])
    return files


async def test_the_agent_hears_a_whisper_vip_and_queue_before_the_caller(
        acd, logged_in, call_records, caller_lists, asterisk, tmp_path):
    await caller_lists.add(make_entry("white", "exact", "13812340101", "vip", priority=5))
    logged_in("1001")
    since = time.strftime("%Y-%m-%d %H:%M:%S")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=6.0),
                             workdir=tmp_path / "phones")
    caller = SippCaller("13812340101", did=DIRECT, hangup_after=None, timeout=40,
                        workdir=tmp_path / "caller")
    with phones:
        await run_caller(caller)
    record = await call_records.wait_call_of("13812340101")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.agent == "1001" and record.variables.get("vip") == "1"
    library = PromptLibrary(REPO / "prompts", REPO / "var" / "prompt-cache")
    [whisper] = await library.paths([Speech("贵宾客户。 售后", "zh")])
    [announcement] = await library.paths([Speech("Agent 1 0 0 1 will serve you.", "en")])
    agent_heard = [Path(f).stem for f in played_to("PJSIP/agent1001", since)]
    caller_heard = [Path(f).stem for f in played_to("PJSIP/anonymous", since)]
    assert Path(whisper).stem in agent_heard
    assert Path(announcement).stem in caller_heard
    assert Path(whisper).stem not in caller_heard  # the caller never hears it


async def test_transfer_requests_that_make_no_sense_get_a_4xx(acd):
    status, _ = acd.api("POST", "/api/calls/nope/transfer", {"queue": "complaints"})
    assert status == 409
    status, _ = acd.api("POST", "/api/calls/nope/transfer", {"queue": "x", "extension": "1"})
    assert status == 400


async def test_a_waiting_caller_who_presses_star_is_called_back_when_an_agent_is_free(
        acd, logged_in, call_records, asterisk, tmp_path):
    caller = SippCaller("13899990000", did=DIRECT, hangup_after=None, timeout=30,
                        dtmf=[Dtmf(3.0, "*")], workdir=tmp_path / "caller")
    customers = SippAgentPhones(PhoneBehaviour(answer_after=0.5), port=5074,
                                workdir=tmp_path / "customers")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=5.0),
                             workdir=tmp_path / "phones")
    with customers, phones:
        with caller:  # nobody is logged in: the caller waits, presses *, is told, hangs up
            await asyncio.to_thread(caller.wait, 30)
        [sip] = caller.calls()
        assert sip.answered and sip.ended_by == "them"
        record = await call_records.wait_call_of("13899990000")
        assert record.outcome == "callback-requested" and not record.ended_at
        logged_in("1001")  # the caller's turn comes: we call them, then the agent
        [back] = await customers.wait_for_calls(1, timeout=15)
        assert back.agent == "13899990000"
        await phones.wait_for_calls(1, timeout=15)
        record = await call_records.wait_closed_call(record.call_id, timeout=60)
    assert record.agent == "1001" and record.outcome == "answered"
    assert "callback:requested" in record.ivr_path and "callback:answered" in record.ivr_path


async def test_a_supervisor_whispers_to_the_agent_and_the_recording_stays_whole(
        acd, logged_in, call_records, ami, asterisk, tmp_path):
    spies: list[str] = []
    ami.register_event("ChanSpyStart", lambda _m, e: spies.append(e.get("SpyeeChannel", "")))
    logged_in("1001")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=12.0),
                             workdir=tmp_path / "phones")
    supervisor = SippAgentPhones(PhoneBehaviour(answer_after=0.3), port=5073,
                                 workdir=tmp_path / "supervisor")
    caller = SippCaller("13812346666", did=DIRECT, hangup_after=16.0, timeout=40,
                        workdir=tmp_path / "caller")
    with phones, supervisor, caller:
        await phones.wait_for_calls(1, timeout=10)
        record = await call_records.wait_call_of("13812346666")
        await call_records.wait_answered(record.call_id)  # bridged: there is a call to spy on
        status, body = acd.api("POST", f"/api/calls/{record.call_id}/spy",
                               {"mode": "whisper", "device": "PJSIP/supervisor1"},
                               user=("supervisor", "test-sup"))
        assert status == 200, body
        [spy] = await supervisor.wait_for_calls(1, timeout=10)
        assert spy.agent == "supervisor1"
        await asyncio.to_thread(caller.wait, 40)
    assert spies and spies[0].startswith("PJSIP/agent1001-")
    record = await call_records.wait_closed_call(record.call_id)
    assert record.agent == "1001" and record.hung_up_by == "agent"
    assert abs(wav_seconds(record.recording) - record.talk_seconds) <= 1.0
    assert record.survey == "not-surveyed"  # the caller left during the survey


async def test_a_supervisor_intercepts_the_agent_leaves_and_the_record_shows_the_takeover(
        acd, logged_in, call_records, asterisk, tmp_path):
    logged_in("1001")
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5), workdir=tmp_path / "phones")
    supervisor = SippAgentPhones(PhoneBehaviour(answer_after=0.3), port=5073,
                                 workdir=tmp_path / "supervisor")
    caller = SippCaller("13812340419", did=DIRECT, hangup_after=20.0, timeout=40,
                        workdir=tmp_path / "caller")
    with phones, supervisor, caller:
        await phones.wait_for_calls(1, timeout=10)
        record = await call_records.wait_call_of("13812340419")
        await call_records.wait_answered(record.call_id)
        status, body = acd.api("POST", f"/api/calls/{record.call_id}/intercept", {},
                               user=("supervisor", "test-sup"))
        assert status == 200, body
        assert body["from_agent"] == "1001" and body["device"] == "PJSIP/supervisor1"
        [taken] = await supervisor.wait_for_calls(1, timeout=10)
        assert taken.agent == "supervisor1"
        await asyncio.to_thread(caller.wait, 40)
        [agent_call] = phones.calls()
    assert agent_call.ended_by == "them"  # acd released the agent's leg
    [uac] = caller.calls()
    assert uac.ended_by == "us"  # the caller talked to the supervisor until hanging up
    record = await call_records.wait_closed_call(record.call_id)
    assert record.transfer == "intercept:PJSIP/supervisor1" and record.agent == "1001"
    assert "transfer:intercept:PJSIP/supervisor1" in record.ivr_path
    assert record.outcome == "transferred"


async def test_an_agent_who_puts_the_caller_on_hold_plays_music_and_hold_is_not_talk(
        acd, logged_in, call_records, ami, asterisk, tmp_path):
    music: list[tuple[float, str]] = []
    holds: list[tuple[str, str]] = []
    ami.register_event("MusicOnHoldStart",
                       lambda _m, e: music.append((time.time(), e.get("Channel", ""))))
    ami.register_event("Hold", lambda _m, e: holds.append(("hold", e.get("Channel", ""))))
    ami.register_event("Unhold", lambda _m, e: holds.append(("unhold", e.get("Channel", ""))))
    logged_in("1001")
    # the agent answers at 0.5 s, presses hold 6 s later (after the 报工号), resumes
    # 5 s after that, talks 3 s more and hangs up
    phones = SippAgentPhones(PhoneBehaviour(answer_after=0.5, talk_time=3.0, hold=(6.0, 5.0)),
                             workdir=tmp_path / "phones")
    caller = SippCaller("13812347788", did=DIRECT, hangup_after=None, timeout=40,
                        dtmf=[Dtmf(at, "1") for at in (18.0, 20.0, 22.0)],
                        workdir=tmp_path / "caller")
    with phones:
        await run_caller(caller)
        [agent_call] = phones.calls()
    assert [event for event, _at in agent_call.holds] == ["held", "resumed"], \
        phones.diagnostics()
    held_for = agent_call.holds[1][1] - agent_call.holds[0][1]
    record = await call_records.wait_call_of("13812347788")
    record = await call_records.wait_closed_call(record.call_id)
    # Asterisk saw the agent's hold and played music to the caller meanwhile
    assert [kind for kind, _channel in holds] == ["hold", "unhold"]
    assert holds[0][1].startswith("PJSIP/agent1001-")
    held_at, resumed_at = agent_call.holds[0][1], agent_call.holds[1][1]
    assert any(channel.startswith("PJSIP/anonymous-") and held_at - 0.5 < at < resumed_at
               for at, channel in music), (music, held_at, resumed_at)
    assert record.outcome == "answered" and record.hung_up_by == "agent"
    assert abs(record.hold_seconds - held_for) < 0.5, (record.hold_seconds, held_for)
    # talk: the bridge (after the ~3 s 报工号) until the hang-up, less the hold
    assert 3.0 < record.talk_seconds < 7.5, record.talk_seconds
    assert record.survey == "1"
    # the recording holds what the caller heard: the talk and the music on hold
    assert abs(wav_seconds(record.recording) - record.talk_seconds - record.hold_seconds) <= 1.0
