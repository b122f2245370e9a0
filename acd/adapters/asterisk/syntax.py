"""The one place where values become Asterisk syntax: AGI commands, application
arguments, Dial strings and AMI actions.

Every value acd sends to Asterisk passes through `checked()`, which refuses what
would change the meaning of the text around it:

- everywhere: CR, LF and NUL. An AGI command and an AMI header end at a line
  break; a newline inside a value would end it early and start a second,
  arbitrary command (`EXEC System ...`) or header.
- in a dialplan application's argument: the separators `,` and `|` (next
  argument), `&` (another Dial destination, another Playback file), `(` and `)`
  (an option's argument), `:` inside an option's argument, `"` and `\\`
  (Asterisk's own quoting) and `$`. AGI's EXEC passes arguments on without
  substitution (checked on Asterisk 22: `EXEC Set "X=${EPOCH}"` stores the literal
  text), but a value that travels on into the dialplan (a Local channel's
  extension, a variable a context reads) is substituted there, and functions such
  as SHELL() run on substitution.

A refused value raises UnsafeValue; nothing is escaped into a different meaning.
The builders below only put checked values into fixed shapes, so the structure
of what reaches Asterisk is decided by acd's code, never by its data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum


class UnsafeValue(ValueError):
    """A value that would change the meaning of what Asterisk is asked to do."""


class Slot(Enum):
    """Where a value is placed, which decides what it may contain."""

    AGI_ARGUMENT = "an AGI command argument"
    APP_ARGUMENT = "a dialplan application argument"
    OPTION_ARGUMENT = "the argument of a Dial option"
    AGI_URL = "a FastAGI address"
    COMPOSED_ARGUMENT = "an application argument built by acd"
    AMI_HEADER = "an AMI header value"


_LINE_BREAKERS = "\r\n\0"
_FORBIDDEN: dict[Slot, str] = {
    Slot.AGI_ARGUMENT: _LINE_BREAKERS,
    Slot.AMI_HEADER: _LINE_BREAKERS,
    Slot.APP_ARGUMENT: _LINE_BREAKERS + ",|&()\"\\$",
    Slot.OPTION_ARGUMENT: _LINE_BREAKERS + ",|&()\"\\$:",
    # '&' separates the query's parameters and means nothing to AGI(); values are
    # percent-encoded by agi_url(), so only acd's own separators remain
    Slot.AGI_URL: _LINE_BREAKERS + ",|()\"\\$ ",
    Slot.COMPOSED_ARGUMENT: _LINE_BREAKERS + ",|\"\\$",
}
#: an AGI verb or an application name: written by acd's code, checked all the same
_WORDS = re.compile(r"[A-Z][A-Z ]*[A-Z]|[A-Z]")
_APP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_AMI_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
#: a channel technology and resource: PJSIP/agent1001, Local/8100@acd-transfer,
#: PJSIP/13800138000@customers
DEVICE = re.compile(r"(?:PJSIP|SIP|IAX2|DAHDI|Local)/[A-Za-z0-9_.+*#-]{1,80}"
                    r"(?:@[A-Za-z0-9_.-]{1,80})?")
#: a live channel's name: the device plus Asterisk's suffix (PJSIP/agent1001-0000000a,
#: Local/8100@acd-transfer-00000001;1)
CHANNEL = re.compile(r"(?:PJSIP|SIP|IAX2|DAHDI|Local)/[A-Za-z0-9_.+*#@-]{1,120}(?:;[12])?")


class Bare(str):
    """A word written without quotes in an AGI command: a variable or class name, a
    number of keys. Only letters, digits, '_', '*' and '#' (checked when written)."""

    __slots__ = ()


class Composed(str):
    """An argument a builder here composed from checked values (a Dial device list with
    '&', options with A(...)): its structure is acd's, so it is not checked again for
    the characters that make that structure."""

    __slots__ = ()


def checked(value: str, slot: Slot) -> str:
    """`value` unchanged if it is safe in `slot`; UnsafeValue otherwise."""
    if not isinstance(value, str):
        raise UnsafeValue(f"{slot.value} must be text, not {type(value).__name__}")
    bad = next((c for c in value if c in _FORBIDDEN[slot]), None)
    if bad is not None:
        raise UnsafeValue(f"{slot.value} may not contain {bad!r}: {value[:40]!r}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not text Asterisk could read
            raise UnsafeValue(f"{slot.value} is not valid UTF-8: {value[:40]!r}") from None
    return value


def device(value: str) -> str:
    """A device to dial (PJSIP/agent1001); UnsafeValue for anything else."""
    if not DEVICE.fullmatch(checked(value, Slot.APP_ARGUMENT)):
        raise UnsafeValue(f"{value[:40]!r} is not a device such as PJSIP/agent1001")
    return value


def channel_name(value: str) -> str:
    """A live channel's name (PJSIP/agent1001-0000000a); UnsafeValue otherwise."""
    if not CHANNEL.fullmatch(checked(value, Slot.APP_ARGUMENT)):
        raise UnsafeValue(f"{value[:40]!r} is not a channel name")
    return value


