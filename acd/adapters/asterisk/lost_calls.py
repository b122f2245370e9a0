"""What the dialplan did with calls while acd was away, read back over AMI.

[acd-inbound] (asterisk/extensions.conf) takes a call on without acd in two ways: it
says goodbye after a conversation whose agent hung up (`talked`), or it queues an
unserved caller in Asterisk's own queues (`fallback`: their queue's twin
acd-fallback-<queue>, or the catch-all acd-fallback; every one sets MEMBERNAME, the
agent id, and QEHOLDTIME the same way, so the account reads alike whichever it was).
It marks the channel (ACD_LOST) and, when the call ends, its h extension writes one
AstDB entry; it writes one too (`talked`) when a caller hangs up mid-conversation while
no acd is alive (acd.adapters.asterisk.liveness):

    acd-lost/<call id> = path|queued at|held s|agent|ended at|hung up by|QUEUESTATUS|
                         answered ms of the last Dial|its peer|acd's last session ended|
                         the DID|arrived at|the last Dial bridged at|the caller's number

AstDB is Asterisk's own durable store: the entry survives acd being away for as long
as it takes, and an Asterisk restart. acd reads it when it closes such a call's
record, then deletes it; an entry for a call acd has no record of (it came and went
while no acd was there) becomes that call's record (acd.callflow.registry,
record_unseen).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Protocol

from acd.adapters.asterisk import syntax
from acd.adapters.asterisk.agi import device_of_channel, number_or_none
from acd.adapters.asterisk.ami import AmiActionFailed, Response
from acd.callflow.facts import LostCallAccount
from acd.callflow.ports import ChannelVanished

log = logging.getLogger(__name__)

FAMILY = "acd-lost"
#: the channel variable the dialplan sets on its own paths
PATH_VARIABLE = "ACD_LOST"


class AmiSender(Protocol):
    async def send(self, action: dict[str, str], *, as_list: bool | None = None,
                   timeout: float | None = None) -> Response: ...


def parse_account(value: str, agent_on_device: Callable[[str], str | None] = lambda _: None,
                  ) -> LostCallAccount | None:
    """The AstDB entry's fields (see the module's docstring); None if it is not one. The
    agent of a `talked` call is the one on the Dial's peer device."""
    parts = (value.split("|", 13) + [""] * 14)[:14]  # the caller's number last, whole
    (path, queued, held, agent, ended, by, status, answered_ms, peer, session_ended,
     called, arrived, bridged, caller) = parts
    if path == "talked" and peer:
        agent = agent_on_device(device_of_channel(peer)) or ""
    if path not in ("talked", "fallback"):
        return None
    answered = number_or_none(answered_ms)
    return LostCallAccount(
        path=path, queued_at=number_or_none(queued), held_seconds=number_or_none(held),
        agent=agent, ended_at=number_or_none(ended),
        hung_up_by=by if by in ("caller", "agent") else "", queue_status=status,
        answered_seconds=answered / 1000 if answered is not None else None,
        session_ended_at=number_or_none(session_ended), called=called,
        arrived_at=number_or_none(arrived), caller=caller,
        bridged_at=number_or_none(bridged))


class AmiLostCalls:
    """The LostCalls port (acd.callflow.ports) over AMI."""

    def __init__(self, ami: AmiSender,
                 agent_on_device: Callable[[str], str | None]) -> None:
        self.ami = ami
        self.agent_on_device = agent_on_device

    async def path_of(self, channel: str) -> str:
        try:
            response = await self.ami.send(syntax.get_channel_variable(channel,
                                                                       PATH_VARIABLE))
        except AmiActionFailed as exc:
            if "no such channel" in str(exc).lower():
                raise ChannelVanished(channel) from None
            raise
        value = response.get("Value", "") if isinstance(response, Mapping) else ""
        return value if value in ("talked", "fallback") else ""

    async def account(self, call_id: str) -> LostCallAccount | None:
        try:
            # no as_list: found, "Result will follow" starts a list (DBGetResponse, then
            # DBGetComplete); not found is one error response, which as_list=True would
            # wait behind forever
            response = await self.ami.send(syntax.db_get(FAMILY, call_id))
        except AmiActionFailed:  # "Database entry not found": nothing was recorded
            return None
        messages = response if isinstance(response, list) else [response]
        value = next((m.get("Val", "") for m in messages
                      if m.get("Event") == "DBGetResponse"), "")
        account = parse_account(value, self.agent_on_device)
        if account is None:
            log.warning("call %s: AstDB %s entry %r is not an account; ignored", call_id,
                        FAMILY, value[:120])
        with contextlib.suppress(AmiActionFailed):
            await self.ami.send(syntax.db_delete(FAMILY, call_id))
        return account

    async def accounts(self) -> dict[str, LostCallAccount | None]:
        """Every account AstDB holds (DBGetTree), by call id; None for an entry that is
        not one. Nothing is forgotten: see forget()."""
        response = await self.ami.send(syntax.db_tree(FAMILY), as_list=True)
        found: dict[str, LostCallAccount | None] = {}
        for message in response if isinstance(response, list) else [response]:
            if message.get("Event") != "DBGetTreeResponse":
                continue
            call_id = message.get("Key", "").rpartition("/")[2]
            if call_id:
                found[call_id] = parse_account(message.get("Val", ""), self.agent_on_device)
        return found

    async def forget(self, call_id: str) -> None:
        with contextlib.suppress(AmiActionFailed):  # gone already
            await self.ami.send(syntax.db_delete(FAMILY, call_id))
