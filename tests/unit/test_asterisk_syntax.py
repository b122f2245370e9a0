"""Nothing acd sends to Asterisk can be re-shaped by the values in it.

Every builder of AGI commands, Dial arguments and AMI actions gets arbitrary text
(hypothesis); each result is either refused (UnsafeValue) or is one line whose
structure, read back the way Asterisk reads it, is exactly what acd meant.
"""

from __future__ import annotations

import string
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.adapters.asterisk.syntax import (
    CHANNEL,
    DEVICE,
    UnsafeValue,
    agi_command,
    agi_url,
    ami_action,
    app_arguments,
    dial_arguments,
    exec_command,
    hangup_action,
    spy_action,
)
from acd.rules.numbers import dialable

# Text with the characters that matter here over-represented.
DANGEROUS = "\r\n\0,|&()\"\\$:{}[];' #*+-=@\t"
text = st.text(alphabet=st.one_of(st.sampled_from(DANGEROUS), st.characters()), max_size=40)
LINE_BREAKS = ("\r", "\n", "\0")

# Values shaped like the ones acd sends (often valid), some with arbitrary text after
# them, or arbitrary text. A builder that takes only device or channel names refuses
# almost any random text: fed `text` alone, its property would hold without one
# example ever being built.
TECHS = st.sampled_from(["PJSIP", "SIP", "IAX2", "DAHDI", "Local", "Console", "pjsip"])
NAME = st.text(alphabet=string.ascii_letters + string.digits + "_.+*#-", min_size=1,
               max_size=24)
tail = st.one_of(st.just(""), text)
device_text = st.one_of(
    st.builds("{}/{}{}{}".format, TECHS, NAME,
              st.sampled_from(["", "@acd-transfer", "@customers"]), tail),
    text)
channel_text = st.one_of(
    st.builds("{}/{}-{:08x}{}{}".format, TECHS, NAME, st.integers(0, 2**32 - 1),
              st.sampled_from(["", ";1", ";2"]), tail),
    text)
number_text = st.one_of(st.text(alphabet="0123456789*#+ -()", min_size=1, max_size=30),
                        text)


def agi_words(line: str) -> list[str]:
    """res_agi's parse_args: words split on spaces, "..." grouping, \\ escaping."""
    words: list[str] = []
    current, quoted, escaped, started = [], False, False, False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted, started = not quoted, True
        elif char == " " and not quoted:
            if current or started:
                words.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
    if current or started:
        words.append("".join(current))
    return words


def one_line(command: str) -> bool:
    return not any(c in command for c in LINE_BREAKS)


@settings(max_examples=300)
@given(text, text)
def test_a_newline_in_any_value_never_reaches_an_agi_command(path, escape):
    try:
        command = agi_command("STREAM FILE", path, escape)
    except UnsafeValue:
        assert any(c in path + escape for c in LINE_BREAKS) or not (path + escape).isascii()
        return
    assert one_line(command)
    assert agi_words(command) == ["STREAM", "FILE", path, escape]


@settings(max_examples=300)
@given(st.lists(text, min_size=1, max_size=4))
def test_an_application_gets_exactly_the_arguments_acd_gave_it(args):
    try:
        command = exec_command("VoiceMail", args)
    except UnsafeValue:
        return
    assert one_line(command)
    verb, app, joined = agi_words(command)
    assert (verb, app) == ("EXEC", "VoiceMail")
    assert joined.split(",") == args
    assert not any(c in joined for c in "|&()$\"\\")


@settings(max_examples=300)
@given(st.lists(device_text, min_size=1, max_size=3), st.integers(min_value=1, max_value=600),
       st.tuples(st.one_of(st.none(), text), st.one_of(st.none(), text)))
def test_a_dial_rings_exactly_the_devices_acd_chose(devices, timeout, announce):
    try:
        args = dial_arguments(devices, timeout, "gm", announce)
        command = exec_command("Dial", args)
    except UnsafeValue:
        return
    assert one_line(command)
    _, _, joined = agi_words(command)
    rung, seconds, options = joined.split(",")
    assert rung.split("&") == devices
    assert int(seconds) == timeout
    assert options.startswith("gm")
    if any(announce):
        assert options == f"gmA({announce[0] or ''}:{announce[1] or ''})"


