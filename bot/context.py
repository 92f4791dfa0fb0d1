"""The typed context every handler receives: units of work, settings and gettext in one place.

`context.transaction()` is one unit of work: a session in one write transaction, committed at the
end; work registered with `before_commit` joins it (the form engine writes the conversation state
there) and `after_commit` runs once it is durable (the outbox sender is woken when the transaction
queued a message). `context.reading()` is a read-only session that never takes SQLite's write lock.
Handlers talk to the Bot API only after these blocks end; a test fails on any request made while a
transaction is open.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from babel.support import Translations
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.command_menus import CommandMenus
from bot.config import Settings
from bot.i18n import Gettext
from bot.inbox import Inbox
from bot.kit.menu import Menu
from bot.services.outbox import OUTBOX_TOUCHED
from bot.services.staff import STAFF_CHANGED, StaffRoster, StaffScope
from bot.services.users import SeenCache

P = ParamSpec("P")
T = TypeVar("T")

BeforeCommit = Callable[[AsyncSession], Awaitable[None]]
# session.info key: callables to run once the session's transaction committed (hooks add them).
AFTER_COMMIT = "after_commit"
AfterCommit = Callable[[], None]


class Waker(Protocol):
    """Something to tell that new outbox messages were committed (the delivery runtime)."""

    def wake(self) -> None: ...


class BotData:
    """Process-wide resources, filled in once by build_application (never persisted)."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    reader: async_sessionmaker[AsyncSession]
    translations: Translations
    seen: SeenCache
    staff_roster: StaffRoster
    menu: Menu
    delivery: Waker
    inbox: Inbox
    # Work every unit of work does before it commits (the inbox marks the update handled there).
    unit_hooks: list[BeforeCommit]
    commands: CommandMenus  # the command menus by role (staff changes refresh a person's)
    # "Now" for date rules (membership terms, renewal reminders); tests put a fixed clock here.
    clock: Callable[[], datetime]


@asynccontextmanager
async def unit_of_work(
    data: BotData,
    *,
    before: Callable[[], Sequence[BeforeCommit]] = tuple,
    after: Callable[[], Sequence[AfterCommit]] = tuple,
) -> AsyncIterator[AsyncSession]:
    """A session in one write transaction, committed at the end (the chat's updates and the web
    dashboard's actions alike): `before()` runs in the transaction just before the commit, the
    session's after-commit hooks and `after()` once it is durable, and the outbox sender is woken
    when the transaction queued a message."""
    async with data.sessionmaker() as session:
        async with session.begin():
            yield session
            for hook in before():
                await hook(session)
        committed = list(session.info.pop(AFTER_COMMIT, ()))
        touched = bool(session.info.get(OUTBOX_TOUCHED))
        if session.info.get(STAFF_CHANGED):
            data.staff_roster.changed()
    for done in [*committed, *after()]:
        done()
    if touched:
        data.delivery.wake()


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with typed access to what handlers need (one context per handler call)."""

    # Set by the staff guard for the update being handled.
    staff: StaffScope

    def __init__(self, application: Any, chat_id: int | None = None, user_id: int | None = None) -> None:
        super().__init__(application, chat_id, user_id)
        self._before: list[BeforeCommit] = []
        self._after: list[AfterCommit] = []

    @asynccontextmanager
    async def transaction(self, *, bookkeeping: bool = False) -> AsyncIterator[AsyncSession]:
        """One unit of work: everything in the block commits together, or nothing does.

        `bookkeeping=True` is for writes that are not the update's own effect (recording who wrote
        to the bot): the unit hooks (the inbox's "handled" mark) do not run for them.
        """
        self._before, self._after = [], []
        hooks = () if bookkeeping else self.bot_data.unit_hooks
        try:
            async with unit_of_work(
                self.bot_data, before=lambda: [*self._before, *hooks], after=lambda: self._after
            ) as session:
                yield session
        finally:
            self._before, self._after = [], []

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only (on SQLite it never takes the write lock)."""
        async with self.bot_data.reader() as session:
            yield session

    async def read(
        self, work: Callable[Concatenate[AsyncSession, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """One read: `await context.read(service.f, a)` runs `service.f(session, a)` in a reading session."""
        async with self.reading() as session:
            return await work(session, *args, **kwargs)

    async def write(
        self, work: Callable[Concatenate[AsyncSession, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """One unit of work of one service call: `service.f(session, a)`, committed."""
        async with self.transaction() as session:
            return await work(session, *args, **kwargs)

    def before_commit(self, hook: BeforeCommit) -> None:
        """Run `hook(session)` at the end of the open transaction, before it commits."""
        self._before.append(hook)

    def after_commit(self, hook: AfterCommit) -> None:
        """Run `hook()` once the open transaction has committed."""
        self._after.append(hook)

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
