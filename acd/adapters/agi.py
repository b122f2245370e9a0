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
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from panoramisk.fast_agi import Application
from panoramisk.utils import parse_agi_result

from acd.channel import CallerHungUp

log = logging.getLogger(__name__)

HEADER_TIMEOUT = 5.0
ALL_DIGITS = "0123456789*#"


class AgiCommandFailed(Exception):
    pass


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class AgiChannel:
    """The Channel protocol over one FastAGI connection."""

    def __init__(self, headers: dict[str, str], params: dict[str, str],
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.headers = headers
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
        self._reader_task = asyncio.get_running_loop().create_task(self._read_lines())

    async def _read_lines(self) -> None:
        try:
            while True:
                raw = await self._reader.readline()
                if not raw:
                    break
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line == "HANGUP":
                    self.hung_up.set()
                    continue
                await self._lines.put(line)
        except (ConnectionError, OSError):
            pass
        finally:
            self.hung_up.set()
            await self._lines.put(None)

    async def command(self, command: str) -> dict[str, Any]:
        """Send one AGI command and return panoramisk's parsed result."""
        async with self._command_lock:
            if self._reader_task.done():
                raise CallerHungUp(self.call_id)
            self._writer.write((command + "\n").encode())
            await self._writer.drain()
            while True:
                line = await self._lines.get()
                if line is None:
                    raise CallerHungUp(self.call_id)
                result = parse_agi_result(line)
                if result.get("error") == "AGIAppError":  # "200 result=-1": hangup or failure
                    result = {"status_code": 200, "result": ("-1", "")}
                if result.get("status_code") == 100:  # "100 Trying...": the real answer follows
                    continue
                if result.get("status_code") == 520:  # usage text follows up to "520 End..."
                    while line is not None and not line.startswith("520 End"):
                        line = await self._lines.get()
                    raise AgiCommandFailed(f"{command!r}: bad usage")
                break
        if result.get("status_code") == 511 or "error" in result and \
                result["error"] == "AGIResultHangup":
            raise CallerHungUp(self.call_id)
        if result.get("status_code") != 200:
            raise AgiCommandFailed(f"{command!r}: {result.get('msg') or result}")
        return result

    async def _result(self, command: str) -> str:
        result = await self.command(command)
        value = str(result.get("result", ("", ""))[0])
        if value == "-1":
            raise CallerHungUp(self.call_id)
        return value

    # -- the Channel protocol -------------------------------------------------

    async def answer(self) -> None:
        await self._result("ANSWER")

    async def play(self, prompts: list[str], escape_digits: str = "") -> str:
        for prompt in prompts:
            value = await self._result(f"STREAM FILE {_quote(prompt)} {_quote(escape_digits)}")
            if value not in ("", "0"):
                return chr(int(value))
        return ""

    async def get_digits(self, prompts: list[str], timeout: float, max_digits: int,
                         terminator: str = "#") -> str:
        digits = await self.play(prompts, ALL_DIGITS) if prompts else ""
        if digits == terminator:
            return ""
        while len(digits) < max_digits:
            value = await self._result(f"WAIT FOR DIGIT {int(timeout * 1000)}")
            if value in ("", "0"):
                break  # timeout
            digit = chr(int(value))
            if digit == terminator:
                break
            digits += digit
        return digits

    async def say_digits(self, digits: str, escape_digits: str = "") -> str:
        value = await self._result(f"SAY DIGITS {digits} {_quote(escape_digits)}")
        return chr(int(value)) if value not in ("", "0") else ""

    async def set_variable(self, name: str, value: str) -> None:
        await self._result(f"SET VARIABLE {name} {_quote(value)}")

    async def get_variable(self, name: str) -> str | None:
        result = await self.command(f"GET VARIABLE {_quote(name)}")
        code, data = result.get("result", ("0", ""))
        return data if str(code) == "1" else None

    async def get_full_variable(self, expression: str) -> str:
        """An expression with ${...} substitutions evaluated on the channel; works after
        a hangup too (AGI's dead mode), as long as the channel exists."""
        result = await self.command(f"GET FULL VARIABLE {_quote(expression)}")
        code, data = result.get("result", ("0", ""))
        return data if str(code) == "1" else ""

    async def exec_app(self, app: str, args: str = "") -> str:
        value = await self._result(f"EXEC {app} {_quote(args)}")
        if value == "-2":
            raise AgiCommandFailed(f"dialplan application {app} is not loaded in Asterisk")
        return value

    async def music_on_hold(self, on: bool, moh_class: str = "default") -> None:
        await self._result(f"SET MUSIC {'ON' if on else 'OFF'} {moh_class}")

    async def hangup(self) -> None:
        with contextlib.suppress(CallerHungUp):
            await self._result("HANGUP")

    async def wait_hangup(self) -> None:
        await self.hung_up.wait()

    def close(self) -> None:
        self._reader_task.cancel()
        self._writer.close()


Handler = Callable[[AgiChannel], Awaitable[None]]


class AgiServer(Application):  # type: ignore[misc]
    """panoramisk's FastAGI Application with robust connection handling."""

    def __init__(self) -> None:
        super().__init__()
        self._server: asyncio.AbstractServer | None = None
        self.active: dict[str, AgiChannel] = {}

    def route(self, script: str, handler: Handler) -> None:
        # Only `async def` handlers: panoramisk would wrap a plain function with
        # asyncio.coroutine, which Python 3.11 removed.
        if not asyncio.iscoroutinefunction(handler):
            raise TypeError(f"FastAGI handler for {script!r} must be an async function")
        self.add_route(script, handler)

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
        try:
            headers = await self._read_headers(reader)
            if headers is None:
                return
            script, _, query = headers.get("agi_network_script", "").partition("?")
            route = self._route.get(script)
            if route is None:
                log.error("FastAGI: no route for script %r (call %s); known: %s", script,
                          headers.get("agi_uniqueid"), ", ".join(self._route))
                return
            channel = AgiChannel(headers, dict(parse_qsl(query)), reader, writer)
            self.active[channel.call_id] = channel
            await route(channel)
        except CallerHungUp:
            log.info("call %s: caller hung up", channel.call_id if channel else "?")
        except Exception:
            log.exception("call %s: FastAGI handler failed; the dialplan falls back",
                          channel.call_id if channel else "?")
            if channel is not None and not channel.hung_up.is_set():
                await self._request_fallback(channel)
        finally:
            if channel is not None:
                self.active.pop(channel.call_id, None)
                channel.close()
            else:
                writer.close()

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
                while True:
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
