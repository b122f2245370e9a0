"""A report as a download or on a terminal: CSV, XLSX, an aligned text table.

The same rows and columns as the JSON. CSV cells go through acd.csv_cells.neutralise
(a queue or agent name is text a spreadsheet must not run); XLSX cells are written
as typed strings and numbers (xlsxwriter in constant_memory mode: a row is flushed
as it is written, so a month of 15-minute rows does not sit in memory twice).
"""

from __future__ import annotations

import csv
import io

import xlsxwriter

from acd.csv_cells import neutralise
from acd.reports.figures import Cell, Report


def _text(cell: Cell) -> str:
    return "" if cell is None else str(cell)


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in report.columns])
    for row in report.rows:
        writer.writerow([neutralise(_text(cell)) for cell in row])
    return out.getvalue()


def to_xlsx(report: Report) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False})
    sheet = book.add_worksheet(report.kind[:31])
    bold = book.add_format({"bold": True})
    for col, column in enumerate(report.columns):
        sheet.write_string(0, col, column.name, bold)
    for line, row in enumerate(report.rows, start=1):
        for col, cell in enumerate(row):
            if cell is None:
                continue
            if isinstance(cell, str):
                sheet.write_string(line, col, cell)  # never a formula, whatever it starts with
            else:
                sheet.write_number(line, col, cell)
    book.close()
    return out.getvalue()


def to_table(report: Report) -> str:
    """Columns aligned for a terminal: text to the left, numbers to the right."""
    header = [c.name for c in report.columns]
    cells = [header] + [[_shown(cell) for cell in row] for row in report.rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    numeric = [c.kind not in ("time", "text") for c in report.columns]
    lines = []
    for line in cells:
        lines.append("  ".join(cell.rjust(w) if right else cell.ljust(w)
                               for cell, w, right in zip(line, widths, numeric, strict=True)
                               ).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def _shown(cell: Cell) -> str:
    if cell is None:
        return "-"
    if isinstance(cell, float):
        return f"{cell:.4f}".rstrip("0").rstrip(".") if abs(cell) < 1 else f"{cell:.2f}"
    return str(cell)
