"""The load benchmark's bookkeeping, without the sandbox: what each step's callers count
as (answered, shed, failed) and the table it prints."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from acd import call_csv
from acd.callflow.admission import Course, Over, Shed, shed_record
from acd.callflow.record import CallRecord

REPO = Path(__file__).resolve().parents[2]
T0 = 1_795_000_000.0


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """bench/bench_callpath.py as the script sees itself (bench/ and the integration
    toolkit on the path), without leaving either on the tests' path."""
    saved = list(sys.path)
    sys.path.insert(0, str(REPO / "bench"))
    try:
        spec = importlib.util.spec_from_file_location("bench_callpath",
                                                      REPO / "bench" / "bench_callpath.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_callpath"] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


def caller(n: int, party: str, status: int | None, ended_by: str | None,
           at: float) -> object:
    sipp = sys.modules["sipp"]
    return sipp.UacCall(n, party, call_id=f"uac-{n}", invited_at=at, final_status=status,
                        answered_at=at if status == 200 else None, ended_at=at + 3,
                        ended_by=ended_by)


def agent_leg(party: str, at: float, outcome: str = "answered") -> tuple[object, str]:
    sipp = sys.modules["sipp"]
    return sipp.AgentCall(0, "agent1001", f"leg-{party}", at, outcome=outcome), party


def test_a_step_counts_answered_shed_and_failed_callers_apart(bench):
    legs = [agent_leg("139001", T0 + 0.2), agent_leg("139006", T0 + 5.0, "cancelled")]
    uac = [
        caller(1, "139001", 200, "them", T0),  # reached an agent
        caller(2, "139002", 200, "them", T0 + 0.1),  # heard "lines busy"
        caller(3, "139003", 603, None, T0 + 0.2),  # shed unanswered
        caller(4, "139004", 488, None, T0 + 0.3),  # Asterisk out of RTP ports
        caller(5, "139005", 200, None, T0 + 0.4),  # shed, but never let go
        caller(6, "139006", 200, "them", T0 + 0.5),  # its agent never answered
    ]
    shed = {"139002", "139003", "139005"}
    calls = bench.tally(7, uac, [leg for leg, _ in legs],
                        {leg.call_id: party for leg, party in legs}, shed)
    assert (calls.answered, calls.shed, calls.failed) == (1, 2, 4)  # 7: one never placed
    assert calls.statuses == {"488/open": 1, "200/open": 1, "200/them": 1, "never placed": 1}
    assert calls.arrivals == [T0, T0 + 0.3, T0 + 0.5]  # what acd did not shed
    assert [round(w, 3) for w, _ in calls.waits] == [0.2, 4.5] and calls.rings == 1


def test_without_shedding_every_caller_not_answered_failed(bench):
    uac = [caller(1, "139002", 200, "them", T0)]
    calls = bench.tally(1, uac, [], {}, set())  # app_queue: no records of acd's
    assert (calls.answered, calls.shed, calls.failed) == (0, 0, 1)


def test_shed_callers_are_read_from_acds_call_export(bench):
    shed = shed_record("1.1", "13900000002", "4008001220", "zh", T0,
                       Shed(Over.RATE, Course.BUSY_PROMPT))
    served = CallRecord("1.2", "13900000003", "4008001220", T0, T0 + 1, outcome="answered")
    export = call_csv.header() + call_csv.rows([shed.to_hash(), served.to_hash()],
                                               masked=False)
    assert bench.shed_in_export(export) == {"13900000002"}


def result(bench: ModuleType, rate: float, answered: int, shed: int, failed: int,
           max_excess: float = 0.1) -> object:
    calls = answered + shed + failed
    return bench.LoadResult(
        "acd", rate, calls, failed, 0.2, max_excess, 90.0, 50.0, 20.0, 12.5, "",
        REPO / "var" / "bench" / f"load-acd-{rate:g}", answered, 9.5, 4.8, 4.0, 0.0, 5.0,
        shed, shed)


def test_the_load_table_shows_answered_shed_and_failed_calls_per_step(bench):
    results = [result(bench, 100, 1000, 0, 0), result(bench, 150, 800, 700, 0),
               result(bench, 200, 900, 600, 500, max_excess=30.0)]
    assert [r.verdict for r in results] == ["yes", "shed", "no"]
    lines = bench.load_report(results, ["acd"], REPO)
    assert "| answered | shed | failed | acd shed |" in lines[0]
    assert lines[2].startswith("| acd | 100 | 1000 | 1000 | 0 | 0 | 0 | 0.20 |")
    assert lines[3].startswith("| acd | 150 | 1500 | 800 | 700 | 0 | 700 | 0.20 |")
    assert lines[3].endswith("| shed |") and lines[4].endswith("| no |")
    assert "acd: highest sustained rate 100 calls/s" in lines
    assert "acd: highest rate held by shedding (none failed) 150 calls/s" in lines
    assert any("acd 150/s: wall 12.5 s" in line and "var/bench/load-acd-150" in line
               for line in lines)


def test_the_admission_caps_reach_acd_through_its_environment(bench):
    args = bench.argparse.Namespace(max_sessions=200, max_cps=80.0, burst=0,
                                    shed_to="busy", max_busy_prompts=100)
    assert bench.admission_env(args) == {
        "ACD_BENCH_MAX_SESSIONS": "200", "ACD_BENCH_MAX_CPS": "80", "ACD_BENCH_BURST": "0",
        "ACD_BENCH_SHED_TO": "busy", "ACD_BENCH_MAX_BUSY_PROMPTS": "100"}
    assert bench.describe_admission(args) == (
        "acd's admission: at most 200 sessions and 80 calls/s (burst one second), shed to "
        "busy, 100 at once")
