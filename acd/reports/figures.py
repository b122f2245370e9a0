"""The reports' figures from the sums the database returns: ratios, averages, the shape.

The database adds things up per bucket and per queue or agent (acd.reports.queries);
this module turns those sums into the figures docs/reports.md defines (service
level, ASA, AHT, occupancy...) and into one shape for every report:

    {"report", "interval", "timezone", "from", "to",
     "columns": [{"name", "kind"}],          # kind: time|text|count|seconds|ratio
     "rows": [[...], ...],                   # buckets with activity, in time order
     "buckets": [label, ...],                # every bucket of the range
     "series": {entity: {column: [value per bucket]}}}   # dense, chart-ready

A ratio is a fraction (0.8 is 80 %) and is null where its denominator is 0; seconds
are rounded to 0.01 s, ratios to 0.0001.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Cell = str | int | float | None
#: a result row: the sums by name (numbers), and the bucket and entity columns
Sums = Mapping[str, Any]


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # time | text | count | seconds | ratio


@dataclass(frozen=True)
class Figure:
    column: Column
    compute: Callable[[Sums], Cell]
    #: the sum this figure shows as it is ("" : derived by `compute`); a report of
    #: 250,000 rows reads these a column at a time, not through a call per cell
    source: str = ""

    def values(self, rows: Sequence[Sums]) -> list[Cell]:
        name = self.source
        if not name:
            return [self.compute(row) for row in rows]
        if self.column.kind == "count":
            return [int(row.get(name) or 0) for row in rows]
        return [round(row.get(name) or 0.0, 2) for row in rows]


@dataclass(frozen=True)
class Report:
    kind: str
    interval: str
    timezone: str
    start: str
    end: str
    #: the columns naming an entity (queue, agent, queue + question), after "bucket"
    keys: tuple[str, ...]
    columns: tuple[Column, ...]
    rows: list[list[Cell]]
    buckets: list[str]
    #: each row's bucket number (an index into `buckets`)
    positions: list[int] = field(default_factory=list)
    #: each figure's value in a bucket without activity
    blank: tuple[Cell, ...] = ()

    def series(self) -> dict[str, dict[str, list[Cell]]]:
        """Per entity, each figure's value in every bucket of the range (a chart's line)."""
        keys = len(self.keys)
        names = [c.name for c in self.columns[1 + keys:]]
        out: dict[str, dict[str, list[Cell]]] = {}
        for row, position in zip(self.rows, self.positions, strict=True):
            entity = "/".join(str(cell) for cell in row[1:1 + keys])
            line = out.get(entity)
            if line is None:
                line = out[entity] = {name: [blank] * len(self.buckets)
                                      for name, blank in zip(names, self.blank, strict=True)}
            for name, value in zip(names, row[1 + keys:], strict=True):
                line[name][position] = value
        return out

    def to_json(self) -> dict[str, object]:
        return {"report": self.kind, "interval": self.interval, "timezone": self.timezone,
                "from": self.start, "to": self.end,
                "columns": [{"name": c.name, "kind": c.kind} for c in self.columns],
                "rows": self.rows, "buckets": self.buckets, "series": self.series()}


def ratio(part: float, whole: float) -> float | None:
    return None if not whole else round(part / whole, 4)


def average(total: float, count: float) -> float | None:
    return None if not count else round(total / count, 2)


def seconds(value: float) -> float:
    return round(value, 2)


def _count(name: str) -> Figure:
    return Figure(Column(name, "count"), lambda s: int(s.get(name) or 0), name)


def _seconds(name: str) -> Figure:
    return Figure(Column(name, "seconds"), lambda s: seconds(s.get(name) or 0.0), name)


def _queue_base(s: Sums) -> float:
    """Calls a service level and an abandon rate are taken over: those that ended in the
    queue, but short abandons, which left before anyone could have answered them."""
    return float(s.get("offered", 0) - s.get("short_abandoned", 0)
                 - s.get("overflowed_out", 0))


def _handled(s: Sums) -> float:
    return float(s.get("talk_seconds", 0) + s.get("hold_seconds", 0)
                 + s.get("wrap_up_seconds", 0))


QUEUE_FIGURES = (
    _count("offered"), _count("answered"), _count("abandoned"), _count("short_abandoned"),
    _count("exited"), _count("overflowed_out"),
    Figure(Column("unanswered_other", "count"), lambda s: int(
        s.get("offered", 0) - s.get("answered", 0) - s.get("abandoned", 0)
        - s.get("short_abandoned", 0) - s.get("exited", 0) - s.get("overflowed_out", 0))),
    _count("answered_in_service_level"),
    Figure(Column("service_level", "ratio"),
           lambda s: ratio(s.get("answered_in_service_level", 0), _queue_base(s))),
    Figure(Column("abandon_rate", "ratio"),
           lambda s: ratio(s.get("abandoned", 0), _queue_base(s))),
    Figure(Column("asa", "seconds"),
           lambda s: average(s.get("answered_wait_seconds", 0), s.get("answered", 0))),
    _seconds("longest_wait"),
    _seconds("talk_seconds"),
    Figure(Column("average_talk", "seconds"),
           lambda s: average(s.get("talk_seconds", 0), s.get("answered", 0))),
    _seconds("hold_seconds"),
    Figure(Column("average_hold", "seconds"),
           lambda s: average(s.get("hold_seconds", 0), s.get("answered", 0))),
    _seconds("wrap_up_seconds"),
    Figure(Column("aht", "seconds"), lambda s: average(_handled(s), s.get("answered", 0))),
    _count("callbacks_requested"), _count("callbacks_completed"), _count("transfers"),
)

AGENT_FIGURES = (
    _count("answered"), _seconds("talk_seconds"), _seconds("hold_seconds"),
    _seconds("wrap_up_seconds"),
    Figure(Column("aht", "seconds"), lambda s: average(_handled(s), s.get("answered", 0))),
    _count("transfers"), _count("rings"), _count("rings_answered"), _count("missed_rings"),
    Figure(Column("average_ring_to_answer", "seconds"),
           lambda s: average(s.get("ring_answer_seconds", 0), s.get("rings_answered", 0))),
    _count("answered_within_rings"),
    Figure(Column("answered_within_rings_share", "ratio"),
           lambda s: ratio(s.get("answered_within_rings", 0), s.get("rings_answered", 0))),
)

def _share(answer: int) -> Figure:
    return Figure(Column(f"share_{answer}", "ratio"),
                  lambda s: ratio(s.get(f"answer_{answer}", 0), s.get("answers", 0)))


SURVEY_FIGURES = (
    _count("answers"), _count("answer_1"), _count("answer_2"), _count("answer_3"),
    _count("answer_other"),
    *(_share(n) for n in (1, 2, 3)),
)

#: the agent states of acd.core (AgentState values) that count as logged in
LOGGED_IN_STATES = ("available", "ringing", "on-call", "wrap-up", "paused")


def _working(s: Sums) -> float:
    return float(s.get("on-call", 0) + s.get("wrap-up", 0))


def _logged_in(s: Sums) -> float:
    return float(sum(s.get(state, 0) for state in LOGGED_IN_STATES))


def _spent(name: str, key: str) -> Figure:
    return Figure(Column(name, "seconds"), lambda s: seconds(s.get(key) or 0.0), key)


def state_figures(pause_reasons: Iterable[str]) -> tuple[Figure, ...]:
    """The agent-states report's figures: one pause column per reason seen."""
    return (
        Figure(Column("logged_in", "seconds"), lambda s: seconds(_logged_in(s))),
        *(_spent(state.replace("-", "_"), state) for state in LOGGED_IN_STATES),
        *(_spent(f"paused:{reason or 'none'}", f"paused:{reason}")
          for reason in sorted(pause_reasons)),
        Figure(Column("occupancy", "ratio"),
               lambda s: ratio(_working(s), _logged_in(s) - s.get("paused", 0))),
    )


