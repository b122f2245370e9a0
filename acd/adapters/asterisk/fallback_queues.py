"""acd's queues as app_queue queues, for the dialplan's fallback while acd is away (pure).

Each acd queue gets a native twin, `acd-fallback-<queue>` (`acd asterisk-queues` writes
them into asterisk/queues_fallback.conf, which queues.conf includes). Its members are
the agents who serve the acd queue, with their penalty, kept in step by acd
(acd.adapters.asterisk.fallback_queue); the dialplan queues an unserved caller in the
twin of the queue they waited in, with their priority (QUEUE_PRIO), so that while acd
is away a caller of one queue rings that queue's agents first-choice-first, VIPs ahead.

What app_queue can say of acd's settings, and what it cannot:

| acd                         | app_queue                                              |
|-----------------------------|--------------------------------------------------------|
| least-calls                 | fewestcalls                                            |
| longest-idle                | leastrecent                                            |
| round-robin                 | rrmemory                                               |
| ring-all                    | ringall                                                |
| shortest-talk-time          | fewestcalls: app_queue keeps no talk time per member;  |
|                             | the fewest calls answered spreads work the nearest way |
| fastest-answer              | leastrecent: app_queue keeps no answer speed; the      |
|                             | member idle longest is the nearest fair choice         |
| ring_timeout_seconds        | timeout (one member's ring)                            |
| wrap_up_seconds             | wrapuptime                                             |
| weight                      | weight (an agent in several queues: the heavier first) |
| member penalty              | member Penalty (lower first, as in acd)                |
| caller priority (VIP)       | QUEUE_PRIO (higher first, as in acd)                   |

Not mirrored (app_queue has no such notion, or it needs acd): skills, overflow,
max wait and its target, callbacks, announcements, fastest-answer's statistics.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from acd.core.model import QueueConfig, Strategy

#: the catch-all queue's name (also the prefix of each queue's twin)
CATCH_ALL = "acd-fallback"

#: what a queue name must look like to be an app_queue queue and a dialplan argument
#: (no comma, bracket, space or ${...} in a section name or Queue()'s argument)
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")

#: acd's strategy -> app_queue's nearest (see the module's table for the two without one)
STRATEGIES: Mapping[Strategy, str] = {
    Strategy.LEAST_CALLS: "fewestcalls",
    Strategy.LONGEST_IDLE: "leastrecent",
    Strategy.ROUND_ROBIN: "rrmemory",
    Strategy.RING_ALL: "ringall",
    # no talk time per member in app_queue: fewest calls is the nearest load balance
    Strategy.SHORTEST_TALK_TIME: "fewestcalls",
    # no answer speed in app_queue: the longest idle spreads calls most fairly
    Strategy.FASTEST_ANSWER: "leastrecent",
}

#: what every fallback queue shares with the catch-all (asterisk/queues.conf): the
#: variables the h extension records for acd (MEMBERNAME, QEHOLDTIME), no announcements
_COMMON = (
    ("setinterfacevar", "yes"),
    ("setqueueentryvar", "yes"),
    ("retry", "1"),
    ("joinempty", "yes"),
    ("leavewhenempty", "no"),
    ("ringinuse", "no"),
    ("announce-frequency", "0"),
    ("periodic-announce-frequency", "0"),
    ("announce-holdtime", "no"),
    ("musicclass", "default"),
)


def is_safe_name(queue: str) -> bool:
    """Whether `queue` can be spelled as an app_queue queue and in Queue()'s argument."""
    return _SAFE_NAME.fullmatch(queue) is not None


def twin_of(queue: str, catch_all: str = CATCH_ALL) -> str | None:
    """The native queue that stands in for acd's `queue` (None: its name cannot be one)."""
    return f"{catch_all}-{queue}" if is_safe_name(queue) else None


def penalties(queues: Iterable[QueueConfig]) -> dict[tuple[str, str], int]:
    """(acd queue, agent id) -> the member's penalty; an agent who only lists the queue
    (agents.X.queues) is not here: 0, as in the routing core (acd.core.model)."""
    return {(q.name, m.agent_id): m.penalty for q in queues for m in q.members}


def _seconds(value: float) -> str:
    return str(max(0, round(value)))


