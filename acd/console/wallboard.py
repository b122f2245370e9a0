"""The live wallboard as data: the routing core's views turned into rows, and each
change into a delta (pure: no clock, no I/O; `now` is an argument).

A row is what one line of the page shows: an agent, a queue's tile, a waiting caller.
`Wallboard.update(agents, queues, now)` builds the rows from the views the routing
core gives (the one source of every figure) and returns only the rows that changed
and those that are gone; `snapshot(now)` returns them all. The stream adapter
(acd/adapters/http/live.py) calls `update` at most every few hundred milliseconds,
so its cost follows the flush rate, not the event rate.

Times are absolute (`since`, `arrived_at`, epoch seconds of the routing core's clock);
each message carries `now` so that a page ticks "time in state" itself and a delta is
sent only when something changed, not every second.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from acd.core.views import AgentView, QueueView
from acd.privacy import mask_number

Row = dict[str, Any]
Section = Literal["queues", "agents", "callers"]
SECTIONS: tuple[Section, ...] = ("queues", "agents", "callers")

#: agent states counted on a queue's tile (logged-out agents are not counted)
TILE_STATES = ("available", "ringing", "on-call", "wrap-up", "paused")
#: the survey answers a tile splits (1 satisfied, 2 average, 3 unsatisfied)
SURVEY_ANSWERS = ("1", "2", "3")


@dataclass(frozen=True)
class Thresholds:
    """What the page colours: a pause longer than allowed (per reason, else the default;
    0: never), and each queue's service-level time (a caller waiting longer is late)."""

    pause_alert_seconds: float = 0.0
    pause_alert_by_reason: Mapping[str, float] = field(default_factory=dict)
    service_level_seconds: Mapping[str, float] = field(default_factory=dict)

    def pause_alert(self, reason: str) -> float:
        return self.pause_alert_by_reason.get(reason, self.pause_alert_seconds)


class Message(TypedDict, total=False):
    """A snapshot or a delta, as sent (JSON). A delta holds only the changed rows of each
    section and, in `gone`, the keys of rows removed."""

    type: Literal["snapshot", "delta"]
    now: float
    seq: int
    queues: dict[str, Row]
    agents: dict[str, Row]
    callers: dict[str, Row]
    gone: dict[str, list[str]]


def agent_row(view: AgentView, thresholds: Thresholds) -> Row:
    stats = view["stats"]
    paused = view["state"] == "paused"
    return {
        "id": view["agent_id"], "name": view["name"], "state": view["state"],
        "since": view["since"], "reason": view["reason"], "reachable": view["reachable"],
        "call_id": view["call_id"], "pending_pause": view["pending_pause"],
        "pending_logout": view["pending_logout"],
        "queues": view["queues"], "answered": stats["answered"],
        "talk_seconds": round(stats["talk_seconds"], 1),
        "pause_alert": thresholds.pause_alert(view["reason"]) if paused else 0.0,
    }


def caller_key(queue: str, call_id: str) -> str:
    """A caller waiting in two queues (overflow "also") is a row in each."""
    return f"{queue}/{call_id}"


def queue_rows(view: QueueView, thresholds: Thresholds,
               surveys: Mapping[str, int]) -> tuple[Row, dict[str, Row]]:
    """The queue's tile and its waiting callers' rows (full numbers: masking is per
    viewer, see `for_viewer`).

    A caller's position is not in its row: it is its rank in the queue's service order
    (priority first, then arrival), which the page sorts by. With a position in each
    row, the head of a queue of 500 leaving would change 499 rows.
    """
    name, stats = view["queue"], view["stats"]
    counts = dict.fromkeys(TILE_STATES, 0)
    for member in view["members"].values():
        if member["state"] in counts:
            counts[member["state"]] += 1
    waiting = view["waiting"]
    handled = stats["answered"]
    tile: Row = {
        "name": name, "sl_seconds": thresholds.service_level_seconds.get(name, 0.0),
        "logged_in": view["logged_in"], **{s.replace("-", "_"): n for s, n in counts.items()},
        "waiting": len(waiting),
        "oldest_arrived_at": min((c["arrived_at"] for c in waiting), default=0.0),
        "offered": stats["offered"], "answered": stats["answered"],
        "abandoned": stats["abandoned"], "service_level": stats["service_level"],
        "asa": _rounded(stats["average_speed_of_answer"]),
        "aht": _rounded((stats["talk_seconds"] + stats["wrap_up_seconds"]) / handled
                        if handled else None),
        "survey": {a: surveys.get(a, 0) for a in SURVEY_ANSWERS},
    }
    callers = {caller_key(name, c["call_id"]): {
        "id": c["call_id"], "queue": name, "caller": c["caller"], "vip": c["priority"] > 0,
        "priority": c["priority"], "arrived_at": c["arrived_at"], "callback": c["callback"]}
        for c in waiting}
    return tile, callers


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


