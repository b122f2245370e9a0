"""What the IVR runner and the call path may do with one caller's channel.

The FastAGI adapter implements this for real calls; tests use a scripted fake.
Prompts are given as absolute file paths *without* extension (Asterisk picks the
format), or as Asterisk sound names such as ``digits/1``.
"""

from __future__ import annotations

from typing import Protocol

from acd.callflow.errors import CallerHungUp  # noqa: F401 - one exception for both


class Channel(Protocol):
    call_id: str
    caller: str
    called: str

    async def answer(self) -> None: ...

    async def play(self, prompts: list[str], escape_digits: str = "") -> str:
        """Play prompts in order; return the digit that interrupted them, or ''."""
        ...

    async def get_digits(
        self, prompts: list[str], timeout: float, max_digits: int, terminator: str = "#"
    ) -> str:
        """Play prompts (interruptible), then collect up to max_digits digits.

        Returns the digits without the terminator; '' when nothing was entered
        before the timeout (seconds of silence after the prompts end).
        """
        ...

    async def say_digits(self, digits: str, escape_digits: str = "") -> str: ...

    async def set_variable(self, name: str, value: str) -> None: ...

    async def exec_app(self, app: str, *args: str | int) -> str:
        """Run a dialplan application (VoiceMail, ...) with these arguments, each one
        checked by the adapter; return its result."""
        ...

    async def hangup(self) -> None: ...
