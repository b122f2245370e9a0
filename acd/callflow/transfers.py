"""A caller transferred on: to a queue (back in line, same record), put through to an
extension or outside number ([acd-transfer] in the dialplan), or taken over by a
supervisor (intercept: their own phone rings)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from acd.callflow import orders as o
from acd.callflow.state import Script, reply_to
from acd.core.commands import RingTarget
from acd.rules.numbers import dialable

if TYPE_CHECKING:
    from acd.callflow.session import CallSession

log = logging.getLogger(__name__)


def follow(s: CallSession, transfer: tuple[str, str]) -> Script[None]:
    """The caller, transferred by the agent, goes on in this session and record."""
    from acd.callflow.arrival import Handoff
    from acd.callflow.queueing import serve

    kind, target = transfer
    s.add_to("ivr_path", f"transfer:{kind}:{target}")
    if kind == "queue":
        yield from serve(s, Handoff(target))
        return
    if kind == "intercept":
        yield from taken_over(s, target)
        return
    s.change(outcome="transferred", hung_up_by="system")
    yield from put_through(s, target, s.settings.put_through_seconds)


def put_through(s: CallSession, target: str, ring_seconds: int) -> Script[None]:
    """Connect the caller to an extension or outside number; acd is done with the call
    when that call ends."""
    try:
        number = dialable(target, keys=True)
    except ValueError:
        log.error("%s: transfer target refused: not a number acd can dial", s.describe())
        number = ""
    if number:
        ended = yield from reply_to(o.DialNumber(number, ring_seconds))
        if ended.caller_gone:
            return
    yield o.HangUp()


def taken_over(s: CallSession, device: str) -> Script[None]:
    """A supervisor intercepts: the agent's leg is already hung up (the record's
    `transfer` says `intercept:<device>`); the supervisor's own phone rings and the
    caller talks to them. acd's part ends with that call."""
    s.change(outcome="transferred", hung_up_by="system")
    log.info("%s: taken over by the supervisor's phone %s", s.describe(), device)
    ended = yield from reply_to(o.DialAgents((RingTarget("", device),),
                                             s.settings.put_through_seconds))
    if not ended.caller_gone:
        yield o.HangUp()


def phone_transferred(s: CallSession, number: str) -> Script[None]:
    """The agent's phone transferred the caller to `number` (a queue's transfer code or
    an extension); the first session told the routing core, this one carries on."""
    yield from follow(s, s.settings.transfer_target(number))
