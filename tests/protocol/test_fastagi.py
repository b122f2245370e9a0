"""FastAGI server against a scripted Asterisk peer on loopback."""

from __future__ import annotations

import asyncio
import logging

import pytest

from acd.adapters.asterisk.agi import AgiChannel, AgiServer
from acd.adapters.asterisk.syntax import UnsafeValue
from acd.callflow.errors import CallerHungUp


class FakeAsterisk:
    """Plays Asterisk's side of one FastAGI connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int, script: str, uniqueid: str = "1700000000.1",
                      callerid: str = "13800138000") -> FakeAsterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        headers = {
            "agi_network": "yes", "agi_network_script": script, "agi_request": f"agi://x/{script}",
            "agi_channel": "PJSIP/trunk-00000001", "agi_uniqueid": uniqueid,
            "agi_callerid": callerid, "agi_extension": "4008001234", "agi_language": "en",
        }
        writer.write("".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + b"\n")
        await writer.drain()
        return cls(reader, writer)

    async def expect(self, prefix: str, reply: str = "200 result=0") -> str:
        line = (await asyncio.wait_for(self.reader.readline(), 5)).decode().strip()
        assert line.startswith(prefix), line
        self.writer.write(reply.encode() + b"\n")
        await self.writer.drain()
        return line

    async def closed(self) -> bool:
        return await asyncio.wait_for(self.reader.read(), 5) == b""


@pytest.fixture
async def server(unused_tcp_port):
    agi = AgiServer()
    await agi.start("127.0.0.1", unused_tcp_port)
    agi.port = unused_tcp_port
    yield agi
    await agi.close()


async def test_a_call_is_routed_by_script_name_with_its_arguments(server):
    seen: dict[str, object] = {}

    async def pause(channel: AgiChannel) -> None:
        seen["params"] = channel.params
        seen["caller"] = channel.caller
        await channel.answer()
        seen["digits"] = await channel.get_digits(["enter-pin"], timeout=3, max_digits=4)

    server.route("agent-pause", pause)
    peer = await FakeAsterisk.connect(server.port, "agent-pause?reason=2")
    await peer.expect("ANSWER")
    await peer.expect('STREAM FILE "enter-pin" "0123456789*#"', "200 result=49 endpos=100")
    await peer.expect("WAIT FOR DIGIT 3000", "200 result=50")
    await peer.expect("WAIT FOR DIGIT 3000", "200 result=35")  # '#' ends input
    assert await peer.closed()
    assert seen == {"params": {"reason": "2"}, "caller": "13800138000", "digits": "12"}


async def test_a_hangup_while_idle_is_noticed_at_once(server):
    noticed = asyncio.Event()

    async def wait_for_agent(channel: AgiChannel) -> None:
        await channel.wait_hangup()
        noticed.set()

    server.route("call", wait_for_agent)
    peer = await FakeAsterisk.connect(server.port, "call")
    peer.writer.write(b"HANGUP\n")
    await peer.writer.drain()
    await asyncio.wait_for(noticed.wait(), 2)


async def test_commands_after_the_caller_hung_up_raise_caller_hung_up(server):
    outcome: list[str] = []

    async def call(channel: AgiChannel) -> None:
        try:
            await channel.play(["welcome"])
        except CallerHungUp:
            outcome.append("hung-up")

    server.route("call", call)
    peer = await FakeAsterisk.connect(server.port, "call")
    await peer.expect("STREAM FILE", "200 result=-1 endpos=0")
    assert await peer.closed()
    assert outcome == ["hung-up"]


async def test_a_crash_in_one_call_does_not_disturb_another(server, caplog):
    async def call(channel: AgiChannel) -> None:
        if channel.caller == "666":
            raise RuntimeError("boom")
        await channel.answer()
        await channel.play(["welcome"])

    server.route("call", call)
    healthy = await FakeAsterisk.connect(server.port, "call", "1.1", "13800138000")
    with caplog.at_level(logging.ERROR):
        crashing = await FakeAsterisk.connect(server.port, "call", "1.2", "666")
        # the dialplan is told to fall back (AGISTATUS alone would say SUCCESS)
        await crashing.expect('SET VARIABLE ACD_FALLBACK "1"', "200 result=1")
        assert await crashing.closed()
    await healthy.expect("ANSWER")
    await healthy.expect("STREAM FILE")
    assert await healthy.closed()
    assert any("call 1.2" in r.getMessage() for r in caplog.records)


class CountingReader:
    """A connection's StreamReader that counts its reads, and any read after EOF.

    Reading again after readline() returned b"" is what spinning looks like: at EOF
    readline returns at once, without yielding, so a handler that loops on it never
    lets the event loop run again (a timeout could not even fire)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader
        self.reads = 0
        self.reads_after_eof = 0
        self._at_eof = False

    async def readline(self) -> bytes:
        self.reads += 1
        if self._at_eof:
            self.reads_after_eof += 1
            raise RuntimeError("readline() again after it returned EOF")
        line = await self._reader.readline()
        self._at_eof = not line
        return line


