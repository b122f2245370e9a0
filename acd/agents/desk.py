"""Agent actions shared by the phones' feature codes (acd.agents.phone) and the API: log
in on an agent phone, log out, pause with a reason, resume, end wrap-up, pick up a
colleague's ringing call (抢接). Both paths
post the same routing core events, so one state machine decides; a refused
transition is spoken (phone) or a 409 (API)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Coroutine
from typing import Any, Protocol

from acd.config.routing import DevicePolicy
from acd.core import commands as cmd
from acd.core import events as ev
from acd.core.errors import RoutingError
from acd.core.model import AgentConfig, AgentState
from acd.core.views import AgentView, QueueView

log = logging.getLogger(__name__)

DEVICES_KEY = "agent_devices"  # hash agent_id -> device (PJSIP/agent1001), under the prefix


class AgentNotFound(LookupError):
    pass


class WrongPin(PermissionError):
    pass


class DeviceNotAllowed(PermissionError):
    """A device the agent may not use: not one of their phones, or another agent's."""


class NothingToPickUp(RoutingError):
    """No call rings a colleague in the agent's queues."""


class AgentViews(Protocol):
    def agent_view(self, agent_id: str) -> AgentView: ...

    def queue_view(self, queue: str) -> QueueView: ...


class Routing(Protocol):
    """The routing core: events in (through the dispatcher's one task), agents' views
    out (acd.routing_service.RoutingService)."""

    @property
    def engine(self) -> AgentViews: ...

    async def submit(self, event: ev.Event) -> object: ...


class DeviceStore(Protocol):
    """Which phone each agent is logged in on, kept across restarts (Redis)."""

    async def hgetall_asdict(self, key: str) -> dict[str, str]: ...

    async def hset(self, key: str, field: str, value: str) -> int: ...

    async def hdel(self, key: str, fields: list[str]) -> int: ...