def pivot_states(rows: Iterable[Sums]) -> tuple[list[dict[str, Any]], set[str]]:
    """(bucket, agent, state, reason, seconds) rows as one row of sums per bucket and
    agent; the pause reasons seen."""
    merged: dict[tuple[int, str], dict[str, Any]] = {}
    reasons: set[str] = set()
    for row in rows:
        bucket, agent, state, spent = row["bucket"], row["agent"], row["state"], row["seconds"]
        target = merged.get((bucket, agent))
        if target is None:
            target = merged[(bucket, agent)] = {"bucket": bucket, "agent": agent}
        target[state] = target.get(state, 0.0) + spent
        if state == "paused":
            reasons.add(row["reason"])
            key = f"paused:{row['reason']}"
            target[key] = target.get(key, 0.0) + spent
    return list(merged.values()), reasons


#: the entity of a report's total rows: all queues (agents) together, per bucket
ALL = "(all)"
#: sums that are maxima, not totals
_MAXIMA = frozenset({"longest_wait"})


def add_totals(rows: Iterable[Sums], keys: Sequence[str]) -> list[Sums]:
    """The rows, and per bucket (and per other key, e.g. a survey's question) a row for
    all values of the first of `keys` together (shown as ALL): each sum added up, a
    maximum the largest. Its ratios and averages are then derived from these sums like
    any row's: the service level of all queues is the calls answered within their own
    queue's threshold over all calls, not an average of the queues' percentages."""
    entity, others = keys[0], tuple(keys[1:])
    out = list(rows)  # read, not changed: no copies (a month of agents is 250,000 rows)
    skip = {"bucket", *keys}
    totals: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in out:
        group = (row["bucket"], *(row[k] for k in others))
        total = totals.get(group)
        if total is None:
            total = totals[group] = {"bucket": row["bucket"], entity: ALL,
                                     **{k: row[k] for k in others}}
        for name, value in row.items():
            if name in skip or value is None:
                continue
            if name in _MAXIMA:
                total[name] = max(total.get(name, value), value)
            else:
                total[name] = total.get(name, 0) + value
    return [*out, *totals.values()]


