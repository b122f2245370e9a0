"""`${name}` substitution in prompt texts, URLs, parameters and values.

Only plain variable names are allowed: no expressions, no code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from acd.yamlsource import Position

VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
# What the written part of a URL keeps as it is: the characters that delimit its
# parts, and '%' so that escapes the admin wrote stay escapes.
_URL_WRITTEN = ":/?#[]@!$&'()*+,;=%~"


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

    def render(self, variables: Mapping[str, str]) -> str:
        """Substitute variables; an unset one becomes ''. For URLs, see render_url."""
        return _PLACEHOLDER.sub(lambda match: variables.get(match.group(1), ""), self.raw)

    def render_url(
        self, variables: Mapping[str, str], hidden: frozenset[str] = frozenset()
    ) -> str:
        """The template as a percent-encoded URL, every value encoded whole.

        A value can then not add a path segment ('/'), end the path ('?', '#'),
        smuggle an escape ('%') or make a `.` or `..` segment that the client or
        the server would resolve: its dots are sent as %2E, which means the same
        to a server as a dot but is never a path step. `hidden` variables stay
        `${name}`, for log lines.
        """
        parts: list[str] = []
        written = 0
        for match in _PLACEHOLDER.finditer(self.raw):
            parts.append(quote(self.raw[written:match.start()], safe=_URL_WRITTEN))
            name = match.group(1)
            value = variables.get(name, "")
            parts.append(match.group(0) if name in hidden else
                         quote(value, safe="").replace(".", "%2E"))
            written = match.end()
        parts.append(quote(self.raw[written:], safe=_URL_WRITTEN))
        return "".join(parts)

    def shown(self, variables: Mapping[str, str], hidden: frozenset[str]) -> str:
        """The text for a log line: hidden (sensitive) variables stay as `${name}`."""

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            return match.group(0) if name in hidden else variables.get(name, "")

        return _PLACEHOLDER.sub(value, self.raw)
