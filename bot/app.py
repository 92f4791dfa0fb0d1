"""Assemble the PTB Application: settings, database, persistence, handlers, commands."""

from __future__ import annotations

import gc
from typing import Any
from zoneinfo import ZoneInfo

from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest

from bot import delivery, inbox, observe, registry
from bot.command_menus import CommandMenus
from bot.config import Settings
from bot.context import CONTEXT_TYPES, BotApplication
from bot.handlers.broadcasts import show_progress
from bot.handlers.limits import flood_notice
from bot.handlers.recovery import answer_again
from bot.i18n import load_translations
from bot.inbox import Inbox
from bot.platform import make_bot
from bot.processing import PerUserUpdateProcessor
from bot.services.staff import StaffRoster
from bot.services.users import SeenCache
from db.models.base import utcnow
from db.persistence import DatabasePersistence
from db.session import create_engine, create_reader, create_sessionmaker


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> BotApplication:
    """A ready Application; pass `request`/`get_updates_request` to replace the HTTP transport."""
    translations = load_translations()
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    processor = PerUserUpdateProcessor(user_rate=settings.user_rate_limit)
    defaults = Defaults(parse_mode=ParseMode.HTML, tzinfo=ZoneInfo(settings.timezone))
    application: BotApplication = (
        ApplicationBuilder()
        .bot(make_bot(settings, defaults, request, get_updates_request))
        .updater(None)  # updates come through the inbox (bot/inbox.py, bot/polling.py), not PTB's Updater
        .context_types(CONTEXT_TYPES)
        .persistence(DatabasePersistence(sessionmaker))
        .concurrent_updates(processor)
        .post_init(after_initialize)
        .post_shutdown(dispose_engine)
        .build()
    )
    data = application.bot_data
    data.settings = settings
    data.clock = utcnow
    data.engine = engine
    data.sessionmaker = sessionmaker
    data.reader = create_reader(engine)
    data.translations = translations
    data.seen = SeenCache()
    data.staff_roster = StaffRoster(settings.admin_ids)
    data.inbox = Inbox(sessionmaker, retention=settings.inbox_retention)
    data.unit_hooks = [data.inbox.mark_handled]
    data.delivery = delivery.Delivery(application, on_progress=show_progress)
    data.menu = registry.register(application)
    mini_app = settings.mini_app_url if not settings.is_bale else None
    data.commands = CommandMenus(
        lambda role: registry.bot_commands(translations.gettext, role),
        data.reader,
        settings.admin_ids,
        (translations.gettext("Dashboard"), mini_app) if mini_app else None,
    )
    delivery.schedule(application)
    inbox.schedule(application)
    observe.instrument(application)
    processor.log_key = settings.telegram_bot_token
    # Save conversation state right after each update, before the same user's next one runs.
    processor.after_update = application.update_persistence
    processor.application = application
    processor.inbox = data.inbox
    processor.answer_again = answer_again(application)
    processor.on_flood = flood_notice(application)
    return application


def freeze_startup_heap() -> None:
    """Move everything alive after start-up (PTB, SQLAlchemy, Babel, the handlers...) out of the
    garbage collector's reach, so a full collection scans only what the bot made since. Measured
    (docs/performance.md): the longest collection pause went from ~115 ms to ~40 ms."""
    gc.collect()
    gc.freeze()


async def after_initialize(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """post_init (run_polling / run_webhook): publish the commands, then freeze the start-up heap."""
    await publish_commands(application)
    freeze_startup_heap()


async def publish_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """setMyCommands with Persian descriptions: the newcomer's menu as the default (and for Persian
    clients), each staff member's and admin's in their own chat (bot/command_menus.py)."""
    await application.bot_data.commands.publish(application.bot)


async def dispose_engine(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Close the database connections."""
    await application.bot_data.engine.dispose()
