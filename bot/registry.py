"""Every feature, registered in one explicit order, and the application-wide handlers around them.

Order matters within group 0, where only the first matching handler runs:
1. the features' handlers in the order of FEATURES (conversations first within each feature, so a
   user in the middle of a form has their answer taken by that form; staff forms before the
   applicants' forms, so a staff member who also has a form open gets their typed reason, news
   text or course details taken where they meant it);
2. one dispatcher for every other button: the callback data's prefix names the feature's router;
3. the catch-alls of `fallback` last, so nothing goes unanswered.
`presence` runs in its own earlier group, so it sees every update without stopping the rest.

A feature's `schedule(application)` adds JobQueue jobs. Jobs only wake code that reads the database
(reminders, the outbox): the job queue itself is lost on restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import Application

from bot.context import BotContext
from bot.handlers import (
    announce,
    apply,
    broadcasts,
    council_digest,
    council_form,
    council_home,
    council_staff,
    course_checkin,
    course_documents,
    courses,
    courses_form,
    courses_staff,
    dashboard,
    directory,
    directory_csv,
    directory_staff,
    dues,
    errors,
    fallback,
    member_invite,
    member_proof,
    membership_staff,
    news,
    news_post,
    presence,
    privacy,
    profile,
    rating,
    requests,
    review,
    review_export,
    staff,
    start,
    stats,
)
from bot.i18n import Gettext
from bot.kit.callbacks import RoutedHandler, Router
from bot.kit.feature import Audience, Command, Feature
from bot.kit.menu import MENU_PREFIX, Menu, MenuItem

FEATURE_MODULES: list[ModuleType] = [
    review,
    member_invite,
    news_post,
    announce,
    directory_staff,
    courses_form,
    courses_staff,
    course_documents,
    council_staff,
    council_form,
    council_home,
    council_digest,
    apply,
    profile,
    directory,
    courses,
    news,
    requests,
    privacy,
    review_export,
    staff,
    stats,
    dashboard,
    rating,
    broadcasts,
    member_proof,
    dues,
    # Files staff send (member lists, the associations' CSV): after every conversation, so a form
    # taking an attachment (a council issue's file, an application's documents) gets it first.
    membership_staff,
    directory_csv,
    # Photos and code-like texts of a staff member at a door's desk: after every conversation, so a
    # form being filled in takes its own answers first.
    course_checkin,
    start,
]


def feature_of(module: ModuleType) -> Feature:
    """A module's Feature record (`FEATURE`), or one made from the older module attributes."""
    declared = getattr(module, "FEATURE", None)
    if isinstance(declared, Feature):
        return declared
    commands = [Command(name, description) for name, description in getattr(module, "COMMANDS", [])]
    return Feature(
        name=module.__name__.rsplit(".", 1)[-1],
        handlers=module.handlers,
        commands=commands,
        menu=list(getattr(module, "MENU", [])),
        schedule=getattr(module, "schedule", None),
    )


def features() -> list[Feature]:
    """The features, in registration order."""
    return [feature_of(module) for module in FEATURE_MODULES]


def menu_items() -> list[MenuItem]:
    """The main-menu items every feature contributes."""
    return [item for feature in features() for item in feature.menu]


def bot_commands(_: Gettext, audience: Audience = "everyone") -> list[BotCommand]:
    """The commands of one audience's menu (staff see everyone's too; admins, staff's too)."""
    roles: dict[Audience, tuple[Audience, ...]] = {
        "everyone": ("everyone",),
        "staff": ("everyone", "staff"),
        "admin": ("everyone", "staff", "admin"),
    }
    wanted = roles[audience]
    seen: dict[str, str] = {}
    for feature in [feature_of(start), *features()]:
        for command in feature.commands:
            if command.audience in wanted and command.listed:
                seen.setdefault(command.name, _(command.description))
    return [BotCommand(name, description) for name, description in seen.items()]


class ButtonDispatcher:
    """One PTB handler for the buttons outside conversations: the prefix of the callback data picks
    the feature's router (one dictionary look-up instead of trying every pattern in turn)."""

    def __init__(self, routers: Sequence[Router]) -> None:
        self.routers = {router.prefix: router for router in routers}
        if len(self.routers) != len(routers):
            raise ValueError("two routers share a prefix")

    def matches(self, data: object) -> bool:
        return isinstance(data, str) and data.split(":", 1)[0] in self.routers

    async def dispatch(self, update: Update, context: BotContext) -> object:
        query = update.callback_query
        assert query is not None and query.data is not None
        return await self.routers[query.data.split(":", 1)[0]].dispatch(update, context)

    def handler(self) -> RoutedHandler:
        return RoutedHandler(self.dispatch, self.matches, list(self.routers.values()))


def register(application: Application[Any, BotContext, Any, Any, Any, Any]) -> Menu:
    """Add every handler to the application; returns the main menu they make up."""
    application.add_handlers(presence.handlers(), group=presence.GROUP)
    registered = features()
    for feature in registered:
        application.add_handlers(feature.all_handlers())
    menu = Menu(menu_items(), welcome=start.start)
    menu_router = Router(MENU_PREFIX.rstrip(":"))
    for item in menu:
        if not item.starts_conversation:
            menu_router.on(menu_router.action(item.key))(item.callback)
    menu_router.on(menu_router.action("home"))(start.home)
    routers = [menu_router, *(router for feature in registered for router in feature.routes)]
    application.add_handler(ButtonDispatcher(routers).handler())
    application.add_handlers(fallback.handlers())
    application.add_error_handler(errors.on_error)
    for feature in registered:
        if feature.schedule is not None:
            feature.schedule(application)
    return menu
