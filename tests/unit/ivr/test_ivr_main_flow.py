"""The shipped ivr_flows/main.yaml: validates clean and routes the 400 line as intended."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acd.adapters.flows import FlowRegistry
from acd.ivr import FlowSet, Hangup, QueueHandoff, Transferred, Voicemail
from acd.ivr.actions import PutThrough
from acd.ivr.flowset import speech_to_prepare
from acd.ivr.lookup import LookupRequest, LookupResult, LookupStatus
from acd.ivr.model import FilePrompt, NodeId
from acd.ivr.timing import slowest_way_to_queue
from acd.media.durations import PromptDurations
from acd.media.prompts import PromptLibrary

from .fakes import FakeLookups, FakeSchedules
from .walk import Interrupt, Walk, walk

ROOT = Path(__file__).resolve().parents[3]
QUEUES = {"support", "complaints", "vip"}


@pytest.fixture(scope="module")
def main_flows(tmp_path_factory: pytest.TempPathFactory) -> FlowSet:
    library = PromptLibrary(ROOT / "prompts", tmp_path_factory.mktemp("cache"))
    registry = FlowRegistry(ROOT / "ivr_flows", QUEUES, FakeSchedules(), library)
    assert registry.check() == []
    return registry.load()


class Lookups(FakeLookups):
    """Not a VIP (404 for customers); orders answered with `order_status`."""

    def __init__(self, tier: str | None = None, order_status: str | None = "shipped") -> None:
        super().__init__()
        self.tier = tier
        self.order_status = order_status

    def answer(self, request: LookupRequest) -> LookupResult:
        self.requests.append(request)
        if "/customers/" in request.url:
            if self.tier is None:
                return LookupResult(LookupStatus.NOT_FOUND)
            return LookupResult(LookupStatus.OK, {"tier": self.tier})
        if self.order_status is None:
            return LookupResult(LookupStatus.NOT_FOUND)
        return LookupResult(LookupStatus.OK, {"status": self.order_status})


def call(flows: FlowSet, script: list[Any], state: str = "open",
         lookups: FakeLookups | None = None, **kw: Any) -> Walk:
    return walk(flows, script, schedules=FakeSchedules(state), lookups=lookups or Lookups(),
                **kw)


def test_main_flow_uses_only_the_known_queues_and_schedule(main_flows: FlowSet):
    nodes = main_flows.flows["main"].nodes.values()
    assert {getattr(n, "queue", None) for n in nodes} - {None} == QUEUES
    assert {getattr(n, "schedule", None) for n in nodes} - {None} == {"support"}


def test_hardware_problem_goes_to_support_with_the_hardware_skill(main_flows: FlowSet):
    result = call(main_flows, ["1", "1"])
    assert result.outcome == QueueHandoff("support", 0, ("hardware",), result.variables)


def test_caller_who_knows_the_menu_can_press_during_the_welcome(main_flows: FlowSet):
    result = call(main_flows, [Interrupt("3")])
    assert result.outcome == QueueHandoff("complaints", 5, (), result.variables)


def test_vip_callers_skip_the_menus(main_flows: FlowSet):
    result = call(main_flows, [], lookups=Lookups(tier="vip"))
    assert result.outcome == QueueHandoff("vip", 10, (), result.variables)


def test_order_status_is_looked_up_and_read_out(main_flows: FlowSet):
    lookups = Lookups()
    result = call(main_flows, ["2", "20240501", "", ""], lookups=lookups)
    assert lookups.requests[-1].url == "http://127.0.0.1:8080/api/demo/orders/20240501"
    assert "tts:zh:当前状态：已发货。" in result.played()
    assert result.outcome == Hangup("flow")
    assert result.path[-1] == "main:goodbye"


def test_unknown_order_is_asked_again(main_flows: FlowSet):
    result = call(main_flows, ["2", "123456", "0"] + ["", "", ""],
                  lookups=Lookups(order_status=None))
    assert result.path.count("main:ask_order") == 2
    assert result.path[-1] == "main:operator"


def test_silence_at_the_main_menu_gets_one_short_retry_then_an_operator(main_flows: FlowSet):
    result = call(main_flows, ["", ""])
    assert result.path[-3:] == ["main:main_menu", "main:menu_again", "main:operator"]
    assert result.outcome == QueueHandoff("support", 0, (), result.variables)


def test_a_wrong_key_gets_one_more_chance_where_every_choice_still_works(main_flows: FlowSet):
    result = call(main_flows, ["5", "1", "1"])
    assert result.path[-4:] == ["main:main_menu", "main:menu_again", "main:product_menu",
                                "main:hardware_queue"]


def test_star_at_the_retry_hears_the_whole_menu_again(main_flows: FlowSet):
    result = call(main_flows, ["", "*", "0"])
    assert result.path[-4:] == ["main:main_menu", "main:menu_again", "main:main_menu",
                                "main:operator"]


def test_the_operator_is_offered_first_in_both_languages(main_flows: FlowSet):
    [prompt] = main_flows.flows["main"].nodes["main_menu"].prompts()
    assert isinstance(prompt, FilePrompt) and prompt.texts is not None
    texts = {lang: text.raw for lang, text in prompt.texts.items()}
    assert texts["zh"].startswith("人工服务请按0")
    assert texts["en"].startswith("For an operator, press 0")


async def test_a_caller_who_presses_nothing_reaches_a_queue_within_45_seconds(
        main_flows: FlowSet, tmp_path: Path):
    library = PromptLibrary(ROOT / "prompts", tmp_path)
    await library.prepare_all(speech_to_prepare(main_flows, library))  # espeak-ng's speech
    for lang in ("zh", "en"):
        way = slowest_way_to_queue(main_flows, NodeId("main", "announcement"), lang,
                                   PromptDurations(library))
        assert way is not None and way.estimated == 0  # measured, not guessed
        assert way.queue == NodeId("main", "operator")
        assert way.seconds < 45, way.describe()


def test_9_switches_to_english(main_flows: FlowSet):
    result = call(main_flows, ["9", "0"])
    assert result.played()[-2].startswith("tts:en:For an operator, press 0")


def test_after_hours_callers_can_leave_a_message(main_flows: FlowSet):
    result = call(main_flows, ["1"], state="closed")
    assert result.outcome == Voicemail("8000@default")


def test_holiday_urgent_fault_reaches_the_engineer_on_duty(main_flows: FlowSet):
    result = call(main_flows, ["2"], state="holiday", answered=True)
    assert result.connections() == [PutThrough("8100", "acd-transfer", 30, "8100")]
    assert result.outcome == Transferred("8100", answered=True)


async def test_every_text_of_main_flow_is_synthesised_ahead(main_flows: FlowSet, tmp_path: Path):
    library = PromptLibrary(ROOT / "prompts", tmp_path)
    speeches = speech_to_prepare(main_flows, library)
    assert {s.lang for s in speeches} == {"zh", "en"}
    assert await library.prepare_all(speeches) == len(speeches) > 40
    assert all(library.is_cached(s) for s in speeches)
    assert speech_to_prepare(main_flows, library) == speeches  # recordings would remove them
