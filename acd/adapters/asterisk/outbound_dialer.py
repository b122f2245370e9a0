"""An agent's own call, over AMI: ring the agent's phone first (Originate), and when they
answer, their channel runs acd's FastAGI `outbound` route (acd.callflow.outbound), which
dials the customer.

The channel gets the call's id as its Uniqueid (Originate's ChannelId), so Asterisk's
events and the record agree on it; __ACD_CLI (inherited by the Local channel) is the
number the customer sees, the 400 number. The agent's phone shows only what acd passes
as CallerID: the masked number.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from acd.adapters.asterisk.actions import Manager
from acd.adapters.asterisk.syntax import agi_url, originate_agi

log = logging.getLogger(__name__)


class OutboundDialer:
    def __init__(self, ami: Manager, agi_url: str, agi_key: str = "") -> None:
        self.ami = ami
        self.agi_url = agi_url.rstrip("/")
        self.agi_key = agi_key

    async def ring_agent(self, call_id: str, device: str, shown: str, presented: str,
                         ring_seconds: float) -> bool:
        """Ring the agent's `device` showing `shown`; True once they answered (their
        channel is then in acd's `outbound` session), False if they did not."""
        url = agi_url(self.agi_url, "outbound", {
            "call_id": call_id, **({"key": self.agi_key} if self.agi_key else {})})
        action = originate_agi(device, url, ChannelId=call_id, CallerID=shown,
                               Variable=f"__ACD_CLI={presented}",
                               Timeout=int(ring_seconds * 1000), Async="true")
        try:
            response = await self.ami.send(action, as_list=True, timeout=ring_seconds + 10)
        except Exception as exc:
            log.warning("call %s: agent's phone %s not rung: %s", call_id, device, exc)
            return False
        outcome: Mapping[str, str] = (response[-1] if response else {}) \
            if isinstance(response, list) else response
        if outcome.get("Response") != "Success":
            log.info("call %s: %s did not answer their own call (%s)", call_id, device,
                     outcome.get("Reason", "?"))
            return False
        return True