class ObservedAgiServer(AgiServer):
    """An AgiServer whose connection handlers read through a CountingReader and say
    when they return."""

    def __init__(self) -> None:
        super().__init__()
        self.returned: asyncio.Queue[CountingReader] = asyncio.Queue()

    async def handler(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        counting = CountingReader(reader)
        try:
            await super().handler(counting, writer)  # type: ignore[arg-type]
        finally:
            self.returned.put_nowait(counting)


@pytest.fixture
async def observed_server(unused_tcp_port):
    agi = ObservedAgiServer()
    await agi.start("127.0.0.1", unused_tcp_port)
    agi.port = unused_tcp_port
    yield agi
    await agi.close()


@pytest.mark.parametrize(
    ("sent", "reads"),  # reads: one per line, the last one the EOF
    [(b"", 1), (b"agi_network: yes\n", 2), (b"agi_network: yes\nagi_chan", 3)],
    ids=["nothing", "one-header", "half-a-header"])
async def test_a_connection_closed_before_its_headers_end_ends_its_handler_without_spinning(
        observed_server, sent, reads):
    # panoramisk's own handler read the closed socket forever (a busy loop on EOF)
    reached: list[AgiChannel] = []

    async def call(channel: AgiChannel) -> None:  # pragma: no cover - never reached
        reached.append(channel)

    observed_server.route("call", call)
    reader, writer = await asyncio.open_connection("127.0.0.1", observed_server.port)
    writer.write(sent)
    writer.close()
    await writer.wait_closed()
    counted = await asyncio.wait_for(observed_server.returned.get(), 5)  # it returned
    assert counted.reads == reads
    assert counted.reads_after_eof == 0  # stopped at the first EOF
    assert await asyncio.wait_for(reader.read(), 5) == b""  # and closed its side
    assert reached == [] and observed_server.active == {}


async def test_a_connection_closed_during_a_call_ends_the_call_without_spinning(
        observed_server):
    ended: list[bool] = []

    async def call(channel: AgiChannel) -> None:
        await channel.wait_hangup()  # waiting for an agent: no command in flight
        ended.append(channel.gone)

    observed_server.route("call", call)
    peer = await FakeAsterisk.connect(observed_server.port, "call")
    peer.writer.close()  # Asterisk went away without a HANGUP line
    await peer.writer.wait_closed()
    counted = await asyncio.wait_for(observed_server.returned.get(), 5)
    assert ended == [True]
    assert counted.reads_after_eof == 0
    assert observed_server.active == {}


async def test_an_unknown_route_asks_the_dialplan_to_fall_back_and_closes(server):
    peer = await FakeAsterisk.connect(server.port, "no-such-route")
    await peer.expect('SET VARIABLE ACD_FALLBACK "1"', "200 result=1")
    assert await peer.closed()


def test_plain_functions_are_refused_as_handlers():
    with pytest.raises(TypeError):
        AgiServer().route("call", lambda channel: None)  # type: ignore[arg-type]


@pytest.fixture
async def keyed_server(unused_tcp_port_factory):
    agi = AgiServer(key="s3cret-key", max_sessions=2, quick_seconds=0.3)
    agi.port = unused_tcp_port_factory()
    await agi.start("127.0.0.1", agi.port)
    yield agi
    await agi.close()


async def test_a_session_without_the_shared_key_is_refused_and_falls_back(keyed_server, caplog):
    served: list[str] = []

    async def call(channel: AgiChannel) -> None:
        served.append(channel.call_id)

    keyed_server.route("call", call)
    for script in ("call", "call?key=wrong", "call?key="):
        peer = await FakeAsterisk.connect(keyed_server.port, script)
        await peer.expect('SET VARIABLE ACD_FALLBACK "1"', "200 result=1")
        assert await peer.closed()
    assert served == []
    assert "s3cret-key" not in caplog.text


async def test_a_session_with_the_shared_key_is_served_without_it_in_its_parameters(
        keyed_server):
    seen: dict[str, str] = {}

    async def pause(channel: AgiChannel) -> None:
        seen.update(channel.params)
        await channel.answer()

    keyed_server.route("agent-pause", pause)
    peer = await FakeAsterisk.connect(keyed_server.port, "agent-pause?reason=3&key=s3cret-key")
    await peer.expect("ANSWER")
    assert await peer.closed()
    assert seen == {"reason": "3"}


async def test_over_the_session_cap_a_call_falls_back_instead_of_silence(keyed_server):
    release = asyncio.Event()

    async def call(channel: AgiChannel) -> None:
        await channel.answer()
        await release.wait()

    keyed_server.route("call", call)
    held = []
    for n in range(2):
        peer = await FakeAsterisk.connect(keyed_server.port, "call?key=s3cret-key",
                                          uniqueid=f"1.{n}")
        await peer.expect("ANSWER")
        held.append(peer)
    extra = await FakeAsterisk.connect(keyed_server.port, "call?key=s3cret-key", uniqueid="1.9")
    await extra.expect('SET VARIABLE ACD_FALLBACK "1"', "200 result=1")
    assert await extra.closed()
    release.set()
    for peer in held:
        assert await peer.closed()


async def test_a_command_asterisk_never_answers_ends_the_session(keyed_server):
    outcome: list[str] = []

    async def call(channel: AgiChannel) -> None:
        try:
            await channel.answer()
        except Exception as exc:
            outcome.append(type(exc).__name__)
            raise

    keyed_server.route("call", call)
    peer = await FakeAsterisk.connect(keyed_server.port, "call?key=s3cret-key")
    line = (await asyncio.wait_for(peer.reader.readline(), 5)).decode().strip()
    assert line == "ANSWER"  # ... and no answer from "Asterisk"
    assert await peer.closed()  # the session ends after quick_seconds, never hangs
    assert outcome == ["AgiTimeout"]


async def test_a_value_with_a_newline_never_reaches_the_agi_stream(server):
    async def call(channel: AgiChannel) -> None:
        await channel.answer()
        with pytest.raises(UnsafeValue):
            await channel.play(["/tmp/x\nEXEC System touch /tmp/pwned"])
        with pytest.raises(UnsafeValue):
            await channel.exec_app("VoiceMail", "8000@default,u", "x")
        with pytest.raises(UnsafeValue):
            await channel.set_variable("A B", "1")
        await channel.set_variable("ACD_DONE", "1\nEXEC System id")

    server.route("call", call)
    peer = await FakeAsterisk.connect(server.port, "call")
    await peer.expect("ANSWER")
    # the handler's last line raised (a bug in the call is a fallback, not an injection)
    line = await peer.expect("SET VARIABLE ACD_FALLBACK", "200 result=1")
    assert line == 'SET VARIABLE ACD_FALLBACK "1"'
    assert await asyncio.wait_for(peer.reader.read(), 5) == b""  # nothing else was sent


async def test_a_queued_caller_leaves_its_queue_and_priority_for_the_dialplans_fallback(
        server):
    async def call(channel: AgiChannel) -> None:
        await channel.mark_queued("vip", 10)  # a VIP: QUEUE_PRIO in Asterisk's twin
        await channel.mark_queued("support", 0)  # moved on: its priority is cleared
        await channel.mark_queued("售后 queue", 0)  # no twin can be named so: catch-all

    server.route("call", call)
    peer = await FakeAsterisk.connect(server.port, "call")
    await peer.expect('SET VARIABLE ACD_QUEUE "vip"', "200 result=1")
    await peer.expect('SET VARIABLE ACD_PRIORITY "10"', "200 result=1")
    await peer.expect('SET VARIABLE ACD_QUEUE "support"', "200 result=1")
    await peer.expect('SET VARIABLE ACD_PRIORITY "0"', "200 result=1")
    await peer.expect('SET VARIABLE ACD_QUEUE ""', "200 result=1")
    assert await peer.closed()  # a caller at priority 0 costs one command
