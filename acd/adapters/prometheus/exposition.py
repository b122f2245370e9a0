"""acd's own Prometheus registry (never the library's global one: two acd apps in one
process, as tests make them, must not share counters) and its text."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from prometheus_client import CollectorRegistry, Info, disable_created_metrics, generate_latest
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from acd.adapters.prometheus.counters import EventMetrics
from acd.adapters.prometheus.live import LiveCollector, LiveSources


def _acd_version() -> str:
    try:
        return version("acd")
    except PackageNotFoundError:  # run from a checkout without installing
        return "dev"


class AcdMetrics:
    def __init__(self) -> None:
        # no `_created` twin for every counter and histogram: it doubles the text, and
        # Prometheus finds resets without it (process-wide: acd has no other registry)
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        self.events = EventMetrics(self.registry)
        # process_* (CPU, memory, open files, start time), python_* (version, GC)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        Info("acd_build", "acd's version.", registry=self.registry).info(
            {"version": _acd_version()})
        self._live: LiveCollector | None = None

    def watch(self, sources: LiveSources) -> None:
        """Read the gauges from `sources` at each scrape (once)."""
        if self._live is None:
            self._live = LiveCollector(sources)
            self.registry.register(self._live)

    def render(self) -> bytes:
        """The Prometheus text exposition format (version 0.0.4)."""
        return generate_latest(self.registry)
