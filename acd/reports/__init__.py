"""Reports from the call history: per queue, agent and interval (docs/reports.md)."""