# -- AGI -------------------------------------------------------------------------------


def agi_command(verb: str, *args: str | int) -> str:
    """One AGI command line (without the newline): `VERB "arg" "arg"`.

    Integers are written bare; text is double-quoted with `"` and `\\` escaped,
    which res_agi's argument parser undoes, so a space or quote in a prompt's path
    stays inside its argument.
    """
    if not _WORDS.fullmatch(verb):
        raise UnsafeValue(f"{verb!r} is not an AGI command")
    parts = [verb]
    for arg in args:
        if isinstance(arg, bool) or not isinstance(arg, int | str):
            raise UnsafeValue(f"an AGI argument is text or a whole number, not {arg!r}")
        if isinstance(arg, Bare):
            if not re.fullmatch(r"[A-Za-z0-9_*#]{1,64}", arg):
                raise UnsafeValue(f"{arg[:40]!r} cannot be written bare in an AGI command")
            parts.append(str(arg))
        else:
            parts.append(str(arg) if isinstance(arg, int) else _quoted(arg))
    return " ".join(parts)


def _quoted(text: str) -> str:
    text = checked(text, Slot.AGI_ARGUMENT)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def exec_command(app: str, args: Sequence[str | int]) -> str:
    """`EXEC App "arg1,arg2"`: the application's arguments joined by acd, each checked."""
    if not _APP_NAME.fullmatch(app):
        raise UnsafeValue(f"{app!r} is not a dialplan application name")
    return f"EXEC {app} {_quoted(app_arguments(args))}"


def app_arguments(args: Iterable[str | int]) -> str:
    """Arguments of a dialplan application, joined by ','; each one checked."""
    return ",".join(_app_argument(a) for a in args)


def _app_argument(arg: str | int) -> str:
    if isinstance(arg, bool):
        raise UnsafeValue(f"an application argument is text or a number, not {arg!r}")
    if isinstance(arg, int):
        return str(arg)
    if isinstance(arg, Composed):
        return checked(arg, Slot.COMPOSED_ARGUMENT)  # still one argument
    return checked(arg, Slot.APP_ARGUMENT)


def agi_url(base: str, route: str, params: Mapping[str, str] | None = None) -> str:
    """agi://host:port/route?name=value&...: the values percent-encoded."""
    from urllib.parse import urlencode

    if not re.fullmatch(r"agi://[A-Za-z0-9_.:\[\]-]+", base.rstrip("/")):
        raise UnsafeValue(f"{base!r} is not a FastAGI address such as agi://127.0.0.1:4573")
    if not re.fullmatch(r"[a-z][a-z-]{0,40}", route):
        raise UnsafeValue(f"{route!r} is not one of acd's FastAGI routes")
    url = f"{base.rstrip('/')}/{route}"
    if params:
        try:
            url += "?" + urlencode(dict(params))
        except UnicodeEncodeError:
            raise UnsafeValue("a FastAGI parameter is not valid UTF-8") from None
    return checked(url, Slot.AGI_URL)