class AgentDesk:
    """Agent actions shared by phones and the API."""

    def __init__(self, agents: list[AgentConfig], dispatcher: Routing,
                 redis: DeviceStore | None = None,
                 prefix: str = "acd:", pause_reasons: dict[str, str] | None = None,
                 devices: DevicePolicy | None = None) -> None:
        self.agents = {a.agent_id: a for a in agents}
        self.policy = devices or DevicePolicy(
            frozenset(f"PJSIP/agent{a.agent_id}" for a in agents))
        self.dispatcher = dispatcher
        self.redis = redis
        self.prefix = prefix
        self.pause_reasons = pause_reasons or {"1": "break", "2": "away", "3": "busy",
                                               "4": "meeting"}
        self.devices: dict[str, str] = {}

    async def load(self) -> None:
        if self.redis is not None:
            self.devices = dict(await self.redis.hgetall_asdict(f"{self.prefix}{DEVICES_KEY}"))

    def agent_on_device(self, device: str) -> str | None:
        return next((a for a, d in self.devices.items() if d == device), None)

    async def login(self, agent_id: str, device: str, pin: str | None = None, *,
                    take_over: bool = True) -> None:
        """Log `agent_id` in on `device`, which must be an agent phone.

        From the phone itself (`take_over`, the default) the newcomer takes the phone
        from whoever was logged in on it (hot desking: they are at the desk). From
        the API an agent's own login never logs another agent out.
        """
        agent = self.agents.get(agent_id)
        if agent is None:
            raise AgentNotFound(f"no agent {agent_id}")
        if pin is not None and agent.pin and not hmac.compare_digest(pin, agent.pin):
            raise WrongPin(f"wrong PIN for agent {agent_id}")
        if not self.policy.is_agent_phone(device) and \
                device not in self.policy.devices_of(agent_id):
            raise DeviceNotAllowed(f"{device[:40]!r} is not an agent phone")
        view = self.dispatcher.engine.agent_view(agent_id)
        if view["state"] != "logged-out" and view["device"] == device:
            log.info("agent %s is already logged in on %s", agent_id, device)
            return  # logging in twice from the same phone is not an error
        previous = self.agent_on_device(device)
        if previous and previous != agent_id:  # one agent per phone: the newcomer takes it
            if not take_over:
                raise DeviceNotAllowed(f"{device} is in use by agent {previous}")
            await self.dispatcher.submit(ev.AgentLoggedOut(previous))
            await self._forget(previous)
        await self.dispatcher.submit(ev.AgentLoggedIn(agent_id, device))
        self.devices[agent_id] = device
        if self.redis is not None:
            await self.redis.hset(f"{self.prefix}{DEVICES_KEY}", agent_id, device)
        log.info("agent %s logged in on %s", agent_id, device)

    async def logout(self, agent_id: str) -> bool:
        """Log the agent out; False when they are on a call: the logout then applies when
        the call (and wrap-up) ends, and the phone is forgotten then (on_routing)."""
        await self.dispatcher.submit(ev.AgentLoggedOut(agent_id))
        if self.dispatcher.engine.agent_view(agent_id)["state"] != "logged-out":
            log.info("agent %s logs out when the call ends", agent_id)
            return False
        await self._forget(agent_id)
        log.info("agent %s logged out", agent_id)
        return True

    def on_routing(self, command: object) -> Coroutine[Any, Any, None] | None:
        """A dispatcher sink: a logout that was pending until the call's end forgets the
        agent's phone when it happens."""
        if isinstance(command, cmd.AgentStateChanged) and \
                command.state is AgentState.LOGGED_OUT and command.agent_id in self.devices:
            return self._forget(command.agent_id)
        return None

    async def _forget(self, agent_id: str) -> None:
        self.devices.pop(agent_id, None)
        if self.redis is not None:
            await self.redis.hdel(f"{self.prefix}{DEVICES_KEY}", [agent_id])

    async def pause(self, agent_id: str, reason: str) -> None:
        reason = self.pause_reasons.get(reason, reason)
        await self.dispatcher.submit(ev.AgentPaused(agent_id, reason))
        log.info("agent %s paused (%s)", agent_id, reason)

    async def resume(self, agent_id: str) -> None:
        await self.dispatcher.submit(ev.AgentResumed(agent_id))
        log.info("agent %s resumed", agent_id)

    async def end_wrap_up(self, agent_id: str) -> None:
        await self.dispatcher.submit(ev.WrapUpEnded(agent_id))

    async def pick_up(self, agent_id: str, call_id: str = "") -> str:
        """抢接: take `call_id`, or else a call that rings a colleague in a queue this
        agent serves; it rings this agent's phone next (their own 报工号 to the
        caller). Returns the call's id; NothingToPickUp or the core's refusal."""
        call_id = call_id or self.ringing_colleague(agent_id)
        if not call_id:
            raise NothingToPickUp(f"no call rings a colleague in agent {agent_id}'s queues")
        await self.dispatcher.submit(ev.CallPickedUp(call_id, agent_id))
        log.info("agent %s picks up call %s", agent_id, call_id)
        return call_id

    def ringing_colleague(self, agent_id: str) -> str:
        """A call that rings another agent in one of this agent's serving queues."""
        engine = self.dispatcher.engine
        for queue in engine.agent_view(agent_id)["serving"]:
            try:
                view = engine.queue_view(queue)
            except RoutingError:
                continue  # removed by a reload meanwhile
            for ring in view["ringing"]:
                if ring["agents"] and agent_id not in ring["agents"]:
                    return ring["call_id"]
        return ""

    # -- the API ---------------------------------------------------------------

    async def api_action(self, agent_id: str, action: str, body: dict[str, Any], *,
                         supervisor: bool = False) -> dict[str, Any]:
        """An agent's action from the API. A login names one of the agent's own phones
        (`agents.N.devices`; default PJSIP/agent<N>); only a supervisor may move an agent
        onto a phone another agent is logged in on."""
        if agent_id not in self.agents:
            raise AgentNotFound(f"no agent {agent_id}")
        if action == "login":
            own = self.policy.devices_of(agent_id)
            device = body.get("device") or self.devices.get(agent_id) or own[0]
            if not isinstance(device, str) or device not in own:
                raise DeviceNotAllowed(f"agent {agent_id} may log in on {', '.join(own)} only "
                                       f"(agents.{agent_id}.devices in config.yaml)")
            await self.login(agent_id, device, take_over=supervisor)
        elif action == "logout":
            if not await self.logout(agent_id):
                return {"agent": agent_id, "action": action, "ok": True, "pending": True}
        elif action == "pause":
            await self.pause(agent_id, str(body.get("reason", "busy")))
        elif action == "resume":
            await self.resume(agent_id)
        elif action == "wrap-up-end":
            await self.end_wrap_up(agent_id)
        elif action in ("queue-login", "queue-logout"):
            queue = body.get("queue")
            if not isinstance(queue, str) or not queue or len(queue) > 64:
                raise ValueError(f'{action} needs {{"queue": NAME}}')
            event = ev.AgentQueueLogin if action == "queue-login" else ev.AgentQueueLogout
            await self.dispatcher.submit(event(agent_id, queue))
            log.info("agent %s %s %s", agent_id, action, queue)
        elif action == "pickup":
            call_id = body.get("call_id", "")
            if not isinstance(call_id, str) or len(call_id) > 64:
                raise ValueError('pickup takes {"call_id": ID} (or nothing: any call '
                                 "ringing a colleague)")
            return {"agent": agent_id, "action": action, "ok": True,
                    "call_id": await self.pick_up(agent_id, call_id)}
        else:
            raise ValueError(f"unknown action {action!r}: login, logout, pause, resume, "
                             "wrap-up-end, queue-login, queue-logout, pickup")
        return {"agent": agent_id, "action": action, "ok": True}
