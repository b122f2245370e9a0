"""The live stream's fan-out with a page that reads slowly (a socket that blocks on
send): acd keeps at most one merged delta for it, then a snapshot, never a backlog."""

from __future__ import annotations

import asyncio
import json

from acd.adapters.http.live import CLOSE_TOO_SLOW, EngineViews, LiveStream
from acd.console.wallboard import Thresholds, Viewer, Wallboard
from acd.core import events as ev
from acd.core.engine import RoutingEngine
from acd.core.model import AgentConfig, QueueConfig, QueueMember

T0 = 1_750_000_000.0
SUPERVISOR = Viewer(sees_everything=True, sees_numbers=True)


class SlowSocket:
    """Takes a message only when the test lets it (`gate`)."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.closed_with: int | None = None

    @property
    def closed(self) -> bool:
        return self.closed_with is not None

    async def send_str(self, data: str, compress: int | None = None) -> None:
        await self.gate.wait()
        self.sent.append(json.loads(data))

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool:
        self.closed_with = code
        return True


def acd(max_rows: int = 2000, send_timeout: float = 10.0) -> tuple[RoutingEngine, LiveStream]:
    engine = RoutingEngine([QueueConfig("support", members=(QueueMember("1001", 0),))],
                           [AgentConfig("1001")])
    return engine, LiveStream(EngineViews(engine), Wallboard(Thresholds()), lambda: T0,
                              interval=0.01, max_rows=max_rows, send_timeout=send_timeout)


async def until(condition, seconds: float = 2.0) -> None:  # noqa: ANN001
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.005)


async def serve(live: LiveStream, socket: SlowSocket) -> asyncio.Task[None]:
    closed = asyncio.Event()

    async def incoming() -> str | None:
        await closed.wait()
        return None

    return asyncio.create_task(live.serve(socket, SUPERVISOR, lambda: True, incoming))


async def test_deltas_a_slow_page_has_not_taken_merge_into_one():
    engine, live = acd()
    socket = SlowSocket()
    task = await serve(live, socket)
    await until(lambda: len(socket.sent) == 1)  # the snapshot
    socket.gate.clear()
    engine.handle(ev.CallQueued("c0", "support", "13800000000"), T0)
    live.changed()
    await until(lambda: live.deltas == 1)  # that one is being sent (blocked)
    for n in range(1, 6):
        engine.handle(ev.CallQueued(f"c{n}", "support", f"1380000000{n}"), T0)
        live.changed()
        await until(lambda n=n: live.deltas == n + 1)
    socket.gate.set()
    await until(lambda: len(socket.sent) == 3)
    assert [m["type"] for m in socket.sent] == ["snapshot", "delta", "delta"]
    assert len(socket.sent[2]["callers"]) == 5  # five deltas, sent as one
    task.cancel()


async def test_a_page_too_far_behind_gets_a_snapshot_instead_of_the_deltas():
    engine, live = acd(max_rows=3)
    socket = SlowSocket()
    task = await serve(live, socket)
    await until(lambda: len(socket.sent) == 1)
    socket.gate.clear()
    for n in range(6):
        engine.handle(ev.CallQueued(f"c{n}", "support", f"1380000000{n}"), T0)
        live.changed()
        await until(lambda n=n: live.deltas == n + 1)
    socket.gate.set()
    await until(lambda: len(socket.sent) == 3)
    assert [m["type"] for m in socket.sent] == ["snapshot", "delta", "snapshot"]
    assert len(socket.sent[2]["callers"]) == 6
    task.cancel()


async def test_a_page_that_takes_nothing_for_too_long_is_closed_to_reconnect():
    engine, live = acd(send_timeout=0.05)
    socket = SlowSocket()
    socket.gate.clear()
    task = await serve(live, socket)
    await until(lambda: socket.closed)
    assert socket.closed_with == CLOSE_TOO_SLOW
    task.cancel()
