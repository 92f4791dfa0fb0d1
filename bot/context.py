"""The typed context every handler receives: database sessions, settings and gettext in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.i18n import Gettext

if TYPE_CHECKING:
    from babel.support import Translations

    from bot.config import Settings
    from bot.handlers.menu import Menu
    from bot.services.staff import StaffScope
    from bot.services.users import SeenCache


class BotData:
    """Process-wide resources, filled in once by build_application (never persisted)."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    translations: Translations
    seen: SeenCache
    menu: Menu


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with typed access to what handlers need."""

    # Set by the staff guard for the update being handled (a context lives for one update).
    staff: StaffScope

    def session(self) -> AsyncSession:
        """A new database session; the handler owns its transaction (`async with s, s.begin()`)."""
        return self.bot_data.sessionmaker()

    @property
    def gettext(self) -> Gettext:
        """Translate a msgid into the user's language (Persian)."""
        return self.bot_data.translations.gettext

    @property
    def settings(self) -> Settings:
        """The validated settings."""
        return self.bot_data.settings


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)

BotApplication = Application[ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]
