"""cluster.mode: standby unless asked for; a misspelt mode is refused at its line."""

from __future__ import annotations

import pytest

from acd.config.settings import ConfigError, load_config


def test_a_single_acd_stays_in_standby_mode_unless_active_is_asked_for(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("cluster:\n  node: a\n")
    assert load_config(path).cluster.mode == "standby"
    path.write_text("cluster:\n  node: a\n  mode: active\n")
    assert load_config(path).cluster.mode == "active"


def test_a_misspelt_cluster_mode_is_refused_with_its_line_and_the_choices(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("cluster:\n  node: a\n  mode: activ\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert any("config.yaml:3" in str(e) and "standby" in str(e) and "active" in str(e)
               for e in error.value.errors), error.value.errors
