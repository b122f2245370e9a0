"""Login throttling: repeated failures slow down guessing, per user name and per address.

Pure: every call takes `now`. After `limit` failures for the same user name
(known or not, so a refusal says nothing about who exists) or from the same
client address, further attempts are refused for a delay that doubles with
each further failure, up to `max_delay`. A key is forgotten after `window`
quiet seconds; a successful login clears its user name's record (not its
address's: one valid account must not reset the count of a guessing address).

Attempts in progress count too, so a burst of parallel guesses cannot slip
past the limit while the first ones are still being checked. Memory is bounded:
each kind of key keeps at most `max_keys` records, dropping the least recently
used.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class _Record:
    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0
    pending: int = 0


class _Tracker:
    """Failure records for one kind of key (user names, or addresses)."""

    def __init__(self, throttle: LoginThrottle) -> None:
        self._t = throttle
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    def wait(self, key: str, now: float) -> float:
        record = self._fresh(key, now)
        if record is None:
            return 0.0
        if record.locked_until > now:
            return record.locked_until - now
        if record.pending and record.failures + record.pending >= self._t.limit:
            return 1.0  # the attempts in progress decide; they take a fraction of a second
        return 0.0

    def start(self, key: str) -> None:
        self._record(key).pending += 1

    def finish(self, key: str, *, failed: bool, now: float) -> None:
        record = self._records.get(key)
        if record is None:  # dropped to keep memory bounded
            record = self._record(key) if failed else None
        if record is None:
            return
        record.pending = max(0, record.pending - 1)
        if failed:
            record.failures += 1
            record.last_failure = now
            if record.failures >= self._t.limit:
                doublings = min(record.failures - self._t.limit, 32)
                record.locked_until = now + min(self._t.max_delay,
                                                self._t.first_delay * 2 ** doublings)
        elif not record.failures and not record.pending:
            del self._records[key]

    def clear(self, key: str) -> None:
        record = self._records.get(key)
        if record is not None:
            record.failures, record.locked_until = 0, 0.0
            if not record.pending:
                del self._records[key]

    def _fresh(self, key: str, now: float) -> _Record | None:
        record = self._records.get(key)
        if record is not None and record.failures and (
                now - max(record.last_failure, record.locked_until) > self._t.window):
            record.failures, record.locked_until = 0, 0.0
        return record

    def _record(self, key: str) -> _Record:
        record = self._records.get(key)
        if record is None:
            while len(self._records) >= self._t.max_keys:
                self._records.popitem(last=False)
            record = self._records[key] = _Record()
        self._records.move_to_end(key)
        return record


class LoginThrottle:
    def __init__(self, *, limit: int = 5, window: float = 300.0, first_delay: float = 5.0,
                 max_delay: float = 900.0, max_keys: int = 10_000,
                 max_pending: int = 32) -> None:
        self.limit = limit
        self.window = window
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.max_keys = max_keys
        #: logins being checked at once, over all users and addresses
        self.max_pending = max_pending
        self._users = _Tracker(self)
        self._addresses = _Tracker(self)
        self._pending = 0

    def tracked(self) -> int:
        """How many user names and addresses are remembered."""
        return len(self._users) + len(self._addresses)

    def admit(self, user: str, address: str, now: float) -> int:
        """0 if the attempt may go on (it is then in progress until `finish`), or the
        whole seconds to wait before trying again."""
        wait = max(self._users.wait(user, now), self._addresses.wait(address, now))
        if not wait and self._pending >= self.max_pending:
            wait = 1.0
        if wait:
            return max(1, math.ceil(wait))
        self._pending += 1
        self._users.start(user)
        self._addresses.start(address)
        return 0

    def finish(self, user: str, address: str, *, succeeded: bool, now: float) -> None:
        """The outcome of an attempt `admit` let through."""
        self._pending = max(0, self._pending - 1)
        self._addresses.finish(address, failed=not succeeded, now=now)
        self._users.finish(user, failed=not succeeded, now=now)
        if succeeded:
            self._users.clear(user)
