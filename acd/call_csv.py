"""Call records as CSV: a header, then rows a batch at a time, masked and neutralised.

The export streams: whoever reads the records (the HTTP route, `acd calls
export`) writes `header()` once and then `rows(batch)` for each batch as it
arrives, so memory does not grow with the number of calls. Rows are made from
the records' stored form (`CallRecord.to_hash()`, the text in Redis), which is
already the text of each cell. For a reader who may not see callers' numbers
(`masked`), a record is masked as the API masks it (acd.privacy.mask_call: the
caller, sensitive IVR variables, numbers in the rule, the transfer and the
path). Every cell goes through acd.csv_cells.neutralise, so a caller id like
`=HYPERLINK(...)` (a caller id is whatever the far end sent) is text in a
spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from acd.callflow.record import CallRecord
from acd.csv_cells import neutralise
from acd.privacy import mask_call, mask_numbers_in

COLUMNS = tuple(f.name for f in fields(CallRecord))
#: the stored JSON cells (of CallRecord._JSON_FIELDS) that masking reads, with their type
MASKED_JSON_CELLS: dict[str, type] = {"ivr_path": list, "variables": dict,
                                      "sensitive_variables": list}


def masked_cells(stored: Mapping[str, str]) -> dict[str, str]:
    """A stored record as a role without the right to see numbers may read it: the
    number firewall's rule for a call (privacy.mask_call) applied to its cells."""
    data: dict[str, Any] = dict(stored)
    damaged = set()
    for name, kind in MASKED_JSON_CELLS.items():
        try:
            data[name] = json.loads(stored[name]) if stored.get(name) else kind()
        except ValueError:
            damaged.add(name)
        if not isinstance(data[name], kind):
            damaged.add(name)
    if "sensitive_variables" in damaged and "variables" not in damaged:
        data["sensitive_variables"] = list(data["variables"])  # unknown which: all
    masked = mask_call(data)
    cells = dict(stored)
    cells.update((name, masked[name]) for name in ("caller", "rule", "transfer")
                 if name in masked)
    for name in MASKED_JSON_CELLS:
        if name in damaged:  # not what it should be: every number in it masked
            cells[name] = mask_numbers_in(stored[name])
        elif name != "sensitive_variables" and stored.get(name):  # that one holds names
            cells[name] = json.dumps(masked[name], ensure_ascii=False)
    return cells


def header() -> str:
    return _lines([list(COLUMNS)])


def rows(records: Iterable[Mapping[str, str]], *, masked: bool) -> str:
    """One CSV line per stored record (RFC 4180 line ends, which Excel expects)."""
    lines = []
    for stored in records:
        cells = masked_cells(stored) if masked else stored
        lines.append([neutralise(cells.get(name, "")) for name in COLUMNS])
    return _lines(lines)


def _lines(cells: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(cells)
    return out.getvalue()
