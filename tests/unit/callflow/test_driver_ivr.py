"""The IVR through a call's driver, its ports in memory: what the driver makes of a port
that fails (the call goes on), of a prompt with no file, of the caller leaving, and
what the record says when the flow ends the call."""

from __future__ import annotations

import asyncio
import logging
import textwrap
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from harness import CALLER, DID, T0, settings
from polling import eventually

from acd.callflow import facts as f
from acd.callflow.driver import CallDriver, CallPorts
from acd.callflow.errors import CallerHungUp
from acd.callflow.session import CallSession
from acd.clock import FixedClock
from acd.core import events as ev
from acd.ivr.flowset import build_flowset
from acd.ivr.lookup import LookupRequest, LookupResult, LookupStatus
from acd.ivr.model import FlowSet
from acd.ivr.schedule import ScheduleDecision
from acd.media.playables import Playable, Sound, Speech
from acd.privacy import mask_number, set_log_full_numbers

# -- the ports, in memory ------------------------------------------------------------------


class Store:
    """The call record as Redis would hold it."""

    def __init__(self) -> None:
        self.record: dict[str, Any] = {}
        self.closed = False

    async def open_call(self, call_id: str, fields: Mapping[str, Any]) -> None:
        self.record.update(fields)

    async def save_call(self, call_id: str, changes: Mapping[str, Any]) -> None:
        self.record.update(changes)

    async def close_call(self, call_id: str, changes: Mapping[str, Any]) -> None:
        self.record.update(changes)
        self.closed = True

    async def record_call(self, call_id: str, fields: Mapping[str, Any]) -> None:
        await self.close_call(call_id, fields)

    async def get_call(self, call_id: str) -> None:
        return None

    async def active_call_ids(self) -> set[str]:
        return set()


