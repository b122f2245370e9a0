"""config.yaml's `reports:` section: the thresholds the report figures use (docs/reports.md).

```yaml
reports:
  short_abandon_seconds: 5      # callers who hung up within 5 s of waiting: not abandoned
  answer_within_seconds: 15     # "answered within three rings" (a ring cycle is ~5 s)
  max_range_days: 93            # the longest range one report may cover
```
Each queue's service-level threshold is its own `service_level_seconds` (queues:).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportsConfig:
    short_abandon_seconds: float = 5.0
    answer_within_seconds: float = 15.0
    max_range_days: int = 93

    def __post_init__(self) -> None:
        # build_dataclass reports a ValueError at the section's file:line
        if not 0 <= self.short_abandon_seconds <= 3600:
            raise ValueError("short_abandon_seconds: seconds between 0 and 3600")
        if not 0 < self.answer_within_seconds <= 600:
            raise ValueError("answer_within_seconds: seconds between 0 and 600")
        if not 1 <= self.max_range_days <= 3660:
            raise ValueError("max_range_days: days between 1 and 3660")
