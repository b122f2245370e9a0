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

from collections.abc import Iterable, Mapping

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


def mask_values(values: Mapping[str, str], sensitive: Iterable[str]) -> dict[str, str]:
    """A copy of IVR variables with the sensitive ones (the caller's number, digits a
    flow marks `sensitive`) masked."""
    names = set(sensitive)
    return {k: mask_number(v) if k in names else v for k, v in values.items()}


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


def logged(number: str) -> LoggedNumber:
    return LoggedNumber(number)
