"""AMI actions on the other channels of a call (acd.callflow's CallActions): hanging up
an agent's leg, ringing a supervisor's phone into ChanSpy, the agent's call controls."""

from __future__ import annotations

from typing import Protocol

from acd.adapters.asterisk.ami import Response
from acd.adapters.asterisk.syntax import (
    consult_action,
    hangup_action,
    received_key_action,
    spy_action,
)

#: the agent's in-call keys of asterisk/features.conf (acdhold, atxfer's complete, abort
#: and threeway); any key ends the hold ([acd-hold]'s Read)
CONTROL_KEYS = {"hold": "*0", "resume": "#", "consult-complete": "*2",
                "consult-cancel": "*1", "conference": "*3"}


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

    async def control_agent_leg(self, channel: str, control: str, target: str) -> None:
        """Press the agent's keys for them. panoramisk takes a response "... successfully
        queued" (Originate's) for the start of a list unless told otherwise: as_list=False."""
        if control == "consult":
            await self.ami.send(consult_action(channel, target), as_list=False)
            return
        for key in CONTROL_KEYS[control]:
            await self.ami.send(received_key_action(channel, key), as_list=False)
