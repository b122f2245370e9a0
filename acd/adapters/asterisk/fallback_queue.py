"""Asterisk's native fallback queues, kept in step with acd's agents.

While acd is away the dialplan sends an unserved caller to app_queue: to the twin of
the acd queue they waited in, `acd-fallback-<queue>` (acd.adapters.asterisk.
fallback_queues writes them), or to the catch-all `acd-fallback` when they never
reached a queue or the twin is missing (asterisk/extensions.conf). These queues must
ring the agents acd last knew to be at work, and no one else: so their members are
dynamic and acd keeps them in step, one AMI action per membership that changes (login,
pause, resume, logout, a queue logged into or out of), never per call (app_queue sees a
phone in use from its device state):

| acd's agent state          | the catch-all          | the twin of each queue they serve |
|----------------------------|------------------------|-----------------------------------|
| logged out                 | removed                | removed                           |
| paused                     | paused (with reason)   | paused (with reason)              |
| anything else              | member                 | member, with the queue's penalty  |

A queue the agent logged out of (per-queue logout) loses them; a queue whose twin
Asterisk does not have is left alone (`acd check` says so).

After every AMI login (acd's start, Asterisk's restart) the queues' members are read
back (one QueueStatus) and corrected, so an action lost while AMI was down is made
good, and a twin Asterisk lacks, or that rings by another strategy than the
configuration's, is logged; after a reload the wanted memberships are worked out
again. The members' names are acd's agent ids: what answered a fallback call, in
whichever of these queues, is read back as an agent (acd.adapters.asterisk.lost_calls).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from acd.adapters.asterisk import syntax
from acd.adapters.asterisk.ami import AmiActionFailed, Response
from acd.adapters.asterisk.fallback_queues import stale_twins, twin_of
from acd.core import commands as cmd
from acd.core.model import AgentState

log = logging.getLogger(__name__)

Event = Mapping[str, str]
#: (native queue, agent id)
Key = tuple[str, str]


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
    """What one agent should be in one native queue."""

    device: str
    membership: Membership
    reason: str = ""
    penalty: int = 0


class AmiSender(Protocol):
    @property
    def connected(self) -> bool: ...

    async def send(self, action: dict[str, str], *, as_list: bool | None = None,
                   timeout: float | None = None) -> Response: ...


@dataclass(frozen=True)
class AgentSeen:
    """An agent as the routing core shows it: enough to place them in the queues."""

    agent_id: str
    device: str
    state: str
    reason: str
    #: the acd queues they take calls from now -> their penalty there
    queues: Mapping[str, int] = field(default_factory=dict)


def wanted_of(agent: AgentSeen, catch_all: str, twins: Collection[str],
              ) -> dict[str, Wanted]:
    """The native queues `agent` belongs in, and how (pure: the table above). Only the
    twins Asterisk has (`twins`) are named; the catch-all always is."""
    membership = membership_of(agent.state)
    reason = agent.reason if membership is Membership.PAUSED else ""
    wanted = {catch_all: Wanted(agent.device, membership, reason)}
    for queue, penalty in agent.queues.items():
        twin = twin_of(queue, catch_all)
        if twin is not None and twin in twins:
            wanted[twin] = Wanted(agent.device, membership, reason, max(0, penalty))
    return wanted


class FallbackQueue:
    def __init__(self, ami: AmiSender, queue: str,
                 agents: Callable[[], Iterable[AgentSeen]],
                 agent: Callable[[str], AgentSeen | None],
                 expected: Callable[[], Mapping[str, str]] = dict) -> None:
        self.ami = ami
        #: the catch-all's name; each acd queue's twin is `<queue>-<acd queue>`
        self.queue = queue
        #: every agent the routing core knows, and one of them (None: unknown)
        self._agents = agents
        self._agent = agent
        #: each queue's twin acd expects -> its app_queue strategy (the configuration)
        self._expected = expected
        #: the twins Asterisk has -> their strategy (read back at each AMI login)
        self.twins: dict[str, str] = {}
        #: what Asterisk has, as far as acd knows, and what acd wants (agent -> queue -> )
        self._applied: dict[str, dict[str, Wanted]] = {}
        self._wanted: dict[str, dict[str, Wanted]] = {}
        self._dirty: set[Key] = set()
        self._wake = asyncio.Event()

    def start(self) -> asyncio.Task[None]:
        """Run the task that sends the changes (cancel it to stop)."""
        return asyncio.get_running_loop().create_task(self._apply_forever(),
                                                      name="fallback-queue")

    # -- inputs -----------------------------------------------------------------------------

    def on_routing(self, command: cmd.Command) -> None:
        """A dispatcher sink: an agent's state or queues changed (decides at once, sends
        later). Ringing, on a call, wrap-up and back change nothing here (app_queue sees a
        phone in use from its device state), so per call this costs two comparisons."""
        if isinstance(command, cmd.AgentServingChanged):
            self._refresh(command.agent_id)
            return
        if not isinstance(command, cmd.AgentStateChanged):
            return
        membership = membership_of(command.state)
        reason = command.reason if membership is Membership.PAUSED else ""
        previous = self._wanted.get(command.agent_id, {}).get(self.queue)
        if previous is not None and previous.membership is membership and \
                previous.reason == reason:
            return
        self._refresh(command.agent_id)

    async def resync(self, _channels: object = None) -> None:
        """After an AMI login: read the queues' members back, then correct them."""
        try:
            self._applied, self.twins = await self._members()
        except Exception as exc:  # the next login tries again; until then, act blind
            log.error("fallback queue %s: members not read (%s); acd re-sends every "
                      "agent's membership", self.queue, exc)
            self._applied = {}
        self._wanted = {}
        self.refresh_all()
        for warning in stale_twins(self._expected(), self.twins):
            log.warning("fallback queues: %s; run `acd asterisk-queues` and "
                        "`asterisk -rx 'module reload app_queue'`", warning)

    def refresh_all(self) -> None:
        """Work every agent's memberships out again (a reload: queues and penalties may
        have changed); members acd does not know are removed."""
        known: set[str] = set()
        for agent in self._agents():
            known.add(agent.agent_id)
            self._refresh(agent.agent_id, agent)
        for agent_id in (set(self._applied) | set(self._wanted)) - known:
            self._refresh(agent_id, None, gone=True)  # not acd's agent now

    def _refresh(self, agent_id: str, seen: AgentSeen | None = None, *,
                 gone: bool = False) -> None:
        """Want what `agent_id` should be in each native queue, from the routing core
        (`gone`: not an agent of acd's now: in none)."""
        if seen is None and not gone:
            seen = self._agent(agent_id)
        wanted, applied = self._wanted.get(agent_id, {}), self._applied.get(agent_id, {})
        now = wanted_of(seen, self.queue, self.twins) if seen is not None else {}
        for queue in set(wanted) | set(applied) | set(now):
            known = wanted.get(queue) or applied.get(queue)
            device = known.device if known is not None else ""
            new = now.get(queue)
            if new is None:  # a queue they no longer serve, or no agent now
                new = Wanted(device, Membership.ABSENT)
            elif not new.device:  # (logged out: the phone they were on)
                new = Wanted(device, new.membership, new.reason, new.penalty)
            if new.device:
                self._want((queue, agent_id), new)

    def _want(self, key: Key, wanted: Wanted) -> None:
        queue, agent_id = key
        mine = self._wanted.setdefault(agent_id, {})
        if mine.get(queue) == wanted and key not in self._dirty and \
                self._applied.get(agent_id, {}).get(queue) == wanted:
            return
        mine[queue] = wanted
        self._dirty.add(key)
        self._wake.set()

    # -- Asterisk ---------------------------------------------------------------------------

    def _ours(self, queue: str) -> bool:
        return queue == self.queue or queue.startswith(f"{self.queue}-")

    async def _members(self) -> tuple[dict[str, dict[str, Wanted]], dict[str, str]]:
        """Every member of our native queues, and the twins that exist (one QueueStatus
        for all queues)."""
        response = await self.ami.send(syntax.queue_status(), as_list=True)
        messages = response if isinstance(response, list) else [response]
        members: dict[str, dict[str, Wanted]] = {}
        twins: dict[str, str] = {}
        for m in messages:
            queue = m.get("Queue", "")
            if not self._ours(queue):
                continue
            if m.get("Event") == "QueueParams" and queue != self.queue:
                twins[queue] = m.get("Strategy", "")
            if m.get("Event") != "QueueMember":
                continue
            device = m.get("StateInterface") or m.get("Location", "")
            name = m.get("Name") or m.get("MemberName") or device
            paused = m.get("Paused") == "1"
            try:
                penalty = int(m.get("Penalty", "0") or 0)
            except ValueError:
                penalty = 0
            members.setdefault(name, {})[queue] = Wanted(
                m.get("Location", device), Membership.PAUSED if paused else Membership.MEMBER,
                m.get("PausedReason", "") if paused else "", penalty)
        return members, twins

    async def _apply_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self.ami.connected:
                continue  # the login's resync sends everything
            for key in sorted(self._dirty):
                self._dirty.discard(key)
                wanted = self._wanted.get(key[1], {}).get(key[0])
                if wanted is None:
                    continue
                try:
                    await self._apply(key, wanted)
                except Exception as exc:
                    log.warning("agent %s: fallback queue %s not updated (%s); the next "
                                "AMI login corrects it", key[1], key[0], exc)

    async def _apply(self, key: Key, wanted: Wanted) -> None:
        queue, agent_id = key
        applied = self._applied.setdefault(agent_id, {})
        have = applied.get(queue)
        if have == wanted:
            return
        if have is not None and (wanted.membership is Membership.ABSENT
                                 or have.device != wanted.device):
            await self._quietly(syntax.queue_member_remove(queue, have.device))
            applied.pop(queue, None)
            if wanted.membership is Membership.ABSENT:
                log.info("agent %s left fallback queue %s", agent_id, queue)
            have = None
        if wanted.membership is Membership.ABSENT:
            return
        paused = wanted.membership is Membership.PAUSED
        if have is None:
            await self._quietly(syntax.queue_member_add(queue, wanted.device, agent_id,
                                                        paused, wanted.penalty, wanted.reason))
        else:
            if have.penalty != wanted.penalty:
                await self._quietly(syntax.queue_member_penalty(queue, wanted.device,
                                                                wanted.penalty))
            if (have.membership, have.reason) != (wanted.membership, wanted.reason):
                await self._quietly(syntax.queue_member_pause(queue, wanted.device, paused,
                                                              wanted.reason))
        applied[queue] = wanted
        log.info("agent %s in fallback queue %s: %s (penalty %d)", agent_id, queue,
                 wanted.membership, wanted.penalty)

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
