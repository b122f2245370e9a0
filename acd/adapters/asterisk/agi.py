"""FastAGI: the server (routes per script name) and AgiChannel, the Channel of one call.

Built on panoramisk's fast_agi Application, with our own connection handler:
panoramisk's spins forever when a socket closes before the AGI headers end and
cannot route `script?arg=value`. One task per call; an exception or a hangup
inside one call is logged with the call id and never reaches another call.

AgiChannel keeps one reader per connection so that the unsolicited `HANGUP`
line Asterisk sends when the caller hangs up while we are idle (e.g. waiting
for an agent) is seen at once, not at the next command.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from panoramisk.fast_agi import Application
from panoramisk.utils import parse_agi_result

from acd.adapters.asterisk.agi_observer import AgiObserver, NoObserver, command_name
from acd.adapters.asterisk.fallback_queues import is_safe_name
from acd.adapters.asterisk.syntax import (
    Bare,
    UnsafeValue,
    agi_command,
    dial_arguments,
    exec_command,
)
from acd.callflow.errors import CallerHungUp
from acd.callflow.facts import DialEnded, DialStatus
from acd.metrics import count

log = logging.getLogger(__name__)

HEADER_TIMEOUT = 5.0
#: where the caller waits, for the dialplan's fallback ([acd-inbound] in extensions.conf)
QUEUE_VARIABLE = "ACD_QUEUE"
PRIORITY_VARIABLE = "ACD_PRIORITY"
#: Asterisk sends about 25 agi_* headers plus one per AGI() argument
MAX_HEADER_LINES = 200
ALL_DIGITS = "0123456789*#"
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


#: Asterisk's DIALSTATUS in acd's words
DIAL_STATUSES = {
    "ANSWER": DialStatus.ANSWERED, "NOANSWER": DialStatus.NO_ANSWER,
    "BUSY": DialStatus.BUSY, "CHANUNAVAIL": DialStatus.UNAVAILABLE,
    "CONGESTION": DialStatus.UNAVAILABLE, "INVALIDARGS": DialStatus.UNAVAILABLE,
    "CANCEL": DialStatus.CANCELLED,
}


def device_of_channel(channel_name: str) -> str:
    """'PJSIP/agent1001-0000000a' -> 'PJSIP/agent1001' (Asterisk's channel names)."""
    tech_resource, _, _ = channel_name.rpartition("-")
    return tech_resource or channel_name


#: ACD_BRIDGED_AT of an agent's Dial that has bridged nobody (asterisk/extensions.conf)
UNBRIDGED = "none"


def number_or_none(text: str) -> float | None:
    """A number the dialplan wrote ('1796142899.068'), None when empty or not one."""
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _digits(text: str) -> str:
    """Keys of a phone: ASCII digits, * and # (Unicode digits are not keys)."""
    if any(c not in ALL_DIGITS for c in text):
        raise UnsafeValue(f"{text[:20]!r} is not phone keys (0-9, * and #)")
    return text


def _variable(name: str) -> Bare:
    if not _VARIABLE.fullmatch(name):
        raise UnsafeValue(f"{name[:40]!r} is not a channel variable name")
    return Bare(name)


class AgiCommandFailed(Exception):
    pass


class AgiTimeout(AgiCommandFailed):
    """Asterisk did not answer a command in time: the session is out of step and ends."""


#: how long Asterisk may take to answer a command that returns at once
QUICK_SECONDS = 10.0
#: a prompt file, however long, is done within this (STREAM FILE)
PROMPT_SECONDS = 600.0
#: a Dial lasts the whole conversation: its bound is the longest call acd expects
DIAL_SECONDS = 4 * 3600.0
#: applications that last as long as a conversation or a message; the rest return at once
LONG_APPLICATIONS = {"Dial": DIAL_SECONDS, "Queue": DIAL_SECONDS, "VoiceMail": 3600.0,
                     "Playback": PROMPT_SECONDS}


class AgiChannel:
    """The Channel protocol over one FastAGI connection."""

    def __init__(self, headers: dict[str, str], params: dict[str, str],
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                 quick_seconds: float = QUICK_SECONDS,
                 observer: AgiObserver | None = None) -> None:
        self.headers = headers
        self._observer = observer or NoObserver()
        #: the answer time of a command that returns at once (ANSWER, SET VARIABLE...)
        self.quick_seconds = quick_seconds
        self.params = params
        self.call_id = headers.get("agi_uniqueid", "?")
        self.channel_name = headers.get("agi_channel", "")
        self.caller = headers.get("agi_callerid", "")
        if self.caller in ("unknown", "<unknown>"):
            self.caller = ""
        self.called = headers.get("agi_extension", "") or headers.get("agi_dnid", "")
        self.language = headers.get("agi_language", "en")
        self._writer = writer
        self._reader = reader
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._command_lock = asyncio.Lock()
        self.hung_up = asyncio.Event()
        self._on_gone: list[Callable[[], None]] = []
        self._marked_priority = False  # ACD_PRIORITY set (to clear on a queue without)
        self._reader_task = asyncio.get_running_loop().create_task(self._read_lines())

    @property
    def gone(self) -> bool:
        """The caller's channel hung up, or the FastAGI connection closed."""
        return self.hung_up.is_set()

    def on_gone(self, callback: Callable[[], None]) -> None:
        """`callback()` once, as soon as the channel is gone (at once if it is)."""
        if self.gone:
            asyncio.get_running_loop().call_soon(callback)
        else:
            self._on_gone.append(callback)

    def _mark_gone(self) -> None:
        if self.hung_up.is_set():
            return
        self.hung_up.set()
        callbacks, self._on_gone = self._on_gone, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("call %s: a hang-up callback failed", self.call_id)

    async def _read_lines(self) -> None:
        try:
            while True:
                raw = await self._reader.readline()
                if not raw:
                    break
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line == "HANGUP":
                    self._mark_gone()
                    continue
                await self._lines.put(line)
        except (ConnectionError, OSError):
            pass
        finally:
            self._mark_gone()
            await self._lines.put(None)

    async def command(self, command: str, timeout: float | None = None) -> dict[str, Any]:
        """Send one AGI command (built by acd.adapters.asterisk.syntax) and return
        panoramisk's parsed result. A command Asterisk does not answer within
        `timeout` ends the session: the next line could be that late answer."""
        if "\n" in command or "\r" in command or "\0" in command:  # built by syntax: never
            raise AgiCommandFailed(f"refused to send a command with a line break: {command!r}")
        # only a command that returns at once times Asterisk; a long one times the caller
        quick, timeout = timeout is None, timeout or self.quick_seconds
        count("agi_commands")
        async with self._command_lock:
            if self._reader_task.done():
                raise CallerHungUp(self.call_id)
            sent = time.perf_counter()
            self._writer.write((command + "\n").encode())
            try:
                async with asyncio.timeout(timeout):
                    await self._writer.drain()
                    result = await self._answer(command)
                if quick:
                    self._observer.command_answered(command_name(command),
                                                    time.perf_counter() - sent)
            except TimeoutError:
                log.error("call %s: Asterisk did not answer %s within %.0f s; ending the "
                          "session", self.call_id, command.split(" ", 2)[:2], timeout)
                self.close()
                raise AgiTimeout(f"{command!r}: no answer in {timeout:g} s") from None
        if result.get("status_code") == 511 or "error" in result and \
                result["error"] == "AGIResultHangup":
            raise CallerHungUp(self.call_id)
        if result.get("status_code") != 200:
            raise AgiCommandFailed(f"{command!r}: {result.get('msg') or result}")
        return result

    async def _answer(self, command: str) -> dict[str, Any]:
        while True:
            line = await self._lines.get()
            if line is None:
                raise CallerHungUp(self.call_id)
            result: dict[str, Any] = parse_agi_result(line)
            if result.get("error") == "AGIAppError":  # "200 result=-1": hangup or failure
                return {"status_code": 200, "result": ("-1", "")}
            if result.get("status_code") == 100:  # "100 Trying...": the real answer follows
                continue
            if result.get("status_code") == 520:  # usage text follows up to "520 End..."
                while line is not None and not line.startswith("520 End"):
                    line = await self._lines.get()
                raise AgiCommandFailed(f"{command!r}: bad usage")
            return result

    async def _result(self, command: str, timeout: float | None = None) -> str:
        result = await self.command(command, timeout)
        value = str(result.get("result", ("", ""))[0])
        if value == "-1":
            raise CallerHungUp(self.call_id)
        return value

    # -- the Channel protocol -------------------------------------------------

    async def answer(self) -> None:
        await self._result(agi_command("ANSWER"))

    async def play(self, files: Sequence[str], escape_digits: str = "") -> str:
        escape = _digits(escape_digits)
        for file in files:
            value = await self._result(agi_command("STREAM FILE", file, escape),
                                       PROMPT_SECONDS)
            if value not in ("", "0"):
                return chr(int(value))
        return ""

    async def get_digits(self, files: Sequence[str], timeout: float, max_digits: int,
                         terminator: str = "#") -> str:
        digits = await self.play(files, ALL_DIGITS) if files else ""
        if digits == terminator:
            return ""
        wait_ms = int(timeout * 1000)
        while len(digits) < max_digits:
            value = await self._result(agi_command("WAIT FOR DIGIT", wait_ms),
                                       timeout + self.quick_seconds)
            if value in ("", "0"):
                break  # timeout
            digit = chr(int(value))
            if digit == terminator:
                break
            digits += digit
        return digits

    async def say_digits(self, digits: str, escape_digits: str = "") -> str:
        value = await self._result(agi_command("SAY DIGITS", _digits(digits),
                                               _digits(escape_digits)), PROMPT_SECONDS)
        return chr(int(value)) if value not in ("", "0") else ""

    async def set_variable(self, name: str, value: str) -> None:
        await self._result(agi_command("SET VARIABLE", _variable(name), value))

    async def get_variable(self, name: str) -> str | None:
        result = await self.command(agi_command("GET VARIABLE", _variable(name)))
        code, data = result.get("result", ("0", ""))
        return data if str(code) == "1" else None

    async def get_full_variable(self, expression: str) -> str:
        """An expression with ${...} substitutions evaluated on the channel; works after
        a hangup too (AGI's dead mode), as long as the channel exists. Only acd's own
        constant expressions come here: never a value from a caller or a user."""
        result = await self.command(agi_command("GET FULL VARIABLE", expression))
        code, data = result.get("result", ("0", ""))
        return data if str(code) == "1" else ""

    async def exec_app(self, app: str, *args: str | int, timeout: float | None = None,
                       ) -> str:
        """Run a dialplan application with these arguments (each checked, then joined)."""
        value = await self._result(exec_command(app, args),
                                   timeout or LONG_APPLICATIONS.get(app))
        if value == "-2":
            raise AgiCommandFailed(f"dialplan application {app} is not loaded in Asterisk")
        return value

    async def dial(self, devices: list[str], ring_seconds: int, options: str = "",
                   announce: tuple[str | None, str | None] | None = None,
                   *, agent_leg: bool = False) -> str:
        """Dial these devices; returns when the Dial ends (the whole conversation)."""
        return await self.exec_app("Dial", *dial_arguments(devices, ring_seconds,
                                                           options, announce,
                                                           agent_leg=agent_leg))

    async def dial_agents(self, devices: Sequence[str], ring_seconds: int,
                          whisper_file: str | None, announce_file: str | None) -> DialEnded:
        """Ring agents' phones: g carries on after the agent hangs up (the survey), m plays
        music rather than ringback, A(x:y) plays x to the agent (whisper) and y to the
        caller (报工号) on answer; t (the called party may transfer) and the agent-leg
        handler give the agent's side (only) hold and the consultation keys
        (asterisk/features.conf)."""
        announce = (whisper_file, announce_file) if whisper_file or announce_file else None
        return await self._dial(list(devices), ring_seconds, "gmt", announce,
                                agent_leg=True)

    async def dial_number(self, number: str, ring_seconds: int,
                          context: str = "acd-transfer", *, private: bool = False) -> DialEnded:
        """Put the caller through to an extension or outside number, placed by the
        dialplan's `context` ([acd-transfer] unless an IVR node names another).
        `private`: Dial's I option, no connected-line update reaches this channel."""
        return await self._dial([f"Local/{number}@{context}"], ring_seconds,
                                "I" if private else "", None)

    async def _dial(self, devices: list[str], ring_seconds: int, options: str,
                    announce: tuple[str | None, str | None] | None,
                    *, agent_leg: bool = False) -> DialEnded:
        left = False
        try:
            await self.dial(devices, ring_seconds, options, announce, agent_leg=agent_leg)
        except CallerHungUp:
            # -1: the caller hung up, or left the Dial without hanging up (the agent's
            # phone transferred them, or the agent hung up during the 报工号)
            left = True
        try:
            return await self._dial_outcome(left)
        except CallerHungUp:  # the channel itself is gone: what it was is lost with it
            return DialEnded(DialStatus.CANCELLED, caller_gone=True)

    async def _dial_outcome(self, left: bool) -> DialEnded:
        """What the Dial ended with, in one round trip (AGI answers in dead mode too).

        A blind transfer (the phone's transfer key, SIP REFER) moves the caller's channel
        to [acd-phone-transfer], which ends Dial and the session much as a hang-up would;
        Asterisk sets BLINDTRANSFER on the caller's channel to the transferring channel:
        BLINDTRANSFER naming this Dial's peer tells a transfer from a hang-up.
        """
        value = await self.get_full_variable(
            "${DIALSTATUS}|${DIALEDPEERNAME}|${BLINDTRANSFER}|${EXTEN}|${ANSWEREDTIME_MS}"
            "|${ACD_AGI_ENDED}|${ACD_BRIDGED_AT}")
        raw_status, peer, transferrer, exten, answered_ms, session_ended, bridged = (
            value.split("|") + [""] * 7)[:7]
        status = DIAL_STATUSES.get(raw_status, DialStatus.NO_ANSWER)
        moved = bool(peer) and transferrer == peer
        # Asterisk reports a hang-up before it answers the next command, so this is known
        caller_gone = self.gone and not moved
        return DialEnded(status, peer=peer, peer_device=device_of_channel(peer),
                         transferred_to=exten if moved else "",
                         left_early=left and not caller_gone and not moved
                         and status is DialStatus.ANSWERED,
                         caller_gone=caller_gone,
                         answered_seconds=int(answered_ms) / 1000
                         if answered_ms.isdigit() else None,
                         session_ended_at=number_or_none(session_ended),
                         bridged_at=number_or_none(bridged),
                         unbridged=bridged == UNBRIDGED)

    async def last_dial(self) -> DialEnded:
        """How the channel's last Dial ended: a session that comes back after acd was away
        reads what happened to the conversation meanwhile."""
        return await self._dial_outcome(left=False)

    async def voicemail(self, mailbox: str, options: str) -> None:
        """Returns when the message is left: a caller ends one by hanging up (VoiceMail
        keeps what was recorded and returns -1), which is no reason to abandon the call."""
        with contextlib.suppress(CallerHungUp):
            await self.exec_app("VoiceMail", mailbox, options)

    async def request_fallback(self) -> None:
        """Tell the dialplan (ACD_FALLBACK=1) to take over: AGISTATUS says SUCCESS."""
        async with asyncio.timeout(2):
            await self.set_variable("ACD_FALLBACK", "1")

    async def pass_to_next_acd(self) -> None:
        """Tell the dialplan (ACD_NEXT=1) to try the next acd address, as when this one
        does not answer (asterisk/extensions.conf [acd-inbound])."""
        async with asyncio.timeout(2):
            await self.set_variable("ACD_NEXT", "1")

    async def start_recording(self, path: str) -> None:
        """MixMonitor the bridged audio (option b) into `path`."""
        await self.exec_app("MixMonitor", path, "b")

    async def music_on_hold(self, on: bool, moh_class: str = "default") -> None:
        await self._result(agi_command("SET MUSIC", Bare("ON" if on else "OFF"),
                                       _variable(moh_class)))

    async def mark_queued(self, queue: str, priority: int) -> None:
        """ACD_QUEUE (and ACD_PRIORITY, when not 0) for [acd-inbound]'s fallback: the
        caller goes to Asterisk's twin of the queue, with QUEUE_PRIO. A name app_queue
        cannot spell is left out: the catch-all then takes the caller."""
        await self.set_variable(QUEUE_VARIABLE, queue if is_safe_name(queue) else "")
        if priority or self._marked_priority:
            await self.set_variable(PRIORITY_VARIABLE, str(priority))
        self._marked_priority = priority != 0

    async def hangup(self) -> None:
        with contextlib.suppress(CallerHungUp):
            await self._result(agi_command("HANGUP"))

    async def wait_hangup(self) -> None:
        await self.hung_up.wait()

    def close(self) -> None:
        self._reader_task.cancel()
        self._writer.close()


Handler = Callable[[AgiChannel], Awaitable[None]]


class AgiServer(Application):  # type: ignore[misc]
    """panoramisk's FastAGI Application with robust connection handling."""

    def __init__(self, *, max_sessions: int = 2000, key: str = "",
                 quick_seconds: float = QUICK_SECONDS) -> None:
        super().__init__()
        self.quick_seconds = quick_seconds
        self._server: asyncio.AbstractServer | None = None
        self.active: dict[str, AgiChannel] = {}
        #: over this many open sessions a new one is sent back to the dialplan's fallback
        self.max_sessions = max_sessions
        #: the shared secret the dialplan passes as ?key=...; empty: none asked for
        self._key = key
        self._open = 0
        #: told of sessions served and of Asterisk's answer times (the metrics)
        self.observer: AgiObserver = NoObserver()

    def route(self, script: str, handler: Handler) -> None:
        # Only `async def` handlers: panoramisk would wrap a plain function with
        # asyncio.coroutine, which Python 3.11 removed.
        if not asyncio.iscoroutinefunction(handler):
            raise TypeError(f"FastAGI handler for {script!r} must be an async function")
        self.add_route(script, handler)

    @property
    def listening(self) -> bool:
        """Asterisk can open FastAGI sessions here (health)."""
        return self._server is not None and self._server.is_serving()

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self.handler, host, port)
        log.info("FastAGI listening on %s:%s (routes: %s)", host, port, ", ".join(self._route))

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for channel in list(self.active.values()):
            channel.close()

    async def handler(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        channel: AgiChannel | None = None
        self._open += 1
        try:
            headers = await self._read_headers(reader)
            if headers is None:
                return
            script, _, query = headers.get("agi_network_script", "").partition("?")
            params = dict(parse_qsl(query))
            route = self._route.get(script)
            count("agi_sessions")
            channel = AgiChannel(headers, params, reader, writer,
                                 quick_seconds=self.quick_seconds, observer=self.observer)
            refusal = self._refusal(route, params.pop("key", ""), writer)
            if refusal:
                log.error("call %s: FastAGI session refused (%s); the dialplan falls back",
                          channel.call_id, refusal)
                await self._request_fallback(channel)
                return
            assert route is not None
            self.active[channel.call_id] = channel
            self.observer.session_served()
            await route(channel)
        except CallerHungUp:
            log.info("call %s: caller hung up", channel.call_id if channel else "?")
        except Exception:
            log.exception("call %s: FastAGI handler failed; the dialplan falls back",
                          channel.call_id if channel else "?")
            if channel is not None and not channel.hung_up.is_set():
                await self._request_fallback(channel)
        finally:
            self._open -= 1
            if channel is not None:
                if self.active.get(channel.call_id) is channel:
                    del self.active[channel.call_id]
                channel.close()
            else:
                writer.close()

    def _refusal(self, route: Handler | None, key: str,
                 writer: asyncio.StreamWriter) -> str:
        """Why this session is not served, or '' to serve it."""
        if self._key and not hmac.compare_digest(key.encode(), self._key.encode()):
            peer = writer.get_extra_info("peername")
            return (f"{'a wrong' if key else 'no'} key from {peer[0] if peer else '?'}: "
                    "the dialplan's AGI() address must end in ?key=${ACD_AGI_KEY} "
                    "(agi.key in config.yaml)")
        if route is None:
            return f"no such route; known: {', '.join(self._route)}"
        if self._open > self.max_sessions:
            return (f"{self._open - 1} sessions open, agi.max_sessions is "
                    f"{self.max_sessions}")
        return ""

    @staticmethod
    async def _request_fallback(channel: AgiChannel) -> None:
        """Tell the dialplan (ACD_FALLBACK=1) to take over: AGISTATUS says SUCCESS."""
        try:
            async with asyncio.timeout(2):
                await channel.set_variable("ACD_FALLBACK", "1")
        except (CallerHungUp, AgiCommandFailed, TimeoutError, OSError):
            pass

    async def _read_headers(self, reader: asyncio.StreamReader) -> dict[str, str] | None:
        headers: dict[str, str] = {}
        try:
            async with asyncio.timeout(HEADER_TIMEOUT):
                for _ in range(MAX_HEADER_LINES):
                    raw = await reader.readline()
                    if not raw:
                        log.warning("FastAGI: connection closed before the headers ended")
                        return None
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    if not line:
                        return headers
                    key, sep, value = line.partition(": ")
                    if sep:
                        headers[key] = value
        except TimeoutError:
            log.warning("FastAGI: no complete headers within %.0f s", HEADER_TIMEOUT)
            return None
        except (ValueError, ConnectionError):  # a line over the stream's limit, a reset
            log.warning("FastAGI: malformed headers; connection closed")
            return None
        log.warning("FastAGI: more than %d header lines; connection closed", MAX_HEADER_LINES)
        return None
