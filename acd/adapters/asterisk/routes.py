"""acd's FastAGI routes for calls, and what each hands to the call registry."""

from __future__ import annotations

from acd.adapters.asterisk.agi import AgiChannel, AgiServer
from acd.callflow.registry import CallRegistry


def register_call_routes(agi: AgiServer, registry: CallRegistry) -> None:
    """`call` (the 400 number, and calls back after a restart), `callback` (a customer
    we called back answered), `transfer` (an agent's phone transferred the caller),
    `outbound` (an agent answered their phone for a call of their own)."""

    async def call(channel: AgiChannel) -> None:
        await registry.on_call(channel, channel.params)

    async def callback(channel: AgiChannel) -> None:
        await registry.on_callback(channel, channel.params)

    async def transfer(channel: AgiChannel) -> None:
        await registry.on_phone_transfer(channel)

    async def outbound(channel: AgiChannel) -> None:
        await registry.on_outbound(channel, channel.params)

    agi.route("call", call)
    agi.route("callback", callback)
    agi.route("transfer", transfer)
    agi.route("outbound", outbound)