class Routing:
    """The routing core takes every caller and is told everything."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def post(self, event: ev.Event) -> None:
        self.events.append(event)

    async def submit(self, event: ev.Event) -> list[Any]:
        self.events.append(event)
        return []

    def has_call(self, call_id: str) -> bool:
        return False

    def queued_in(self) -> list[str]:
        return [e.queue for e in self.events if isinstance(e, ev.CallQueued)]


class NoOtherChannels:
    async def hang_up_channel(self, channel: str) -> None:
        raise AssertionError("no other channel in an IVR call")

    async def spy(self, device: str, channel: str, mode: str, call_id: str) -> None:
        raise AssertionError("no other channel in an IVR call")


class Prompts:
    """Prompts as readable labels; a recording with no words to speak has no file."""

    async def paths(self, prompts: Iterable[Playable]) -> list[str]:
        return [label for p in prompts if (label := _label(p))]


def _label(prompt: Playable) -> str:
    if isinstance(prompt, Sound):
        return f"sound:{prompt.name}"
    if isinstance(prompt, Speech):
        return f"tts:{prompt.lang}:{prompt.text}"
    return _label(prompt.fallback) if prompt.fallback is not None else ""


class Lookups:
    def __init__(self, answer: Callable[[LookupRequest], LookupResult]) -> None:
        self.answer = answer

    async def fetch(self, request: LookupRequest) -> LookupResult:
        return self.answer(request)


class Schedules:
    def __init__(self, decide: Callable[[str, float], ScheduleDecision]) -> None:
        self._decide = decide

    def decide(self, schedule_name: str, now: float) -> ScheduleDecision:
        return self._decide(schedule_name, now)


def fails(*args: object) -> Any:
    raise ConnectionError("the service is away")


async def no_announcement() -> tuple[Playable, ...]:
    return ()


async def announcement_away() -> tuple[Playable, ...]:
    raise ConnectionError("redis is away")


class Caller:
    """The caller's FastAGI channel: keys typed at each read from a script; "hangup"
    in the script hangs up at that read."""

    call_id = "c1"
    caller = CALLER
    called = DID

    def __init__(self, keys: Sequence[str] = (), answers: bool = False,
                 leaves_while_put_through: bool = False) -> None:
        self.keys = list(keys)
        self.answers = answers  # whoever the caller is put through to picks up
        self.leaves_while_put_through = leaves_while_put_through
        self.heard: list[str] = []
        self.ran: list[tuple[str | int, ...]] = []  # put through, voicemail
        self.hung_up = False
        self._gone = False
        self._on_gone: Callable[[], None] = lambda: None

    @property
    def gone(self) -> bool:
        return self._gone

    def on_gone(self, callback: Callable[[], None]) -> None:
        self._on_gone = callback

    def _leave(self) -> None:
        self._gone = True
        self._on_gone()

    async def answer(self) -> None:
        pass

    async def play(self, files: Sequence[str], escape_digits: str = "") -> str:
        assert files, "Asterisk is asked to play nothing"
        self.heard += files
        return ""

    async def get_digits(self, files: Sequence[str], timeout: float, max_digits: int,
                         terminator: str = "#") -> str:
        self.heard += files
        assert self.keys, "the flow waits for more keys than the caller types"
        keys = self.keys.pop(0)
        if keys == "hangup":
            self._leave()
            raise CallerHungUp(self.call_id)
        return keys[:max_digits]

    async def music_on_hold(self, on: bool) -> None:
        pass

    async def start_recording(self, path: str) -> None:
        raise AssertionError("not recorded before an agent answers")

    async def dial_agents(self, *args: object) -> f.DialEnded:
        raise AssertionError("no agent in these calls")

    async def dial_number(self, number: str, ring_seconds: int,
                          context: str = "acd-transfer", *, private: bool = False,
                          ) -> f.DialEnded:
        self.ran.append(("put through", number, context, ring_seconds))
        if self.leaves_while_put_through:  # hangs up while it rings (Dial: CANCEL)
            self._leave()
            return f.DialEnded(f.DialStatus.CANCELLED, caller_gone=True)
        return f.DialEnded(f.DialStatus.ANSWERED if self.answers else f.DialStatus.NO_ANSWER)

    async def voicemail(self, mailbox: str, options: str) -> None:
        self.ran.append(("voicemail", mailbox, options))

    async def hangup(self) -> None:
        self.hung_up = True

    async def mark_queued(self, queue: str, priority: int) -> None:
        self.ran.append(("marked", queue, priority))

    async def request_fallback(self) -> None:
        raise AssertionError("acd did not fail")


# -- one call ---------------------------------------------------------------------------------


def flows_of(text: str) -> FlowSet:
    flows, errors = build_flowset({Path("/flows/main.yaml"): text},
                                  known_queues=["support", "complaints"], schedule_names=None,
                                  library=None, extra_variables=("lang",))
    assert flows is not None, errors
    return flows


class Call:
    """A call to the flow `main`, its driver running on in-memory ports."""

    def __init__(self, flow: str, caller: Caller | None = None, *,
                 lookups: Lookups | None = None, schedules: Schedules | None = None,
                 announcement: Callable[[], Awaitable[tuple[Playable, ...]]] = no_announcement
                 ) -> None:
        self.caller = caller or Caller()
        self.store = Store()
        self.routing = Routing()
        self.clock = FixedClock(T0)
        ports = CallPorts(
            store=self.store, routing=self.routing, actions=NoOtherChannels(),
            prompts=Prompts(), lookups=lookups or Lookups(fails),
            schedules=schedules or Schedules(fails), announcement=announcement,
            clock=self.clock)
        call_settings = settings(flows=flows_of(flow), numbers={DID: ("main", "zh")},
                                 caller_lists=False)
        session = CallSession.new("c1", CALLER, DID, call_settings, T0)
        self.driver = CallDriver(session, ports, self.caller)

    async def run(self) -> None:
        """Until the IVR is over (the caller queued, or the call ended), then the call's
        end as Asterisk reports it, and the record closed."""
        task = asyncio.create_task(self.driver.run())
        released = self.driver.channel_released
        await eventually(lambda: bool(self.routing.queued_in()) or released.is_set())
        if not released.is_set():  # queued: the caller hangs up while waiting
            self.caller._leave()
            await eventually(released.is_set)
        self.driver.deliver(f.ChannelGone("Normal Clearing"))  # nothing more to come
        await eventually(lambda: self.store.closed)
        await asyncio.wait_for(task, 2)


# -- the ports failing ------------------------------------------------------------------------

LOOKUP = """
nodes:
  find:
    type: lookup
    url: http://crm.test/customers/${caller}
    ok: known
    error: unknown
  known: {type: queue, queue: support}
  unknown: {type: queue, queue: complaints}
