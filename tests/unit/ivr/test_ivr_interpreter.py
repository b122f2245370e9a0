"""The pure interpreter, one action at a time, with no event loop at all."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.ivr.actions import (
    AnnouncementFetched,
    CallerHangup,
    FetchAnnouncement,
    FetchLookup,
    Finish,
    Hangup,
    LookupAnswered,
    Play,
    Pressed,
    QueueHandoff,
    ReadDigits,
)
from acd.ivr.interpreter import ALL_KEYS, Interpreter
from acd.ivr.lookup import LookupResult, LookupStatus
from acd.ivr.model import NodeId
from acd.media.playables import Recording, Speech

from .fakes import flows_from, support


def test_steps_of_a_call_that_picks_sales():
    interp = Interpreter(support(), NodeId("main", "welcome"), {"caller": "138"})
    assert interp.start() == FetchAnnouncement()
    assert interp.send(AnnouncementFetched(())) == Play((Speech("欢迎", "zh"),), ALL_KEYS)
    action = interp.send(Pressed(""))
    assert action == ReadDigits((Speech("请选择", "zh"),), 5.0, 1, "#")
    assert interp.send(Pressed("1")) == Finish(
        QueueHandoff("support", 3, ("hardware",), {"caller": "138", "lang": "zh"}))
    assert interp.path == ["main:welcome", "main:menu", "main:sales"]
    with pytest.raises(RuntimeError):
        interp.send(Pressed("1"))


def test_a_digit_typed_during_the_welcome_is_the_menu_choice():
    interp = Interpreter(support(), NodeId("main", "welcome"), {})
    interp.start()
    interp.send(AnnouncementFetched(()))
    action = interp.send(Pressed("2"))  # pressed during the welcome: no menu prompt
    assert action == ReadDigits((Speech("请输入订单号", "zh"),), 5.0, 8, "#")
    assert interp.path == ["main:welcome", "main:menu", "main:order"]


def test_typed_ahead_digits_carry_into_a_collect():
    flows = flows_from({"main": """
        nodes:
          hello: {type: play, interruptible: true, prompt: {text: 你好}, next: ask}
          ask:
            type: collect
            variable: pin
            max_length: 4
            prompt: {text: 请输入}
            next: done
            exhausted: done
          done: {type: hangup}
    """})
    interp = Interpreter(flows, NodeId("main", "hello"), {})
    interp.start()
    interp.send(AnnouncementFetched(()))
    assert interp.send(Pressed("1")) == ReadDigits((), 5.0, 3, "#")
    assert interp.send(Pressed("234")) == Finish(Hangup("flow"))
    assert interp.variables["pin"] == "1234"


def test_lookup_url_values_are_escaped():
    interp = Interpreter(support(), NodeId("main", "lookup"), {"order": "1/../admin?x"})
    interp.start()
    action = interp.send(AnnouncementFetched(()))
    assert isinstance(action, FetchLookup)
    assert action.request.url == "http://orders.test/orders/1%2F%2E%2E%2Fadmin%3Fx"
    action = interp.send(LookupAnswered(LookupResult(LookupStatus.NOT_FOUND)))
    assert action == Play((Speech("没有找到", "zh"),), "")


def test_a_reply_of_the_wrong_kind_is_refused():
    interp = Interpreter(support(), NodeId("main", "lookup"), {})
    interp.start()
    interp.send(AnnouncementFetched(()))
    with pytest.raises(TypeError):
        interp.send(Pressed("1"))


def test_say_reads_digits_from_recordings_with_spoken_fallback():
    interp = Interpreter(support(), NodeId("main", "say"), {"order": "42", "status": "ok"})
    interp.start()
    action = interp.send(AnnouncementFetched(()))
    assert action == Play((Recording("digits/4", "zh", Speech("4", "zh")),
                           Recording("digits/2", "zh", Speech("2", "zh")),
                           Speech("状态 ok", "zh")), "")


OUTCOMES = (QueueHandoff, Hangup, CallerHangup)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["", "1", "2", "0", "9", "#", "*"]),
                          st.text(alphabet="0123456789*#", max_size=10)), max_size=12),
       st.sampled_from(list(LookupStatus)))
def test_any_caller_input_ends_the_flow_on_an_existing_path(presses, lookup_status):
    flows = support()
    interp = Interpreter(flows, NodeId("main", "welcome"), {}, max_steps=100)
    action = interp.start()
    presses = list(presses)
    while not isinstance(action, Finish):
        if isinstance(action, FetchAnnouncement):
            action = interp.send(AnnouncementFetched(()))
        elif isinstance(action, FetchLookup):
            action = interp.send(LookupAnswered(LookupResult(lookup_status, {"status": "x"})))
        else:
            assert isinstance(action, Play | ReadDigits)
            action = interp.send(Pressed(presses.pop(0) if presses and isinstance(
                action, ReadDigits) else ""))
    assert isinstance(action.outcome, OUTCOMES)
    assert all(NodeId(*step.split(":")) in flows for step in interp.path)
    assert len(interp.path) <= 10  # this flow has no loops: every call ends quickly
