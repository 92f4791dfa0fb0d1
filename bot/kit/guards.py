"""The one guard every staff command and staff button goes through.

`@staff_only` and `@admin_only` look the sender up, refuse politely if they lack the role, and
otherwise pass their StaffScope on as `context.staff` (set on the context for this update only).
Each guarded callback carries `__guard__`; a callback anyone may use says so with `@public`. A test
walks every registered handler (routers and forms included) and fails on one that is neither.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from telegram import Update

from bot.context import BotContext
from bot.kit.reply import alert
from bot.services.staff import StaffScope, scope_of

R = TypeVar("R")
Callback = Callable[..., Coroutine[Any, Any, R]]
GuardLevel = str  # "staff" or "admin"


async def current_scope(update: Update, context: BotContext) -> StaffScope:
    """The sender's staff scope (an empty scope for anyone who is not staff)."""
    user = update.effective_user
    if user is None:
        return StaffScope(user_id=0)
    async with context.reading() as session:
        return await scope_of(session, user.id, context.settings.admin_ids)


async def shown_scope(update: Update, context: BotContext) -> StaffScope:
    """The sender's scope for deciding what a screen shows (the menu's staff section), from the staff
    roster in memory: no database read on a menu tap. Never for a guard (see StaffRoster)."""
    user = update.effective_user
    roster = context.bot_data.staff_roster
    if roster.stale:
        async with context.reading() as session:
            await roster.refresh(session)
    return roster.scope(user.id) if user is not None else StaffScope(user_id=0)


def allows(scope: StaffScope, level: GuardLevel) -> bool:
    """Whether a scope passes a guard level."""
    return scope.is_admin if level == "admin" else scope.is_staff


async def refuse(update: Update, context: BotContext) -> None:
    """Tell a non-staff sender, politely, that this is for staff."""
    _ = context.gettext
    text = _("Sorry, this is only for the chamber's staff.")
    await alert(update, text)


def _guard(level: GuardLevel) -> Callable[[Callback[R]], Callback[R | None]]:
    def decorate(callback: Callback[R]) -> Callback[R | None]:
        @functools.wraps(callback)
        async def guarded(update: Update, context: BotContext, *args: Any) -> R | None:
            scope = await current_scope(update, context)
            if not allows(scope, level):
                await refuse(update, context)
                return None
            context.staff = scope
            return await callback(update, context, *args)

        guarded.__guard__ = level  # type: ignore[attr-defined]
        return guarded

    return decorate


staff_only = _guard("staff")
admin_only = _guard("admin")


def mark_guarded(callback: Any, level: GuardLevel) -> Any:
    """Mark a callback that checks the role itself (inside its transaction) as guarded."""
    callback.__guard__ = level
    return callback


def guard_of(callback: Any) -> str | None:
    """The guard level a callback was wrapped with, if any."""
    return getattr(callback, "__guard__", None)


def public(callback: Callback[R]) -> Callback[R]:
    """Mark a callback as meant for everyone (the opposite of a guard, stated on purpose)."""
    callback.__public__ = True  # type: ignore[attr-defined]
    return callback


def is_public(callback: Any) -> bool:
    """Whether a callback was marked `@public`."""
    return getattr(callback, "__public__", False) is True
