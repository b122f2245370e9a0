"""`acd report`: a report from a real SQLite history, as a table, CSV or XLSX file."""

from __future__ import annotations

import asyncio
import csv
import zipfile
from datetime import date
from pathlib import Path

import pytest

from acd.cli import main
from acd.reports.database import create_tables, open_history
from tests.history_month import generate, insert

CONFIG = """\
timezone: Asia/Shanghai
queues:
  sales: {service_level_seconds: 20}
  support: {}
  vip: {service_level_seconds: 10}
reports: {short_abandon_seconds: 5, max_range_days: 31}
"""


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report-cli")
    (folder / "config.yaml").write_text(CONFIG)

    async def fill() -> None:
        engine = open_history(f"sqlite+aiosqlite:///{folder}/history.db")
        await create_tables(engine)
        await insert(engine, generate(date(2026, 11, 1), 3, 50, "Asia/Shanghai", seed=2))
        await engine.dispose()

    asyncio.run(fill())
    return folder


def _args(folder: Path, *more: str) -> list[str]:
    return ["report", *more, "--config", str(folder / "config.yaml"),
            "--db", f"sqlite+aiosqlite:///{folder}/history.db"]


def test_a_queue_report_prints_as_an_aligned_table(history: Path, capsys) -> None:
    assert main(_args(history, "queues", "--from", "2026-11-01", "--to", "2026-11-03",
                      "--interval", "day", "--queue", "sales")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["bucket", "queue", "offered", "answered"]
    assert set(lines[1]) == {"-", " "}
    assert [line.split()[1] for line in lines[2:]] == ["sales"] * 3
    widths = {len(line) for line in lines[:2]}
    assert len(widths) == 1  # header and rule line up


def test_the_table_shows_all_queues_together_for_each_day(history: Path, capsys) -> None:
    assert main(_args(history, "queues", "--from", "2026-11-01", "--to", "2026-11-03",
                      "--interval", "day")) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    for day in {line[0] for line in lines}:
        rows = {line[1]: int(line[2]) for line in lines if line[0] == day}
        assert rows.pop("(all)") == sum(rows.values()) > 0  # offered


def test_csv_and_xlsx_files_hold_the_same_rows(history: Path, tmp_path: Path) -> None:
    out_csv, out_xlsx = tmp_path / "agents.csv", tmp_path / "agents.xlsx"
    span = ["--from", "2026-11-01", "--to", "2026-11-03T12:00", "--interval", "hour"]
    assert main(_args(history, "agents", *span, "--format", "csv", "-o", str(out_csv))) == 0
    assert main(_args(history, "agents", *span, "--format", "xlsx", "-o", str(out_xlsx))) == 0
    rows = list(csv.reader(out_csv.open(encoding="utf-8")))
    assert rows[0][:3] == ["bucket", "agent", "answered"] and len(rows) > 20
    sheet = zipfile.ZipFile(out_xlsx).read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<row ") == len(rows)


def test_the_cli_says_what_is_wrong_with_a_range_or_a_format(history: Path, capsys) -> None:
    assert main(_args(history, "surveys", "--from", "2026-11-01", "--to", "2027-01-30")) == 1
    assert "at most 31 days per report" in capsys.readouterr().err
    assert main(_args(history, "surveys", "--from", "2026-11-01", "--to", "2026-11-02",
                      "--format", "xlsx")) == 1
    assert "add --output FILE.xlsx" in capsys.readouterr().err


def test_a_missing_history_database_is_named_not_created(tmp_path: Path, capsys) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG)
    code = main(["report", "queues", "--config", str(tmp_path / "config.yaml"),
                 "--from", "2026-11-01", "--to", "2026-11-02",
                 "--db", f"sqlite+aiosqlite:///{tmp_path}/none/history.db"])
    assert code == 1
    assert "no history database at" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()
