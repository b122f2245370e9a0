"""The `console:` section: what the wallboard colours, errors at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config.console import thresholds
from acd.config.settings import ConfigError, load_config
from acd.core.model import QueueConfig


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_pause_alerts_per_reason_and_the_queues_service_level_reach_the_wallboard(tmp_path):
    config = load_config(write(tmp_path, "console:\n  pause_alert_seconds: 600\n"
                                         "  pause_alert_by_reason: {lunch: 3600}\n"))
    found = thresholds(config.console, [QueueConfig("support", service_level_seconds=20)])
    assert (found.pause_alert("lunch"), found.pause_alert("break")) == (3600, 600)
    assert found.service_level_seconds == {"support": 20}


def test_bad_console_values_are_errors_at_their_line(tmp_path):
    path = write(tmp_path, "console:\n  pause_alert_seconds: -1\n  flush_ms: 5000\n")
    text = errors_of(path)
    assert f"{path}:2:" in text and "console.pause_alert_seconds" in text
    assert f"{path}:3:" in text and "console.flush_ms: must be 20 to 1000" in text


def test_a_pause_alert_that_is_not_a_number_is_an_error_at_its_line(tmp_path):
    path = write(tmp_path, "console:\n  pause_alert_by_reason: {lunch: soon}\n")
    assert f"{path}:2:" in errors_of(path) and "lunch" in errors_of(path)


def errors_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return "\n".join(str(e) for e in info.value.errors)


def test_the_console_admin_settings_are_read_and_checked_at_their_line(tmp_path):
    config = load_config(write(tmp_path, "console:\n  agents_replay_own: true\n"
                                         "  flow_versions_kept: 5\n"))
    assert config.console.agents_replay_own is True
    assert config.console.flow_versions_kept == 5
    assert config.console.flow_versions_dir == "var/flow-versions"
    path = write(tmp_path, "console:\n  flow_versions_kept: 0\n")
    assert f"{path}:2:" in errors_of(path) and "flow_versions_kept" in errors_of(path)
    path = write(tmp_path, "console:\n  agents_replay_own: maybe\n")
    assert f"{path}:2:" in errors_of(path)
