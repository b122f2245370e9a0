"""config.yaml's reports: section: thresholds, and a bad one named at its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config.settings import ConfigError, load_config


def test_report_thresholds_are_read_from_the_reports_section(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("reports:\n  short_abandon_seconds: 8\n  answer_within_seconds: 10\n")
    config = load_config(path)
    assert config.reports.short_abandon_seconds == 8.0
    assert config.reports.answer_within_seconds == 10.0
    assert config.reports.max_range_days == 93


@pytest.mark.parametrize(("line", "says"), [
    ("max_range_days: 0", "max_range_days: days between 1 and 3660"),
    ("short_abandon_seconds: -1", "short_abandon_seconds: seconds between 0 and 3600"),
    ("short_abandon: 5", "unknown key reports.short_abandon"),
])
def test_a_bad_reports_setting_is_named_at_its_file_and_line(
        tmp_path: Path, line: str, says: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"timezone: Asia/Shanghai\nreports:\n  {line}\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert f"{path}:" in str(error.value) and says in str(error.value)
