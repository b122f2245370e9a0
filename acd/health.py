"""What this process needs to take calls, each asked whether it is up now: the view the
HTTP layer's /api/health and /api/ready give (acd.adapters.http.health).

Each dependency logs its own outage and return, once (Redis: acd.adapters.redis.link;
AMI: acd.adapters.asterisk.ami; the routing core: acd.dispatcher).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


class Dependencies:
    def __init__(self, checks: Mapping[str, Callable[[], bool]]) -> None:
        #: name -> whether it is up now, in the order they are reported
        self._checks = dict(checks)

    def states(self) -> dict[str, bool]:
        return {name: bool(check()) for name, check in self._checks.items()}
