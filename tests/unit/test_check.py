"""`acd check`: the shipped configuration is clean; seeded mistakes are reported precisely."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from acd.checks import check_all
from acd.cli import main

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


def copy_project(tmp_path: Path) -> Path:
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    shutil.copytree(REPO / "ivr_flows", tmp_path / "ivr_flows")
    (tmp_path / "prompts").mkdir()
    return tmp_path / "config.yaml"


def test_the_shipped_configuration_has_no_problems(monkeypatch):
    monkeypatch.setenv("ACD_AMI_SECRET", "x")
    problems, warnings = check_all(str(REPO / "config.yaml"), now=NOW)
    assert problems == []
    # holidays 0.109 has no official 2027 arrangement yet: that is said, not hidden
    assert all("2027" in w for w in warnings)


def test_a_missing_secret_is_a_warning_for_check(monkeypatch):
    monkeypatch.delenv("ACD_AMI_SECRET", raising=False)
    problems, warnings = check_all(str(REPO / "config.yaml"), now=NOW)
    assert problems == []
    assert any("ACD_AMI_SECRET" in w for w in warnings)


def test_flow_and_config_errors_are_reported_together_with_positions(tmp_path, monkeypatch,
                                                                     capsys):
    monkeypatch.setenv("ACD_AMI_SECRET", "x")
    config = copy_project(tmp_path)
    main_flow = tmp_path / "ivr_flows" / "main.yaml"
    main_flow.write_text(main_flow.read_text().replace("queue: complaints",
                                                       "queue: complaint"))
    text = config.read_text().replace("strategy: least-calls", "strategy: fewest")
    config.write_text(text)
    assert main(["check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "config.yaml:" in out and "fewest" in out
    # fix the config: now the flow's unknown queue is what is left
    config.write_text(text.replace("strategy: fewest", "strategy: least-calls"))
    assert main(["check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert f"{main_flow}:" in out and "complaint" in out


def test_a_number_whose_flow_does_not_exist_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("ACD_AMI_SECRET", "x")
    config = copy_project(tmp_path)
    config.write_text(config.read_text().replace("{flow: main, language: zh}",
                                                 "{flow: mian, language: zh}"))
    problems, _ = check_all(str(config), now=NOW)
    assert any("mian" in p for p in problems)
