"""`${name}` substitution in prompt texts, URLs, parameters and values.

Only plain variable names are allowed: no expressions, no code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from acd.yamlsource import Position

VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class TemplateError(ValueError):
    """A malformed `${...}` placeholder."""


@dataclass(frozen=True)
class Template:
    """A string that may contain `${variable}` placeholders."""

    raw: str
    pos: Position | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for match in _PLACEHOLDER.finditer(self.raw):
            if not VARIABLE_NAME.fullmatch(match.group(1)):
                raise TemplateError(
                    f"bad placeholder {match.group(0)!r}: write ${{name}} with letters, "
                    "digits and '_' only"
                )
        rest = _PLACEHOLDER.sub("", self.raw)
        if "${" in rest:
            raise TemplateError(f"unclosed placeholder in {self.raw!r}: write ${{name}}")

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(m.group(1) for m in _PLACEHOLDER.finditer(self.raw))

    @property
    def is_literal(self) -> bool:
        return not self.variables

    def render(
        self, variables: Mapping[str, str], quote: Callable[[str], str] | None = None
    ) -> str:
        """Substitute variables; an unset one becomes ''. `quote` escapes values (URLs)."""

        def value(match: re.Match[str]) -> str:
            found = variables.get(match.group(1), "")
            return quote(found) if quote else found

        return _PLACEHOLDER.sub(value, self.raw)