# -- Dial --------------------------------------------------------------------------------


#: Dial's handlers on an agent's leg: before it rings, the agent's in-call features
#: (features.conf); once it answered and the 报工号 is over, the bridge's time noted on
#: the caller's channel (ACD_BRIDGED_AT: asterisk/extensions.conf)
AGENT_LEG_HANDLER = "b(acd-agent-leg^s^1)U(acd-agent-bridged^s^1)"


def dial_arguments(devices: Sequence[str], timeout: int, options: Sequence[str] = (),
                   announce: tuple[str | None, str | None] | None = None,
                   *, agent_leg: bool = False) -> list[str | int]:
    """Dial's arguments: devices joined by '&', the ring timeout, the options.

    `options` are single option letters ('g', 'm'); `announce` is A(x:y): x played
    to the agent, y to the caller, when the agent answers (file paths); `agent_leg`
    runs [acd-agent-leg] on each called channel (the agent's hold and consult keys).
    """
    if not devices:
        raise UnsafeValue("Dial needs at least one device")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
        raise UnsafeValue(f"a ring timeout is a positive whole number, not {timeout!r}")
    letters = "".join(options)
    if not re.fullmatch(r"[A-Za-z]*", letters):
        raise UnsafeValue(f"Dial options are letters, not {letters!r}")
    if announce is not None and any(announce):
        agent_file, caller_file = (checked(f or "", Slot.OPTION_ARGUMENT) for f in announce)
        letters += f"A({agent_file}:{caller_file})"
    if agent_leg:
        letters += AGENT_LEG_HANDLER
    arguments: list[str | int] = [Composed("&".join(device(d) for d in devices)), timeout]
    return [*arguments, Composed(letters)] if letters else arguments


# -- AMI ---------------------------------------------------------------------------------


def ami_action(name: str, headers: Mapping[str, str | int]) -> dict[str, str]:
    """An AMI action as panoramisk sends it: every header value checked."""
    if not _AMI_NAME.fullmatch(name):
        raise UnsafeValue(f"{name!r} is not an AMI action")
    action = {"Action": name}
    for key, value in headers.items():
        if not _AMI_NAME.fullmatch(key):
            raise UnsafeValue(f"{key!r} is not an AMI header name")
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        action[key] = checked(text, Slot.AMI_HEADER)  # type: ignore[arg-type]
    return action


def originate_application(channel: str, app: str, args: Sequence[str | int],
                          **headers: str | int) -> dict[str, str]:
    """Originate `channel` (a device) into dialplan application `app` with `args`."""
    if not _APP_NAME.fullmatch(app):
        raise UnsafeValue(f"{app!r} is not a dialplan application name")
    return ami_action("Originate", {"Channel": device(channel), "Application": app,
                                    "Data": app_arguments(args), **headers})


def originate_agi(channel: str, url: str, **headers: str | int) -> dict[str, str]:
    """Originate `channel` (a device) into FastAGI at `url` (made by agi_url())."""
    return ami_action("Originate", {"Channel": device(channel), "Application": "AGI",
                                    "Data": checked(url, Slot.AGI_URL), **headers})


#: ChanSpy's options per mode: q quiet (no beep, no name), E end when the spied-on
#: channel hangs up; w whisper to the spied-on channel only; B barge (both hear)
SPY_OPTIONS = {"listen": "qE", "whisper": "qwE", "barge": "qBE"}


def spy_action(spy_device: str, channel: str, mode: str, call_id: str) -> dict[str, str]:
    """Ring `spy_device` (the supervisor's phone) into ChanSpy on the agent's `channel`."""
    if mode not in SPY_OPTIONS:
        raise UnsafeValue(f"{mode!r} is not a spy mode ({', '.join(SPY_OPTIONS)})")
    return originate_application(spy_device, "ChanSpy",
                                 [channel_name(channel), SPY_OPTIONS[mode]],
                                 CallerID=f"{mode} {call_id}", Async="true")


