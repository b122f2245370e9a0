"""CSV cells a spreadsheet shows as text: the formula-injection guard of every export.

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-`
or `@` as a formula, and a leading tab or carriage return can hide such a start
(CSV injection). A caller's number, a caller-list note or an IVR variable comes
from outside, so every export writes its cells through `neutralise`, which puts
a single quote in front (OWASP's advice: spreadsheets show the rest as text and
hide the quote). Imports read cells through `restore`, which takes that quote
away again, so an exported file imports back exactly as it was.
"""

from __future__ import annotations

#: what a spreadsheet may read as the start of a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """`cell` with a leading `'` when a spreadsheet would read it as a formula.

    A cell that is already quotes followed by a formula start gets one more
    quote: `restore` takes exactly one away, so restore(neutralise(c)) == c for
    every c, and a note someone wrote as `'=x` survives an export and an import.
    """
    if cell.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    """The cell `neutralise` was given: one leading `'` before a formula start goes.

    A spreadsheet user who typed `'+8613800138000` to keep a number as text gets
    `+8613800138000` too, which is what the spreadsheet showed them.
    """
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS):
        return cell[1:]
    return cell
