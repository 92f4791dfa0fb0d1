"""The association directory for everyone: browse by status, open an association's page, search,
follow its news, say "I want to be a founding member" (which also offers the founding-member
application). Staff tools: directory_staff and directory_csv."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import CommandHandler

from bot.context import BotContext
from bot.forms.conversation import FormConversation
from bot.forms.flow import Screen
from bot.forms.render import Presenter, Reply
from bot.forms.spec import Field, short_form
from bot.handlers import directory_view as view
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature, start_link
from bot.kit.guards import public
from bot.kit.markup import button, keyboard
from bot.kit.menu import MenuItem
from bot.kit.reply import answer, sender
from bot.services import directory, directory_forms, subscriptions
from bot.services.errors import DomainError, NotFound

T = TypeVar("T")
SEARCH_FORM = short_form(
    name="dirsearch",
    fields=(
        Field(
            "words",
            N_("Type a word or two of the association's name or field (for example: خانگی)."),
            clean=directory_forms.clean_words,
        ),
    ),
    store=directory_forms.SEARCH,
    submit=directory_forms.search,
)


class SearchPresenter(Presenter):
    """The search words, then the associations they match."""

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        found: directory_forms.Found = result
        return Reply(*view.search_results(_, found.words, found.associations))


SEARCHING = FormConversation(SEARCH_FORM, SearchPresenter())


@public
async def browse(update: Update, context: BotContext) -> None:
    """The menu's «Associations»: the first page of all associations."""
    await show_page(update, context, directory.ALL, 0)


@view.DIR.on(view.PAGE)
@public
async def show_page(update: Update, context: BotContext, status: str, number: int) -> None:
    """`dir:page:<status>:<n>`: one page of the directory (a page past the end shows the last)."""
    if status not in directory.FILTERS:
        status = directory.ALL
    page = await context.read(directory.page, status, number)
    await answer(update, *view.list_page(context.gettext, page, status))


async def show_card(update: Update, context: BotContext, association_id: int, back: str = "") -> None:
    """An association's page for this user (with staff tools when they cover it)."""
    user_id, admins = sender(update), context.settings.admin_ids
    facts = await unit(update, context, lambda s: directory.card(s, association_id, user_id, admins))
    if facts is not None:
        await answer(update, *view.card(context.gettext, facts, back))


async def unit(
    update: Update, context: BotContext, work: Callable[[AsyncSession], Awaitable[T]], *, write: bool = False
) -> T | None:
    """One read (or, with `write`, one transaction) about an association; None, and the user told,
    when the association does not exist (any more)."""
    try:
        async with context.transaction() if write else context.reading() as session:
            return await work(session)
    except NotFound:
        _ = context.gettext
        back = keyboard([[button(_("All associations"), view.PAGE(directory.ALL, 0))]])
        await answer(update, _("That association does not exist (any more)."), back)
        return None


@view.DIR.on(view.OPEN)
@public
async def open_card(
    update: Update, context: BotContext, association_id: int, status: str, number: int
) -> None:
    """`dir:open:<id>:<status>:<n>`: the page, with a way back to that list page."""
    await show_card(update, context, association_id, view.PAGE(status, number))


@public
async def deep_link(update: Update, context: BotContext) -> None:
    """`/start assoc_<id>`: open the association's page straight away."""
    match = re.search(r"assoc_(\d+)", update.effective_message.text or "" if update.effective_message else "")
    if match is not None:
        await show_card(update, context, int(match[1]))


async def _changed(update: Update, context: BotContext, association_id: int, note: str, **extra: Any) -> None:
    """The page again, and a short confirmation under it."""
    await show_card(update, context, association_id)
    if update.effective_chat is not None:
        await update.effective_chat.send_message(note, **extra)


@view.DIR.on(view.NEWS)
@public
async def news(update: Update, context: BotContext, association_id: int, wanted: int) -> None:
    """`dir:news:<id>:<1|0>`: get the association's news, or stop them."""
    _, user_id = context.gettext, sender(update)
    change = subscriptions.subscribe if wanted else subscriptions.unsubscribe

    async def follow(session: AsyncSession) -> bool:
        await directory.get(session, association_id)
        await change(session, user_id, association_id)
        return True

    if await unit(update, context, follow, write=True):
        note = _("You will get its news.") if wanted else _("You will no longer get its news.")
        await _changed(update, context, association_id, note)


@view.DIR.on(view.FOUND)
@public
async def interest(update: Update, context: BotContext, association_id: int, wanted: int) -> None:
    """`dir:found:<id>:<1|0>`: "I want to be a founding member" (with the application one tap away),
    or take it back."""
    _, user_id = context.gettext, sender(update)
    change = directory.register_interest if wanted else directory.withdraw_interest
    try:
        if await unit(update, context, lambda s: change(s, user_id, association_id), write=True) is None:
            return
    except DomainError:
        note = _("This association is no longer being formed; you can apply for membership instead.")
        await _changed(update, context, association_id, note)
        return
    if not wanted:
        await _changed(update, context, association_id, _("Your founding-member interest was withdrawn."))
        return
    note = _(
        "Recorded: you want to be a founding member. The chamber's staff will contact you.\n"
        "You can also apply as a founding member now: it takes a few minutes, and no university "
        "degree is needed."
    )
    await _changed(
        update, context, association_id, note, reply_markup=view.founding_prompt(_, association_id)
    )


# ---------------------------------------------------------------------------------------- search


@public
async def search_command(update: Update, context: BotContext) -> object:
    """`/search <words>` answers at once; `/search` alone asks for the words."""
    words = " ".join(context.args or [])[: directory_forms.SEARCH_LIMIT]
    if not words.strip():
        return await SEARCHING.enter(update, context)
    found = await context.read(directory.search, words)
    await answer(update, *view.search_results(context.gettext, words.strip(), found))
    return None


@view.DIR.on(view.SEARCH)
@public
async def search_pressed(update: Update, context: BotContext) -> object:
    """`dir:search`: ask for the words."""
    return await SEARCHING.enter(update, context)


FEATURE = Feature(
    name="directory",
    handlers=lambda: [
        SEARCHING.handler(entry_points=[CommandHandler("search", search_command)]),
        start_link("assoc_", deep_link),
    ],
    routes=[view.DIR],
    commands=[Command("search", N_("Search associations"))],
    menu=[MenuItem("associations", N_("Associations"), 10, browse)],
)