def received_key_action(channel: str, key: str) -> dict[str, str]:
    """PlayDTMF with Receive: Asterisk takes `key` as if the channel's phone had pressed
    it (the bridge's feature keys see it); one key per action."""
    if not re.fullmatch(r"[0-9*#]", key):
        raise UnsafeValue(f"{key!r} is not one phone key")
    return ami_action("PlayDTMF", {"Channel": channel_name(channel), "Digit": key,
                                   "Receive": "true"})


def consult_action(channel: str, number: str) -> dict[str, str]:
    """Atxfer: the agent's `channel` consults `number` (features.conf's atxfer keys and
    the number, with # to end the number at once), in the agent's TRANSFER_CONTEXT."""
    if not re.fullmatch(r"[0-9*]{1,24}", number):
        raise UnsafeValue(f"{number!r} is not a number to consult")
    return ami_action("Atxfer", {"Channel": channel_name(channel), "Exten": f"{number}#"})


def hangup_action(channel: str) -> dict[str, str]:
    return ami_action("Hangup", {"Channel": channel_name(channel)})


# -- the native fallback queue and what the dialplan recorded without acd ------------------

def queue_member_add(queue: str, device_name: str, member_name: str,
                     paused: bool, penalty: int = 0, reason: str = "") -> dict[str, str]:
    """QueueAdd: `device_name` joins `queue` as member `member_name` (the agent id), with
    its penalty, paused or not (and why: Reason, since Asterisk 20's QueueAdd)."""
    headers: dict[str, str | int] = {"Queue": queue, "Interface": device(device_name),
                                     "MemberName": member_name,
                                     "Paused": "true" if paused else "false"}
    if penalty:
        headers["Penalty"] = max(0, penalty)
    if paused and reason:
        headers["Reason"] = reason
    return ami_action("QueueAdd", headers)


def queue_member_penalty(queue: str, device_name: str, penalty: int) -> dict[str, str]:
    """QueuePenalty: the member's penalty in `queue` (lower is rung first)."""
    return ami_action("QueuePenalty", {"Queue": queue, "Interface": device(device_name),
                                       "Penalty": max(0, penalty)})


def queue_member_pause(queue: str, device_name: str, paused: bool,
                       reason: str = "") -> dict[str, str]:
    headers: dict[str, str | int] = {"Queue": queue, "Interface": device(device_name),
                                     "Paused": "true" if paused else "false"}
    if reason:
        headers["Reason"] = reason
    return ami_action("QueuePause", headers)


def queue_member_remove(queue: str, device_name: str) -> dict[str, str]:
    return ami_action("QueueRemove", {"Queue": queue, "Interface": device(device_name)})


def queue_status(queue: str = "") -> dict[str, str]:
    """QueueStatus of one queue, or of every queue ('')."""
    return ami_action("QueueStatus", {"Queue": queue} if queue else {})


def global_variable(variable: str, value: str) -> dict[str, str]:
    """Setvar without a channel: a global of the dialplan (cleared by a dialplan reload,
    as extensions.conf's clearglobalvars says)."""
    if not _AMI_NAME.fullmatch(variable):
        raise UnsafeValue(f"{variable!r} is not a variable name")
    return ami_action("Setvar", {"Variable": variable, "Value": value})


def db_get(family: str, key: str) -> dict[str, str]:
    """DBGet: one AstDB value (the answer comes as a DBGetResponse event)."""
    return ami_action("DBGet", {"Family": family, "Key": key})


def db_tree(family: str) -> dict[str, str]:
    """DBGetTree: every key of an AstDB family (DBGetTreeResponse events, then
    DBGetTreeComplete; an empty family is an empty list, not an error)."""
    return ami_action("DBGetTree", {"Family": family})


def db_delete(family: str, key: str) -> dict[str, str]:
    return ami_action("DBDel", {"Family": family, "Key": key})


def get_channel_variable(channel: str, variable: str) -> dict[str, str]:
    if not _AMI_NAME.fullmatch(variable):
        raise UnsafeValue(f"{variable!r} is not a channel variable name")
    return ami_action("Getvar", {"Channel": channel_name(channel), "Variable": variable})
