"""The number firewall (号码防火墙): how callers' numbers are masked, in views and in the log.

A caller's number is personal data. Roles without the right to see numbers
(config `privacy.full_numbers_for`; agents by default) get every number of five
digits or more with at least half of its digits hidden, and so does the log
unless `privacy.log_full_numbers` is set for a trusted deployment.

The shape keeps the last digits, which is what call-center staff use to confirm
a caller ("尾号 8000"): 13800138000 -> 13******000, 62345678 -> 62****78.
Numbers shorter than five digits (extensions, agent numbers) are not personal
and stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MIN_MASKED_DIGITS = 5
ASCII_DIGITS = frozenset("0123456789")

_log_full_numbers = False


def mask_number(number: str) -> str:
    """`number` with at least half of its ASCII digits replaced by '*'.

    Other characters (a leading '+', separators) stay where they are. Digits of
    other scripts (e.g. '٣') count as digits here, so no lookalike digit carries a
    number past the firewall.
    """
    positions = [i for i, c in enumerate(number) if c in ASCII_DIGITS or c.isdigit()]
    count = len(positions)
    if count < MIN_MASKED_DIGITS:
        return number
    visible = count // 2
    head = visible // 2
    tail = visible - head
    hidden = set(positions[head:count - tail])
    return "".join("*" if i in hidden else c for i, c in enumerate(number))


_DIGIT_RUN = re.compile(rf"\d{{{MIN_MASKED_DIGITS},}}")

#: IVR variables that always hold the caller's number
ALWAYS_SENSITIVE = frozenset({"caller"})


def mask_numbers_in(text: str) -> str:
    """Every run of five or more digits in free text masked ("whitelist exact
    13800138000" -> "whitelist exact 13******000")."""
    return _DIGIT_RUN.sub(lambda m: mask_number(m.group(0)), text)


def mask_values(values: Mapping[str, str], sensitive: Iterable[str]) -> dict[str, str]:
    """A copy of IVR variables with the sensitive ones (the caller's number, digits a
    flow marks `sensitive`) masked."""
    names = set(sensitive) | ALWAYS_SENSITIVE
    return {k: mask_number(str(v)) if k in names else v for k, v in values.items()}


def mask_call(data: Mapping[str, Any]) -> dict[str, Any]:
    """A call record (as a dict of its fields) for a role without the right to see
    numbers: the caller, sensitive IVR variables, and numbers inside the rule that
    matched, transfer targets and the IVR path."""
    out = dict(data)
    out["caller"] = mask_number(str(data.get("caller", "")))
    variables = data.get("variables")
    if isinstance(variables, Mapping):
        out["variables"] = mask_values(variables, data.get("sensitive_variables") or ())
    for key in ("rule", "transfer", "disposition_note"):
        if isinstance(data.get(key), str):
            out[key] = mask_numbers_in(data[key])
    path = data.get("ivr_path")
    if isinstance(path, list):
        out["ivr_path"] = [mask_numbers_in(str(p)) for p in path]
    return out


def set_log_full_numbers(full: bool) -> None:
    """Config `privacy.log_full_numbers`: write callers' numbers to the log unmasked."""
    global _log_full_numbers
    _log_full_numbers = full


class LoggedNumber:
    """A caller's number as a log argument: masked unless the deployment says otherwise.

    Logging formats its arguments lazily, so the switch applies to every line
    written after it is set, including lines of calls already in progress.
    """

    __slots__ = ("number",)

    def __init__(self, number: str) -> None:
        self.number = number

    def __str__(self) -> str:
        if not self.number:
            return "anonymous"
        return self.number if _log_full_numbers else mask_number(self.number)

    __repr__ = __str__


class LoggedText(LoggedNumber):
    """Free text that may hold numbers (a rule's description) as a log argument."""

    __slots__ = ()

    def __str__(self) -> str:
        return self.number if _log_full_numbers else mask_numbers_in(self.number)

    __repr__ = __str__


def logged(number: str) -> LoggedNumber:
    """A caller's number for a log line: `log.info("... %s", logged(caller))`."""
    return LoggedNumber(number)


def logged_text(text: str) -> LoggedText:
    """Text with numbers in it for a log line; each number masked like a caller's."""
    return LoggedText(text)
