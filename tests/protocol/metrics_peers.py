"""Asterisk's two faces for tests of the whole acd App without Asterisk: a scripted AMI
peer (logs acd in, answers its actions, sends the events a test fires) and a FastAGI
caller (the agi_* headers, one reply line per command)."""

from __future__ import annotations

import asyncio
import contextlib


class AmiPeer:
    """An AMI server on loopback that accepts any login."""

    def __init__(self) -> None:
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.drop()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def drop(self) -> None:
        """Close every connection (acd reconnects)."""
        for writer in self.writers:
            writer.close()
        self.writers.clear()

    def fire(self, name: str, **headers: str) -> None:
        self._send({"Event": name, **headers})

    def _send(self, message: dict[str, str]) -> None:
        text = "".join(f"{k}: {v}\r\n" for k, v in message.items()) + "\r\n"
        for writer in self.writers:
            writer.write(text.encode())

    async def _serve(self, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                block = await reader.readuntil(b"\r\n\r\n")
                action = dict(line.split(": ", 1) for line in block.decode().split("\r\n")
                              if ": " in line)
                self._answer(writer, action)

    @staticmethod
    def _answer(writer: asyncio.StreamWriter, action: dict[str, str]) -> None:
        action_id = action.get("ActionID", "")
        if action.get("Action", "").lower() == "coreshowchannels":
            writer.write(f"Response: Success\r\nActionID: {action_id}\r\nEventList: start\r\n"
                         "Message: Channels will follow\r\n\r\n"
                         f"Event: CoreShowChannelsComplete\r\nActionID: {action_id}\r\n"
                         "EventList: Complete\r\nListItems: 0\r\n\r\n".encode())
            return
        writer.write(f"Response: Success\r\nActionID: {action_id}\r\nMessage: ok\r\n\r\n"
                     .encode())


class Caller:
    """One caller's channel running AGI(agi://acd/call?tries=0&key=...)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def call(cls, port: int, uniqueid: str, caller: str, called: str) -> Caller:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        headers = {
            "agi_network": "yes", "agi_network_script": "call?tries=0",
            "agi_channel": f"PJSIP/trunk-{uniqueid[-4:]}", "agi_language": "en",
            "agi_type": "PJSIP", "agi_uniqueid": uniqueid, "agi_version": "22.0.0",
            "agi_callerid": caller, "agi_calleridname": "unknown", "agi_dnid": called,
            "agi_context": "acd-inbound", "agi_extension": called, "agi_priority": "2",
        }
        writer.write("".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + b"\n")
        await writer.drain()
        return cls(reader, writer)

    async def command(self) -> str:
        """The next AGI command acd sends ('' once acd closed the session)."""
        line = await asyncio.wait_for(self.reader.readline(), 10)
        return line.decode().rstrip("\n")

    async def reply(self, result: str = "0", data: str = "") -> None:
        self.writer.write(f"200 result={result}{f' ({data})' if data else ''}\n".encode())
        await self.writer.drain()

    async def until(self, prefix: str) -> str:
        """Answer each command as a quiet channel would until the one starting with
        `prefix`, which is returned unanswered."""
        while True:
            command = await self.command()
            assert command, f"acd closed the session before {prefix!r}"
            if command.startswith(prefix):
                return command
            await self.reply()

    async def hang_up(self) -> None:
        """The caller hangs up while acd is idle on the channel (Asterisk's HANGUP line)."""
        self.writer.write(b"HANGUP\n")
        await self.writer.drain()
