"""The report figures computed the plain way, straight from the generated rows, in Python.

Written from docs/reports.md's definitions, not from acd.reports: the cross-check
compares the two. Buckets are found by flooring each local time (zoneinfo), not by
acd.reports.buckets' arithmetic.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.history_month import Month

Key = tuple[str, ...]
Figures = dict[str, float | int | None]


def local_bucket(moment: float, interval: str, zone: str, start: float) -> str:
    tz = ZoneInfo(zone)
    if interval == "total":
        return datetime.fromtimestamp(start, tz).isoformat()
    local = datetime.fromtimestamp(moment, tz)
    if interval == "day":
        floor = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    elif interval == "hour":
        floor = local.replace(minute=0, second=0, microsecond=0)
    else:
        floor = local.replace(minute=local.minute // 15 * 15, second=0, microsecond=0)
    return floor.isoformat()


def _ratio(part: float, whole: float) -> float | None:
    return None if not whole else part / whole


def _avg(total: float, count: float) -> float | None:
    return None if not count else total / count


def _group(rows: Iterable[dict[str, object]], time_of: str, entity: Callable[[dict], Key],
           interval: str, zone: str, start: float, end: float) -> dict[Key, list[dict]]:
    out: dict[Key, list[dict]] = defaultdict(list)
    for row in rows:
        moment = float(row[time_of])  # type: ignore[arg-type]
        if start <= moment < end:
            out[(local_bucket(moment, interval, zone, start), *entity(row))].append(row)
    return out


#: the entity of the reports' total rows
ALL = "(all)"


def queues(month: Month, interval: str, zone: str, start: float, end: float, *,
           short: float, levels: dict[str, float], default_level: float,
           total: bool = False) -> dict[Key, Figures]:
    """A call counts in the queue it ended in (`queue`) and, as offered and overflowed
    out, in each queue it left before (every other entry of `queues`). `total`: every
    queue's calls as one (each call still measured by its own queue's threshold)."""
    queued = [c for c in month.calls if c["queue"] and c.get("direction") != "outbound"]
    left = [{"arrived_at": c["arrived_at"], "queue": q, "departed": True}
            for c in month.calls if c.get("direction") != "outbound"
            for q in json.loads(str(c.get("queues") or "[]"))[:-1]]
    out = {}
    for key, visits in _group(queued + left, "arrived_at",
                              lambda c: (ALL if total else c["queue"],),
                              interval, zone, start, end).items():
        rows = [c for c in visits if not c.get("departed")]
        departed = len(visits) - len(rows)
        answered = [c for c in rows if c.get("answered_at") is not None]
        wait = [float(c.get("wait_seconds") or 0) for c in rows] or [0.0]
        gone = [c for c in rows if c.get("answered_at") is None and c["outcome"] == "abandoned"]
        shorts = [c for c in gone if float(c.get("wait_seconds") or 0) < short]
        in_level = [c for c in answered if float(c.get("wait_seconds") or 0)
                    <= levels.get(str(c["queue"]), default_level)]
        talk = sum(float(c.get("talk_seconds", 0)) for c in rows)
        hold = sum(float(c.get("hold_seconds", 0)) for c in rows)
        wrap = sum(float(c.get("wrap_up_seconds", 0)) for c in rows)
        exited = [c for c in rows if c.get("answered_at") is None
                  and str(c["outcome"]).startswith("exited:")]
        base = len(rows) - len(shorts)
        out[key] = {
            "offered": len(rows) + departed, "answered": len(answered),
            "abandoned": len(gone) - len(shorts), "short_abandoned": len(shorts),
            "exited": len(exited), "overflowed_out": departed,
            "unanswered_other": len(rows) - len(answered) - len(gone) - len(exited),
            "answered_in_service_level": len(in_level),
            "service_level": _ratio(len(in_level), base),
            "abandon_rate": _ratio(len(gone) - len(shorts), base),
            "asa": _avg(sum(float(c.get("wait_seconds") or 0) for c in answered),
                        len(answered)),
            "longest_wait": max(wait), "talk_seconds": talk,
            "average_talk": _avg(talk, len(answered)), "hold_seconds": hold,
            "average_hold": _avg(hold, len(answered)), "wrap_up_seconds": wrap,
            "aht": _avg(talk + hold + wrap, len(answered)),
            "callbacks_requested": sum(1 for c in rows if c.get("callback")),
            "callbacks_completed": sum(1 for c in rows if c.get("callback") == "completed"),
            "transfers": sum(1 for c in rows if c.get("transfer")),
        }
    return out


def agents(month: Month, interval: str, zone: str, start: float, end: float, *,
           within: float, total: bool = False) -> dict[Key, Figures]:
    taken = [c for c in month.calls if c.get("agent") and c.get("answered_at") is not None
             and c.get("direction") != "outbound"]
    by_calls = _group(taken, "arrived_at", lambda c: (ALL if total else c["agent"],),
                      interval, zone, start, end)
    by_rings = _group(month.rings, "started_at", lambda r: (ALL if total else r["agent"],),
                      interval, zone, start, end)
    out = {}
    for key in set(by_calls) | set(by_rings):
        rows, rings = by_calls.get(key, []), by_rings.get(key, [])
        talk = sum(float(c.get("talk_seconds", 0)) for c in rows)
        hold = sum(float(c.get("hold_seconds", 0)) for c in rows)
        wrap = sum(float(c.get("wrap_up_seconds", 0)) for c in rows)
        answered = [r for r in rings if r["result"] == "answered"]
        ringing = [float(r["ended_at"]) - float(r["started_at"]) for r in answered]
        out[key] = {
            "answered": len(rows), "talk_seconds": talk, "hold_seconds": hold,
            "wrap_up_seconds": wrap, "aht": _avg(talk + hold + wrap, len(rows)),
            "transfers": sum(1 for c in rows if c.get("transfer")),
            "rings": len(rings), "rings_answered": len(answered),
            "missed_rings": sum(1 for r in rings if r["result"] in
                                ("no-answer", "busy", "rejected", "failed")),
            "average_ring_to_answer": _avg(sum(ringing), len(answered)),
            "answered_within_rings": sum(1 for s in ringing if s <= within),
            "answered_within_rings_share": _ratio(sum(1 for s in ringing if s <= within),
                                                  len(answered)),
        }
    return out


def surveys(month: Month, interval: str, zone: str, start: float, end: float,
            total: bool = False) -> dict[Key, Figures]:
    out = {}
    groups = _group(month.surveys, "answered_at",
                    lambda s: (ALL if total else s["queue"], s["question"]),
                    interval, zone, start, end)
    alls = _group(month.surveys, "answered_at", lambda s: (ALL if total else s["queue"], "all"),
                  interval, zone, start, end)
    for key, rows in [*groups.items(), *alls.items()]:
        counts = {n: sum(1 for s in rows if s["answer"] == n) for n in ("1", "2", "3")}
        out[key] = {"answers": len(rows), **{f"answer_{n}": counts[n] for n in counts},
                    "answer_other": len(rows) - sum(counts.values()),
                    **{f"share_{n}": counts[n] / len(rows) for n in counts}}
    return out


def agent_states(month: Month, boundaries: list[float], labels: list[str], start: float,
                 end: float, now: float, total: bool = False) -> dict[Key, Figures]:
    """Seconds per state, each state lasting until the agent's next event (`total`: the
    seconds of all agents together)."""
    cap = min(end, now)
    spent: dict[Key, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    by_agent: dict[str, list[tuple[float, int, dict]]] = defaultdict(list)
    for order, event in enumerate(month.events):
        by_agent[str(event["agent"])].append((float(event["at"]), order, event))
    for agent, events in by_agent.items():
        events.sort(key=lambda e: (e[0], e[1]))
        for (at, _, event), following in zip(events, [*events[1:], None], strict=True):
            until = following[0] if following else cap
            s, e = max(at, start), min(until, cap)
            if e <= s or event["state"] == "logged-out":
                continue
            index = max(0, bisect.bisect_right(boundaries, s) - 1)
            while index < len(labels) and boundaries[index] < e:
                piece = min(e, boundaries[index + 1]) - max(s, boundaries[index])
                index += 1
                if piece > 0:
                    sums = spent[(labels[index - 1], ALL if total else agent)]
                    sums[str(event["state"])] += piece
                    if event["state"] == "paused":
                        sums[f"paused:{event['reason'] or 'none'}"] += piece
    out = {}
    for key, sums in spent.items():
        logged_in = sum(v for k, v in sums.items() if ":" not in k)
        working = sums["on-call"] + sums["wrap-up"]
        out[key] = {"logged_in": logged_in,
                    **{k.replace("-", "_") if ":" not in k else k: v
                       for k, v in sums.items()},
                    "occupancy": _ratio(working, logged_in - sums["paused"])}
    return out
