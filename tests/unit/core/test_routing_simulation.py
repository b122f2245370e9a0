"""The simulation's queueing models and a short run of the real engine against them."""

from __future__ import annotations

import argparse
import math

import pytest

from acd import simulate
from acd.core.model import Strategy


def test_erlang_c_matches_known_values():
    assert simulate.erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = load
    assert simulate.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    figures = simulate.erlang_c_figures(20, 17, 180, 20)
    assert figures["sl"] == pytest.approx(0.724, abs=0.001)
    assert figures["asa"] == pytest.approx(23.1, abs=0.1)


def test_erlang_a_tends_to_erlang_c_when_callers_are_patient():
    a = simulate.erlang_a_figures(10, 8 / 180, 180, 1e9)
    assert a["p_wait"] == pytest.approx(simulate.erlang_c(10, 8), rel=1e-3)
    assert a["abandon"] == pytest.approx(0, abs=1e-6)


def test_a_short_simulation_runs_the_engine_and_stays_near_erlang_c():
    cfg = simulate.SimConfig(agents=5, load=3.0, aht=60, hours=4, warmup=600)
    runs = [simulate.Simulation(cfg, Strategy.LONGEST_IDLE, seed).run() for seed in range(3)]
    sl = [r.figures(cfg)["sl"] for r in runs]
    assert all(r.answered > 500 and r.abandoned == 0 for r in runs)
    expected = simulate.erlang_c_figures(5, 3.0, 60, 20)["sl"]
    assert abs(sum(sl) / len(sl) - expected) < 0.05
    assert not math.isnan(runs[0].figures(cfg)["asa"])


def test_the_command_line_prints_both_tables(capsys):
    parser = argparse.ArgumentParser()
    simulate.add_arguments(parser)
    args = parser.parse_args(["--agents", "3", "--load", "1.5", "--aht", "60", "--hours", "1",
                              "--seeds", "2", "--strategies", "round-robin,ring-all"])
    assert simulate.run(args) == 0
    out = capsys.readouterr().out
    assert "Erlang C (model)" in out and "Erlang A (model)" in out
    assert out.count("| round-robin") == 2
