"""/api/openapi.json against the real routes, both ways: every route acd registers is
documented, every documented route exists, with its methods.

Two views of "every route": the router built the way acd.app builds it, and every
`router.add_*("/path", ...)` written anywhere in acd/ (so a route another branch adds
in a new module is found even before this test builds it). A failure lists the
`Route(...)` lines to add to acd/adapters/http/openapi.py (or to delete from it).
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

import acd
from acd.adapters.flows import FlowRegistry
from acd.adapters.http import schedule_routes, settings_routes
from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.audit import add_audit
from acd.adapters.http.console import add_console
from acd.adapters.http.console_admin import add_console_admin
from acd.adapters.http.desk_routes import DeskServices, add_desk
from acd.adapters.http.integration import add_integration
from acd.adapters.http.live import LiveStream
from acd.adapters.http.metrics import MetricsAccess, MetricsPage, add_metrics
from acd.adapters.http.openapi import document, documented
from acd.adapters.http.user_routes import UserDirectory
from acd.adapters.live_settings import LiveSettings
from acd.adapters.schedule_dates import ScheduleDates
from acd.config.sections import Sections
from acd.config.settings import load_config
from acd.console.wallboard import Thresholds, Wallboard
from acd.core.model import RoutingSettings
from acd.media.prompts import PromptLibrary
from acd.rules.schedule import ScheduleBook

REPO = Path(acd.__file__).resolve().parents[1]
_ADD = re.compile(r"router\.add_(get|post|put|delete|patch)\(\s*\"([^\"]+)\"")


class NoViews:
    def agents(self) -> list[object]:
        return []

    def agent(self, agent_id: str) -> None:
        return None

    def queues(self) -> list[object]:
        return []


class NoWebhooks:
    async def status(self) -> list[dict[str, object]]:
        return []


def app_as_acd_builds_it() -> web.Application:
    """The routes of acd.app's App._start_http (its add_* calls, in its order)."""
    app = make_app(HttpServices(users={}))
    add_metrics(app, MetricsPage(lambda: b"", MetricsAccess()))
    add_console(app, LiveStream(NoViews(), Wallboard(Thresholds()),  # type: ignore[arg-type]
                                lambda: 0.0))
    add_audit(app, None, lambda: 0.0)  # type: ignore[arg-type]
    add_integration(app, NoWebhooks())
    flows = FlowRegistry(REPO / "ivr_flows", [], None,
                         PromptLibrary(REPO / "prompts", REPO / "var" / "prompt-cache"))
    add_console_admin(app, None, flows,  # type: ignore[arg-type]
                      lambda: load_config(REPO / "config.yaml", allow_missing_env=True),
                      lambda: 0.0, UserDirectory(None, {}, tuple),  # type: ignore[arg-type]
                      None)  # type: ignore[arg-type]
    schedule_routes.register(app, ScheduleDates(None, ScheduleBook({})))  # type: ignore[arg-type]
    settings_routes.register(app, LiveSettings(
        None, Sections([], [], RoutingSettings(), ScheduleBook({}))))  # type: ignore[arg-type]
    add_desk(app, DeskServices(lambda agent_id: None, lambda queue: {},  # type: ignore[arg-type,return-value]
                               dict, lambda: 0.0))
    return app


def registered(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of the router's routes; HEAD comes with each GET by itself."""
    out = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or ""
        if route.method != "HEAD" and path:
            out.add((route.method, path))
    return out


def written_in_source() -> set[tuple[str, str]]:
    root = Path(acd.__file__).resolve().parent
    return {(method.upper(), path) for file in root.rglob("*.py")
            for method, path in _ADD.findall(file.read_text(encoding="utf-8"))}


def _lines(routes: set[tuple[str, str]]) -> str:
    return "\n".join(f'    Route("{m}", "{p}", "..."),' for m, p in sorted(routes, key=lambda
                                                                           r: (r[1], r[0])))


def test_every_route_acd_registers_is_in_the_api_document() -> None:
    missing = (registered(app_as_acd_builds_it()) | written_in_source()) - documented()
    assert not missing, ("routes without a line in acd/adapters/http/openapi.py ROUTES; "
                         f"add:\n{_lines(missing)}")


def test_every_route_in_the_api_document_exists_with_its_method() -> None:
    extra = documented() - registered(app_as_acd_builds_it())
    assert not extra, ("documented routes acd does not register; delete from "
                       f"acd/adapters/http/openapi.py ROUTES (or register them):\n"
                       f"{_lines(extra)}")


def test_the_document_is_openapi_3_1_with_path_parameters_and_the_role_of_each_route(
        ) -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    transfer = doc["paths"]["/api/calls/{call_id}/transfer"]["post"]
    assert [p["name"] for p in transfer["parameters"]] == ["call_id"]
    assert transfer["security"] == [{"bearer": []}] and transfer["x-acd-role"] == "agent"
    assert "security" not in doc["paths"]["/api/login"]["post"]
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
