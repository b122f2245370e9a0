"""Queue and agent settings changed in the console while acd runs: one owner of the
edits (kept in Redis), which turns config.yaml's sections into the ones in use.

The composition root passes config.yaml's sections through `over` at start and on
SIGHUP, and is told (`apply`) after each edit, here or in another acd (the change
feed); it then hands the result to the routing core by the path of a SIGHUP reload
(`RoutingEngine.reconfigure`): agents' states, waiting callers and statistics carry
over. Redis away at start: config.yaml's settings apply until the change feed's first
subscription reads the edits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from acd.config.live_settings import (
    SettingsEdits,
    SettingsError,
    agent_row,
    apply_edits,
    check_agent_edit,
    check_queue_edit,
    queue_row,
)
from acd.config.sections import Sections
from acd.core.model import Strategy

log = logging.getLogger(__name__)


class SettingsStore(Protocol):
    """acd.adapters.redis.live_settings_store.LiveSettingsStore."""

    async def put(self, kind: str, name: str, edit: dict[str, Any]) -> None: ...

    async def drop(self, kind: str, name: str) -> None: ...

    async def load(self) -> SettingsEdits: ...


class NotConfigured(LookupError):
    """No such queue or agent in config.yaml (HTTP 404)."""


class LiveSettings:
    def __init__(self, store: SettingsStore, configured: Sections,
                 apply: Callable[[], Awaitable[None]] | None = None) -> None:
        self.store = store
        #: config.yaml's sections, as last loaded (the bootstrap)
        self.configured = configured
        self.edits = SettingsEdits()
        #: the composition root's: use `self.current()` now
        self.apply = apply
        self._loading: asyncio.Task[None] | None = None
        self._warned: set[str] = set()

    def over(self, configured: Sections) -> Sections:
        """config.yaml's sections (at start, on SIGHUP) with the edits over them."""
        self.configured = configured
        return self.current()

    def current(self) -> Sections:
        queues, agents = apply_edits(self.configured.queues, self.configured.agents,
                                     self._valid_edits())
        return dataclasses.replace(self.configured, queues=queues, agents=agents)

    def _valid_edits(self) -> SettingsEdits:
        """The kept edits that still fit config.yaml (which may have changed since, e.g.
        a queue's max_wait_target removed); the others are left out, each said once."""
        queues = {q.name: q for q in self.configured.queues}
        names = list(queues)
        valid_queues: dict[str, Mapping[str, Any]] = {}
        valid_agents: dict[str, Mapping[str, Any]] = {}
        for name, edit in self.edits.queues.items():
            if name in queues and self._fits(f"queue {name}", check_queue_edit, edit,
                                             queues[name]):
                valid_queues[name] = edit
        for agent_id, edit in self.edits.agents.items():
            if self._fits(f"agent {agent_id}", check_agent_edit, edit, names):
                valid_agents[agent_id] = edit
        return SettingsEdits(valid_queues, valid_agents)

    def _fits(self, what: str, check: Callable[..., object], *args: Any) -> bool:
        try:
            check(*args)
        except SettingsError as exc:
            problem = f"{what}: {exc}"
            if problem not in self._warned:
                self._warned.add(problem)
                log.warning("settings changed in the console for %s no longer fit "
                            "config.yaml (%s): config.yaml's apply; change or reset them "
                            "at /console/settings.html", what, exc)
            return False
        return True

    async def load(self) -> None:
        try:
            self.edits = await self.store.load()
        except Exception as exc:
            log.warning("queue and agent settings changed in the console not read (%s): "
                        "config.yaml's apply until Redis answers", exc)

    def invalidate(self) -> None:
        """The change feed: an acd changed the edits (or the feed subscribed again)."""
        if self._loading is None or self._loading.done():
            self._loading = asyncio.create_task(self._reload(), name="live-settings")

    async def _reload(self) -> None:
        before = self.edits
        await self.load()
        if self.edits != before:
            await self._applied()

    async def _applied(self) -> None:
        if self.apply is not None:
            await self.apply()

    # -- edits (the console's API) ------------------------------------------------------

    async def change_queue(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        queue = next((q for q in self.configured.queues if q.name == name), None)
        if queue is None:
            raise NotConfigured(f"no queue {name!r} in config.yaml")
        edit = {**self.edits.queues.get(name, {}), **check_queue_edit(body, queue)}
        await self.store.put("queue", name, edit)
        self.edits = SettingsEdits({**self.edits.queues, name: edit}, self.edits.agents)
        await self._applied()
        return self._queue_row(name)

    async def change_agent(self, agent_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if agent_id not in {a.agent_id for a in self.configured.agents}:
            raise NotConfigured(f"no agent {agent_id!r} in config.yaml")
        edit = {**self.edits.agents.get(agent_id, {}),
                **check_agent_edit(body, [q.name for q in self.configured.queues])}
        await self.store.put("agent", agent_id, edit)
        self.edits = SettingsEdits(self.edits.queues, {**self.edits.agents, agent_id: edit})
        await self._applied()
        return self._agent_row(agent_id)

    async def reset(self, kind: str, name: str) -> None:
        """config.yaml's settings of that queue or agent apply again."""
        edits = self.edits.queues if kind == "queue" else self.edits.agents
        if name not in edits:
            raise NotConfigured(f"the {kind} {name!r} has no settings changed in the console")
        await self.store.drop(kind, name)
        rest = {k: v for k, v in edits.items() if k != name}
        self.edits = (SettingsEdits(rest, self.edits.agents) if kind == "queue"
                      else SettingsEdits(self.edits.queues, rest))
        await self._applied()

    # -- what the console shows ---------------------------------------------------------

    def rows(self) -> dict[str, Any]:
        current = self.current()
        return {"queues": [queue_row(q, self.edits.queues.get(q.name, {}))
                           for q in current.queues],
                "agents": [agent_row(a, current.queues, self.edits.agents.get(a.agent_id, {}))
                           for a in current.agents],
                "strategies": [s.value for s in Strategy]}

    def _queue_row(self, name: str) -> dict[str, Any]:
        return next(q for q in self.rows()["queues"] if q["name"] == name)

    def _agent_row(self, agent_id: str) -> dict[str, Any]:
        return next(a for a in self.rows()["agents"] if a["id"] == agent_id)
