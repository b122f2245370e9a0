"""config.yaml's `history:` section: the SQLite default under var/, PostgreSQL with its
password from the environment, and each mistake named at its file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config.settings import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path, **kw: bool) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, **kw)
    return [str(e) for e in info.value.errors]


def test_without_a_history_section_the_history_is_a_sqlite_file_under_var(tmp_path):
    config = load_config(write(tmp_path, "timezone: Asia/Shanghai\n"))
    assert config.history.enabled
    assert config.history.database_url(config.base_dir) == \
        f"sqlite+aiosqlite:///{tmp_path.resolve()}/var/history.db"
    assert config.history.retention.calls == 400 and config.history.redis_records_days == 7


def test_the_postgres_password_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ACD_HISTORY_PASSWORD", "pw")
    config = load_config(write(tmp_path, """
history:
  url: "postgresql+asyncpg://acd:${ACD_HISTORY_PASSWORD}@db.local/acd"
  retention: {calls: 730, agent_events: 90}
"""))
    assert config.history.database_url(".") == "postgresql+asyncpg://acd:pw@db.local/acd"
    assert config.history.retention.calls == 730 and config.history.retention.agent_events == 90
    assert "pw" not in repr(config.history)


def test_the_whole_url_may_come_from_an_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("ACD_HISTORY_URL", "postgresql+asyncpg://acd:pw@db/acd")
    config = load_config(write(tmp_path, "history: {url_env: ACD_HISTORY_URL}\n"))
    assert config.history.database_url(".") == "postgresql+asyncpg://acd:pw@db/acd"


def test_a_password_written_in_the_file_is_refused_with_what_to_do(tmp_path):
    path = write(tmp_path, "history:\n  url: postgresql+asyncpg://acd:secret@db/acd\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:2:") and "${ACD_HISTORY_PASSWORD}" in error
    assert "secret" not in error  # the password is not repeated


def test_an_unknown_database_or_a_negative_retention_is_named_at_its_line(tmp_path):
    path = write(tmp_path, """history:
  url: mysql://acd@db/acd
  retention:
    calls: -1
  redis_records_days: 0
""")
    errors = errors_of(path)
    assert any(e.startswith(f"{path}:2:") and "not a supported database" in e for e in errors)
    assert any(e.startswith(f"{path}:4:") and "history.retention.calls -1" in e
               for e in errors)
    assert any(e.startswith(f"{path}:5:") and "redis_records_days" in e for e in errors)


def test_an_unset_url_variable_stops_serve_but_check_only_warns(tmp_path, monkeypatch):
    monkeypatch.delenv("ACD_HISTORY_URL", raising=False)
    path = write(tmp_path, "history: {url_env: ACD_HISTORY_URL}\n")
    [error] = errors_of(path)
    assert "ACD_HISTORY_URL is not set" in error
    load_config(path, allow_missing_env=True)  # `acd check` on a machine without it


def test_the_shipped_config_has_a_valid_history_section(monkeypatch):
    repo = Path(__file__).resolve().parents[2]
    config = load_config(repo / "config.yaml", allow_missing_env=True)
    assert config.history.database_url(config.base_dir).endswith("/var/history.db")
