"""A collect node's `pattern`: regular expressions over phone keys, matched without backtracking.

Python's `re` backtracks, so a pattern such as `(0|00)*1` or `([0-9]*)*#` takes
exponential time on a caller's digits, and `[0-9]*[0-9]*...` polynomial time, all
of it on the event loop. Patterns here are a subset of `re` with the same meaning
(keys, `.`, classes, groups, `|`, `? * + {m,n}`), compiled to a small automaton
whose states are advanced together, one key at a time (Thompson's construction).
A match costs at most (keys typed) x (states) steps, and both are bounded:
MAX_PATTERN_LENGTH and MAX_STATES here, and a collect reads at most 64 keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn

DIGITS = frozenset("0123456789")
KEYS = DIGITS | {"*", "#"}
MAX_PATTERN_LENGTH = 200
MAX_GROUP_DEPTH = 16
MAX_REPEAT = 64  # no collect reads more keys than this
MAX_STATES = 2000

SYNTAX = ("keys 0-9, # and \\*, '.' for any key, classes such as [0-9], groups (1|2) "
          "and the repeats ? * + {m,n}")


class PatternError(ValueError):
    """A pattern outside the supported syntax; `index` is 0-based in the pattern."""

    def __init__(self, index: int, message: str) -> None:
        self.index = index
        super().__init__(message)


# -- the parsed pattern ---------------------------------------------------------


@dataclass(frozen=True)
class _Keys:
    keys: frozenset[str]


@dataclass(frozen=True)
class _Seq:
    items: tuple[_Expr, ...]


@dataclass(frozen=True)
class _Alt:
    options: tuple[_Expr, ...]


@dataclass(frozen=True)
class _Repeat:
    item: _Expr
    least: int
    most: int | None  # None: no upper bound


_Expr = _Keys | _Seq | _Alt | _Repeat


# -- the compiled pattern ---------------------------------------------------------


@dataclass(frozen=True)
class KeyPattern:
    """A compiled pattern; equal when written the same."""

    source: str
    # Per state: the keys that move it on and the state they move it to, if any;
    # and the states it reaches without a key.
    moves: tuple[tuple[frozenset[str], int] | None, ...] = field(repr=False, compare=False)
    skips: tuple[tuple[int, ...], ...] = field(repr=False, compare=False)
    start: int = field(repr=False, compare=False)
    accept: int = field(repr=False, compare=False)

    @property
    def states(self) -> int:
        return len(self.moves)

    def fullmatch(self, keys: str) -> bool:
        """Whether the whole of `keys` matches, as `re.fullmatch` would say."""
        current = self._closure([self.start])
        for key in keys:
            moved = [move[1] for state in current
                     if (move := self.moves[state]) is not None and key in move[0]]
            if not moved:
                return False
            current = self._closure(moved)
        return self.accept in current

    def _closure(self, states: list[int]) -> set[int]:
        seen = set(states)
        todo = list(states)
        while todo:
            for target in self.skips[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen


def compile_pattern(source: str) -> KeyPattern:
    """Parse and compile a pattern; PatternError says what is wrong and where."""
    if len(source) > MAX_PATTERN_LENGTH:
        raise PatternError(MAX_PATTERN_LENGTH, f"is longer than {MAX_PATTERN_LENGTH} "
                           "characters")
    expr = _Parser(source).pattern()
    builder = _Builder()
    start, accept = builder.build(expr)
    return KeyPattern(source, tuple(builder.moves), tuple(tuple(s) for s in builder.skips),
                      start, accept)


class _Parser:
    """Recursive descent over the pattern text; depth is bounded by MAX_GROUP_DEPTH."""

    def __init__(self, source: str) -> None:
        self.text = source
        # `^` and `$` are allowed at the ends and mean nothing: the whole input
        # always has to match.
        self.i = 1 if source.startswith("^") else 0
        self.end = len(source) - 1 if source.endswith("$") and not source.endswith(
            "\\$") and len(source) > self.i else len(source)

    def peek(self, ahead: int = 0) -> str:
        at = self.i + ahead
        return self.text[at] if at < self.end else ""

    def fail(self, message: str, at: int | None = None) -> NoReturn:
        raise PatternError(self.i if at is None else at, message)

    def pattern(self) -> _Expr:
        expr = self.alternation(0)
        if self.peek() == ")":
            self.fail("has a ')' without its '('")
        return expr

    def alternation(self, depth: int) -> _Expr:
        options = [self.sequence(depth)]
        while self.peek() == "|":
            self.i += 1
            options.append(self.sequence(depth))
        return options[0] if len(options) == 1 else _Alt(tuple(options))

    def sequence(self, depth: int) -> _Expr:
        items: list[_Expr] = []
        while self.peek() not in ("", "|", ")"):
            items.append(self.repeat(self.atom(depth)))
        return items[0] if len(items) == 1 else _Seq(tuple(items))

    def atom(self, depth: int) -> _Expr:
        c = self.peek()
        if c in DIGITS or c == "#":
            self.i += 1
            return _Keys(frozenset(c))
        if c == ".":
            self.i += 1
            return _Keys(KEYS)
        if c == "\\":
            return _Keys(self.escape())
        if c == "[":
            return _Keys(self.key_class())
        if c == "(":
            return self.group(depth)
        if c in "*+?{":
            self.fail("has nothing to repeat before it: write \\* for the star key")
        if c in "^$":
            self.fail(f"{c!r} is only allowed at the very start or end")
        self.fail(f"{c!r} is not a phone key")

    def group(self, depth: int) -> _Expr:
        opening = self.i
        if depth >= MAX_GROUP_DEPTH:
            self.fail(f"nests groups more than {MAX_GROUP_DEPTH} deep")
        self.i += 1
        if self.peek() == "?":
            if self.peek(1) != ":":
                self.fail("uses '(?', which is not supported (no lookarounds, named "
                          "groups or flags): write a plain group ( )")
            self.i += 2
        expr = self.alternation(depth + 1)
        if self.peek() != ")":
            self.fail("has a '(' without its ')'", opening)
        self.i += 1
        return expr

    def escape(self) -> frozenset[str]:
        c = self.peek(1)
        self.i += 2
        if c in ("*", "#"):
            return frozenset(c)
        if c == "d":
            return DIGITS
        if c in DIGITS:
            self.fail("uses a backreference, which is not supported", self.i - 2)
        self.fail(f"uses '\\{c}', which is not a phone key (only \\*, \\# and \\d are)",
                  self.i - 2)

    def key_class(self) -> frozenset[str]:
        opening = self.i
        self.i += 1
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        keys: set[str] = set()
        while (c := self.peek()) != "]":
            if c == "":
                self.fail("has a '[' without its ']'", opening)
            if c == "\\":
                keys |= self.escape()
            elif c in DIGITS and self.peek(1) == "-" and self.peek(2) in DIGITS:
                low, high = c, self.peek(2)
                if low > high:
                    self.fail(f"has the range {low}-{high} backwards")
                keys |= {str(d) for d in range(int(low), int(high) + 1)}
                self.i += 3
            elif c in KEYS:
                keys.add(c)
                self.i += 1
            else:
                self.fail(f"{c!r} is not a phone key")
        self.i += 1
        found = KEYS - keys if negated else keys
        if not found:
            self.fail("has a class that matches no key", opening)
        return frozenset(found)

    def repeat(self, item: _Expr) -> _Expr:
        c = self.peek()
        if c == "*":
            least, most = 0, None
        elif c == "+":
            least, most = 1, None
        elif c == "?":
            least, most = 0, 1
        elif c == "{":
            least, most = self.bounds()
        else:
            return item
        if c != "{":
            self.i += 1
        if self.peek() and self.peek() in "*+?{":
            self.fail("repeats a repeat (lazy and possessive forms are not supported): "
                      "put the inner part in a group")
        return _Repeat(item, least, most)

    def bounds(self) -> tuple[int, int | None]:
        opening = self.i
        closing = self.text.find("}", self.i, self.end)
        inside = self.text[self.i + 1:closing] if closing >= 0 else ""
        low, comma, high = inside.partition(",")
        if closing < 0 or not (low.isdigit() or (comma and not low)) or (
                high and not high.isdigit()) or not inside.isascii():
            self.fail("has a '{' that is not a repeat: write {m} or {m,n}")
        least = int(low or "0")
        most = int(high) if high else (None if comma else least)
        if max(least, most or 0) > MAX_REPEAT:
            self.fail(f"repeats more than {MAX_REPEAT} times, more keys than a caller "
                      "can type", opening)
        if most is not None and most < least:
            self.fail(f"has the repeat {{{inside}}} backwards", opening)
        self.i = closing + 1
        return least, most


class _Builder:
    """Thompson's construction: one fragment (start, end) per part of the pattern."""

    def __init__(self) -> None:
        self.moves: list[tuple[frozenset[str], int] | None] = []
        self.skips: list[list[int]] = []

    def state(self) -> int:
        if len(self.moves) >= MAX_STATES:
            raise PatternError(0, "is too complex (its repeats multiply to more than "
                               f"{MAX_STATES} steps): write it more simply")
        self.moves.append(None)
        self.skips.append([])
        return len(self.moves) - 1

    def build(self, expr: _Expr) -> tuple[int, int]:
        start = self.state()
        if isinstance(expr, _Keys):
            end = self.state()
            self.moves[start] = (expr.keys, end)
            return start, end
        if isinstance(expr, _Seq):
            end = start
            for item in expr.items:
                end = self.then(end, item)
            return start, end
        if isinstance(expr, _Alt):
            end = self.state()
            for option in expr.options:
                first, last = self.build(option)
                self.skips[start].append(first)
                self.skips[last].append(end)
            return start, end
        return start, self.repeat(start, expr)

    def then(self, at: int, expr: _Expr) -> int:
        first, last = self.build(expr)
        self.skips[at].append(first)
        return last

    def repeat(self, at: int, expr: _Repeat) -> int:
        for _ in range(expr.least):
            at = self.then(at, expr.item)
        end = self.state()
        self.skips[at].append(end)
        if expr.most is None:  # any number more: loop back to where it may start again
            first, last = self.build(expr.item)
            self.skips[at].append(first)
            self.skips[last].append(at)
            return end
        for _ in range(expr.most - expr.least):  # each optional copy may stop the repeat
            at = self.then(at, expr.item)
            self.skips[at].append(end)
        return end
