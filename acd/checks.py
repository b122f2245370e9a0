"""`acd check`: every problem in the configuration and the IVR flows, as file:line: message."""

from __future__ import annotations

from acd.config import ConfigError, MissingEnvironment, load_config


def check_all(config_path: str) -> tuple[list[str], list[str]]:
    """Return (problems, warnings) as printable lines.

    A secret missing from the environment is only a warning here: `acd check`
    often runs where the secrets are not (an editor, CI); `acd serve` refuses.
    """
    problems: list[str] = []
    warnings: list[str] = []
    try:
        load_config(config_path)
    except ConfigError as exc:
        for error in exc.errors:
            (warnings if isinstance(error, MissingEnvironment) else problems).append(str(error))
        if problems:
            return problems, warnings
    return problems, warnings
