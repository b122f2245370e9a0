"""`acd report queues|agents|surveys|agent-states`: a report from the history database.

    acd report queues --from 2026-11-01 --to 2026-11-30 --interval 15m --queue sales
    acd report agents --from 2026-11-01 --to 2026-11-30 --format xlsx --output nov.xlsx

The same figures as GET /api/reports/... (docs/reports.md), read from config
`history.url` (or --db) with the thresholds of --config; `table` prints them
aligned for a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from sqlalchemy.exc import DBAPIError, OperationalError

from acd.config.settings import ConfigError, load_config
from acd.reports.buckets import RangeError, parse_range
from acd.reports.engine import REPORT_KINDS, ReportEngine
from acd.reports.export import to_csv, to_table, to_xlsx
from acd.reports.figures import Report

DEFAULT_CONFIG = "config.yaml"
FORMATS = ("table", "csv", "xlsx")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = subparsers.add_parser(
        "report", help="a report from the call history (docs/reports.md)",
        description="Print or save a report: per queue, agent, survey question or agent "
                    "state, per 15 minutes, hour or day of local time.")
    report.add_argument("kind", choices=REPORT_KINDS)
    report.add_argument("--config", default=DEFAULT_CONFIG)
    report.add_argument("--from", dest="start", required=True,
                        help="local date (2026-11-01) or time (2026-11-01T09:00)")
    report.add_argument("--to", dest="end", required=True,
                        help="local date (that day included) or time (excluded)")
    report.add_argument("--interval", default="day", help="15m | hour | day | total")
    report.add_argument("--queue", help="only this queue")
    report.add_argument("--agent", help="only this agent")
    report.add_argument("--format", choices=FORMATS, default="table")
    report.add_argument("--output", "-o", help="file to write (default: stdout; xlsx "
                                               "needs a file)")
    report.add_argument("--db", help="history database URL (default: config history.url)")
    report.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from acd.config.sections import load_sections
    from acd.reports.database import history_url, missing_file, open_history
    from acd.reports.wiring import thresholds

    if args.format == "xlsx" and not args.output:
        return _fail("xlsx is written to a file: add --output FILE.xlsx")
    try:
        config = load_config(args.config, allow_missing_env=True)
        queues = load_sections(config).queues
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return _fail(f"fix {args.config} first (acd check shows the problems too)", 2)
    try:
        span = parse_range(args.start, args.end, args.interval, config.timezone,
                           config.reports.max_range_days)
    except RangeError as exc:
        return _fail(str(exc))

    url = args.db or history_url(config)
    if (missing := missing_file(url)) is not None:
        return _fail(f"no history database at {missing}: check history.url in "
                     f"{args.config} (or --db)")

    async def fetch() -> Report:
        engine = open_history(url)
        try:
            return await ReportEngine(engine, thresholds(config, queues)).report(
                args.kind, span, queue=args.queue, agent=args.agent)
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(fetch())
    except (OperationalError, DBAPIError) as exc:
        return _fail(f"the history database did not answer: {exc.orig}; check "
                     "history.url (or --db)")
    return _write(report, args.format, args.output)


def _write(report: Report, shape: str, output: str | None) -> int:
    try:
        if shape == "xlsx":
            Path(str(output)).write_bytes(to_xlsx(report))
            return 0
        text = to_table(report) if shape == "table" else to_csv(report)
        if output:
            Path(output).write_text(text, encoding="utf-8", newline="")
        else:
            sys.stdout.write(text)
    except OSError as exc:
        return _fail(f"cannot write {output}: {exc.strerror}")
    return 0


def _fail(message: str, code: int = 1) -> int:
    print(f"acd report: {message}", file=sys.stderr)
    return code
