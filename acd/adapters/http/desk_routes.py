"""The agent desk's own routes: who I am and how my day goes (GET /api/me), and the
previous calls of the caller on a call offered to me (GET /api/calls/{id}/history).

Both answer an agent about themselves only. The caller's number stays behind the number
firewall: the history is asked by call id, answers the number masked unless the role
may see it, and names each earlier call by its id (what click-to-call sends).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.exc import DBAPIError, OperationalError

from acd.adapters.desk_history import DeskHistory
from acd.adapters.http.app import SERVICES, USER, ApiError, _available, require
from acd.adapters.http.auth import Role, User
from acd.console.desk import offered_to, previous_call, rung_agents, today_figures
from acd.core.errors import UnknownQueue
from acd.core.views import AgentView, QueueView
from acd.privacy import mask_number

log = logging.getLogger(__name__)


@dataclass
class DeskServices:
    """What the desk's routes reach; the composition root fills it in
    (acd.adapters.http.desk_wiring)."""

    #: an agent's view from the routing core (None: no such agent)
    agent_view: Callable[[str], AgentView | None]
    #: a queue's view (calls ringing a colleague, for pickup); UnknownQueue: none
    queue_view: Callable[[str], QueueView]
    #: the pause reasons the desk offers (config pause_reasons: code -> reason), reloaded
    pause_reasons: Callable[[], Mapping[str, str]]
    #: epoch seconds of the start of today (the statistics day)
    day_start: Callable[[], float]
    #: the call history; None: off (history.enabled: false) or not open yet
    history: DeskHistory | None = None


DESK = web.AppKey("desk", DeskServices)


def _desk(request: web.Request) -> DeskServices:
    desk = request.app.get(DESK)
    if desk is None:
        raise ApiError("the agent desk is not available", status=503)
    return desk


def _own_agent(user: User) -> str:
    if not user.agent_id:
        raise ApiError(f"user {user.name} is bound to no agent: the desk is for agents "
                       f"(users.{user.name}.agent in config.yaml)", status=403)
    return user.agent_id


def _ringing_colleagues(desk: DeskServices, serving: list[str],
                        agent_id: str) -> list[dict[str, Any]]:
    """Calls ringing another agent in a queue this agent serves: what pickup may take.
    Call ids and queues only; never a number. (Only the agent's own queues are read: a
    queue's view sorts its waiting callers.)"""
    found: list[dict[str, Any]] = []
    for name in serving:
        try:
            queue = desk.queue_view(name)
        except UnknownQueue:
            continue  # removed by a reload meanwhile
        found += [{"call_id": ring["call_id"], "queue": name,
                   "ringing": [a for a in ring["agents"] if a != agent_id]}
                  for ring in queue["ringing"]
                  if ring["agents"] and agent_id not in ring["agents"]]
    return found


@require(Role.AGENT)
async def get_me(request: web.Request) -> web.StreamResponse:
    """The logged-in agent: state and time in it, queues (and which they serve now), the
    pause reasons to offer, today's figures, and colleagues' ringing calls."""
    user: User = request[USER]
    agent_id = _own_agent(user)
    desk = _desk(request)
    view = desk.agent_view(agent_id)
    if view is None:
        raise ApiError(f"no agent {agent_id} in the configuration", status=404)
    surveys: dict[str, int] | None = None
    if desk.history is not None:
        try:
            surveys = await desk.history.survey_split(agent_id, desk.day_start())
        except (OperationalError, DBAPIError) as exc:  # not written yet, or away
            log.info("agent %s: today's survey split not read (%s)", agent_id, exc)
    return web.json_response({
        "user": user.name, "role": user.role.name.lower(), "agent": agent_id,
        "name": view["name"], "state": view["state"], "since": view["since"],
        "reason": view["reason"], "call_id": view["call_id"],
        "pending_logout": view["pending_logout"], "pending_pause": view["pending_pause"],
        "queues": view["queues"], "serving": view["serving"],
        "pause_reasons": [{"code": code, "reason": reason}
                          for code, reason in desk.pause_reasons().items()],
        "today": today_figures(view["stats"], surveys),
        "ringing_colleagues": _ringing_colleagues(desk, view["serving"], agent_id),
    })


@require(Role.AGENT)
async def caller_history(request: web.Request) -> web.StreamResponse:
    """The caller's previous calls (newest first): an agent asks only about a call
    offered to them; supervisors about any call. Numbers masked per role."""
    user: User = request[USER]
    services = request.app[SERVICES]
    desk = _desk(request)
    calls = _available(services.call_store, "call records are")
    call_id = request.match_info["call_id"]
    record = await calls.get_call(call_id)
    if user.role < Role.SUPERVISOR:
        agent_id = _own_agent(user)
        view = desk.agent_view(agent_id)
        if record is None or not offered_to(
                agent_id, call_id, current_call=view["call_id"] if view else "",
                record_agent=record.agent, rung_agents=rung_agents(record.rings)):
            raise ApiError("no such call offered to you", status=404)
    elif record is None:
        raise ApiError("no such call", status=404)
    full = services.sees_numbers(user)
    caller = record.caller
    answer: dict[str, Any] = {"call_id": call_id,
                              "caller": caller if full else mask_number(caller)}
    if desk.history is None:
        raise ApiError("previous calls are not available: the history is off "
                       "(history.enabled in config.yaml)", status=503)
    if not caller.strip("+0") or not any(c.isdigit() for c in caller):
        return web.json_response({**answer, "calls": []})  # withheld: nobody to look up
    try:
        rows = await desk.history.previous_calls(caller, but=call_id)
    except (OperationalError, DBAPIError):
        log.exception("call %s: the history database failed", call_id)
        raise ApiError("the history database did not answer; try again, and see the acd "
                       "log if it goes on", status=503) from None
    return web.json_response({**answer, "calls": [previous_call(r, full) for r in rows]})


def add_desk(app: web.Application, desk: DeskServices) -> None:
    app[DESK] = desk
    app.router.add_get("/api/me", get_me)
    app.router.add_get("/api/calls/{call_id}/history", caller_history)
