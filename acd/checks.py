"""`acd check`: every problem in the configuration and the IVR flows, as file:line: message;
and the stored caller lists' announce prompts, read from the configured Redis."""

from __future__ import annotations

import asyncio
import time

from acd.config.settings import ConfigError, MissingEnvironment, RedisConfig, load_config
from acd.rules.caller_entries import CallerEntry

#: how long `acd check` waits for Redis before it says the lists were not checked
REDIS_TIMEOUT = 5.0


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


def check_caller_lists(config_path: str, timeout: float = REDIS_TIMEOUT
                       ) -> tuple[list[str], list[str]]:
    """Stored blacklist entries whose announce prompt does not exist, as problems; a
    warning instead when the lists cannot be read (Redis away, no password here)."""
    import asyncio_redis

    from acd.adapters.redis.store import RedisRefused, where_is
    from acd.announce_prompts import AnnouncePrompts

    try:
        config = load_config(config_path, allow_missing_env=True)
    except ConfigError:
        return [], []  # check_all says why
    where = f"Redis at {where_is(config.redis)} db {config.redis.db}"
    try:
        entries = asyncio.run(asyncio.wait_for(_stored_entries(config.redis), timeout))
    except (RedisRefused, OSError, TimeoutError, asyncio_redis.Error) as exc:
        return [], [f"caller lists not checked: cannot read them from {where}: "
                    f"{exc or type(exc).__name__}"]
    prompts = AnnouncePrompts.of_config(config)
    problems = []
    for entry in entries:
        problem = prompts.problem(entry)
        if problem:
            problems.append(f"caller lists ({where}, {config.redis.prefix}lists:entries): "
                            f"{entry.list.value}list {entry.match.value} "
                            f"{entry.value or '(withheld)'}: {problem}")
    return problems, []


async def _stored_entries(redis: RedisConfig) -> list[CallerEntry]:
    from acd.adapters.redis.list_store import ListStore
    from acd.adapters.redis.store import connect_redis

    connection = await connect_redis(redis, poolsize=1, retry_forever=False)
    try:
        return await ListStore(connection, redis.prefix).entries()
    finally:
        connection.close()
