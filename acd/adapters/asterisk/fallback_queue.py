"""Asterisk's native fallback queue, kept in step with acd's agents.

While acd is away the dialplan sends callers to app_queue's `acd-fallback`
(asterisk/extensions.conf). It must ring the agents acd last knew to be at work, and
no one else: so its members are dynamic and acd keeps them in step, an AMI action
only when an agent's membership changes (login, pause, resume, logout), never per
call (app_queue sees a phone in use from its device state):

| acd's agent state          | member of acd-fallback |
|----------------------------|------------------------|
| logged out                 | removed                |
| paused                     | paused (with reason)   |
| anything else              | member                 |

After every AMI login (acd's start, Asterisk's restart) the queue's members are read
back (QueueStatus) and corrected, so an action lost while AMI was down is made good.
The members' names are acd's agent ids: what answered a fallback call is read back
as an agent (acd.adapters.asterisk.lost_calls).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from acd.adapters.asterisk import syntax
from acd.adapters.asterisk.ami import AmiActionFailed, Response
from acd.core import commands as cmd
from acd.core.model import AgentState

log = logging.getLogger(__name__)

Event = Mapping[str, str]


class Membership(StrEnum):
    ABSENT = "absent"
    MEMBER = "member"
    PAUSED = "paused"


def membership_of(state: str) -> Membership:
    if state == AgentState.LOGGED_OUT:
        return Membership.ABSENT
    if state == AgentState.PAUSED:
        return Membership.PAUSED
    return Membership.MEMBER


@dataclass(frozen=True)
class Wanted:
    """What one agent should be in the fallback queue."""

    device: str
    membership: Membership
    reason: str = ""


class AmiSender(Protocol):
    @property
    def connected(self) -> bool: ...

    async def send(self, action: dict[str, str], *, as_list: bool | None = None,
                   timeout: float | None = None) -> Response: ...


@dataclass(frozen=True)
class AgentSeen:
    """An agent as the routing core shows it: enough to place them in the queue."""

    agent_id: str
    device: str
    state: str
    reason: str


class FallbackQueue:
    def __init__(self, ami: AmiSender, queue: str,
                 agents: Callable[[], Iterable[AgentSeen]],
                 agent: Callable[[str], AgentSeen | None]) -> None:
        self.ami = ami
        self.queue = queue
        #: every agent the routing core knows, and one of them (None: unknown)
        self._agents = agents
        self._agent = agent
        #: what Asterisk has, as far as acd knows (agent id -> device, membership)
        self._applied: dict[str, Wanted] = {}
        self._wanted: dict[str, Wanted] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()

    def start(self) -> asyncio.Task[None]:
        """Run the task that sends the changes (cancel it to stop)."""
        return asyncio.get_running_loop().create_task(self._apply_forever(),
                                                      name="fallback-queue")

    # -- inputs -----------------------------------------------------------------------------

    def on_routing(self, command: cmd.Command) -> None:
        """A dispatcher sink: an agent's state changed (decides at once, sends later).
        Ringing, on a call, wrap-up and back change nothing here (app_queue sees a phone
        in use from its device state), so per call this costs two comparisons."""
        if not isinstance(command, cmd.AgentStateChanged):
            return
        membership = membership_of(command.state)
        reason = command.reason if membership is Membership.PAUSED else ""
        previous = self._wanted.get(command.agent_id)
        if previous is not None and previous.membership is membership and \
                previous.reason == reason:
            return
        seen = self._agent(command.agent_id)
        device = (seen.device if seen is not None else "") or \
            (previous.device if previous is not None else "")
        if device:
            self._want(command.agent_id, Wanted(device, membership, reason))

    async def resync(self, _channels: object = None) -> None:
        """After an AMI login: read the queue's members back, then correct them."""
        try:
            self._applied = await self._members()
        except Exception as exc:  # the next login tries again; until then, act blind
            log.error("fallback queue %s: members not read (%s); acd re-sends every "
                      "agent's membership", self.queue, exc)
            self._applied = {}
        self._wanted = {}
        for agent in self._agents():
            if agent.device:
                self._wanted[agent.agent_id] = Wanted(
                    agent.device, membership_of(agent.state),
                    agent.reason if agent.state == AgentState.PAUSED else "")
        strangers = set(self._applied) - set(self._wanted)
        for agent_id in strangers:  # members acd does not know: not acd's agents now
            self._wanted[agent_id] = Wanted(self._applied[agent_id].device,
                                            Membership.ABSENT)
        self._dirty = set(self._wanted)
        self._wake.set()

    def _want(self, agent_id: str, wanted: Wanted) -> None:
        self._wanted[agent_id] = wanted
        self._dirty.add(agent_id)
        self._wake.set()

    # -- Asterisk ---------------------------------------------------------------------------

    async def _members(self) -> dict[str, Wanted]:
        response = await self.ami.send(syntax.queue_status(self.queue), as_list=True)
        messages = response if isinstance(response, list) else [response]
        members: dict[str, Wanted] = {}
        for m in messages:
            if m.get("Event") != "QueueMember" or m.get("Queue") != self.queue:
                continue
            device = m.get("StateInterface") or m.get("Location", "")
            name = m.get("Name") or m.get("MemberName") or device
            paused = m.get("Paused") == "1"
            members[name] = Wanted(m.get("Location", device),
                                   Membership.PAUSED if paused else Membership.MEMBER,
                                   m.get("PausedReason", ""))
        return members

    async def _apply_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self.ami.connected:
                continue  # the login's resync sends everything
            for agent_id in sorted(self._dirty):
                self._dirty.discard(agent_id)
                wanted = self._wanted.get(agent_id)
                if wanted is None:
                    continue
                try:
                    await self._apply(agent_id, wanted)
                except Exception as exc:
                    log.warning("agent %s: fallback queue %s not updated (%s); the next "
                                "AMI login corrects it", agent_id, self.queue, exc)

    async def _apply(self, agent_id: str, wanted: Wanted) -> None:
        have = self._applied.get(agent_id)
        if have == wanted:
            return
        if have is not None and (wanted.membership is Membership.ABSENT
                                 or have.device != wanted.device):
            await self._quietly(syntax.queue_member_remove(self.queue, have.device))
            self._applied.pop(agent_id, None)
            have = None
        if wanted.membership is Membership.ABSENT:
            log.info("agent %s left fallback queue %s", agent_id, self.queue)
            return
        paused = wanted.membership is Membership.PAUSED
        if have is None:
            await self._quietly(syntax.queue_member_add(self.queue, wanted.device, agent_id,
                                                        paused))
            if paused and wanted.reason:
                await self._quietly(syntax.queue_member_pause(self.queue, wanted.device,
                                                              True, wanted.reason))
        else:
            await self._quietly(syntax.queue_member_pause(self.queue, wanted.device, paused,
                                                          wanted.reason))
        self._applied[agent_id] = wanted
        log.info("agent %s in fallback queue %s: %s", agent_id, self.queue,
                 wanted.membership)

    async def _quietly(self, action: dict[str, str]) -> None:
        """An action whose 'already there' / 'not there' answer is what we wanted."""
        try:
            # as_list=False: panoramisk takes "Added interface to queue" for the start of
            # an event list and would wait for its end, which never comes
            await self.ami.send(action, as_list=False)
        except AmiActionFailed as exc:
            text = str(exc).lower()
            if "already there" in text or "not there" in text or "not found" in text:
                return
            raise
