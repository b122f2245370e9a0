"""Composition root: builds the adapters and the core, wires them, runs the tasks."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import socket
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from acd import metrics
from acd.adapters.asterisk.actions import AmiCallActions
from acd.adapters.asterisk.agi import AgiServer
from acd.adapters.asterisk.ami import AmiActionFailed, AmiClient, AmiUnavailable
from acd.adapters.asterisk.callback_dialer import CallbackDialer
from acd.adapters.asterisk.events import EventTranslator
from acd.adapters.asterisk.fallback_queue import AgentSeen, FallbackQueue
from acd.adapters.asterisk.fallback_queues import expected_twins, penalties
from acd.adapters.asterisk.liveness import keep_signing
from acd.adapters.asterisk.lost_calls import AmiLostCalls
from acd.adapters.asterisk.outbound_dialer import OutboundDialer
from acd.adapters.asterisk.routes import register_call_routes
from acd.adapters.flows import FlowRegistry
from acd.adapters.http import schedule_routes, settings_routes
from acd.adapters.http.app import HttpServices, make_app
from acd.adapters.http.audit import add_audit
from acd.adapters.http.console import add_console
from acd.adapters.http.console_admin import add_console_admin
from acd.adapters.http.desk_wiring import attach as attach_desk
from acd.adapters.http.integration import add_integration
from acd.adapters.http.live import EngineViews, LiveStream
from acd.adapters.http.lookup import HttpLookupClient
from acd.adapters.http.metrics import MetricsAccess, MetricsPage, add_metrics
from acd.adapters.http.user_routes import UserDirectory, reload_users
from acd.adapters.live_settings import LiveSettings
from acd.adapters.prometheus.exposition import AcdMetrics
from acd.adapters.prometheus.live import LiveSources
from acd.adapters.prometheus.surveys import SurveyCountingStore
from acd.adapters.recordings import Recordings
from acd.adapters.redis.audit_store import AuditStore
from acd.adapters.redis.changes import follow_changes
from acd.adapters.redis.company_date_store import CompanyDateStore
from acd.adapters.redis.event_stream import EventFeed, EventStream
from acd.adapters.redis.held_calls import HeldCalls
from acd.adapters.redis.lease import Leadership, Lease
from acd.adapters.redis.link import UNREACHABLE_ERRORS, RedisLink
from acd.adapters.redis.list_store import CachedRules, ListStore
from acd.adapters.redis.live_settings_store import LiveSettingsStore
from acd.adapters.redis.outbox import HeldCallStore
from acd.adapters.redis.routing_commit import RoutingCommit
from acd.adapters.redis.routing_relay import FollowerRouting, LeaderRelay, LeaderUnreachable
from acd.adapters.redis.routing_store import RoutingStore
from acd.adapters.redis.store import CallStore, connect_redis, where_is
from acd.adapters.redis.survey_split_store import SurveySplitStore
from acd.adapters.redis.user_store import UserStore
from acd.adapters.schedule_dates import ScheduleDates
from acd.adapters.survey_tally import KeptSplit, SatisfactionSplit
from acd.adapters.webhooks import Webhooks
from acd.agents.consult import QueueConsultation
from acd.agents.desk import AgentDesk, AgentNotFound, DeviceNotAllowed, WrongPin
from acd.agents.outbound import OwnCalls
from acd.agents.phone import AgentPhone
from acd.callflow.admission import Admission, ShedTo
from acd.callflow.driver import CallPorts
from acd.callflow.facts import CallControl, CallControlAsked, SpyAsked, TransferAsked
from acd.callflow.registry import CallRegistry
from acd.callflow.settings import CallSettings, RecordingPlan
from acd.callflow.state import NotConnected
from acd.clock import Clock, ShiftedClock, SystemClock
from acd.cluster_node import ActiveNode, ForwardedRouting, moved_agents
from acd.config.console import thresholds
from acd.config.sections import ScheduleOracleAdapter, Sections, load_sections
from acd.config.settings import Config
from acd.config.webhooks import load_webhooks
from acd.console.wallboard import Wallboard
from acd.core import commands as cmd
from acd.core import errors as core_errors
from acd.core.engine import RoutingEngine
from acd.core.events import AgentClaimReleased
from acd.core.events import Event as RoutingEvent
from acd.core.periods import daily
from acd.core.snapshot import Snapshot
from acd.dispatcher import Dispatcher
from acd.gc_policy import freeze_started_heap
from acd.health import Dependencies
from acd.history.service import HistoryService
from acd.media import phrases
from acd.media.announcement import Announcement
from acd.media.prompts import PromptLibrary
from acd.orphan_sweep import OrphanSweep
from acd.privacy import set_log_full_numbers
from acd.reports.wiring import attach as attach_reports
from acd.reports.wiring import reconfigure as reconfigure_reports
from acd.routing_service import RoutingService
from acd.unseen_calls import keep_recording

log = logging.getLogger(__name__)

#: SIGTERM to exit: what is not done by then is left to the next acd (the dialplan
#: brings calls back to it)
STOP_SECONDS = 4.0
#: the exit status of an acd that stopped because another one took the lease over
EXIT_NOT_LEADING = 75


def make_clock(config: Config) -> Clock:
    if config.clock.start_at:
        at = datetime.fromisoformat(config.clock.start_at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=ZoneInfo(config.timezone))
        log.warning("clock shifted to start at %s (clock.start_at in %s)", at.isoformat(),
                    config.source)
        return ShiftedClock(at.timestamp())
    return SystemClock()


class App:
    def __init__(self, config: Config) -> None:
        self.config = config
        #: the configuration as last (re)loaded: the reports' thresholds come from it
        self._reloaded = config
        set_log_full_numbers(config.privacy.log_full_numbers)
        self.sections = load_sections(config)
        self.clock = make_clock(config)
        self.ami = AmiClient(config.ami)
        self.agi = AgiServer(max_sessions=config.agi.max_sessions, key=config.agi.key)
        self.metrics = AcdMetrics()  # GET /metrics (acd.adapters.prometheus)
        self.agi.observer = self.metrics.events
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._runner: web.AppRunner | None = None
        self._call_settings: tuple[tuple[int, int], CallSettings] | None = None
        self._generation = 0  # bumped by each reload: a new call reads the new settings
        self.exit_code = 0
        self.cluster: ActiveNode | None = None  # cluster.mode active (acd.cluster_node)
        self._fallback: FallbackQueue | None = None
        self._penalties: tuple[object, dict[tuple[str, str], int]] = (None, {})

    async def start(self) -> None:
        cfg, sec = self.config, self.sections
        self.redis_link = RedisLink(where_is(cfg.redis))
        self.redis = await connect_redis(cfg.redis, poolsize=cfg.redis.pool_size,
                                         link=self.redis_link)
        pool = self.redis  # (the pool picks a connection per command: not `pool.ping`)
        self._tasks.append(asyncio.create_task(self.redis_link.watch(lambda: pool.ping()),
                                               name="redis-heartbeat"))
        # queue and agent settings changed in the console, over config.yaml's (Redis)
        self.live_settings = LiveSettings(LiveSettingsStore(self.redis, cfg.redis.prefix),
                                          self.sections, self._settings_edited)
        await self.live_settings.load()
        self.sections = sec = self.live_settings.current()
        self.history = self._make_history()
        self.calls = CallStore(self.redis, cfg.redis.prefix,
                               history_stream=self.history.stream_key if self.history else "",
                               keep_closed_seconds=cfg.history.redis_records_days * 86400)
        # the call path's records: held in memory while Redis is away
        self.held_calls = HeldCallStore(self.calls, self.redis_link)
        self.prompts = PromptLibrary(cfg.path(cfg.paths.prompts), cfg.path(cfg.paths.prompt_cache),
                                     cfg.languages)
        self.announcement = Announcement(self.calls, cfg.languages)
        oracle = self.schedule_oracle = ScheduleOracleAdapter(sec.schedules)
        # company dates edited in the console, over config.yaml's (kept in Redis)
        self.schedule_dates = ScheduleDates(CompanyDateStore(self.redis, cfg.redis.prefix),
                                            sec.schedules, oracle.use)
        await self.schedule_dates.load()
        self.flows = FlowRegistry(cfg.path(cfg.paths.ivr_flows), [q.name for q in sec.queues],
                                  oracle, self.prompts, extra_variables=("lang",))
        self.flows.load()
        self.routing_store = RoutingStore(self.redis, cfg.redis.prefix, owner=cfg.redis.owner,
                                          link=self.redis_link)
        self.engine = await self._restore_engine()
        self.dispatcher = Dispatcher(self.engine, self.clock)
        self.live = LiveStream(EngineViews(self.engine),
                               Wallboard(thresholds(cfg.console, sec.queues)), self.clock.now,
                               period=daily(cfg.timezone), interval=cfg.console.flush_ms / 1000)
        self.dispatcher.after_batch(self.live.after_batch)  # the wallboard's pages
        today = daily(cfg.timezone)
        self.survey_split = KeptSplit(self.live, SurveySplitStore(self.redis, cfg.redis.prefix),
                                      lambda: today(self.clock.now()))  # kept per day
        await self.survey_split.restore()
        # (the wallboard re-reads only the agents each batch changed)
        self.routing_commit = RoutingCommit(self.routing_store, self.live.watching(
            lambda: self.engine.take_changes()))  # (the engine a new leader adopted)
        self.dispatcher.set_gate(self.routing_commit.gate)  # claims and state: one trip per batch
        self.dispatcher.after_batch(self.routing_commit.after_batch)
        self.dispatcher.add_sink(self.metrics.events.on_routing)
        self.dispatcher.observe_latency(self.metrics.events.routing_decided)
        self.metrics.events.start_queues(self.engine.queue_names())
        self.routing = RoutingService(self.dispatcher, self.engine)
        # integrators' events (docs/integration.md): agents' states from the routing
        # core, calls' facts from their sessions; out to webhooks and /api/live
        self.events = EventFeed(EventStream(self.redis, cfg.redis.prefix))
        self.dispatcher.add_sink(self.events.on_routing)
        self.events.listen(self.live.publish)
        self.webhooks = Webhooks(load_webhooks(cfg.webhooks, None, []), self.events.stream,
                                 SystemClock().now)  # (wall time: receivers check it)
        self.events.listen(self.webhooks.on_event)
        self.cluster = await self._active_node() if cfg.cluster.mode == "active" else None
        self.recordings = (Recordings(cfg.path(cfg.paths.recordings), cfg.timezone, self.redis,
                                      cfg.redis.prefix, cfg.recording.format,
                                      link=self.redis_link)
                           if cfg.recording.enabled else None)
        self.lookup = HttpLookupClient()
        self.caller_lists = CachedRules(ListStore(self.redis, cfg.redis.prefix))
        self.registry = CallRegistry(CallPorts(
            # survey answers are counted on their way to the record: for /metrics and
            # for the wallboard's satisfaction split
            store=SurveyCountingStore(self.held_calls, [
                self.metrics.events,
                SatisfactionSplit(self.survey_split.answered, self._survey_questions)],
                self._survey_questions),
            routing=self.routing, actions=AmiCallActions(self.ami),
            prompts=self.prompts, lookups=self.lookup, schedules=oracle,
            announcement=self.announcement.playables, clock=self.clock,
            recordings=self.recordings,
            caller_lists=self.caller_lists,
            lost_calls=AmiLostCalls(self.ami, self._agent_on_device),
            agent_on_device=self._agent_on_device, events=self.events),
            self.call_settings, Admission(cfg.admission))
        register_call_routes(self.agi, self.registry)
        if self.cluster is not None:
            self._tasks += self._hold_calls_in_cluster(self.cluster)
        self.dispatcher.add_sink(self.cluster.relay.on_routing if self.cluster
                                 else self.registry.on_routing)  # (active: to each call's acd)
        if self.history is not None:
            self.dispatcher.add_sink(self.history.agent_events.on_routing)
            self.history.start(self.clock.now)
        self.desk = AgentDesk(sec.agents, self.routing, self.redis, cfg.redis.prefix,
                              sec.pause_reasons, sec.devices)
        await self.desk.load()
        self.dispatcher.add_sink(self.desk.on_routing)  # a logout pending until a call's end
        AgentPhone(self.desk, self.prompts, cfg.languages).register(self.agi)
        QueueConsultation(self._queue_of_code, self.routing,
                          self.registry.deliver).register(self.agi)
        EventTranslator(self.registry, self.desk.agent_on_device,
                        self._post_from_ami).register(self.ami)
        if cfg.ami.fallback_queue:
            fallback = FallbackQueue(self.ami, cfg.ami.fallback_queue, self._agents_seen,
                                     self._agent_seen, lambda: expected_twins(
                                         self.sections.queues, cfg.ami.fallback_queue))
            self.dispatcher.add_sink(fallback.on_routing)
            self.ami.on_resync(fallback.resync)
            self._fallback = fallback
            self._tasks.append(fallback.start())
        caller_id = next(iter(cfg.numbers), "")
        self.own_calls = OwnCalls(
            self.held_calls, self.routing,
            OutboundDialer(self.ami, f"agi://{cfg.agi.host}:{cfg.agi.port}", cfg.agi.key),
            self.desk.devices.get, caller_id, clock=self.clock.now)
        self.dispatcher.add_sink(CallbackDialer(
            self.ami, self.dispatcher.post, f"agi://{cfg.agi.host}:{cfg.agi.port}", caller_id,
            agi_key=cfg.agi.key))
        self.events.start()
        if self.cluster is None:
            await self.lead()
        await self.ami.start()
        # the wall clock, not self.clock (which a demo may shift): Asterisk's EPOCH reads it
        self._tasks.append(asyncio.create_task(keep_signing(self.ami, time.time),
                                               name="liveness"))
        cluster = self.cluster
        self._tasks.append(asyncio.create_task(keep_recording(
            self.registry, lambda: cluster is None or cluster.leading), name="unseen-calls"))
        await self._prepare_busy_prompt()
        await self.agi.start(cfg.agi.host, cfg.agi.port)
        await self._start_http()
        self._tasks.append(asyncio.create_task(self.flows.watch(), name="flow-watch"))
        self._tasks.append(asyncio.create_task(follow_changes(cfg.redis, {
            "lists": self.caller_lists.invalidate,
            "announcement": self.announcement.invalidate,
            "company_dates": self.schedule_dates.invalidate,
            "live_settings": self.live_settings.invalidate}), name="redis-changes"))
        self._tasks.append(asyncio.create_task(self._prepare_prompts(), name="prompts"))
        self.redis_link.on_return(self._redis_back)
        if self.recordings is not None and cfg.recording.retention_days > 0:
            self._tasks.append(asyncio.create_task(self._retention(), name="retention"))
        if not await self.ami.wait_connected(timeout=10):
            log.error("AMI not connected yet (%s:%s); calls over FastAGI are served anyway "
                      "and AMI keeps retrying. Is Asterisk running? (scripts/sandbox.sh start)",
                      cfg.ami.host, cfg.ami.port)
        log.info("acd ready: FastAGI %s:%s, AMI %s:%s, Redis %s:%s, HTTP %s:%s", cfg.agi.host,
                 cfg.agi.port, cfg.ami.host, cfg.ami.port, cfg.redis.host, cfg.redis.port,
                 cfg.http.host, cfg.http.port)

    def call_settings(self) -> CallSettings:
        """What a new call runs on: the current flows and the current configuration."""
        key = (self.flows.version, self._generation)
        if self._call_settings is None or self._call_settings[0] != key:
            cfg, sec = self.config, self.sections
            plan = RecordingPlan(str(cfg.path(cfg.paths.recordings).resolve()), cfg.timezone) \
                if cfg.recording.enabled else None
            self._call_settings = (key, CallSettings(
                numbers={did: (n.flow, n.language) for did, n in cfg.numbers.items()},
                flows=self.flows.current(), languages=cfg.languages, surveys=sec.surveys,
                telephony=sec.telephony, recordings=plan))
        return self._call_settings[1]

    async def reload(self) -> bool:
        """SIGHUP: re-read config.yaml's queues, agents, schedules, surveys, users,
        admission caps and report thresholds.

        A configuration with errors is refused (each logged) and the running one kept;
        agents' states, waiting callers and statistics carry over. Addresses and ports
        need a restart. IVR flows reload by themselves.
        """
        from acd.config.settings import ConfigError, load_config

        try:
            config = load_config(self.config.source)
            sections = self.live_settings.over(load_sections(config))  # (+ the console's)
        except ConfigError as exc:
            for error in exc.errors:
                log.error("reload refused: %s", error)
            return False
        await self._use_sections(sections)
        self.registry.admission.reconfigure(config.admission)
        self.live.wallboard.thresholds = thresholds(config.console, sections.queues)
        if self._runner is not None:  # tokens of users removed or changed are revoked
            await reload_users(self._runner.app, sections.users)  # + the console's
            reconfigure_reports(self._runner.app, config, sections.queues)
        self._reloaded = config
        log.info("configuration reloaded from %s: %d queues, %d agents", config.source,
                 len(sections.queues), len(sections.agents))
        return True

    async def _settings_edited(self) -> None:
        """An admin changed queues' or agents' settings in the console (here or in
        another acd): the routing core takes them as it takes a reload."""
        sections = self.live_settings.current()
        await self._use_sections(sections)
        board = self.live.wallboard  # (the pause alerts stay as the last reload set them)
        board.thresholds = dataclasses.replace(board.thresholds, service_level_seconds={
            q.name: q.service_level_seconds for q in sections.queues})
        self.live.changed()  # (a queue's service level is on its tile)
        if self._runner is not None:  # the reports' service levels follow too
            reconfigure_reports(self._runner.app, self._reloaded, sections.queues)
        log.info("queue and agent settings changed in the console applied")

    async def _use_sections(self, sections: Sections) -> None:
        """The routing core and what reads queues and agents take `sections` (a reload,
        a change in the console)."""
        if self.cluster is None or self.cluster.leading:  # (a follower's copy: re-read)
            await self.dispatcher.apply(
                lambda now: self.engine.reconfigure(sections.queues, sections.agents, now))
        self.sections = sections
        self.desk.agents = {a.agent_id: a for a in sections.agents}
        self.desk.pause_reasons = sections.pause_reasons or self.desk.pause_reasons
        self.desk.policy = sections.devices
        self._generation += 1
        self.schedule_dates.reconfigure(sections.schedules)  # (the console's dates stay)
        self.flows.known_queues = frozenset(q.name for q in sections.queues)
        if self._fallback is not None and (self.cluster is None or self.cluster.leading):
            self._fallback.refresh_all()  # queues' members and penalties may have changed

    def _redis_back(self) -> None:
        """Redis answers again: what the routing core decided meanwhile (state, claims) is
        written now, not with the next change; what other processes changed is read
        again (the change feed may have missed it)."""
        self._tasks.append(asyncio.create_task(self.routing_commit.after_batch([]),
                                               name="routing-save"))
        self.caller_lists.invalidate()
        self.announcement.invalidate()

    def dependencies(self) -> Dependencies:
        """What /api/health and /api/ready report, each up or down."""
        return Dependencies({"redis": lambda: self.redis_link.up,
                             "ami": lambda: self.ami.connected,
                             "fastagi": lambda: self.agi.listening,
                             "routing": lambda: self.dispatcher.running or (
                                 self.cluster is not None and self.cluster.led_elsewhere)})

    def _make_history(self) -> HistoryService | None:
        """The call history (history: in config.yaml), drained from Redis into SQL."""
        cfg = self.config
        if not cfg.history.enabled:
            return None
        consumer = cfg.cluster.node or f"{socket.gethostname()}:{cfg.agi.port}"
        return HistoryService(cfg.history, cfg.history.database_url(cfg.base_dir), self.redis,
                              cfg.redis.prefix, consumer,
                              lambda: connect_redis(cfg.redis, poolsize=2))

    async def _restore_engine(self) -> RoutingEngine:
        """The routing state as it was before a restart (agents, callers, callbacks, stats)."""
        snapshot = await self.routing_store.load()
        engine = self._engine_from(snapshot)
        if snapshot:
            log.info("routing state restored from Redis: %d agents, %d waiting",
                     len(engine.agent_ids()), engine.waiting_count())
        return engine

    def _engine_from(self, snapshot: Snapshot | None) -> RoutingEngine:
        sec, tz = self.sections, self.config.timezone
        if snapshot:
            return RoutingEngine.restore(sec.queues, sec.agents, snapshot, self.clock.now(),
                                         period_key=daily(tz), settings=sec.settings)
        return RoutingEngine(sec.queues, sec.agents, settings=sec.settings,
                             period_key=daily(tz))

    # -- cluster.mode active (acd.cluster_node): this App is its LeadingCore ----------

    async def saved_engine(self) -> RoutingEngine:
        # restored on a thread: at thousands of agents it takes a good part of a second,
        # which the event loop (calls) must not wait for
        snapshot = await self.routing_store.load()
        return await asyncio.to_thread(self._engine_from, snapshot)

    def adopt(self, engine: RoutingEngine) -> None:
        before, after = self.live.views, EngineViews(engine)
        self.engine = self.routing.engine = self.dispatcher.engine = engine
        self.live.views = after
        # the wallboard's pages: the rows of agents whose view moved, as a batch would
        self.live.watching(lambda: moved_agents(before, after))()
        self.live.changed()

    async def lead(self) -> None:
        """The routing core starts deciding (at start; active: once this acd leads)."""
        self.dispatcher.start()
        await self._release_stale_claims()
        # webhooks are delivered by the acd that leads: one sender per webhook, in order
        # (the events themselves reach the shared stream from every acd)
        self.webhooks.start()
        if self.cluster is not None and self._fallback is not None:  # what it last applied
            # is what it saw before another acd led: read the members back, correct them
            self._tasks.append(asyncio.create_task(self._fallback.resync(),
                                                   name="fallback-resync"))

    def rings_under_way(self) -> list[cmd.RingAgents]:
        return self.engine.rings_under_way(self.clock.now())

    async def reload_shared(self) -> None:
        await self.desk.load()  # agents' phones: a login through another acd

    def _post_from_ami(self, event: RoutingEvent) -> None:
        """AMI's routing facts (phones reachable or not) come from the leader's AMI only:
        every acd sees the same Asterisk events, and each fact has one source."""
        if self.cluster is None or self.cluster.leading:
            self.dispatcher.post(event)

    async def _active_node(self) -> ActiveNode:
        """Every acd serves calls; the lease holder leads the routing core."""
        cfg = self.config
        leadership = await self._leadership()
        node = leadership.lease.node

        async def blocking() -> Any:  # a pool of its own per blocking reader
            return await connect_redis(cfg.redis, poolsize=1)

        forward = FollowerRouting(self.redis, await blocking(), cfg.redis.prefix, node,
                                  lambda command: self.registry.on_routing(command))
        relay = LeaderRelay(self.redis, await blocking(), cfg.redis.prefix, node,
                            self.dispatcher.enqueue, forward.deliver)
        self.routing = ForwardedRouting(self.dispatcher, self.engine, forward, relay,
                                        lambda: leadership.leading)
        return ActiveNode(leadership, forward, relay, self)

    def _hold_calls_in_cluster(self, cluster: ActiveNode) -> list[asyncio.Task[None]]:
        """Each acd says which calls it holds; the leader closes or takes over those of
        an acd that stopped (acd.orphan_sweep). Calls another acd holds are never
        adopted here, also after this acd's own AMI login."""
        held = HeldCalls(self.redis, self.config.redis.prefix, cluster.leadership.lease.node)
        self.registry.on_hold = held.hold
        self.registry.held_elsewhere = held.held_elsewhere
        # a follower cut off from Redis cannot reach the leader: its new callers would
        # wait unrouted; the next acd (the leader, in a pair) routes them from memory
        self.registry.passing_on = lambda: (
            "Redis is away and this acd does not lead the routing core"
            if not cluster.leading and not self.redis_link.up else "")
        sweep = OrphanSweep(self.registry, self.held_calls.active_call_ids,
                            held.held_elsewhere, self.ami.channels, lambda: cluster.leading)
        return [asyncio.create_task(held.keep_beating(self.registry.held), name="held-calls"),
                asyncio.create_task(sweep.run(), name="orphan-sweep")]

    async def _release_stale_claims(self) -> None:
        """Claims a killed acd had not released yet would keep their agents from every
        offer until the claims expire (hours): release those the restored state does
        not hold, and let the routing core offer the agents again."""
        views = [self.engine.agent_view(a) for a in self.engine.agent_ids()]
        keep = {v["agent_id"]: v["call_id"] for v in views if v["call_id"]}
        try:
            freed = await self.routing_store.release_stale([v["agent_id"] for v in views],
                                                           keep)
        except Exception as exc:  # Redis away at start: the claims expire in time
            log.warning("stale agent claims not checked (%s)", exc)
            return
        if freed:
            log.warning("released the claims a previous acd left on agents %s",
                        ", ".join(freed))
        for agent_id in freed:
            self.dispatcher.post(AgentClaimReleased(agent_id))

    async def _start_http(self) -> None:
        cfg = self.config
        services = HttpServices(
            users=self.sections.users, call_store=self.calls,
            recordings_dir=cfg.path(cfg.paths.recordings), agent_actions=self.desk.api_action,
            views=self.routing, announcements=self.announcement, transfer=self._transfer,
            transfer_agent=self.registry.connected_agent, spy=self._spy,
            call_control=self._call_control,
            own_calls=self.own_calls, dispositions=lambda: self.sections.dispositions,
            sees_numbers=lambda user: user.role.name.lower() in cfg.privacy.full_numbers_for,
            health=lambda: {"ami": self.ami.connected, "flows_version": self.flows.version,
                            "waiting": self.engine.waiting_count(),
                            "counters": metrics.snapshot(),
                            **({"history": self.history.status()} if self.history else {})},
            dependencies=self.dependencies(),
            error_statuses={core_errors.UnknownAgent: 404, AgentNotFound: 404, WrongPin: 403,
                            DeviceNotAllowed: 403, NotConnected: 409,
                            core_errors.RoutingError: 409, ValueError: 400,
                            LeaderUnreachable: 503,  # (cluster.mode active)
                            AmiActionFailed: 502, AmiUnavailable: 503,  # Asterisk said no
                            **dict.fromkeys(UNREACHABLE_ERRORS, 503)})
        web_app = make_app(services)
        if cfg.metrics.enabled:
            self.metrics.watch(self._metrics_sources())
            add_metrics(web_app, MetricsPage(self.metrics.render, MetricsAccess(
                cfg.metrics.token(), cfg.metrics.allow_loopback)))
        add_console(web_app, self.live)  # /console/ and its live stream /api/live
        add_integration(web_app, self.webhooks)  # /api/openapi.json, /api/webhooks
        add_audit(web_app, AuditStore(self.redis, cfg.redis.prefix,
                                      retention_days=cfg.console.audit_retention_days,
                                      max_entries=cfg.console.audit_max_entries),
                  self.clock.now)  # supervisors' actions, recordings played: /api/audit
        add_console_admin(web_app, self.recordings or Recordings(  # search old ones too
            cfg.path(cfg.paths.recordings), cfg.timezone, self.redis, cfg.redis.prefix),
            self.flows, lambda: self.config, self.clock.now,  # recordings, flow editor, users
            UserDirectory(UserStore(self.redis, cfg.redis.prefix), self.sections.users,
                          lambda: self.desk.agents.keys()),
            ListStore(self.redis, cfg.redis.prefix))  # ...and the caller lists
        attach_reports(web_app, cfg, self.sections.queues)
        schedule_routes.register(web_app, self.schedule_dates, self.clock.now)  # company dates
        settings_routes.register(web_app, self.live_settings)  # queues', agents' settings
        attach_desk(web_app, cfg, lambda agent_id: self.live.views.agent(agent_id),
                    lambda queue: self.engine.queue_view(queue),
                    lambda: self.desk.pause_reasons, self.clock.now)  # the agent desk
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, cfg.http.host, cfg.http.port).start()

    def _metrics_sources(self) -> LiveSources:
        ami, link, dispatcher = self.ami, self.redis_link, self.dispatcher
        return LiveSources(
            views=self.routing, now=self.clock.now, agi_sessions_open=lambda: len(
                self.agi.active), ami_connected=lambda: ami.connected,
            ami_logins=lambda: ami.logins, redis_up=lambda: link.up,
            redis_outages=lambda: link.outages, routing_running=lambda: dispatcher.running,
            routing_backlog=lambda: dispatcher.backlog)

    def _survey_questions(self, queue: str) -> list[str]:
        return [question.name for question in self.call_settings().survey(queue).questions]

    def _agent_on_device(self, device: str) -> str | None:
        return self.desk.agent_on_device(device)  # the desk is made after the registry

    def _agent_seen(self, agent_id: str) -> AgentSeen | None:
        """An agent as the fallback queue needs them (None: not configured now)."""
        try:
            view = self.engine.agent_view(agent_id)
        except core_errors.UnknownAgent:
            return None
        sections = self.sections
        if self._penalties[0] is not sections:  # (worked out once per reload)
            self._penalties = (sections, penalties(sections.queues))
        table = self._penalties[1]
        return AgentSeen(agent_id, view["device"], view["state"], view["reason"],
                         {q: table.get((q, agent_id), 0) for q in view["serving"]})

    def _agents_seen(self) -> list[AgentSeen]:
        return [seen for agent_id in self.engine.agent_ids()
                if (seen := self._agent_seen(agent_id)) is not None]

    async def _transfer(self, call_id: str, kind: str, target: str) -> str:
        if kind == "queue" and target not in self.engine.queue_names():
            raise ValueError(f"no queue {target!r}")
        return await self.registry.ask(call_id, TransferAsked(kind, target))

    async def _spy(self, call_id: str, mode: str, device: str) -> str:
        return await self.registry.ask(call_id, SpyAsked(mode, device))

    def _queue_of_code(self, number: str) -> str | None:
        """The queue whose transfer code `number` is (None: not a queue's code)."""
        kind, target = self.call_settings().transfer_target(number)
        return target if kind == "queue" else None

    async def _call_control(self, call_id: str, control: str, target: str) -> str:
        return await self.registry.ask(call_id, CallControlAsked(CallControl(control), target))

    async def _prepare_prompts(self) -> None:
        from acd.ivr.flowset import speech_to_prepare

        texts = set(speech_to_prepare(self.flows.current(), self.prompts))
        count = await self.prompts.prepare_all(texts)
        log.info("prompts ready (%d synthesised now)", count)

    async def _prepare_busy_prompt(self) -> None:
        """The prompt of shed callers is ready before the first call can be shed: a flood
        must not wait for the synthesiser (a recording prompts/<lang>/lines_busy.wav is
        used instead when there is one)."""
        admission, languages = self.config.admission, self.config.languages
        if admission.limited and admission.shed_to is ShedTo.BUSY:
            for lang in languages:
                await self.prompts.paths(phrases.say("lines_busy", lang, languages))

    async def _retention(self) -> None:
        """Daily: delete recordings older than recording.retention_days (each one logged)."""
        assert self.recordings is not None
        days = self.config.recording.retention_days
        while True:
            await asyncio.sleep(60)  # not in the middle of start-up
            try:
                removed = await self.recordings.purge_older_than(days, self.clock.now())
                log.info("retention: %d recording(s) older than %d days removed", len(removed),
                         days)
            except Exception:
                log.exception("retention job failed; it runs again tomorrow")
            await asyncio.sleep(86400 - 60)

    # -- lifecycle -------------------------------------------------------------------

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        # Calls in progress stay as they are in Redis and Asterisk: the sessions stop
        # first, so nothing the closing FastAGI sessions report is taken as a hang-up;
        # the next acd takes the calls up again (the dialplan brings them back).
        self.registry.stop()
        await self.dispatcher.stop()
        with contextlib.suppress(Exception):
            if self.cluster is None or self.cluster.leading:  # (a follower's is a copy)
                await self.routing_commit.close()
        await self.agi.close()
        await self.registry.drain()
        await self.held_calls.outbox.flush(seconds=1.0)  # (held while Redis was away)
        await self.events.close()  # (the calls' last events written, then no more sent)
        await self.webhooks.close()
        if self.history is not None:
            await self.history.stop()
        if self.recordings is not None:
            await self.recordings.flush(seconds=0.5)
        await self.ami.close()
        if self._runner is not None:
            await self._runner.cleanup()
        with contextlib.suppress(Exception):
            await self.lookup.close()
        with contextlib.suppress(Exception):
            self.redis.close()

    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_stop_signal)
        loop.add_signal_handler(signal.SIGHUP, lambda: self._tasks.append(
            asyncio.create_task(self.reload(), name="reload")))
        if self.config.cluster.mode == "active":
            await self._serve_active()
            return
        leadership = await self._leadership()
        if not await leadership.acquire(self._stopping):
            log.info("acd stopped while standing by")
            return
        await self.start()
        freeze_started_heap()  # the restored routing state: out of full collections
        keeping = asyncio.create_task(leadership.keep(), name="leadership")
        try:
            await self._stopping.wait()
        finally:
            keeping.cancel()
            await self._stop_within(leadership)

    async def _serve_active(self) -> None:
        """cluster.mode active: serve calls at once; lead the routing core when the lease
        comes to this acd (acd.cluster_node)."""
        await self.start()
        freeze_started_heap()  # (as above)
        assert self.cluster is not None
        self._tasks += self.cluster.start(self._stopping)
        try:
            await self._stopping.wait()
        finally:
            for task in self.cluster.tasks:
                task.cancel()
            await self.cluster.relay.close()
            await self._stop_within(self.cluster.leadership)

    async def _stop_within(self, leadership: Leadership) -> None:
        log.info("acd stopping")
        try:  # a stop that hangs on a peer never keeps acd up: calls resume elsewhere
            async with asyncio.timeout(STOP_SECONDS):
                await self.stop()
                if leadership.leading:  # a standby takes over now, not in a while
                    await leadership.lease.give_up()
        except TimeoutError:
            log.error("acd did not stop cleanly within %.0f s; exiting anyway", STOP_SECONDS)
        except Exception as exc:
            log.warning("leadership lease not given up (%s); it lapses by itself", exc)

    async def _leadership(self) -> Leadership:
        """The lease that lets one acd of several serve (its own small Redis pool, so
        that renewals never queue behind call traffic)."""
        cfg = self.config
        node = cfg.cluster.node or f"{socket.gethostname()}:{cfg.agi.port}"
        redis = await connect_redis(cfg.redis, poolsize=2)
        return Leadership(Lease(redis, cfg.redis.prefix, node, cfg.cluster.lease_seconds),
                          self._lost_lead)

    def _lost_lead(self, holder: str) -> None:
        log.error("acd %s leads now (this acd was cut off from Redis for longer than the "
                  "lease): stopping, so that one acd serves; restart this one to stand by",
                  holder or "?")
        self.exit_code = EXIT_NOT_LEADING
        self._stopping.set()

    def _on_stop_signal(self) -> None:
        if self._stopping.is_set():  # a second Ctrl-C: do not wait for anything
            log.warning("second stop signal: exiting now")
            os._exit(1)
        self._stopping.set()
