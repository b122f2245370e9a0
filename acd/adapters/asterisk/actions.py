"""AMI actions on the other channels of a call (acd.callflow's CallActions): hanging up
an agent's leg, ringing a supervisor's phone into ChanSpy."""

from __future__ import annotations

from typing import Protocol

from acd.adapters.asterisk.ami import Response
from acd.adapters.asterisk.syntax import hangup_action, spy_action


class Manager(Protocol):
    """AMI actions (acd.adapters.asterisk.ami.AmiClient)."""

    async def send(self, action: dict[str, str], *, as_list: bool | None = None,
                   timeout: float | None = None) -> Response: ...


class AmiCallActions:
    def __init__(self, ami: Manager) -> None:
        self.ami = ami

    async def hang_up_channel(self, channel: str) -> None:
        await self.ami.send(hangup_action(channel))

    async def spy(self, device: str, channel: str, mode: str, call_id: str) -> None:
        await self.ami.send(spy_action(device, channel, mode, call_id))