"""


async def test_a_lookup_client_that_raises_sends_the_caller_down_the_error_branch(
    caplog: pytest.LogCaptureFixture
):
    call = Call(LOOKUP, lookups=Lookups(fails))
    await call.run()
    assert call.routing.queued_in() == ["complaints"]
    assert "call c1: lookup client raised" in caplog.text
    assert call.store.record["ivr_path"] == ["main:find", "main:unknown"]


async def test_a_lookup_that_answers_takes_the_ok_branch_with_the_request_of_the_flow():
    asked: list[LookupRequest] = []

    def found(request: LookupRequest) -> LookupResult:
        asked.append(request)
        return LookupResult(LookupStatus.OK, {"tier": "gold"})

    call = Call(LOOKUP, lookups=Lookups(found))
    await call.run()
    assert call.routing.queued_in() == ["support"]
    assert asked[0].url == f"http://crm.test/customers/{CALLER}"


SCHEDULE = """
nodes:
  hours: {type: schedule, schedule: support, open: open, closed: closed}
  open: {type: queue, queue: support}
  closed: {type: hangup, prompt: {text: 下班了}}
"""


async def test_a_schedule_that_fails_is_taken_as_open(caplog: pytest.LogCaptureFixture):
    call = Call(SCHEDULE, schedules=Schedules(fails))
    await call.run()
    assert call.routing.queued_in() == ["support"]
    assert call.store.record["schedule_state"] == "open"
    assert "schedule 'support' failed; treating as open" in caplog.text


async def test_a_schedule_is_asked_at_the_clocks_time_and_its_answer_kept_in_the_record():
    asked: list[tuple[str, float]] = []

    def closed(name: str, now: float) -> ScheduleDecision:
        asked.append((name, now))
        return ScheduleDecision("closed")

    call = Call(SCHEDULE, schedules=Schedules(closed))
    await call.run()
    assert asked == [("support", T0)]
    assert call.caller.heard == ["tts:zh:下班了"] and call.caller.hung_up
    assert call.store.record["schedule_state"] == "closed"
    assert call.store.record["outcome"] == "ivr-hangup"


WELCOME = """
nodes:
  welcome: {type: play, prompt: {text: 欢迎}, next: queue}
  queue: {type: queue, queue: support}
"""


async def test_an_announcement_that_cannot_be_read_is_skipped(caplog: pytest.LogCaptureFixture):
    call = Call(WELCOME, announcement=announcement_away)
    await call.run()
    assert call.caller.heard == ["tts:zh:欢迎"]
    assert call.routing.queued_in() == ["support"]
    assert "call c1: cannot read the announcement" in caplog.text


async def test_the_announcement_when_on_is_heard_before_the_flow():
    async def on() -> tuple[Playable, ...]:
        return (Speech("系统维护通知", "zh"),)

    call = Call(WELCOME, announcement=on)
    await call.run()
    assert call.caller.heard == ["tts:zh:系统维护通知", "tts:zh:欢迎"]


async def test_a_prompt_with_no_file_to_play_is_skipped_and_the_flow_goes_on():
    call = Call(textwrap.dedent("""
        nodes:
          missing: {type: play, prompt: never_recorded, next: menu}
          menu:
            type: menu
            prompt: {text: 请选择}
            choices: {1: queue}
            exhausted: queue
          queue: {type: queue, queue: support}
    """), Caller(["1"]))
    await call.run()
    assert call.caller.heard == ["tts:zh:请选择"]
    assert call.store.record["ivr_path"] == ["main:missing", "main:menu", "main:queue"]


# -- the caller, the record -------------------------------------------------------------------

ORDER = """
start: welcome
nodes:
  welcome: {type: play, prompt: {text: 欢迎}, next: menu}
  menu:
    type: menu
    prompt: {text: 请选择}
    choices: {2: order}
    exhausted: order
  order:
    type: collect
    variable: order
    max_length: 8
    prompt: {text: 请输入订单号}
    next: queue
    exhausted: queue
  queue: {type: queue, queue: support}
