"""What /api/health and /api/ready say: whether this process can take calls, and what
it lacks.

/api/health is for people and monitoring: 200 while acd answers HTTP, its `status` "ok"
only while every dependency is up ("degraded" otherwise), each one's state, and acd's
work counters. /api/ready is for load balancers and orchestrators: 200 only while every
dependency is up, 503 otherwise, with the same states.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class DependencyHealth(Protocol):
    """Each dependency (redis, ami, fastagi, routing) by name: up now or not
    (acd.health.Dependencies)."""

    def states(self) -> Mapping[str, bool]: ...


def report(dependencies: DependencyHealth | None) -> tuple[bool, dict[str, str]]:
    """(all up, each one "up" or "down"); none given (a partial set-up, a test): all up."""
    if dependencies is None:
        return True, {}
    states = dependencies.states()
    return all(states.values()), {name: "up" if up else "down" for name, up in states.items()}
