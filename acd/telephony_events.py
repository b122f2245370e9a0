"""AMI events in: what Asterisk tells us becomes core events and record updates.

- DialEnd on a caller's channel: the agent answered (RingAnswered at answer time,
  not when Dial returns after the conversation).
- DeviceStateChange: a phone that becomes unreachable makes its agent unavailable.
- After every AMI login (start, Asterisk restart): calls Redis still has open
  are checked against Asterisk's channels. Gone ones are closed; live ones that
  no FastAGI session of ours holds (we restarted mid-call) are adopted and
  closed from their Hangup event, so no record is left open.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

from acd.core import events as ev

log = logging.getLogger(__name__)

UNREACHABLE_STATES = {"UNAVAILABLE", "INVALID"}


class TelephonyEvents:
    def __init__(self, ami: Any, connector: Any, desk: Any, dispatcher: Any, calls: Any,
                 clock: Any, agi: Any = None) -> None:
        self.ami = ami
        self.connector = connector
        self.desk = desk
        self.dispatcher = dispatcher
        self.calls = calls
        self.clock = clock
        self.agi = agi
        self._device_reachable: dict[str, bool] = {}
        self.adopted: set[str] = set()
        #: Asterisk's hang-up cause of recently ended channels, for the call records
        self.hangup_causes: dict[str, str] = {}
        self._wrap_started: dict[str, float] = {}

    def register(self) -> None:
        self.ami.on_event("DialBegin", self.on_dial_begin)
        self.ami.on_event("DialEnd", self.on_dial_end)
        self.ami.on_event("DeviceStateChange", self.on_device_state)
        self.ami.on_event("Hangup", self.on_hangup)
        self.ami.on_event("DTMFEnd", self.on_dtmf)
        self.dispatcher.add_sink(self.on_command)
        self.dispatcher.add_sink(self.connector.on_command)
        self.ami.on_resync(self.on_resync)

    def on_dial_begin(self, event: Any) -> None:
        self.connector.on_dial_begin(event.get("Uniqueid", ""), event.get("DestChannel", ""))

    def on_dial_end(self, event: Any) -> None:
        self.connector.on_dial_end(event.get("Uniqueid", ""), event.get("DestChannel", ""),
                                   event.get("DialStatus", ""))

    def on_command(self, command: Any) -> Coroutine[Any, Any, None] | None:
        """The time an agent spent in wrap-up goes into the record of the call before it.
        A dispatcher sink: decided at once, only the Redis write is left to run."""
        if type(command).__name__ != "AgentStateChanged":
            return None
        agent_id, state = command.agent_id, str(command.state)
        started = self._wrap_started.pop(agent_id, None)
        if state == "wrap-up":
            self._wrap_started[agent_id] = command.since
            return None
        call_id = self.connector.last_call_of_agent.get(agent_id)
        if started is None or not call_id:
            return None
        return self.calls.set_field(call_id, "wrap_up_seconds", f"{command.since - started:.3f}")

    def on_dtmf(self, event: Any) -> None:
        if event.get("Direction") == "Received":
            self.connector.on_caller_digit(event.get("Uniqueid", ""), event.get("Digit", ""))

    def on_device_state(self, event: Any) -> None:
        device, state = event.get("Device", ""), event.get("State", "")
        agent_id = self.desk.agent_on_device(device)
        if agent_id is None:
            return
        reachable = state not in UNREACHABLE_STATES
        if self._device_reachable.get(device, True) != reachable:
            log.warning("agent %s: phone %s is %s", agent_id, device,
                        "back" if reachable else "unreachable")
            self.dispatcher.post(ev.AgentDeviceReachability(agent_id, reachable))
        self._device_reachable[device] = reachable

    async def on_resync(self, channels: list[Any]) -> None:
        live = {c.get("Uniqueid", "") for c in channels}
        ours = set(self.agi.active) if self.agi is not None else set()
        for call_id in await self.calls.active_call_ids():
            if call_id in ours:
                continue
            if call_id in live:
                if call_id not in self.adopted:
                    log.warning("call %s: still up in Asterisk but not ours (acd restarted "
                                "mid-call); its record closes when it hangs up", call_id)
                self.adopted.add(call_id)
            else:
                await self._close_orphan(call_id, "ended while acd was not watching")

    async def on_hangup(self, event: Any) -> None:
        call_id = event.get("Uniqueid", "")
        if len(self.hangup_causes) > 10_000:  # bounded: records read it within seconds
            self.hangup_causes.clear()
        self.hangup_causes[call_id] = event.get("Cause-txt", "") or event.get("Cause", "")
        if call_id in self.adopted:
            self.adopted.discard(call_id)
            await self._close_orphan(call_id, event.get("Cause-txt", ""))

    async def _close_orphan(self, call_id: str, cause: str) -> None:
        record = await self.calls.get_call(call_id)
        if record is None or record.ended_at:
            return  # closed already, e.g. by its own FastAGI session after it came back
        if self.agi is not None and call_id in self.agi.active:
            return
        now = self.clock.now()
        record.ended_at = record.ended_at or now
        record.hangup_cause = record.hangup_cause or cause
        if record.answered_at and record.agent:
            record.talk_seconds = round(now - record.answered_at, 3)
            record.outcome = record.outcome or "answered"
            self.dispatcher.post(ev.CallEnded(call_id, record.agent))
        elif record.enqueued_at:
            record.outcome = record.outcome or "abandoned"
            self.dispatcher.post(ev.CallAbandoned(call_id))
        record.outcome = record.outcome or "lost"
        await self.calls.close_call(record)
        log.info("call %s: record closed after restart (%s, %s)", call_id, record.outcome,
                 cause or "-")
