"""The association directory for everyone: browse by status, open a card, search, follow news,
say 'I want to be a founding member'. Staff tools live in directory_staff."""

from __future__ import annotations

import re
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.handlers.common import END, answer, button, conversation, keyboard
from bot.handlers.directory_view import CardFacts, card, list_page, search_results
from bot.handlers.guards import current_scope, public
from bot.handlers.menu import MenuItem
from bot.i18n import N_
from bot.services import directory, members, subscriptions
from bot.services.errors import DomainError, NotFound

COMMANDS = [("search", N_("Search associations"))]
SEARCH = "directory:search"
STATUS = "(all|active|forming|inactive)"
TEXT = filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED  # an edit of an old message is no answer


@public
async def browse(update: Update, context: BotContext) -> None:
    """The menu's 'Associations': the first page of all associations."""
    await show_page(update, context, directory.ALL, 0)


async def show_page(update: Update, context: BotContext, status: str, number: int) -> None:
    """Render one page of the directory."""
    async with context.session() as session:
        page = await directory.page(session, status, number)
    text, markup = list_page(context.gettext, page, status)
    await answer(update, text, markup)


@public
async def page_button(update: Update, context: BotContext) -> None:
    """dir:page:<status>:<n>."""
    _, _, status, number = _data(update).split(":")
    await show_page(update, context, status, int(number))


async def show_card(
    update: Update, context: BotContext, association_id: int, back: str | None = None, *, edit: bool = True
) -> None:
    """Render an association's card for this user (with staff tools when they cover it); `edit=False`
    sends it as a new message even after a button press (whose message was already used)."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    scope = await current_scope(update, context)
    try:
        async with context.session() as session:
            association = await directory.get(session, association_id)
            staff = scope.is_staff and scope.covers(association_id)
            facts = CardFacts(
                members=await members.member_count(session, association_id),
                subscribed=await subscriptions.is_subscribed(session, user.id, association_id),
                interested=await directory.has_interest(session, user.id, association_id),
                staff=staff,
                interest_count=await directory.interest_count(session, association_id) if staff else 0,
                back=back or f"dir:page:{directory.ALL}:0",
            )
    except NotFound:
        await answer(update, _("That association does not exist (any more)."), _back(context))
        return
    text, markup = card(_, association, facts)
    if edit or update.effective_chat is None:
        await answer(update, text, markup)
    else:
        await update.effective_chat.send_message(text, reply_markup=markup, parse_mode=ParseMode.HTML)


def _back(context: BotContext) -> Any:
    return keyboard([[button(context.gettext("All associations"), f"dir:page:{directory.ALL}:0")]])


@public
async def card_button(update: Update, context: BotContext) -> None:
    """dir:open:<id>[:<status>:<n>] (the list page to come back to)."""
    parts = _data(update).split(":")
    back = f"dir:page:{parts[3]}:{parts[4]}" if len(parts) == 5 else None
    await show_card(update, context, int(parts[2]), back)


@public
async def deep_link(update: Update, context: BotContext) -> None:
    """/start assoc_<id>: open the card straight away."""
    message = update.effective_message
    assert message is not None and message.text is not None
    match = re.search(r"assoc_(\d+)", message.text)
    assert match is not None
    await show_card(update, context, int(match[1]))


@public
async def follow(update: Update, context: BotContext) -> None:
    """dir:sub:<id> / dir:unsub:<id>: follow or stop following an association's news."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    _prefix, action, raw_id = _data(update).split(":")
    association_id = int(raw_id)
    try:
        async with context.session() as session, session.begin():
            await directory.get(session, association_id)
            if action == "sub":
                await subscriptions.subscribe(session, user.id, association_id)
            else:
                await subscriptions.unsubscribe(session, user.id, association_id)
    except NotFound:
        await answer(update, _("That association does not exist (any more)."), _back(context))
        return
    await show_card(update, context, association_id)
    await _notify(
        update, _("You will get its news.") if action == "sub" else _("You will no longer get its news.")
    )


@public
async def founding(update: Update, context: BotContext) -> None:
    """dir:found:<id> / dir:unfound:<id>: record or withdraw 'I want to be a founding member'."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    _prefix, action, raw_id = _data(update).split(":")
    association_id = int(raw_id)
    note = ""
    try:
        async with context.session() as session, session.begin():
            if action == "found":
                await directory.register_interest(session, user.id, association_id)
                note = _("Recorded: you want to be a founding member. The chamber's staff will contact you.")
            else:
                await directory.withdraw_interest(session, user.id, association_id)
                note = _("Your founding-member interest was withdrawn.")
    except NotFound:
        await answer(update, _("That association does not exist (any more)."), _back(context))
        return
    except DomainError:
        note = _("This association is no longer being formed; you can apply for membership instead.")
    await show_card(update, context, association_id)
    await _notify(update, note)


async def _notify(update: Update, text: str) -> None:
    """A short confirmation under the edited card."""
    if update.effective_chat is not None:
        await update.effective_chat.send_message(text)


# ---------------------------------------------------------------- search


@public
async def search_command(update: Update, context: BotContext) -> object:
    """/search <words> answers at once; /search alone asks for the words."""
    words = " ".join(context.args or [])
    if words.strip():
        await _search(update, context, words)
        return END
    return await ask_search(update, context)


@public
async def ask_search(update: Update, context: BotContext) -> str:
    """The search button: ask what to look for."""
    _ = context.gettext
    await answer(
        update, _("Type a word or two of the association's name or field (for example: خانگی)."), edit=False
    )
    return SEARCH


@public
async def search_text(update: Update, context: BotContext) -> object:
    """The words to look for."""
    message = update.effective_message
    assert message is not None and message.text is not None
    await _search(update, context, message.text)
    return END


@public
async def search_other(update: Update, context: BotContext) -> str:
    """Not text while we wait for search words."""
    await answer(update, context.gettext("Please type the words to search for, or send /cancel."))
    return SEARCH


async def _search(update: Update, context: BotContext, words: str) -> None:
    _ = context.gettext
    if len(words) > 100:
        words = words[:100]
    async with context.session() as session:
        found = await directory.search(session, words)
    text, markup = search_results(_, words.strip(), found)
    await answer(update, text, markup, edit=False)


def _data(update: Update) -> str:
    query = update.callback_query
    assert query is not None and query.data is not None
    return query.data


MENU = [MenuItem("associations", N_("Associations"), 10, browse)]


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Search conversation first, then the deep link and the buttons."""
    return [
        conversation(
            "directory_search",
            entry_points=[
                CommandHandler("search", search_command),
                CallbackQueryHandler(ask_search, pattern="^dir:search$"),
            ],
            states={
                SEARCH: [
                    MessageHandler(TEXT, search_text),
                    MessageHandler(~filters.COMMAND & ~filters.UpdateType.EDITED, search_other),
                ]
            },
        ),
        CommandHandler("start", deep_link, filters=filters.Regex(r"^/start\s+assoc_\d+$")),
        CallbackQueryHandler(page_button, pattern=rf"^dir:page:{STATUS}:\d+$"),
        CallbackQueryHandler(card_button, pattern=rf"^dir:open:\d+(:{STATUS}:\d+)?$"),
        CallbackQueryHandler(follow, pattern=r"^dir:(sub|unsub):\d+$"),
        CallbackQueryHandler(founding, pattern=r"^dir:(found|unfound):\d+$"),
    ]
