"""Prometheus metrics (`GET /metrics`): counters fed where each fact enters acd, gauges
read from the routing core's views when Prometheus scrapes (docs/operations.md)."""