class Wallboard:
    """The rows last published, and the deltas that bring a viewer up to date."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.rows: dict[Section, dict[str, Row]] = {s: {} for s in SECTIONS}
        #: survey answers per queue today: {queue: {"1": n, ...}}; the views have none
        self.surveys: dict[str, dict[str, int]] = {}
        self._survey_period = ""
        self.seq = 0

    def survey_answered(self, queue: str, answer: str, period: str) -> None:
        """A caller rated a call of `queue` (`period`: the day it counts for; a new day
        starts the split from zero, as the routing core's statistics do)."""
        self._enter_period(period)
        if answer in SURVEY_ANSWERS:
            split = self.surveys.setdefault(queue, {})
            split[answer] = split.get(answer, 0) + 1

    def restore_surveys(self, surveys: Mapping[str, Mapping[str, int]], period: str) -> None:
        """The split of `period` as counted before a restart (kept in Redis)."""
        self._survey_period = period
        self.surveys = {q: {a: n for a, n in split.items() if a in SURVEY_ANSWERS}
                        for q, split in surveys.items()}

    def _enter_period(self, period: str) -> None:
        if period and period != self._survey_period:
            self.surveys, self._survey_period = {}, period

    def update(self, agents: Iterable[AgentView], queues: Iterable[QueueView],
               now: float, period: str = "", *,
               only_agents: Collection[str] | None = None) -> Message | None:
        """The delta from the rows last published to these views; None: nothing changed.

        `agents` are every agent's views, or with `only_agents` the views of just those
        agents (the ones the routing core changed; one without a view was removed): the
        others' rows stand, and are not compared. `period` (the statistics day) resets
        the survey split when it changes."""
        self._enter_period(period)
        fresh_agents = {v["agent_id"]: agent_row(v, self.thresholds) for v in agents}
        fresh: dict[Section, dict[str, Row]] = {"agents": fresh_agents, "queues": {},
                                                "callers": {}}
        for view in queues:
            tile, callers = queue_rows(view, self.thresholds,
                                       self.surveys.get(view["queue"], {}))
            fresh["queues"][tile["name"]] = tile
            fresh["callers"].update(callers)
        delta: Message = {}
        gone: dict[str, list[str]] = {}
        for section in SECTIONS:
            old, new = self.rows[section], fresh[section]
            keys: Iterable[str] = new
            if section == "agents" and only_agents is not None:
                keys = [k for k in only_agents if k in new]
                removed = [k for k in only_agents if k not in new and k in old]
                new = {**old, **{k: new[k] for k in keys}}
                for k in removed:
                    del new[k]
            else:
                removed = [k for k in old if k not in new]
            changed = {k: new[k] for k in keys if old.get(k) != new[k]}
            if changed:
                delta[section] = changed
            if removed:
                gone[section] = removed
            self.rows[section] = new
        if not delta and not gone:
            return None
        if gone:
            delta["gone"] = gone
        self.seq += 1
        return {"type": "delta", "now": now, "seq": self.seq, **delta}

    def snapshot(self, now: float) -> Message:
        rows = self.rows
        return {"type": "snapshot", "now": now, "seq": self.seq,
                "queues": dict(rows["queues"]), "agents": dict(rows["agents"]),
                "callers": dict(rows["callers"])}


# -- what one viewer may see -----------------------------------------------------------

@dataclass(frozen=True)
class Viewer:
    """Who reads the stream: a supervisor sees everything (numbers masked unless their
    role may see them); an agent sees their own row only (the agent desk's stream)."""

    sees_everything: bool
    sees_numbers: bool
    agent_id: str = ""


def for_viewer(message: Message, viewer: Viewer) -> Message | None:
    """The part of a message this viewer may see; None: nothing (a delta about others)."""
    if not viewer.sees_everything:
        return _own_part(message, viewer.agent_id)
    if viewer.sees_numbers or not message.get("callers"):
        return message
    masked = {k: {**row, "caller": mask_number(row["caller"])}
              for k, row in message["callers"].items()}
    return {**message, "callers": masked}


def _own_part(message: Message, agent_id: str) -> Message | None:
    own = message.get("agents", {}).get(agent_id)
    gone = agent_id in message.get("gone", {}).get("agents", [])
    out: Message = {"type": message["type"], "now": message["now"], "seq": message["seq"]}
    if message["type"] == "snapshot":
        return {**out, "queues": {}, "callers": {},
                "agents": {agent_id: own} if own is not None else {}}
    if own is None and not gone:
        return None
    if own is not None:
        out["agents"] = {agent_id: own}
    if gone:
        out["gone"] = {"agents": [agent_id]}
    return out


def merge(pending: Message, delta: Message, max_rows: int) -> Message | None:
    """Two deltas as one (a viewer that fell behind gets the sum); None when the sum
    holds more than `max_rows` rows: that viewer gets a fresh snapshot instead."""
    merged: Message = {"type": "delta", "now": delta["now"], "seq": delta["seq"]}
    gone_before = pending.get("gone", {})
    gone_now = delta.get("gone", {})
    gone: dict[str, list[str]] = {}
    size = 0
    for section in SECTIONS:
        rows = {**pending.get(section, {}), **delta.get(section, {})}
        removed = set(gone_before.get(section, [])) | set(gone_now.get(section, []))
        for key in gone_now.get(section, []):
            rows.pop(key, None)
        removed -= set(delta.get(section, {}))  # gone, then back: the new row stands
        if rows:
            merged[section] = rows
        if removed:
            gone[section] = sorted(removed)
        size += len(rows) + len(removed)
    if gone:
        merged["gone"] = gone
    return merged if size <= max_rows else None
