"""Asterisk's AMI events in acd's words: the one place they become facts.

| AMI event | fact | goes to |
|---|---|---|
| DialBegin (on the caller's channel) | LegRinging | the call's session |
| DialEnd, DialStatus ANSWER | AgentAnswered | the call's session |
| BridgeEnter (the caller's channel) | CallerBridged | the call's session |
| DTMFEnd, received | KeyPressed | the call's session |
| Hold / Unhold (a phone's hold, the agent's keys) | HoldChanged | the call's session (Linkedid) |
| AttendedTransfer, Success (a consultation) | ConsultEnded | the call's session (transferee) |
| Hangup | ChannelGone | the call's session (adopted orphans close on it) |
| Hangup in the agents' context | AgentLegGone | the call's session (Linkedid) |
| DeviceStateChange of an agent's phone | AgentDeviceReachability | the routing core |
| after every login: CoreShowChannels | resync | the call registry |
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from acd.adapters.asterisk.agi import device_of_channel
from acd.adapters.asterisk.ami import EventFilter
from acd.callflow import facts as f
from acd.core import events as routing

log = logging.getLogger(__name__)

UNREACHABLE_STATES = {"UNAVAILABLE", "INVALID"}
#: the dialplan context of the agents' endpoints (asterisk/pjsip.conf's phone template)
AGENT_CONTEXT = "acd-agents"

Event = Mapping[str, str]


class Calls(Protocol):
    """The call registry, as the translator reaches it."""

    def deliver(self, call_id: str, fact: f.Fact) -> None: ...

    async def resync(self, live: Mapping[str, str]) -> None: ...


class AmiEvents(Protocol):
    def on_event(self, pattern: str, handler: Callable[[Event], object], *,
                 only: EventFilter | None = None,
                 exclude: Sequence[EventFilter] = ()) -> None: ...

    def on_resync(self, handler: Callable[[list[Event]], object]) -> None: ...


class EventTranslator:
    def __init__(self, calls: Calls, agent_on_device: Callable[[str], str | None],
                 post: Callable[[routing.Event], None]) -> None:
        self.calls = calls
        self.agent_on_device = agent_on_device
        self.post = post
        self._device_reachable: dict[str, bool] = {}

    def register(self, ami: AmiEvents) -> None:
        """Subscribe, narrowing what Asterisk sends to what the facts need: the agents'
        own channels (context acd-agents) enter bridges too, and a phone
        changes state three times a call, where only its becoming unreachable or free
        again tells acd something."""
        agents_side = EventFilter("Context", AGENT_CONTEXT)
        ami.on_event("DialBegin", self.on_dial_begin)
        ami.on_event("DialEnd", self.on_dial_end, only=EventFilter("DialStatus", "ANSWER"))
        ami.on_event("BridgeEnter", self.on_bridge_enter, exclude=[agents_side])
        ami.on_event("DTMFEnd", self.on_dtmf, only=EventFilter("Direction", "Received"))
        ami.on_event("Hangup", self.on_hangup)
        ami.on_event("Hold", self.on_hold)
        ami.on_event("Unhold", self.on_hold)
        ami.on_event("AttendedTransfer", self.on_attended_transfer,
                     only=EventFilter("Result", "Success"))
        ami.on_event("DeviceStateChange", self.on_device_state,
                     only=EventFilter("State", "^(UNAVAILABLE|INVALID|NOT_INUSE)$", "regex"),
                     exclude=[EventFilter("Device", "Queue:", "starts_with")])
        ami.on_resync(self.on_resync)

    def on_dial_begin(self, event: Event) -> None:
        channel = event.get("DestChannel", "")
        self.calls.deliver(event.get("Uniqueid", ""),
                           f.LegRinging(channel, device_of_channel(channel)))

    def on_dial_end(self, event: Event) -> None:
        if event.get("DialStatus") == "ANSWER":
            channel = event.get("DestChannel", "")
            self.calls.deliver(event.get("Uniqueid", ""),
                               f.AgentAnswered(channel, device_of_channel(channel)))

    def on_bridge_enter(self, event: Event) -> None:
        self.calls.deliver(event.get("Uniqueid", ""), f.CallerBridged())

    def on_dtmf(self, event: Event) -> None:
        if event.get("Direction") == "Received":
            self.calls.deliver(event.get("Uniqueid", ""), f.KeyPressed(event.get("Digit", "")))

    def on_hold(self, event: Event) -> None:
        """A softphone's hold key (a re-INVITE without our audio), the agent's hold key
        or consultation (features.conf): Asterisk plays music to the other side. The
        agent's leg belongs to the call through its Linkedid, the caller's own channel
        id (the call's id): a channel whose Uniqueid is not the Linkedid is not the
        caller's."""
        unique_id = event.get("Uniqueid", "")
        linked_id = event.get("Linkedid") or unique_id
        self.calls.deliver(linked_id, f.HoldChanged(event.get("Event") == "Hold",
                                                    "caller" if unique_id == linked_id
                                                    else "agent"))

    def on_attended_transfer(self, event: Event) -> None:
        """The agent's consultation completed (DestType Bridge: the agent left) or became
        a three-way call (Threeway). The consultation rang through a Local channel named
        after the number: Local/<number>@<context>-<n>;1."""
        if event.get("Result") != "Success":
            return
        target_channel = event.get("TransferTargetChannel", "")
        target = ""
        if target_channel.startswith("Local/"):
            target = target_channel[len("Local/"):].split("@", 1)[0]
        call_id = event.get("TransfereeUniqueid") or event.get("OrigTransfererLinkedid", "")
        self.calls.deliver(call_id, f.ConsultEnded(
            event.get("DestType") == "Threeway", target,
            event.get("OrigTransfererChannel", "")))

    def on_hangup(self, event: Event) -> None:
        if event.get("Context") == AGENT_CONTEXT:  # an agent's own leg
            linked_id = event.get("Linkedid", "")
            if linked_id and linked_id != event.get("Uniqueid"):
                self.calls.deliver(linked_id, f.AgentLegGone(event.get("Channel", "")))
            return
        self.calls.deliver(event.get("Uniqueid", ""),
                           f.ChannelGone(event.get("Cause-txt", "") or event.get("Cause", "")))

    def on_device_state(self, event: Event) -> None:
        device, state = event.get("Device", ""), event.get("State", "")
        agent_id = self.agent_on_device(device)
        if agent_id is None:
            return
        reachable = state not in UNREACHABLE_STATES
        if self._device_reachable.get(device, True) != reachable:
            log.warning("agent %s: phone %s is %s", agent_id, device,
                        "back" if reachable else "unreachable")
            self.post(routing.AgentDeviceReachability(agent_id, reachable))
        self._device_reachable[device] = reachable

    async def on_resync(self, channels: list[Event]) -> None:
        await self.calls.resync({c.get("Uniqueid", ""): c.get("Channel", "")
                                 for c in channels})
