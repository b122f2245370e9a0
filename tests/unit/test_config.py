"""config.yaml parsing: the shipped file is clean; each kind of mistake names file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config.settings import ConfigError, load_config

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(e) for e in info.value.errors]


def test_shipped_config_loads_with_the_secret_from_the_environment(monkeypatch):
    monkeypatch.setenv("ACD_AMI_SECRET", "s3cret")
    config = load_config(REPO / "config.yaml")
    assert config.ami.secret == "s3cret"
    assert config.timezone == "Asia/Shanghai"
    assert "4008001234" in config.numbers
    assert config.path("recordings") == REPO / "recordings"


def test_defaults_fill_sections_that_are_left_out(tmp_path):
    config = load_config(write(tmp_path, "timezone: Asia/Shanghai\n"))
    assert config.agi.port == 4573
    assert config.redis.prefix == "acd:"


def test_env_reference_with_a_default_uses_the_default(tmp_path, monkeypatch):
    monkeypatch.delenv("ACD_TEST_UNSET", raising=False)
    config = load_config(write(tmp_path, "ami:\n  secret: ${ACD_TEST_UNSET:-fallback}\n"))
    assert config.ami.secret == "fallback"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ami:\n  port: five\n", "config.yaml:2:3: ami.port: expected a whole number, got str"),
        ("ami:\n  secrt: x\n", "config.yaml:2:3: unknown key ami.secrt (did you mean 'secret'?)"),
        ("colour: blue\n", "config.yaml:1:1: unknown key .colour"),
        ("ami:\n  secret: ${ACD_TEST_UNSET}\n",
         "config.yaml:2:3: environment variable ACD_TEST_UNSET is not set"),
        ("timezone: Mars/Olympus\n", "config.yaml:1:1: unknown timezone 'Mars/Olympus'"),
        ("http:\n  port: 70000\n", "config.yaml:2:3: http.port 70000 is not a TCP port"),
        ("numbers:\n  hotline: {flow: main}\n",
         "config.yaml:2:3: numbers: 'hotline' is not a dialled number"),
        ("numbers:\n  '4008001234': {flwo: main}\n",
         "config.yaml:2:18: unknown key numbers.4008001234.flwo (did you mean 'flow'?)"),
        ("ami: [1, 2]\n", "config.yaml:1:1: ami: expected a mapping, got list"),
        ("ami:\n  host: a\n  host: b\n", "config.yaml:3:3: duplicate key 'host'"),
        ("ami: {host: a\n", "config.yaml:2:1: YAML syntax error"),
        ("agi:\n  port: true\n", "config.yaml:2:3: agi.port: expected a whole number, got bool"),
    ],
)
def test_each_kind_of_mistake_is_reported_with_its_position(tmp_path, monkeypatch, text,
                                                             expected):
    monkeypatch.delenv("ACD_TEST_UNSET", raising=False)
    errors = errors_of(write(tmp_path, text))
    assert any(e.endswith(expected) or expected in e for e in errors), errors
    assert all(e.startswith(str(tmp_path)) for e in errors)


def test_every_problem_is_reported_at_once(tmp_path):
    errors = errors_of(write(tmp_path, "ami:\n  port: x\nhttp:\n  prot: 1\n"))
    assert len(errors) == 2


def test_admission_caps_are_read_and_absent_ones_mean_no_cap(tmp_path):
    config = load_config(write(tmp_path, "admission:\n  max_sessions: 200\n"
                                         "  max_calls_per_second: 80\n  shed_to: fallback\n"))
    admission = config.admission
    assert (admission.max_sessions, admission.max_calls_per_second) == (200, 80.0)
    assert admission.shed_to == "fallback" and admission.burst == 0
    assert not load_config(write(tmp_path, "timezone: Asia/Shanghai\n")).admission.limited


def test_admission_caps_may_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ACD_TEST_CAP", "150")
    monkeypatch.delenv("ACD_TEST_UNSET", raising=False)
    config = load_config(write(tmp_path, "admission:\n  max_sessions: ${ACD_TEST_CAP}\n"
                                         "  max_calls_per_second: '${ACD_TEST_UNSET:-2.5}'\n"))
    assert (config.admission.max_sessions, config.admission.max_calls_per_second) == (150, 2.5)


@pytest.mark.parametrize(("text", "expected"), [
    ("admission:\n  max_sessions: -1\n",
     "config.yaml:2:3: admission.max_sessions: must be 0 (no cap) or more"),
    ("admission:\n  burst: 50\n",
     "config.yaml:2:3: admission.burst: has no effect without max_calls_per_second"),
    ("admission:\n  shed_to: voicemail\n",
     "config.yaml:2:3: admission.shed_to: 'voicemail' is not one of: busy, fallback"),
    ("admission:\n  max_sessions: ${ACD_TEST_CAP:-lots}\n",
     "config.yaml:2:3: admission.max_sessions: expected a whole number, got str 'lots'"),
])
def test_admission_mistakes_name_their_line(tmp_path, monkeypatch, text, expected):
    monkeypatch.delenv("ACD_TEST_CAP", raising=False)
    errors = errors_of(write(tmp_path, text))
    assert any(expected in e for e in errors), errors


def test_the_shipped_config_sheds_load_past_what_the_sandbox_carries(monkeypatch):
    monkeypatch.setenv("ACD_AMI_SECRET", "s3cret")
    admission = load_config(REPO / "config.yaml").admission
    assert admission.limited and admission.shed_to == "busy"
    assert 0 < admission.max_calls_per_second <= 100  # the sandbox sustains ~100 calls/s


def test_a_cluster_lease_outside_sensible_seconds_is_refused_with_its_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("cluster:\n  lease_seconds: 0\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert any("config.yaml:2" in str(e) and "cluster.lease_seconds" in str(e)
               for e in error.value.errors)


def test_dispositions_are_short_codes_with_printable_labels_errors_at_their_line(tmp_path):
    from acd.config.sections import load_sections

    path = write(tmp_path, "dispositions:\n  complaint: 投诉\n  order: 订单\n")
    assert load_sections(load_config(path)).dispositions == {"complaint": "投诉",
                                                             "order": "订单"}
    path = write(tmp_path, "dispositions:\n  complaint: 投诉\n  bad code: x\n")
    with pytest.raises(ConfigError, match=r"config.yaml:3:\d+: dispositions.bad code"):
        load_sections(load_config(path))
    path = write(tmp_path, "dispositions: [complaint]\n")
    with pytest.raises(ConfigError, match=r"config.yaml:1:\d+: dispositions: expected a "):
        load_sections(load_config(path))