def queue_section(queue: QueueConfig, catch_all: str = CATCH_ALL) -> list[str]:
    """The queues.conf lines of one queue's twin (empty: the name cannot be one)."""
    name = twin_of(queue.name, catch_all)
    if name is None:
        return []
    lines = [f"[{name}]"]
    if queue.strategy in (Strategy.SHORTEST_TALK_TIME, Strategy.FASTEST_ANSWER):
        lines.append(f"; acd's {queue.strategy} has no app_queue equivalent: the nearest")
    lines += [f"strategy = {STRATEGIES[queue.strategy]}",
              f"timeout = {_seconds(queue.ring_timeout_seconds)}",
              f"wrapuptime = {_seconds(queue.wrap_up_seconds)}",
              f"weight = {max(0, queue.weight)}"]
    lines += [f"{key} = {value}" for key, value in _COMMON]
    return lines


def render(queues: Iterable[QueueConfig], source: str, catch_all: str = CATCH_ALL) -> str:
    """The whole queues_fallback.conf for `queues` (read from `source`)."""
    out = [f"; Written by `acd asterisk-queues` from {source}: do not edit, run it again",
           "; after changing the queues (then `asterisk -rx 'module reload app_queue'`).",
           "; One app_queue queue per acd queue, used only while acd is away",
           "; (asterisk/extensions.conf, [acd-inbound] fallback); acd keeps the members",
           "; in step with its agents. Strategies and what is not mirrored: see",
           "; acd/adapters/asterisk/fallback_queues.py.", ""]
    for queue in queues:
        section = queue_section(queue, catch_all)
        if section:
            out += section + [""]
        else:
            out += [f"; queue {queue.name!r}: its name cannot be an app_queue queue "
                    "(letters, digits, _ . - only): its callers go to the catch-all", ""]
    return "\n".join(out)


def expected_twins(queues: Iterable[QueueConfig], catch_all: str = CATCH_ALL,
                   ) -> dict[str, str]:
    """Each queue's twin -> the app_queue strategy it should have."""
    return {twin: STRATEGIES[q.strategy] for q in queues
            if (twin := twin_of(q.name, catch_all)) is not None}


def stale_twins(expected: Mapping[str, str], found: Mapping[str, str]) -> list[str]:
    """What Asterisk's queues (`found`: twin -> strategy, from QueueStatus) lack of
    acd's (`expected`): a warning per twin missing or with another strategy (the queues
    changed since `acd asterisk-queues` ran, or app_queue was not reloaded)."""
    warnings = []
    for twin, strategy in sorted(expected.items()):
        have = found.get(twin)
        if have is None:
            warnings.append(f"no {twin} in Asterisk: while acd is away its callers ring "
                            "every agent at work")
        elif have and have != strategy:
            warnings.append(f"{twin} rings by {have} in Asterisk, acd's queue by the "
                            f"nearest of {strategy}")
    return warnings


def twins_in(text: str) -> set[str]:
    """The queue sections a queues_fallback.conf holds (what `acd check` compares)."""
    return {m.group(1) for m in re.finditer(r"^\[([^\]]+)\]", text, re.MULTILINE)}


def missing_twins(queues: Iterable[str], text: str | None, where: str,
                  catch_all: str = CATCH_ALL) -> list[str]:
    """A warning per queue whose callers would go to the catch-all while acd is away
    (no twin in the generated file at `where`; `text` None: the file does not exist)."""
    names = list(queues)
    if text is None:
        return [f"{where}: no fallback queues file: while acd is away every caller rings "
                "every agent at work; run `acd asterisk-queues` (and reload app_queue)"] \
            if names else []
    have = twins_in(text)
    warnings = []
    for queue in names:
        twin = twin_of(queue, catch_all)
        if twin is None:
            warnings.append(f"queue {queue!r}: its name cannot be an app_queue queue "
                            "(letters, digits, _ . - only); while acd is away its callers "
                            "ring every agent at work")
        elif twin not in have:
            warnings.append(f"{where}: no [{twin}] for queue {queue!r}: while acd is away "
                            "its callers ring every agent at work; run `acd asterisk-queues`")
    return warnings
