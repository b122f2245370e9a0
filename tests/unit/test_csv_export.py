"""Every CSV export: formula injection neutralised, numbers masked for who may not see them."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd import call_csv
from acd.callflow.record import CallRecord
from acd.csv_cells import neutralise, restore
from acd.privacy import mask_call, mask_number


@pytest.mark.parametrize("cell", [
    "=HYPERLINK(\"http://x\",\"y\")", "+8613800138000", "-2+3", "@SUM(A1:A2)",
    "\t=1+1", "\r=1+1",
])
def test_a_csv_cell_that_starts_with_a_formula_character_is_neutralised(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["", "13800138000", "大客户", "a=b", "'quoted", "0755-1"])
def test_a_cell_no_spreadsheet_reads_as_a_formula_is_written_as_it_is(cell: str) -> None:
    assert neutralise(cell) == cell


@given(st.text(alphabet=st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "1", "a", " "])))
def test_a_neutralised_cell_never_starts_a_formula_and_restores_to_what_was_written(
        cell: str) -> None:
    written = neutralise(cell)
    assert not written.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert restore(written) == cell


def test_a_cell_a_spreadsheet_user_quoted_to_keep_it_text_imports_without_the_quote() -> None:
    assert restore("'+8613800138000") == "+8613800138000"
    assert restore("'plain") == "'plain"


RECORD = CallRecord("c1", "+8613800138000", "4008001234", 1795000000.0,
                    variables={"caller": "+8613800138000", "called": "4008001234",
                               "menu": "=1+1", "id_card": "110101199003070011",
                               "order": "20261111"},
                    sensitive_variables=["id_card"],
                    ivr_path=["main:welcome", "main:transfer_13900139000"],
                    rule="whitelist exact 13800138000", transfer="013912345678",
                    agent="1001", outcome="answered")


def _parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _row(stored: dict[str, str], *, masked: bool) -> dict[str, str]:
    (row,) = _parse(call_csv.header() + call_csv.rows([stored], masked=masked))
    return row


def test_the_call_csv_is_a_header_then_one_line_per_record() -> None:
    text = call_csv.header() + call_csv.rows([RECORD.to_hash()] * 2, masked=False)
    assert text.splitlines()[0] == ",".join(call_csv.COLUMNS)
    assert len(_parse(text)) == 2
    assert set(call_csv.MASKED_JSON_CELLS) <= set(CallRecord._JSON_FIELDS)


def test_the_call_csv_neutralises_a_caller_id_and_a_variable_that_look_like_formulas() -> None:
    hostile = CallRecord("c2", "=cmd|'/c calc'!A1", "4008001234", 1795000000.0)
    assert _row(hostile.to_hash(), masked=False)["caller"] == "'=cmd|'/c calc'!A1"
    row = _row(RECORD.to_hash(), masked=False)
    assert row["caller"] == "'+8613800138000"
    assert row["variables"].startswith("{")  # JSON: not a formula, left alone


def test_a_role_without_numbers_gets_every_number_of_a_call_masked_in_csv() -> None:
    row = _row(RECORD.to_hash(), masked=True)
    assert row["caller"] == "'+861*******000"
    variables = json.loads(row["variables"])
    assert variables["caller"] == "+861*******000"
    assert variables["id_card"] == mask_number("110101199003070011")  # marked sensitive
    assert variables["order"] == "20261111"  # not marked: an order number stays
    assert row["rule"] == "whitelist exact 13******000"
    assert row["transfer"] == mask_number("013912345678")
    assert json.loads(row["ivr_path"])[1] == "main:transfer_13******000"
    assert row["called"] == "4008001234"  # the number the caller dialled is ours
    # the CSV masks exactly what the API's view of the call masks
    api = mask_call(asdict(RECORD))
    assert {k: row[k].lstrip("'") for k in ("caller", "rule", "transfer")} == {
        k: api[k] for k in ("caller", "rule", "transfer")}
    assert variables == api["variables"]
    full = _row(RECORD.to_hash(), masked=False)
    assert "+8613800138000" in full["variables"] and "110101199003070011" in full["variables"]


def test_a_damaged_json_cell_has_every_number_masked_rather_than_let_through() -> None:
    stored = {**RECORD.to_hash(), "variables": '{"caller": "13800138000"',
              "ivr_path": '"main:13900139000"'}
    row = _row(stored, masked=True)
    assert "13800138000" not in row["variables"] and "13900139000" not in row["ivr_path"]
    unknown = {**RECORD.to_hash(), "sensitive_variables": "id_card"}  # not a JSON list
    assert "110101199003070011" not in _row(unknown, masked=True)["variables"]
