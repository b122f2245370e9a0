"""Composition root: builds the adapters and the core, wires them, runs the tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import datetime
from zoneinfo import ZoneInfo

from acd.adapters.agi import AgiServer
from acd.adapters.ami import AmiClient
from acd.adapters.store import CallStore, connect_redis
from acd.callpath import CallService
from acd.clock import Clock, ShiftedClock, SystemClock
from acd.config import Config

log = logging.getLogger(__name__)


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
        self.clock = make_clock(config)
        self.ami = AmiClient(config.ami)
        self.agi = AgiServer()
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        cfg = self.config
        redis = await connect_redis(cfg.redis)
        self.redis = redis
        self.calls = CallStore(redis, cfg.redis.prefix)
        self.call_service = CallService(cfg, self.clock, self.calls, self.ami)
        self.call_service.register(self.agi)
        await self.ami.start()
        await self.agi.start(cfg.agi.host, cfg.agi.port)
        if not await self.ami.wait_connected(timeout=10):
            log.error("AMI not connected yet (%s:%s); calls over FastAGI are served anyway "
                      "and AMI keeps retrying. Is Asterisk running? (scripts/sandbox.sh start)",
                      cfg.ami.host, cfg.ami.port)
        log.info("acd ready: FastAGI %s:%s, AMI %s:%s, Redis %s:%s", cfg.agi.host,
                 cfg.agi.port, cfg.ami.host, cfg.ami.port, cfg.redis.host, cfg.redis.port)

    async def stop(self) -> None:
        await self.agi.close()
        await self.ami.close()
        with contextlib.suppress(Exception):
            self.redis.close()

    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stopping.set)
        await self.start()
        try:
            await self._stopping.wait()
        finally:
            log.info("acd stopping")
            await self.stop()
