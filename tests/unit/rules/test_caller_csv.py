"""CSV import/export of the caller lists: all rows or none, errors by row number."""

from __future__ import annotations

import pytest

from acd.rules.caller_csv import (
    CSV_COLUMNS,
    MAX_CELL_CHARS,
    MAX_ROWS,
    CsvError,
    format_csv,
    parse_csv,
)
from acd.rules.caller_entries import Action, ListKind, MatchKind, make_entry

GOOD = """\
list,match,value,action,target,priority,expires,note
black,exact,+86 138 0013 8000,hangup,,,,harasses agents
black,prefix,170,announce,no_virtual,,2027-06-30,
white,exact,01012345678,vip,,10,,大客户
white,prefix,0755,skip_menu,queue:shenzhen,3,,
black,anonymous,,route,flow:ask_number,,,
black,pattern,1[3-9]?????0000,hangup,,,1798992000,

"""


def test_a_good_file_gives_every_entry_normalised() -> None:
    entries = parse_csv(GOOD)
    assert [(e.list, e.match, e.value, e.action) for e in entries] == [
        (ListKind.BLACK, MatchKind.EXACT, "13800138000", Action.HANGUP),
        (ListKind.BLACK, MatchKind.PREFIX, "170", Action.ANNOUNCE),
        (ListKind.WHITE, MatchKind.EXACT, "01012345678", Action.VIP),
        (ListKind.WHITE, MatchKind.PREFIX, "0755", Action.SKIP_MENU),
        (ListKind.BLACK, MatchKind.ANONYMOUS, "", Action.ROUTE),
        (ListKind.BLACK, MatchKind.PATTERN, "1[3-9]?????0000", Action.HANGUP),
    ]
    assert entries[2].note == "大客户" and entries[2].priority == 10


def test_export_then_import_gives_the_same_entries() -> None:
    entries = parse_csv(GOOD)
    text = format_csv(entries)
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert "2027-06-30T00:00:00+08:00" in text
    assert parse_csv(text) == entries


def test_a_bom_and_columns_in_another_order_are_accepted() -> None:
    text = ("\ufeffvalue,list,match,action,target,priority,expires,note\n"
            "138,black,exact,hangup,,,,\n")
    assert parse_csv(text)[0].value == "138"


def test_every_bad_row_is_reported_by_its_spreadsheet_row_number() -> None:
    text = ("list,match,value,action,target,priority,expires,note\n"
            "black,exact,13800138000,hangup,,,,\n"
            "black,exact,13800138001,explode,,,,\n"
            "\n"
            "white,exact,13800138002,vip,,,,\n"
            "black,exact,+8613800138000,announce,bye,,,\n"
            "black,exact,138\n")
    with pytest.raises(CsvError) as caught:
        parse_csv(text)
    assert [row for row, _ in caught.value.problems] == [3, 5, 6, 7]
    message = str(caught.value)
    assert "row 3: unknown action 'explode'" in message
    assert "row 5: action vip needs a priority" in message
    assert "row 6: same blacklist exact '13800138000' as row 2" in message
    assert "row 7: 3 cells, expected 8" in message


@pytest.mark.parametrize(("text", "message"), [
    ("", "row 1: empty file"),
    ("list,match,value,action\n", "row 1: the header must be"),
    ("list,match,value,action,target,priority,expires,note,colour\n", "unknown: ['colour']"),
])
def test_a_bad_header_is_row_one(text: str, message: str) -> None:
    with pytest.raises(CsvError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_csv(text)


def test_an_empty_list_exports_just_the_header() -> None:
    assert format_csv([]) == ",".join(CSV_COLUMNS) + "\n"
    assert parse_csv(format_csv([])) == []
    assert make_entry("black", "exact", "1", "hangup").value == "1"


HEADER = "list,match,value,action,target,priority,expires,note\n"


def test_list_import_reports_a_nul_or_an_oversized_cell_as_a_row_error() -> None:
    text = (HEADER
            + "black,exact,13800138000,hangup,,,,ok\n"
            + "black,exact,13800138001,hangup,,,,bad\x00note\n"
            + "black,exact,13800138002,hangup,,,," + "x" * (MAX_CELL_CHARS + 1) + "\n"
            + "black,exact,13800138003\x00,hangup,,,,\n")
    with pytest.raises(CsvError) as caught:
        parse_csv(text)
    assert caught.value.problems == [
        (3, "the note cell holds a NUL character"),
        (4, f"the note cell has {MAX_CELL_CHARS + 1} characters; at most {MAX_CELL_CHARS}"),
        (5, "the value cell holds a NUL character"),
    ]


def test_a_cell_too_big_for_the_csv_reader_is_a_row_error_not_a_traceback() -> None:
    text = HEADER + "black,exact,1,hangup,,,,\n" + '"' + "9" * 200_000 + '",x\n'
    with pytest.raises(CsvError) as caught:
        parse_csv(text)
    assert caught.value.problems == [(3, f"a cell has more than {MAX_CELL_CHARS} characters")]
    with pytest.raises(CsvError, match="row 1: a cell has more than"):
        parse_csv("x" * 200_000 + "\n")


def test_list_import_stops_at_the_row_limit_with_a_row_error() -> None:
    rows = "".join(f"black,exact,{13800000000 + i},hangup,,,,\n" for i in range(MAX_ROWS))
    assert len(parse_csv(HEADER + rows + ",,,,,,,\n\n")) == MAX_ROWS  # blank rows after: fine
    with pytest.raises(CsvError) as caught:
        parse_csv(HEADER + rows + "black,exact,1,hangup,,,,\n")
    assert caught.value.problems == [
        (MAX_ROWS + 2, f"more than {MAX_ROWS:,} rows after the header; split the file")]


def test_cells_that_look_like_formulas_export_quoted_and_import_back_the_same() -> None:
    entries = [make_entry("black", "exact", "13800138000", "hangup", note="=1+1"),
               make_entry("black", "prefix", "170", "hangup", note="-virtual @carrier"),
               make_entry("white", "exact", "01012345678", "vip", priority="5",
                          note="'=kept as typed")]
    text = format_csv(entries)
    assert ",'=1+1\n" in text and ",'-virtual @carrier\n" in text
    assert ",''=kept as typed\n" in text
    assert parse_csv(text) == entries


def test_a_number_a_spreadsheet_kept_as_text_with_a_quote_imports_as_the_number() -> None:
    (entry,) = parse_csv(HEADER + "black,exact,'+8613800138000,hangup,,,,\n")
    assert entry.value == "13800138000"
