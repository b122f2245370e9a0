"""Queue settings of the call path (transfer code, whisper, 报工号) in config.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config.routing import QueueTelephony, transfer_codes
from acd.config.sections import load_sections
from acd.config.settings import ConfigError, load_config

AGENTS = 'agents:\n  "1001": {pin: "1"}\n'


def sections_of(tmp_path: Path, queues: str):
    path = tmp_path / "config.yaml"
    path.write_text("queues:\n" + queues + AGENTS, encoding="utf-8")
    return load_sections(load_config(path))


def test_transfer_codes_whispers_and_the_agent_number_switch_are_read(tmp_path, monkeypatch):
    monkeypatch.setenv("ACD_TEST_ANNOUNCE", "false")
    sections = sections_of(tmp_path, (
        '  support: {members: ["1001"], transfer_code: "601"}\n'
        '  vip: {members: ["1001"], transfer_code: "603", whisper: 贵宾专线,\n'
        '        announce_agent: "${ACD_TEST_ANNOUNCE}"}\n'))
    assert sections.telephony["support"] == QueueTelephony(transfer_code="601")
    assert sections.telephony["vip"] == QueueTelephony("603", "贵宾专线", announce_agent=False)
    assert transfer_codes(sections.telephony) == {"601": "support", "603": "vip"}
    assert [q.name for q in sections.queues] == ["support", "vip"]  # the core sees queues


@pytest.mark.parametrize(("queues", "expected"), [
    ('  a: {transfer_code: "6x1"}\n', "config.yaml:2:7: queues.a.transfer_code: digits only"),
    ('  a: {transfer_code: "601"}\n  b: {transfer_code: "601"}\n',
     "config.yaml:3:7: queues.b.transfer_code: 601 is already the code of queue 'a'"),
    ('  a: {announce_agent: maybe}\n', "config.yaml:2:7: queues.a.announce_agent: expected"),
])
def test_a_wrong_setting_is_refused_with_its_position(tmp_path, queues, expected):
    with pytest.raises(ConfigError) as info:
        sections_of(tmp_path, queues)
    assert any(expected in str(e) for e in info.value.errors), info.value.errors
