"""The routing core's events, commands and errors survive the wire between acd
processes unchanged: every type, any field values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.cluster.codec import COMMAND_TYPES, EVENT_TYPES, CodecError, routing_codec
from acd.core import commands as cmd
from acd.core import errors as core_errors
from acd.core import events as ev
from acd.core.model import AgentState, OverflowMode

CODEC = routing_codec()
ANY_MESSAGE = st.one_of(*(st.builds(kind) for kind in (*EVENT_TYPES, *COMMAND_TYPES)))


@given(ANY_MESSAGE)
def test_every_event_and_command_comes_back_as_it_left(value: object) -> None:
    decoded = CODEC.decode(CODEC.encode(value))
    assert type(decoded) is type(value)
    assert CODEC.encode(decoded) == CODEC.encode(value)
    if "NaN" not in CODEC.encode(value):  # (a NaN is unequal to itself, wire or not)
        assert decoded == value


def test_every_event_and_command_type_is_registered() -> None:
    # (14: CallOverflowed and AgentServingChanged)
    assert len(EVENT_TYPES) == 23 and len(COMMAND_TYPES) == 14
    for kind in (*EVENT_TYPES, *COMMAND_TYPES):
        assert CODEC._type(kind.__name__) is kind


def test_nested_targets_sets_and_enums_keep_their_types() -> None:
    ring = cmd.RingAgents("c1", "sales", (cmd.RingTarget("1001", "PJSIP/1001"),), 15.0)
    queued = ev.CallQueued("c1", "sales", "13800000000", 2, frozenset({"en", "vip"}))
    changed = cmd.AgentStateChanged("1001", AgentState.WRAP_UP, "", 12.5)
    moved = cmd.CallOverflowed("c1", "sales", "backup", OverflowMode.MOVE)
    for value in (ring, queued, changed, moved):
        assert CODEC.decode(CODEC.encode(value)) == value
    assert CODEC.decode(CODEC.encode(changed)).state is AgentState.WRAP_UP
    assert CODEC.decode(CODEC.encode(moved)).mode is OverflowMode.MOVE


def test_a_refusal_reaches_the_follower_as_the_same_error_with_its_message() -> None:
    for exc in (core_errors.UnknownAgent("9999"), core_errors.UnknownQueue("nope"),
                core_errors.IllegalTransition("1001", "on-call", "logged-out", "call ends"),
                core_errors.CallbackNotPossible("c1", "not waiting")):
        back = CODEC.decode_error(CODEC.encode_error(exc))
        assert type(back) is type(exc)
        assert str(back) == str(exc)
        assert vars(back) == vars(exc)


def test_an_error_this_acd_does_not_know_is_still_a_routing_refusal() -> None:
    back = CODEC.decode_error({"type": "SomethingNew", "message": "refused"})
    assert isinstance(back, core_errors.RoutingError) and str(back) == "refused"


def test_a_message_of_an_unknown_type_is_refused_clearly() -> None:
    with pytest.raises(CodecError, match="unknown type 'Nope'"):
        CODEC.decode('{"$t": "Nope"}')
    with pytest.raises(CodecError, match="not a routing message"):
        CODEC.decode("{not json")
