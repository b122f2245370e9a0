"""What FastAGI tells whoever watches it (the metrics): sessions served, and how long
Asterisk takes to answer a command; and the names those are labelled with."""

from __future__ import annotations

from typing import Protocol


class AgiObserver(Protocol):
    """What the metrics hear from FastAGI (acd.adapters.prometheus)."""

    def session_served(self) -> None:
        """A session passed the key and the cap and is handed to its route."""

    def command_answered(self, command: str, seconds: float) -> None:
        """Asterisk answered a command that returns at once (ANSWER, SET VARIABLE...)
        after `seconds`; `command` is its name (command_name), never its arguments."""


class NoObserver:
    def session_served(self) -> None:
        pass

    def command_answered(self, command: str, seconds: float) -> None:
        pass


#: AGI commands named by their first two words (the rest are arguments)
_TWO_WORDS = {"SET", "GET", "WAIT", "STREAM", "SAY", "DATABASE", "CHANNEL", "RECORD",
              "CONTROL", "SPEECH", "RECEIVE", "SEND", "EXEC"}


def command_name(command: str) -> str:
    """'SET VARIABLE X 1' -> 'SET VARIABLE', 'EXEC MixMonitor ...' -> 'EXEC MixMonitor':
    a label with no value from a caller in it."""
    words = command.split(" ", 2)
    if words[0] in _TWO_WORDS and len(words) > 1 and words[1].isalnum():
        return f"{words[0]} {words[1]}"
    return words[0] if words[0].isalpha() else "?"