@pytest.mark.parametrize("device", [
    "PJSIP/agent1001&PJSIP/agent1002", "PJSIP/agent1001,1,D(1)", "PJSIP/x\nEXEC System",
    "PJSIP/x\"", "PJSIP/${SHELL(id)}", "Local/1@ctx,1,U(evil)", "PJSIP/agent1001 ", "",
])
def test_a_device_with_a_separator_is_refused(device):
    with pytest.raises(UnsafeValue):
        dial_arguments([device], 15)


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(["Channel", "CallerID", "Data", "Variable"]), text,
                       min_size=1))
def test_an_ami_header_never_carries_a_line_break(headers):
    try:
        action = ami_action("Originate", headers)
    except UnsafeValue:
        assert any(c in v for v in headers.values() for c in LINE_BREAKS) or \
            any(not v.isascii() for v in headers.values())  # a lone surrogate
        return
    assert action == {"Action": "Originate", **headers}
    assert all(one_line(v) for v in action.values())


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(["call_id", "agent", "device", "timeout"]), text))
def test_a_fastagi_address_keeps_its_parameters(params):
    try:
        url = agi_url("agi://127.0.0.1:4573", "callback", params)
    except UnsafeValue:  # only text that is not UTF-8 (a lone surrogate)
        assert any(not v.isascii() for v in params.values())
        return
    assert one_line(url)
    assert not any(c in url for c in ",|()$\"\\ ")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("agi", "127.0.0.1:4573", "/callback")
    assert dict(parse_qsl(parts.query, keep_blank_values=True)) == params


@settings(max_examples=200)
@given(device_text, channel_text, st.sampled_from(["listen", "whisper", "barge"]))
def test_a_spy_rings_one_phone_into_chanspy_on_one_channel(device, channel, mode):
    try:
        action = spy_action(device, channel, mode, "1700000000.1")
    except UnsafeValue:  # only for what is not a phone or not a channel
        assert not DEVICE.fullmatch(device) or not CHANNEL.fullmatch(channel)
        return
    assert action["Channel"] == device and action["Application"] == "ChanSpy"
    target, options = action["Data"].split(",")
    assert target == channel and options in ("qE", "qwE", "qBE")
    assert all(one_line(v) for v in action.values())


@settings(max_examples=200)
@given(channel_text)
def test_a_hangup_names_one_channel(channel):
    try:
        action = hangup_action(channel)
    except UnsafeValue:  # only for what is not a channel name
        assert not CHANNEL.fullmatch(channel)
        return
    assert action == {"Action": "Hangup", "Channel": channel}
    assert one_line(channel) and "," not in channel and "&" not in channel


@settings(max_examples=300)
@given(number_text)
def test_a_number_to_dial_is_ascii_digits_of_bounded_length(raw):
    try:
        number = dialable(raw, keys=True)
    except ValueError:
        return
    assert number and len(number) <= 24
    assert set(number) <= set("0123456789*#")


def test_unicode_digits_are_not_digits():
    for raw in ("١٣٨٠٠١٣٨٠٠٠", "１３８００１３８０００", "13800१38000"):
        with pytest.raises(ValueError):
            dialable(raw)


def test_international_forms_are_normalised_once():
    assert dialable("+86 138 0013 8000") == "13800138000"
    assert dialable("008613800138000") == "13800138000"
    assert dialable("8100") == "8100"
    assert dialable("*71", keys=True) == "*71"
    with pytest.raises(ValueError):
        dialable("*71")


def test_app_arguments_refuse_substitution_and_separators():
    for bad in ("${SHELL(rm -rf /)}", "$[1+1]", "a,b", "a|b", "a&b", "f(x)", 'a"b', "a\\b"):
        with pytest.raises(UnsafeValue):
            app_arguments([bad])
    assert app_arguments(["8000@default", "u", 30]) == "8000@default,u,30"
