"""config.yaml's `webhooks:` list: a webhook with its secret from the environment, and
each mistake (a secret in the file, a URL that is not http(s), an unknown event type, a
name used twice, a missing variable) named at its file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config.settings import ConfigError, load_config
from acd.config.webhooks import load_webhooks


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(e) for e in info.value.errors]


def test_a_webhook_takes_its_secret_from_the_environment_and_masks_numbers_by_default(
        tmp_path, monkeypatch):
    monkeypatch.setenv("ACD_WEBHOOK_CRM_SECRET", "s3cr3t")
    config = load_config(write(tmp_path, """
webhooks:
  - name: crm
    url: https://crm.example.com/acd/events
    events: [call.offered, call.ended]
    secret_env: ACD_WEBHOOK_CRM_SECRET
"""))
    [crm] = load_webhooks(config.webhooks, None, [])
    assert (crm.name, crm.events, crm.secret, crm.full_numbers) == (
        "crm", ("call.offered", "call.ended"), "s3cr3t", False)
    assert "s3cr3t" not in repr(crm)


def test_without_a_webhooks_section_there_are_none(tmp_path):
    config = load_config(write(tmp_path, "timezone: Asia/Shanghai\n"))
    assert load_webhooks(config.webhooks, None, []) == ()


def test_each_mistake_in_a_webhook_is_named_at_its_line(tmp_path, monkeypatch):
    monkeypatch.setenv("ACD_WEBHOOK_SECRET", "s")
    path = write(tmp_path, """webhooks:
  - name: crm
    url: ftp://crm.example.com/
    secret: written-here
    secret_env: ACD_WEBHOOK_SECRET
  - name: crm
    url: https://ok.example.com/
    events: [call.rang]
    secret_env: ACD_WEBHOOK_SECRET
  - name: other
    url: https://ok.example.com/
    secret_env: ACD_NOT_SET_ANYWHERE
""")
    errors = errors_of(path)
    assert any(e.startswith(f"{path}:3:") and "http:// or https://" in e for e in errors)
    assert any(e.startswith(f"{path}:4:") and "must not be written in config.yaml" in e
               for e in errors)
    assert any(e.startswith(f"{path}:8:") and "'call.rang' is no event type" in e
               for e in errors)
    assert any(e.startswith(f"{path}:12:") and "ACD_NOT_SET_ANYWHERE is not set" in e
               for e in errors)
    assert "written-here" not in " ".join(errors)
