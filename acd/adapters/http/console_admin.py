"""The console's admin side, added to the API's app by the composition root: the
recordings search and player, the flow editor, the users, the caller lists and taking
a call over (each in a module of its own)."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from acd.adapters.flow_files import FlowFiles
from acd.adapters.flows import FlowRegistry
from acd.adapters.http import (
    flow_routes,
    intercept,
    list_routes,
    recording_routes,
    user_routes,
)
from acd.adapters.http.list_routes import CallerLists, ListAccess
from acd.adapters.http.recording_routes import RecordingAccess, RecordingIndex
from acd.adapters.http.user_routes import UserDirectory
from acd.announce_prompts import AnnouncePrompts
from acd.config.settings import Config


def add_console_admin(app: web.Application, recordings: RecordingIndex,
                      flows: FlowRegistry, config: Callable[[], Config],
                      clock: Callable[[], float], users: UserDirectory,
                      lists: CallerLists) -> None:
    """`config` is read at each use, so a reload's console settings apply at once."""
    recording_routes.register(app, RecordingAccess(
        recordings, agents_replay_own=lambda: config().console.agents_replay_own,
        clock=clock))
    cfg = config()
    flow_routes.register(app, FlowFiles(
        flows.directory, cfg.path(cfg.console.flow_versions_dir),
        kept=lambda: config().console.flow_versions_kept, check=flows.check_replaced),
        clock)
    user_routes.register(app, users)
    list_routes.register(app, ListAccess(  # announce prompts checked as configured now
        lists, lambda entry: AnnouncePrompts.of_config(config()).problem(entry)))
    intercept.register(app)