def add_departures(sums: Iterable[Sums], departures: Iterable[Sums]
                   ) -> list[dict[str, Any]]:
    """Queue sums of the calls that ended in each queue, with the calls that left it for
    another (`overflowed_out`): those are offered there too."""
    out = {(row["bucket"], row["queue"]): dict(row) for row in sums}
    for row in departures:
        key = (row["bucket"], row["queue"])
        target = out.setdefault(key, {"bucket": key[0], "queue": key[1], "offered": 0})
        target["overflowed_out"] = int(row["overflowed_out"])
        target["offered"] = int(target.get("offered") or 0) + int(row["overflowed_out"])
    return list(out.values())


def add_all_questions(rows: Iterable[Sums]) -> list[dict[str, Any]]:
    """Survey sums per question, and per queue and bucket for all questions together
    (question "all")."""
    out = [dict(row) for row in rows]
    totals: dict[tuple[int, str], dict[str, Any]] = {}
    for row in out:
        key = (row["bucket"], row["queue"])
        total = totals.setdefault(key, {"bucket": key[0], "queue": key[1], "question": "all"})
        for name, value in row.items():
            if name not in ("bucket", "queue", "question"):
                total[name] = total.get(name, 0) + value
    return out + list(totals.values())


@dataclass(frozen=True)
class Shape:
    """What a report is: its name, the columns naming an entity, its figures."""

    kind: str
    keys: tuple[str, ...]
    figures: Sequence[Figure]


def build(shape: Shape, sums: Iterable[Sums], buckets: Sequence[str], *,
          interval: str, timezone: str, start: str, end: str) -> Report:
    """The report: a row per bucket and entity that had activity, in time order."""
    ordered = sorted(sums, key=lambda row: (row["bucket"], *(row[k] for k in shape.keys)))
    figures = [f.values(ordered) for f in shape.figures]
    keys = [[row["bucket"], *(str(row[k]) for k in shape.keys)] for row in ordered]
    columns = (Column("bucket", "time"), *(Column(k, "text") for k in shape.keys),
               *(f.column for f in shape.figures))
    rows: list[list[Cell]] = [[buckets[key[0]], *key[1:], *values]
                              for key, values in zip(keys, zip(*figures, strict=True), strict=True)]
    return Report(shape.kind, interval, timezone, start, end, shape.keys, columns, rows,
                  list(buckets), [int(key[0]) for key in keys],
                  tuple(f.compute({}) for f in shape.figures))


QUEUES = Shape("queues", ("queue",), QUEUE_FIGURES)
AGENTS = Shape("agents", ("agent",), AGENT_FIGURES)
SURVEYS = Shape("surveys", ("queue", "question"), SURVEY_FIGURES)
