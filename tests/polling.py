"""Waiting for an outcome in in-process tests: poll a condition until a deadline, never
sleep a fixed time and hope. (Integration tests have their own, with a description of
what is awaited, in tests/integration.)"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def eventually(condition: Callable[[], bool], within: float = 2.0) -> None:
    """Return as soon as `condition()` holds; fail the test if it does not within
    `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, f"not within {within:g} s"
        await asyncio.sleep(0.005)