"""


async def test_a_caller_who_hangs_up_in_the_ivr_leaves_the_path_walked_so_far_in_the_record():
    call = Call(ORDER, Caller(["2", "hangup"]))
    await call.run()
    record = call.store.record
    assert record["outcome"] == "caller-left-ivr" and record["hung_up_by"] == "caller"
    assert record["ivr_path"] == ["main:welcome", "main:menu", "main:order"]
    assert not call.caller.hung_up and call.routing.events == []


ENDINGS = """
start: menu
nodes:
  menu:
    type: menu
    prompt: {text: 请选择}
    choices: {1: duty, 2: mailbox, 3: bye, 4: loop}
    exhausted: bye
  duty: {type: transfer, to: "8100", failed: mailbox}
  mailbox: {type: voicemail, mailbox: 8000@default}
  bye: {type: hangup}
  loop: {type: goto, flow: main, node: again}
  again: {type: play, prompt: {text: 一}, next: loop}
"""


@pytest.mark.parametrize(("key", "answers", "outcome", "ran"), [
    ("1", True, {"outcome": "transferred", "transfer": "8100"},
     [("put through", "8100", "acd-transfer", 30)]),
    ("1", False, {"outcome": "voicemail"},
     [("put through", "8100", "acd-transfer", 30), ("voicemail", "8000@default", "u")]),
    ("2", False, {"outcome": "voicemail"}, [("voicemail", "8000@default", "u")]),
    ("3", False, {"outcome": "ivr-hangup"}, []),
    ("4", False, {"outcome": "ivr-hangup"}, []),  # the step guard stops a loop
])
async def test_a_flow_that_ends_the_call_hangs_the_caller_up_and_the_record_says_why(
    key: str, answers: bool, outcome: dict[str, str], ran: list[tuple[Any, ...]]
):
    call = Call(ENDINGS, Caller([key], answers=answers))
    await call.run()
    assert call.caller.ran == ran
    assert call.caller.hung_up
    record = call.store.record
    assert {k: record[k] for k in outcome} == outcome
    assert record["hung_up_by"] == "system" and call.routing.events == []


SENSITIVE = """
nodes:
  ask:
    type: collect
    variable: card
    sensitive: true
    max_length: 8
    prompt: {text: 请输入卡号}
    next: copy
    exhausted: queue
  copy: {type: set, values: {last: "${card}"}, next: find}
  find:
    type: lookup
    url: http://crm.test/customers/${caller}/cards/${last}
    ok: queue
    error: queue
  queue: {type: queue, queue: support}
"""


@pytest.fixture
def masked_log() -> Iterable[None]:
    set_log_full_numbers(False)
    yield
    set_log_full_numbers(False)


async def test_the_record_keeps_what_a_sensitive_collect_took_and_names_it_sensitive():
    call = Call(SENSITIVE, Caller(["9753"]), lookups=Lookups(fails))
    await call.run()
    record = call.store.record
    assert record["variables"]["last"] == "9753"  # kept; views mask it
    assert set(record["sensitive_variables"]) == {"caller", "card", "last"}


async def test_the_log_of_an_ivr_call_never_shows_the_callers_number_or_sensitive_digits(
    masked_log: None, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG, logger="acd")
    call = Call(SENSITIVE, Caller(["9753"]), lookups=Lookups(fails))
    await call.run()
    logged = caplog.text
    assert mask_number(CALLER) in logged  # the IVR's first line: masked, not left out
    assert CALLER not in logged and "9753" not in logged


async def test_a_caller_who_hangs_up_while_a_transfer_rings_left_in_the_ivr():
    call = Call(ENDINGS, Caller(["1"], leaves_while_put_through=True))
    await call.run()
    record = call.store.record
    assert (record["outcome"], record["hung_up_by"]) == ("caller-left-ivr", "caller")
    assert call.caller.ran == [("put through", "8100", "acd-transfer", 30)]  # no voicemail
    assert not call.caller.hung_up
