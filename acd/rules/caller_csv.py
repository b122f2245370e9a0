"""Caller lists as CSV: `list,match,value,action,target,priority,expires,note`.

Rows are numbered as a spreadsheet shows them (the header is row 1). Import
is all or nothing: `parse_csv` returns every entry or raises `CsvError` with
each bad row. Columns may come in any order; blank rows are skipped. Spreadsheet
apps drop the leading 0 of a landline typed into a number cell: format the
value column as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from acd.rules.caller_entries import CallerEntry, EntryError, format_expires, make_entry

CSV_COLUMNS = ("list", "match", "value", "action", "target", "priority", "expires", "note")


class CsvError(ValueError):
    """Bad rows of a CSV file: (row number, message) pairs."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        lines = [f"row {row}: {message}" for row, message in problems]
        super().__init__("\n".join(lines))


def parse_csv(text: str) -> list[CallerEntry]:
    """All entries of a CSV text, or CsvError naming every bad row."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        raise CsvError([(1, f"empty file; the header is {','.join(CSV_COLUMNS)}")])
    columns = [name.strip().lower() for name in header]
    missing = [c for c in CSV_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if missing or unknown or len(set(columns)) != len(columns):
        raise CsvError([(1, f"the header must be {','.join(CSV_COLUMNS)} "
                            f"(missing: {missing or '-'}, unknown: {unknown or '-'})")])
    problems: list[tuple[int, str]] = []
    entries: list[CallerEntry] = []
    seen: dict[str, int] = {}
    for row_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            problems.append((row_number, f"{len(row)} cells, expected {len(columns)}"))
            continue
        cells = dict(zip(columns, row, strict=True))
        try:
            entry = make_entry(cells["list"], cells["match"], cells["value"], cells["action"],
                               cells["target"], cells["priority"], cells["expires"],
                               cells["note"])
        except EntryError as exc:
            problems.append((row_number, str(exc)))
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


def format_csv(entries: Iterable[CallerEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        writer.writerow([e.list.value, e.match.value, e.value, e.action.value, e.target or "",
                         "" if e.priority is None else e.priority, format_expires(e.expires),
                         e.note])
    return out.getvalue()
