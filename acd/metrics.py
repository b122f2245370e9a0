"""Counters of the work acd does (AGI commands, AMI actions and events, calls), read by
`GET /api/health` and the benchmarks. Plain integers: incremented on the event loop."""

from __future__ import annotations

from collections import Counter

COUNTERS: Counter[str] = Counter()


def count(name: str, by: int = 1) -> None:
    COUNTERS[name] += by


def snapshot() -> dict[str, int]:
    return dict(COUNTERS)
