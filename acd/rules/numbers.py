"""Caller numbers in one Chinese domestic form, and digit glob patterns.

Normal form (what a caller in mainland China would dial):

* mobile: 11 digits, `13800138000` (from `+8613800138000`, `008613800138000`,
  `8613800138000`, `013800138000`);
* landline: trunk 0 + area code + number, `01012345678` (from `+861012345678`,
  `+86 (0)10 1234 5678`);
* 400/800 service numbers stay as they are, `4008123456`;
* abroad: 00 + country code + number, `0014155550100` (from `+14155550100`).

Spaces, dashes, dots and brackets are dropped. A withheld caller id (empty,
`anonymous`, `unknown`, `restricted`, `private`, `unavailable`, `withheld`,
or anything without a digit) normalises to None.

Patterns are digit globs over the normal form, matching the whole number:
`?` one digit, `*` any digits (none included), `[3-9]` / `[135]` one digit of
a set. No regular expressions: operators type these into a CSV.
"""

from __future__ import annotations

import re

WITHHELD = frozenset({"", "anonymous", "unknown", "restricted", "private", "unavailable",
                      "withheld"})
_SEPARATORS = re.compile(r"[\s\-.()]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SERVICE = re.compile(r"[48]00\d{7}")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_DIALABLE = re.compile(r"[0-9*#]+")
#: E.164 allows 15 digits; with 00 and an extension's * and #, 24 is plenty
MAX_DIALABLE = 24
#: '*' in a caller-list pattern (see compile_pattern)
MAX_STARS = 2
_GLOB = re.compile(r"^(?:\d|\?|\*|\[\d(?:-\d)?(?:\d(?:-\d)?)*\])+$")


def normalise_number(raw: str) -> str | None:
    """The normal form of a caller id, or None when the number is withheld."""
    text = _SEPARATORS.sub("", raw.strip())
    if text.lower() in WITHHELD or not any(c.isdigit() for c in text):
        return None
    if text.startswith("+"):
        text = "00" + text[1:]
    if not _ASCII_DIGITS.fullmatch(text):  # '٣' is a digit to str.isdigit(), not to a phone
        return text  # odd caller ids match only what is written exactly like them
    if text.startswith("0086"):
        return _national(text[4:]) or text
    if text.startswith("00"):
        return text
    if len(text) == 13 and text.startswith("86") and _MOBILE.fullmatch(text[2:]):
        return text[2:]
    if len(text) == 12 and text.startswith("0") and _MOBILE.fullmatch(text[1:]):
        return text[1:]  # a mobile dialled with the old long-distance 0
    return text


def dialable(raw: str, *, keys: bool = False) -> str:
    """A number acd may dial (a callback, a transfer target), normalised once.

    ASCII digits only (with `keys`, also * and #, e.g. an extension's feature code),
    at most MAX_DIALABLE of them; `+86`/`0086` forms become domestic ones. Anything
    else raises ValueError: no separator, letter, Unicode digit or empty string ever
    reaches a Dial.
    """
    text = _SEPARATORS.sub("", raw.strip()) if isinstance(raw, str) else ""
    if text.startswith("+") and _ASCII_DIGITS.fullmatch(text[1:]):
        text = normalise_number(text) or ""
    elif _ASCII_DIGITS.fullmatch(text):
        text = normalise_number(text) or ""
    allowed = _DIALABLE if keys else _ASCII_DIGITS
    if not allowed.fullmatch(text) or len(text) > MAX_DIALABLE:
        what = "digits, * and #" if keys else "digits"
        raise ValueError(f"{raw[:30]!r} is not a number to dial ({what} only, at most "
                         f"{MAX_DIALABLE})")
    return text


def _national(rest: str) -> str | None:
    """A number after +86 -> domestic form."""
    if rest.startswith("0"):
        rest = rest[1:]  # "+86 (0)10 ..." written with the trunk prefix
    if not rest:
        return None
    if _MOBILE.fullmatch(rest) or _SERVICE.fullmatch(rest):
        return rest
    return "0" + rest


def normalise_prefix(raw: str) -> str:
    """A prefix in normal form; ValueError for ones that cannot be normalised."""
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("+86") or text.startswith("0086"):
        raise ValueError(f"prefix {raw!r}: write Chinese prefixes in domestic form "
                         "(138 for mobiles, 010 for Beijing)")
    if text.startswith("+"):
        text = "00" + text[1:]
    if not _ASCII_DIGITS.fullmatch(text):
        raise ValueError(f"prefix {raw!r} must be digits (a leading + is allowed)")
    return text


def compile_pattern(raw: str) -> re.Pattern[str]:
    """A digit glob -> regex over the whole number; ValueError explains."""
    text = raw.strip()
    if text.startswith("+"):
        raise ValueError(f"pattern {raw!r}: write it in domestic form, e.g. 170* or 00852*")
    if not _GLOB.match(text):
        raise ValueError(f"bad pattern {raw!r}: use digits, ? (one digit), * (any digits) "
                         "and [3-9] (one digit of a set)")
    if text.count("*") > MAX_STARS:
        # each * is a \d* the regex may try at every length: k of them cost n^k steps on
        # a caller's number, so a pattern stays cheap by having few
        raise ValueError(f"pattern {raw!r} has {text.count('*')} '*'; at most {MAX_STARS}")
    if not any(c.isdigit() or c == "?" or c == "[" for c in text):
        raise ValueError(f"pattern {raw!r} matches every number; use it only with care: "
                         "write at least one digit")
    out = []
    for token in re.findall(r"\[[^\]]*\]|.", text):
        out.append(r"\d" if token == "?" else r"\d*" if token == "*" else token)
    return re.compile("".join(out))


def pattern_specificity(raw: str) -> int:
    """How many literal digits a pattern fixes: more wins among patterns."""
    return sum(c.isdigit() for c in re.sub(r"\[[^\]]*\]", "", raw))
