"""Agents on their softphones: the FastAGI routes behind the feature codes.

*71 log in (agent number + PIN; binds the agent to the phone dialled from: hot
desking), *72 log out, *73N pause with reason digit N, *74 resume, *75 end wrap-up
early, *8 pick up a call ringing a colleague in one's queues (抢接: the call rings this
phone next). What is said back is the service's own phrases (acd.media.phrases).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol

from acd.adapters.asterisk.agi import AgiChannel, AgiServer, device_of_channel
from acd.agents.desk import AgentDesk, AgentNotFound, DeviceNotAllowed, WrongPin
from acd.callflow.errors import CallerHungUp
from acd.core.errors import RoutingError
from acd.media import phrases
from acd.media.playables import Playable

log = logging.getLogger(__name__)


class PromptFiles(Protocol):
    async def paths(self, prompts: Iterable[Playable]) -> list[str]: ...


class AgentPhone:
    def __init__(self, desk: AgentDesk, prompts: PromptFiles,
                 languages: Sequence[str]) -> None:
        self.desk = desk
        self.prompts = prompts
        self.languages = tuple(languages)

    def register(self, agi: AgiServer) -> None:
        agi.route("agent-login", self.login)
        agi.route("agent-logout", self.logout)
        agi.route("agent-pause", self.pause)
        agi.route("agent-resume", self.resume)
        agi.route("agent-wrapup-end", self.wrapup_end)
        agi.route("agent-pickup", self.pickup)

    async def _files(self, key: str, **values: object) -> list[str]:
        return await self.prompts.paths(phrases.say(key, None, self.languages, **values))

    async def _say(self, channel: AgiChannel, key: str, **values: object) -> None:
        await channel.play(await self._files(key, **values))

    async def login(self, channel: AgiChannel) -> None:
        await channel.answer()
        device = device_of_channel(channel.channel_name)
        if not self.desk.policy.is_agent_phone(device):
            log.warning("login refused: %s is not an agent phone (agent_devices)", device)
            await self._say(channel, "unknown_phone")
            return
        for _attempt in range(2):
            agent_id = await channel.get_digits(await self._files("agent_number"), 5, 8)
            pin = await channel.get_digits(await self._files("agent_pin"), 5, 8)
            try:
                await self.desk.login(agent_id, device, pin)
            except (AgentNotFound, WrongPin) as exc:
                log.info("login refused on %s: %s", device, exc)
                await self._say(channel, "login_failed")
                continue
            except (RoutingError, DeviceNotAllowed) as exc:  # e.g. on a call elsewhere
                log.info("login refused on %s: %s", device, exc)
                await self._say(channel, "not_allowed", why=str(exc))
                return
            await self._say(channel, "login_ok", agent=" ".join(agent_id))
            return
        await channel.hangup()

    async def _on_phone(self, channel: AgiChannel,
                        action: Callable[[str], Awaitable[None]], done: str) -> None:
        await channel.answer()
        agent_id = self.desk.agent_on_device(device_of_channel(channel.channel_name))
        if agent_id is None:
            await self._say(channel, "unknown_phone")
            return
        try:
            await action(agent_id)
        except CallerHungUp:
            raise
        except (RoutingError, ValueError) as exc:  # a refused transition is told to the agent
            log.info("agent %s: refused: %s", agent_id, exc)
            await self._say(channel, "not_allowed", why=str(exc))
            return
        await self._say(channel, done)

    async def logout(self, channel: AgiChannel) -> None:
        async def logout(agent_id: str) -> None:
            await self.desk.logout(agent_id)  # during a call: when it ends

        await self._on_phone(channel, logout, "logout_ok")

    async def pause(self, channel: AgiChannel) -> None:
        reason = channel.params.get("reason", "3")

        async def pause(agent_id: str) -> None:
            await self.desk.pause(agent_id, reason)

        await self._on_phone(channel, pause, "paused")

    async def resume(self, channel: AgiChannel) -> None:
        await self._on_phone(channel, self.desk.resume, "resumed")

    async def wrapup_end(self, channel: AgiChannel) -> None:
        await self._on_phone(channel, self.desk.end_wrap_up, "wrapup_ended")

    async def pickup(self, channel: AgiChannel) -> None:
        """The phone hangs up first, then the call is taken: it rings this phone next,
        which must be free by then. Nothing to take, or a refusal, is said instead."""
        await channel.answer()
        agent_id = self.desk.agent_on_device(device_of_channel(channel.channel_name))
        if agent_id is None:
            await self._say(channel, "unknown_phone")
            return
        call_id = self.desk.ringing_colleague(agent_id)
        if not call_id:
            log.info("agent %s: pickup, but no call rings a colleague", agent_id)
            await self._say(channel, "nothing_to_pick_up")
            return
        await channel.hangup()
        try:
            await self.desk.pick_up(agent_id, call_id)
        except RoutingError as exc:  # e.g. answered meanwhile: the agent's phone stays quiet
            log.info("agent %s: pickup of %s refused: %s", agent_id, call_id, exc)
