"""Requests about a connected call from the API: where a blind transfer and listening
in (listen, whisper, barge) are decided."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from acd.callflow import facts as f
from acd.callflow import orders as o
from acd.callflow.state import Ring

if TYPE_CHECKING:
    from acd.callflow.session import CallSession

log = logging.getLogger(__name__)

SPY_MODES = ("listen", "whisper", "barge")


def on_request(s: CallSession, ring: Ring, fact: f.TransferAsked | f.SpyAsked) -> None:
    """The call is connected to `ring.answered_by` (the session checked)."""
    if isinstance(fact, f.TransferAsked):
        # The agent's leg is hung up; the Dial returns with the caller still there and
        # the caller goes on to the target in this session, with this record.
        ring.transfer = (fact.kind, fact.target)
        s.emit(o.HangUpLeg(ring.agent_channel))
        log.info("%s: agent %s transfers the caller to %s %s", s.describe(),
                 ring.answered_by, fact.kind, fact.target)
        return
    if fact.mode not in SPY_MODES:
        raise ValueError(f"mode must be one of {', '.join(SPY_MODES)}")
    # The supervisor's phone rings into ChanSpy on the agent's channel; the caller stays
    # bridged to the agent, and the recording (on the caller's channel) keeps what the
    # caller hears: a whisper is not heard by the caller, so it is not recorded.
    s.emit(o.Spy(fact.device, ring.agent_channel, fact.mode))
    log.info("%s: %s %s on agent %s", s.describe(), fact.device, fact.mode, ring.answered_by)
