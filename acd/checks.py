"""`acd check`: every problem in the configuration and the IVR flows, as file:line: message."""

from __future__ import annotations

import time

from acd.config.settings import ConfigError, MissingEnvironment, load_config


def check_all(config_path: str, now: float | None = None) -> tuple[list[str], list[str]]:
    """Return (problems, warnings) as printable lines.

    A secret missing from the environment is only a warning here: `acd check`
    often runs where the secrets are not (an editor, CI); `acd serve` refuses.
    """
    problems: list[str] = []
    warnings: list[str] = []
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        for error in exc.errors:
            (warnings if isinstance(error, MissingEnvironment) else problems).append(str(error))
        if problems:
            return problems, warnings
        config = load_config(config_path, allow_missing_env=True)
    from acd.adapters.flows import FlowRegistry
    from acd.config.sections import ScheduleOracleAdapter, load_sections
    from acd.media.prompts import PromptLibrary

    try:
        sections = load_sections(config)
    except ConfigError as exc:
        return [str(e) for e in exc.errors], warnings
    warnings.extend(sections.warnings)
    library = PromptLibrary(config.path(config.paths.prompts),
                            config.path(config.paths.prompt_cache), config.languages)
    registry = FlowRegistry(config.path(config.paths.ivr_flows),
                            [q.name for q in sections.queues],
                            ScheduleOracleAdapter(sections.schedules), library,
                            extra_variables=("lang",))
    problems.extend(str(e) for e in registry.check())
    flows = {p.stem for p in config.path(config.paths.ivr_flows).glob("*.yaml")}
    for number, spec in config.numbers.items():
        if spec.flow.partition(":")[0] not in flows:
            problems.append(f"{config.source}: numbers.{number}: flow {spec.flow!r} is not a "
                            f"file in {config.paths.ivr_flows}/")
    warning = sections.schedules.coverage_warning(now if now is not None else time.time())
    if warning:
        warnings.append(warning)
    return problems, warnings
