"""Caller lists as CSV: `list,match,value,action,target,priority,expires,note`.

Rows are numbered as a spreadsheet shows them (the header is row 1). Import
is all or nothing: `parse_csv` returns every entry or raises `CsvError` with
each bad row; a NUL, a cell over MAX_CELL_CHARS or a row past MAX_ROWS is a
bad row too. Cells are written through acd.csv_cells.neutralise (formula
injection) and read back through its inverse. Columns may come in any order;
blank rows are skipped. Spreadsheet apps drop the leading 0 of a landline typed
into a number cell: format the value column as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator

from acd.csv_cells import neutralise, restore
from acd.rules.caller_entries import CallerEntry, EntryError, format_expires, make_entry

CSV_COLUMNS = ("list", "match", "value", "action", "target", "priority", "expires", "note")
#: bounds of one import, each reported as a row error (a number, a name or a
#: note never needs more than a cell, and a list of callers is not a phone book)
MAX_CELL_CHARS = 256
MAX_ROWS = 10_000
#: what `acd lists import` reads at most; about 400 bytes a row at MAX_ROWS
MAX_FILE_BYTES = 4 * 1024 * 1024


class CsvError(ValueError):
    """Bad rows of a CSV file: (row number, message) pairs."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        lines = [f"row {row}: {message}" for row, message in problems]
        super().__init__("\n".join(lines))


def parse_csv(text: str, check: Callable[[CallerEntry], str] | None = None
              ) -> list[CallerEntry]:
    """All entries of a CSV text, or CsvError naming every bad row. `check` says what
    else is wrong with an entry ('' when nothing is): what the importer knows and this
    module cannot, such as whether an announce prompt exists."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    columns = _header(reader)
    problems: list[tuple[int, str]] = []
    entries: list[CallerEntry] = []
    seen: dict[str, int] = {}
    for row_number, row in _rows(reader, problems):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            problems.append((row_number, f"{len(row)} cells, expected {len(columns)}"))
            continue
        cells = dict(zip(columns, row, strict=True))
        problem = _cell_problem(cells)
        if problem:
            problems.append((row_number, problem))
            continue
        cells = {name: restore(value) for name, value in cells.items()}
        try:
            entry = make_entry(cells["list"], cells["match"], cells["value"], cells["action"],
                               cells["target"], cells["priority"], cells["expires"],
                               cells["note"])
        except EntryError as exc:
            problems.append((row_number, str(exc)))
            continue
        problem = check(entry) if check is not None else ""
        if problem:
            problems.append((row_number, problem))
            continue
        if entry.key in seen:
            problems.append((row_number, f"same {entry.list.value}list {entry.match.value} "
                                         f"{entry.value!r} as row {seen[entry.key]}"))
            continue
        seen[entry.key] = row_number
        entries.append(entry)
    if problems:
        raise CsvError(problems)
    return entries


def _header(reader: Iterator[list[str]]) -> list[str]:
    """The column names of row 1, or CsvError."""
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise CsvError([(1, _unreadable(exc))]) from None
    if header is None:
        raise CsvError([(1, f"empty file; the header is {','.join(CSV_COLUMNS)}")])
    columns = [name.strip().lower()[:MAX_CELL_CHARS] for name in header]
    missing = [c for c in CSV_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if missing or unknown or len(set(columns)) != len(columns):
        raise CsvError([(1, f"the header must be {','.join(CSV_COLUMNS)} "
                            f"(missing: {missing or '-'}, unknown: {unknown[:8] or '-'})")])
    return columns


def _rows(reader: Iterator[list[str]],
          problems: list[tuple[int, str]]) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) after the header, up to MAX_ROWS (blank rows at the end
    are allowed past it); what cannot be read is added to `problems` and ends the
    file, as the reader cannot find the next row after it."""
    row_number = 1
    while True:
        row_number += 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append((row_number, _unreadable(exc)))
            return
        if row_number > MAX_ROWS + 1 and any(cell.strip() for cell in row):
            problems.append((row_number, f"more than {MAX_ROWS:,} rows after the header; "
                                         "split the file"))
            return
        yield row_number, row


def _cell_problem(cells: dict[str, str]) -> str:
    """Why a row's cells cannot be stored as they are, or ''."""
    for name, value in cells.items():
        if "\0" in value:
            return f"the {name} cell holds a NUL character"
        if len(value) > MAX_CELL_CHARS:
            return f"the {name} cell has {len(value):,} characters; at most {MAX_CELL_CHARS}"
    return ""


def _unreadable(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a cell has more than {MAX_CELL_CHARS} characters"
    return f"not readable as CSV ({exc})"


def format_csv(entries: Iterable[CallerEntry]) -> str:
    """The entries as CSV, every cell neutralised (acd.csv_cells)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        cells = [e.list.value, e.match.value, e.value, e.action.value, e.target or "",
                 "" if e.priority is None else str(e.priority), format_expires(e.expires),
                 e.note]
        writer.writerow([neutralise(cell) for cell in cells])
    return out.getvalue()
