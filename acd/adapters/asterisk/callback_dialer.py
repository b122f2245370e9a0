"""Calling customers back (virtual hold): the routing core's PlaceCallback, over AMI.

acd originates `Local/<customer>@acd-callback-out` (the dialplan dials the customer
through ACD_TRUNK); when the customer answers, the other half of the Local channel
runs acd's FastAGI `callback` route (acd.callflow.callback), which rings the reserved agent.
If the customer cannot be reached the core hears CallbackFailed and retries later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from acd.adapters.asterisk.actions import Manager
from acd.adapters.asterisk.syntax import agi_url, originate_agi
from acd.core import commands as cmd
from acd.core import events as ev
from acd.privacy import logged
from acd.rules.numbers import dialable

log = logging.getLogger(__name__)


class CallbackDialer:
    def __init__(self, ami: Manager, post: Callable[[ev.Event], None], agi_url: str,
                 caller_id: str, agi_key: str = "") -> None:
        self.ami = ami
        #: to the routing core (the dispatcher), when a callback could not be placed
        self.post = post
        self.agi_url = agi_url.rstrip("/")
        self.caller_id = caller_id
        self.agi_key = agi_key

    def __call__(self, command: cmd.Command) -> Coroutine[Any, Any, None] | None:
        """A dispatcher sink: only PlaceCallback becomes work (a task)."""
        return self.place(command) if isinstance(command, cmd.PlaceCallback) else None

    async def place(self, command: cmd.PlaceCallback) -> None:
        try:
            number = dialable(command.number)
            url = agi_url(self.agi_url, "callback", {
                "call_id": command.call_id, "agent": command.agent_id,
                "device": command.device, "timeout": f"{command.timeout:g}",
                **({"key": self.agi_key} if self.agi_key else {})})
            action = originate_agi(f"Local/{number}@acd-callback-out", url,
                                   Timeout=int(command.timeout * 1000),
                                   CallerID=self.caller_id, Async="true")
        except ValueError:  # UnsafeValue too: never dialled
            log.error("call %s: callback number %s refused: not a number acd can dial",
                      command.call_id, logged(command.number))
            self.post(ev.CallbackFailed(command.call_id))
            return
        log.info("call %s: calling %s back for agent %s", command.call_id,
                 logged(command.number), command.agent_id)
        try:
            response = await self.ami.send(action, as_list=True,
                                           timeout=command.timeout + 10)
        except Exception as exc:
            log.warning("call %s: callback to %s not placed: %s", command.call_id,
                        logged(command.number), exc)
            self.post(ev.CallbackFailed(command.call_id))
            return
        # with as_list, the messages up to OriginateResponse (never none, but if so: failed)
        outcome: Mapping[str, str] = (response[-1] if response else {}) \
            if isinstance(response, list) else response
        if outcome.get("Response") != "Success":
            log.info("call %s: %s did not answer the callback (%s)", command.call_id,
                     logged(command.number), outcome.get("Reason", "?"))
            self.post(ev.CallbackFailed(command.call_id))
