"""`python -m bot [run|migrate|seed|check]`: the bot's command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.pool import NullPool
from telegram.error import InvalidToken, NetworkError

from bot.config import Settings, SettingsError, load_settings
from bot.context import BotApplication
from bot.i18n import CatalogMissing, load_translations
from bot.logs import configure_logging
from db.lock import LockHeld, PollerLock

if TYPE_CHECKING:
    from bot.webhook import BotServer

EXIT_CONFIG = 2
EXIT_LOCKED = 3
EXIT_UNREACHABLE = 4
STANDBY_POLL_SECONDS = 1.0
log = logging.getLogger("bot")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run a subcommand; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.func
    try:
        return command(args)
    except (SettingsError, CatalogMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except InvalidToken:
        print(
            "error: TELEGRAM_BOT_TOKEN was refused by the Bot API; check it with @BotFather", file=sys.stderr
        )
        return EXIT_CONFIG
    except NetworkError as exc:
        print(f"error: cannot reach the Bot API at TELEGRAM_API_BASE_URL: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Tashakkol, the associations bot.")
    parser.set_defaults(func=_run, standby=False)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="apply migrations, then poll the Bot API or serve the webhook (the default)",
        description="Start the bot: long polling, or a webhook server when WEBHOOK_URL is set.",
    )
    run.add_argument(
        "--standby",
        action="store_true",
        help="if another instance is active on this database, wait and take over when it stops",
    )
    run.set_defaults(func=_run)
    commands.add_parser(
        "migrate", help="bring the database up to date", description="Apply pending migrations."
    ).set_defaults(func=_migrate)
    commands.add_parser(
        "seed", help="load the chamber's starting data", description="Load the seed data (idempotent)."
    ).set_defaults(func=_seed)
    commands.add_parser(
        "check", help="validate settings, catalog and database", description="Print a short health report."
    ).set_defaults(func=_check)
    backup = commands.add_parser(
        "backup",
        help="back up the database (SQLite: online copy; PostgreSQL: prints the pg_dump command)",
        description="Back up the database while the bot keeps running.",
    )
    backup.add_argument("path", type=Path, help="where to write the backup")
    backup.set_defaults(func=_backup)
    commands.add_parser(
        "stats", help="print users, members per association, applications, courses, broadcasts"
    ).set_defaults(func=_stats)
    from bot.directory_cli import add_commands

    add_commands(commands, _prepare)
    return parser


def _prepare(*, require_token: bool) -> Settings:
    settings = load_settings(require_token=require_token)
    configure_logging(settings.log_level, settings.telegram_bot_token)
    return settings


def _migrate(_args: argparse.Namespace) -> int:
    from db.migrate import upgrade

    settings = _prepare(require_token=False)
    upgrade(settings.database_url)
    print("database is up to date")
    return 0


def _seed(_args: argparse.Namespace) -> int:
    from bot.seed import seed
    from db.migrate import upgrade

    settings = _prepare(require_token=False)
    upgrade(settings.database_url)
    report = asyncio.run(seed(settings.database_url))
    print(report or "nothing new to seed")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from db.backup import backup

    settings = _prepare(require_token=False)
    print(backup(settings.database_url, args.path))
    return 0


def _stats(_args: argparse.Namespace) -> int:
    from bot.services.stats import collect
    from db.session import create_engine, create_sessionmaker

    settings = _prepare(require_token=False)

    async def figures() -> str:
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                result = await collect(session)
        finally:
            await engine.dispose()
        lines = [f"users: {result.users} ({result.blocked} blocked the bot)", f"members: {result.members}"]
        lines += [f"  {name}: {count}" for name, count in result.members_by_association]
        lines.append(f"pending applications: {result.pending_applications}")
        lines.append(f"courses: {result.upcoming_courses} upcoming, {result.courses} in all")
        lines.append(
            "broadcasts: "
            + (", ".join(f"{k} {v}" for k, v in sorted(result.broadcasts_by_status.items())) or "none")
        )
        return "\n".join(lines)

    print(asyncio.run(figures()))
    return 0


def _check(_args: argparse.Namespace) -> int:
    from bot.health import check

    settings = _prepare(require_token=True)
    ok, lines = asyncio.run(check(settings))
    print("\n".join(lines))
    return 0 if ok else 1


def _run(args: argparse.Namespace) -> int:
    from db.migrate import upgrade

    settings = _prepare(require_token=True)
    load_translations()
    upgrade(settings.database_url)
    return asyncio.run(serve(settings, standby=args.standby))


async def serve(settings: Settings, *, standby: bool = False) -> int:
    """Take the poller lock (or wait for it as a standby), then run until SIGINT/SIGTERM."""
    from bot.app import build_application
    from db.session import create_engine

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    lock_engine = create_engine(settings.database_url, poolclass=NullPool)
    lock = PollerLock(lock_engine)
    try:
        if not await _take_lock(lock, standby, stop):
            return 0
        # Built only now: a standby must load conversation state after the active one has gone.
        application = build_application(settings)
        try:
            await _serve(application, settings, stop)
        finally:
            await application.bot_data.engine.dispose()
    except LockHeld as exc:
        print(
            f"error: another instance of the bot is already running on this database ({exc})", file=sys.stderr
        )
        return EXIT_LOCKED
    finally:
        await lock.release()
        await lock_engine.dispose()
    return 0


async def _take_lock(lock: PollerLock, standby: bool, stop: asyncio.Event) -> bool:
    """True once the lock is ours; False if asked to stop while waiting. LockHeld unless standby."""
    waiting = False
    while True:
        try:
            await lock.acquire()
            if waiting:
                log.info("standby: the active instance is gone; taking over")
            return True
        except LockHeld:
            if not standby:
                raise
            if not waiting:
                log.info("standby: another instance is active; waiting to take over")
                waiting = True
        try:
            await asyncio.wait_for(stop.wait(), STANDBY_POLL_SECONDS)
            return False
        except TimeoutError:
            continue


async def _serve(application: BotApplication, settings: Settings, stop: asyncio.Event) -> None:
    from bot import polling
    from bot.app import freeze_startup_heap, publish_commands
    from bot.seed import seed_if_empty
    from bot.webhook import BotServer

    async with application:
        await seed_if_empty(application.bot_data.sessionmaker)
        await publish_commands(application)
        freeze_startup_heap()
        await application.start()
        # What the last run stored and did not finish comes first (a standby does the same).
        await polling.replay(application)
        # One HTTP server: the webhook (webhook mode) and the staff dashboard (both modes).
        server: BotServer | None = BotServer(application, settings) if settings.dashboard_served else None
        poller: asyncio.Task[None] | None = None
        if settings.webhook_url:
            assert server is not None
            await server.start()
        else:
            await application.bot.delete_webhook()
            poller = asyncio.create_task(polling.poll(application, stop), name="polling")
            log.info("polling %s", settings.telegram_api_base_url)
            server = await _start_dashboard(server)
        await stop.wait()
        log.info("stopping")
        if server is not None:
            await server.stop()
        if poller is not None:
            await poller
        await application.stop()


async def _start_dashboard(server: BotServer | None) -> BotServer | None:
    """In polling mode the dashboard is extra: a port already taken is logged, and the bot goes on."""
    if server is None:
        log.info("dashboard off (WEB_PORT=0)")
        return None
    try:
        await server.start()
    except OSError as exc:
        host, port = server.address
        log.error(
            "dashboard not started: cannot listen on %s:%s (%s); set WEB_PORT", host, port, exc.strerror
        )
        return None
    return server


if __name__ == "__main__":
    sys.exit(main())
