"""The life of one call to the 400 number, from the FastAGI `call` route to its record."""

from __future__ import annotations

import logging

from acd.adapters.agi import AgiChannel, AgiServer
from acd.adapters.ami import AmiClient
from acd.adapters.store import CallStore
from acd.calls import CallRecord
from acd.channel import CallerHungUp
from acd.clock import Clock
from acd.config import Config

log = logging.getLogger(__name__)


class CallService:
    def __init__(self, config: Config, clock: Clock, store: CallStore, ami: AmiClient) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.ami = ami

    def register(self, agi: AgiServer) -> None:
        agi.route("call", self.handle_call)

    async def handle_call(self, channel: AgiChannel) -> None:
        record = CallRecord(call_id=channel.call_id, caller=channel.caller,
                            called=channel.called, arrived_at=self.clock.now())
        log.info("call %s: %s -> %s arrived", record.call_id, record.caller or "anonymous",
                 record.called)
        await self.store.open_call(record)
        try:
            await channel.answer()
            await channel.play(["hello-world"])
            record.outcome = "played"
            record.hung_up_by = "system"
            await channel.hangup()
        except CallerHungUp:
            record.hung_up_by = record.hung_up_by or "caller"
            log.info("call %s: caller hung up", record.call_id)
        finally:
            record.ended_at = self.clock.now()
            await self.store.close_call(record)
            log.info("call %s: ended (%s, %.1f s)", record.call_id, record.outcome or "-",
                     record.ended_at - record.arrived_at)
