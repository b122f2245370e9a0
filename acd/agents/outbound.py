"""An agent's own calls (click-to-call, a 回访 of an earlier caller, an internal call),
behind the number firewall.

The agent names whom to call by an earlier call's id (the customer's number never
reaches their screen or their phone), by an extension (a colleague), or, for a role
allowed to see numbers, by the number itself. The routing core hears OutboundStarted
first (so no caller is offered to the agent meanwhile, and a ringing or talking agent is
refused), the record is opened, then the agent's phone rings; when they answer, their
channel's session (acd.callflow.outbound) dials the other party presenting the 400
number.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from acd.callflow.record import CallRecord
from acd.core import events as ev
from acd.privacy import logged, mask_number
from acd.rules.numbers import dialable

log = logging.getLogger(__name__)


class OwnCallRefused(ValueError):
    """The request cannot be dialled (e.g. the earlier caller withheld their number)."""


class Records(Protocol):
    async def get_call(self, call_id: str) -> CallRecord | None: ...

    async def open_call(self, call_id: str, fields: Mapping[str, object]) -> None: ...

    async def close_call(self, call_id: str, changes: Mapping[str, object]) -> None: ...


class Routing(Protocol):
    async def submit(self, event: ev.Event) -> object: ...

    def post(self, event: ev.Event) -> None: ...


class AgentPhone(Protocol):
    async def ring_agent(self, call_id: str, device: str, shown: str, presented: str,
                         ring_seconds: float) -> bool: ...


class OwnCalls:
    def __init__(self, records: Records, routing: Routing, phone: AgentPhone,
                 device_of: Callable[[str], str | None], presented: str, *,
                 ring_seconds: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        self.records = records
        self.routing = routing
        self.phone = phone
        #: the device an agent is logged in on, or None
        self.device_of = device_of
        #: the number customers see (the 400 number)
        self.presented = presented
        self.ring_seconds = ring_seconds
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    async def place(self, agent_id: str, target: Mapping[str, Any], *,
                    may_dial_numbers: bool) -> dict[str, str]:
        """Start an own call for `agent_id`; what it is, as the agent may see it.

        `target`: {"call_id": an earlier call} | {"extension": "1002"} | {"number": ...}
        (the number only with `may_dial_numbers`). Raises PermissionError, ValueError
        (OwnCallRefused) or the routing core's refusal (IllegalTransition)."""
        number, kind, source = await self._whom(target, may_dial_numbers)
        device = self.device_of(agent_id)
        if device is None:
            raise OwnCallRefused(f"agent {agent_id} is not logged in on a phone: log in first")
        call_id = f"acd-out-{uuid.uuid4().hex[:20]}"
        await self.routing.submit(ev.OutboundStarted(agent_id, call_id))
        now = self.clock()
        variables = {"outbound": kind, **({"outbound_for": source} if source else {})}
        record = CallRecord(call_id=call_id, caller=number, called=self.presented,
                            arrived_at=now, agent=agent_id, direction="outbound",
                            variables=variables, ivr_path=[f"outbound:{kind}"])
        try:
            await self.records.open_call(call_id, record.fields())
        except Exception:
            self.routing.post(ev.OutboundEnded(agent_id, call_id))
            raise
        shown = (f'"回访" <{mask_number(number)}>' if kind == "customer"
                 else f'"内线" <{number}>')
        log.info("call %s: agent %s calls %s", call_id, agent_id, logged(number))
        task = asyncio.create_task(self._ring(call_id, agent_id, device, shown),
                                   name=f"own call {call_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {"call_id": call_id, "agent": agent_id, "kind": kind,
                "to": number if may_dial_numbers or kind == "internal"
                else mask_number(number)}

    async def _whom(self, target: Mapping[str, Any], may_dial_numbers: bool,
                    ) -> tuple[str, str, str]:
        """(number to dial, "customer" | "internal", the earlier call's id or "")."""
        if set(target) - {"call_id", "extension", "number"} or len(target) != 1:
            raise ValueError('name exactly one of "call_id" (call a caller back), '
                             '"extension" or "number"')
        [(key, value)] = target.items()
        if not isinstance(value, str) or not value:
            raise ValueError(f"{key} must be a non-empty string")
        if key == "extension":
            return dialable(value, keys=True), "internal", ""
        if key == "number":
            if not may_dial_numbers:
                raise PermissionError("your role may not dial numbers: call a caller back "
                                      "by their call's id")
            return dialable(value), "customer", ""
        earlier = await self.records.get_call(value)
        if earlier is None:
            raise LookupError(f"no call {value}")
        try:
            return dialable(earlier.caller), "customer", value
        except ValueError:
            raise OwnCallRefused("that caller's number cannot be dialled (withheld or not "
                                 "a phone number)") from None

    async def _ring(self, call_id: str, agent_id: str, device: str, shown: str) -> None:
        answered = False
        try:
            answered = await self.phone.ring_agent(call_id, device, shown, self.presented,
                                                   self.ring_seconds)
        finally:
            if not answered:  # no session will follow: close the record, free the agent
                self.routing.post(ev.OutboundEnded(agent_id, call_id))
                try:
                    await self.records.close_call(call_id, {
                        "ended_at": self.clock(), "outcome": "agent-no-answer",
                        "hung_up_by": "system"})
                except Exception:
                    log.exception("call %s: record not closed", call_id)

    async def drain(self) -> None:
        for task in list(self._tasks):
            task.cancel()
