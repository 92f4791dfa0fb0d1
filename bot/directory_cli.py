"""`python -m bot associations import|export FILE.csv`: the directory's CSV from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.services import association_csv
from bot.services.association_csv import ImportReport, MalformedCsv

EXIT_MALFORMED = 4


def add_commands(commands: Any, prepare: Callable[..., Settings]) -> None:
    """Add the `associations` subcommand to the bot's argument parser."""
    parser = commands.add_parser(
        "associations", help="import or export associations as CSV", description="Associations as CSV."
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    importing = actions.add_parser("import", help="add and update associations from a CSV file")
    importing.add_argument("file", type=Path)
    importing.add_argument(
        "--allow-near-duplicates",
        action="store_true",
        help="also add rows whose name is close to an existing association's",
    )
    importing.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    importing.set_defaults(func=lambda args: _import(args, prepare))
    exporting = actions.add_parser("export", help="write every association to a CSV file (UTF-8 with BOM)")
    exporting.add_argument("file", type=Path)
    persian = "Persian headings and words (status, yes/no, evidence); imports back the same way"
    exporting.add_argument("--persian", action="store_true", help=persian)
    exporting.set_defaults(func=lambda args: _export(args, prepare))


def _import(args: argparse.Namespace, prepare: Callable[..., Settings]) -> int:
    from db.migrate import upgrade

    settings = prepare(require_token=False)
    upgrade(settings.database_url)
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        report = asyncio.run(
            _run_import(settings.database_url, data, args.allow_near_duplicates, not args.dry_run)
        )
    except MalformedCsv as exc:
        where = f" (line {exc.details['line']})" if "line" in exc.details else ""
        detail = f": {exc.details['detail']}" if exc.details.get("detail") else ""
        print(f"error: malformed CSV, nothing imported — {exc.reason}{where}{detail}", file=sys.stderr)
        return EXIT_MALFORMED
    print(format_report(report))
    return 0


async def _run_import(database_url: str, data: bytes, allow_near: bool, apply: bool) -> ImportReport:
    from db.session import create_engine, create_sessionmaker

    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            return await association_csv.import_csv(session, data, allow_near=allow_near, apply=apply)
    finally:
        await engine.dispose()


def format_report(report: ImportReport) -> str:
    """One line per row, then the totals."""
    lines = []
    for row in report.rows:
        line = f"line {row.line}: {row.action} {row.name}"
        if row.reason:
            line += f" — {row.reason}" + (f" ({row.detail})" if row.detail else "")
        lines.append(line)
    actions = (
        association_csv.ADDED,
        association_csv.UPDATED,
        association_csv.UNCHANGED,
        association_csv.REJECTED,
    )
    totals = ", ".join(f"{report.count(action)} {action}" for action in actions)
    lines.append(("" if report.applied else "dry run, nothing changed: ") + totals)
    return "\n".join(lines)


def _export(args: argparse.Namespace, prepare: Callable[..., Settings]) -> int:
    from db.migrate import upgrade

    settings = prepare(require_token=False)
    upgrade(settings.database_url)
    data, count = asyncio.run(_run_export(settings.database_url, args.persian))
    try:
        Path(args.file).write_bytes(data)
    except OSError as exc:
        print(f"error: cannot write {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"wrote {count} associations to {args.file}")
    return 0


async def _run_export(database_url: str, persian: bool) -> tuple[bytes, int]:
    from db.session import create_engine, create_sessionmaker

    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            data = await association_csv.export_csv(session, persian=persian)
            return data, len(await association_csv.list_all(session))
    finally:
        await engine.dispose()
