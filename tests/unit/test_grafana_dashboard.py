"""docs/grafana-dashboard.json loads in Grafana (a dashboard model with a Prometheus
data-source variable) and queries only metrics acd exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from acd.adapters.prometheus.exposition import AcdMetrics
from acd.adapters.prometheus.live import LiveSources
from acd.core import commands as cmd
from acd.core.census import Census

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json"


class OneQueue:
    def census(self) -> Census:
        return {"queues": [{"queue": "support", "waiting": 2, "ringing": 1,
                            "oldest_arrival": 100.0, "members": {"on-call": 1},
                            "available": 0, "service_level": 0.8,
                            "average_handle_seconds": 120.0}],
                "agents": {"on-call": 1}}


def exported_names() -> set[str]:
    metrics = AcdMetrics()
    metrics.events.start_queues(["support"])
    metrics.events.on_routing(cmd.CallRouted("c1", "support", "1001", 4.0))
    metrics.events.survey_answered("support", "satisfaction", "1")
    metrics.events.command_answered("ANSWER", 0.001)
    metrics.events.routing_decided(0.001)
    metrics.watch(LiveSources(
        views=OneQueue(), now=lambda: 130.0, agi_sessions_open=lambda: 3,
        ami_connected=lambda: True, ami_logins=lambda: 1, redis_up=lambda: True,
        redis_outages=lambda: 0, routing_running=lambda: True, routing_backlog=lambda: 0))
    text = metrics.render().decode()
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def test_the_dashboard_is_a_grafana_model_with_a_prometheus_data_source_variable():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}"


def test_every_metric_the_dashboard_queries_is_one_acd_exports():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queried = {name for panel in dashboard["panels"] for target in panel.get("targets", [])
               for name in re.findall(r"\b(?:acd|process)_[a-z_]+", target["expr"])}
    queried |= {name for v in dashboard["templating"]["list"] if v["type"] == "query"
                for name in re.findall(r"\bacd_[a-z_]+", v["definition"])}
    assert len(queried) >= 15
    assert queried - exported_names() == set()
