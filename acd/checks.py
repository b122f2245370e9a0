"""`acd check`: every problem in the configuration and the IVR flows, as file:line: message;
flows that keep a silent caller from a queue too long; and the stored caller lists'
announce prompts, read from the configured Redis."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from acd.config.settings import (
    Config,
    ConfigError,
    MissingEnvironment,
    RedisConfig,
    load_config,
)
from acd.rules.caller_entries import CallerEntry
from acd.yamlsource import Position, SourceError

if TYPE_CHECKING:
    from acd.ivr.model import FlowSet
    from acd.media.prompts import PromptLibrary

#: how long `acd check` waits for Redis before it says the lists were not checked
REDIS_TIMEOUT = 5.0
T = TypeVar("T")


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
    flow_errors = registry.check()
    problems.extend(str(e) for e in flow_errors)
    if not flow_errors and config.ivr.max_seconds_to_agent:
        warnings.extend(slow_flows(registry.load(), library, config.ivr.max_seconds_to_agent))
    flows = {p.stem for p in config.path(config.paths.ivr_flows).glob("*.yaml")}
    for number, spec in config.numbers.items():
        if spec.flow.partition(":")[0] not in flows:
            problems.append(f"{config.source}: numbers.{number}: flow {spec.flow!r} is not a "
                            f"file in {config.paths.ivr_flows}/")
    warnings.extend(fallback_queue_warnings(config, [q.name for q in sections.queues]))
    warning = sections.schedules.coverage_warning(now if now is not None else time.time())
    if warning:
        warnings.append(warning)
    return problems, warnings


def fallback_queue_warnings(config: Config, queues: list[str]) -> list[str]:
    """Queues whose callers would ring every agent at work while acd is away: no twin in
    the generated app_queue file (paths.fallback_queues; `acd asterisk-queues`)."""
    from acd.adapters.asterisk.fallback_queues import missing_twins

    if not config.ami.fallback_queue:  # acd leaves Asterisk's queues alone
        return []
    where = config.path(config.paths.fallback_queues)
    try:
        text: str | None = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = None
    except OSError as exc:
        return [f"{where}: not read ({exc}); the fallback queues were not checked"]
    return missing_twins(queues, text, str(where), config.ami.fallback_queue)


def slow_flows(flows: FlowSet, library: PromptLibrary, limit: float) -> list[str]:
    """A warning for each flow whose slowest way to a queue, for a caller who presses
    nothing, is longer than `limit` seconds. The flows' texts are synthesised first (as
    `acd serve` does), so their speech is measured rather than estimated."""
    from acd.ivr.flowset import speech_to_prepare
    from acd.ivr.timing import ways_to_queue
    from acd.media.durations import PromptDurations
    from acd.media.prompts import SynthesisError

    # no espeak-ng here: the durations of the texts not cached are estimated
    with contextlib.suppress(SynthesisError, OSError):
        _run(library.prepare_all(speech_to_prepare(flows, library)))
    warnings = []
    for way in ways_to_queue(flows, PromptDurations(library)):
        if way.seconds <= limit:
            continue
        flow = flows.flows[way.entry.flow]
        where = flow.start_pos or Position(flow.file, 1, 1)
        estimated = (f"; {way.estimated} prompt(s) estimated from their words (no "
                     "recording, and espeak-ng could not speak them here)"
                     if way.estimated else "")
        cut = "; the flow has too many ways to try them all: at least this" \
            if not way.complete else ""
        warnings.append(str(SourceError(where, (
            f"flow '{flow.name}': a caller who presses nothing reaches queue node "
            f"'{way.queue}' after {way.seconds:.1f} s ({way.lang}), more than "
            f"ivr.max_seconds_to_agent ({limit:g} s): {way.describe()}{estimated}{cut}. "
            "Shorten the prompts, the timeouts or the retries, or offer the operator "
            "sooner"))))
    return warnings


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
        entries = _run(asyncio.wait_for(_stored_entries(config.redis), timeout))
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


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on an event loop of its own. Not asyncio.run: that leaves the thread
    with no current loop, which whatever runs next in the process may expect (a
    FastAGI server built outside a coroutine asks for one)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(work)
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
