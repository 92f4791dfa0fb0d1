"""News for everyone: the latest items (all, or one association's), one item in full, and
subscribing; staff also find the button to post an item (bot/handlers/news_post.py)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import BotContext
from bot.formatting import fa_digits, jalali_date
from bot.handlers.composing import send
from bot.handlers.news_post import post_news, render_item
from bot.i18n import N_, Gettext
from bot.kit.callbacks import Router
from bot.kit.feature import Command, Feature
from bot.kit.guards import public
from bot.kit.markup import button, columns, keyboard
from bot.kit.menu import HOME, MenuItem
from bot.kit.reply import answer, esc, sender
from bot.services import news, staff, subscriptions
from bot.services.errors import NotFound
from bot.text import truncate

ALL = "all"  # the list of every association's news (and the chamber's)
ROUTES = Router("news")
PAGE = ROUTES.action("page", str, int)  # news:page:<all|id>:<page>
OPEN = ROUTES.action("open", int, str)  # news:open:<item>:<the list to go back to>
FILTER = ROUTES.action("filter")
SUBSCRIBE = ROUTES.action("sub", str)
UNSUBSCRIBE = ROUTES.action("unsub", str)
POST = ROUTES.action("post")
ROUTES.on(POST)(post_news)  # staff: the news form


def _association(target: str) -> int | None:
    """`all` → None, `12` → 12 (anything else is no list: NotFound)."""
    if target == ALL:
        return None
    if not target.isdecimal():
        raise NotFound("unknown_association")
    return int(target)


def _to_the_list(_: Gettext, label: str) -> InlineKeyboardMarkup:
    """One button back to the list of all news."""
    return keyboard([[button(_(label), PAGE(ALL, 0))]])


@public
async def browse(update: Update, context: BotContext) -> None:
    """/news and the menu: the latest items of every association and the chamber."""
    await _show_list(update, context, ALL, 0)


@ROUTES.on(PAGE)
@public
async def page(update: Update, context: BotContext, target: str, number: int) -> None:
    """A page of the list (all news or one association's)."""
    await _show_list(update, context, target, number)


async def _show_list(
    update: Update, context: BotContext, target: str, number: int, *, follow: bool | None = None
) -> None:
    """The list; with `follow`, subscribe (True) or unsubscribe (False) first, in one transaction."""
    _ = context.gettext
    user_id = sender(update)
    try:
        association_id = _association(target)
        async with context.reading() if follow is None else context.transaction() as session:
            if follow is not None:
                await subscriptions.follow(session, user_id, association_id, follow)
            listing = await news.listing(session, user_id, association_id, number)
            scope = await staff.scope_of(session, user_id, context.settings.admin_ids)
    except NotFound:
        await answer(update, _("That association was not found."), _to_the_list(_, N_("News")))
        return
    association, found = listing.association, listing.page
    lines = []
    if follow is not None:
        lines.append(
            _("You will receive this news here.") if follow else _("You will no longer receive this news.")
        )
    lines.append(
        _("<b>News of {association}</b>").format(association=esc(association.name))
        if association is not None
        else _("<b>Latest news</b>")
    )
    if not found.items:
        lines.append(_("There is no news yet."))
    if found.pages > 1:
        lines.append(
            _("Page {page} of {pages}").format(page=fa_digits(found.page + 1), pages=fa_digits(found.pages))
        )
    rows: list[list[InlineKeyboardButton]] = []
    for item in found.items:
        when = jalali_date(item.published_at) if item.published_at else ""
        source = listing.names.get(item.association_id or 0, _("Chamber"))
        rows.append([button(truncate(f"{item.title} — {source} ({when})", 60), OPEN(item.id, target))])
    # Telegram lays a row out left to right: "older" (further on, ◀️) goes left of "newer" (▶️).
    rows.append(
        [
            *([button(_("Older"), PAGE(target, found.page + 1))] if found.page + 1 < found.pages else []),
            *([button(_("Newer"), PAGE(target, found.page - 1))] if found.page > 0 else []),
        ]
    )
    if listing.subscribed:
        label = _("Stop news of this association") if association else _("Stop receiving all news")
        rows.append([button(label, UNSUBSCRIBE(target))])
    else:
        label = _("Get this association's news") if association else _("Get all news")
        rows.append([button(label, SUBSCRIBE(target))])
    if association is None:
        rows.append([button(_("News of one association"), FILTER())])
    else:
        rows.append([button(_("All news"), PAGE(ALL, 0))])
    if scope.is_staff:
        rows.append([button(_("Post news"), POST())])
    rows.append([button(_("Main menu"), HOME)])
    await answer(update, "\n".join(lines), keyboard(rows))


@ROUTES.on(FILTER)
@public
async def choose_filter(update: Update, context: BotContext) -> None:
    """Pick an association whose news to see (those that have published any, in Persian order)."""
    _ = context.gettext
    associations = await context.read(news.associations_with_news)
    if not associations:
        await answer(update, _("No association has published news yet."), _to_the_list(_, N_("All news")))
        return
    buttons = [button(truncate(a.name, 40), PAGE(str(a.id), 0)) for a in associations]
    await answer(
        update,
        _("Whose news would you like to see?"),
        keyboard([*columns(buttons), [button(_("All news"), PAGE(ALL, 0))]]),
    )


@ROUTES.on(OPEN)
@public
async def open_item(update: Update, context: BotContext, news_id: int, back: str) -> None:
    """One news item in full (with its photo or file, as a new message)."""
    _ = context.gettext
    try:
        async with context.reading() as session:
            item, source = await news.get_published(session, news_id)
    except NotFound:
        await answer(update, _("That news item was not found."), _to_the_list(_, N_("News")))
        return
    text = render_item(_, item, source)
    back = back if back == ALL or back.isdecimal() else ALL
    markup = keyboard([[button(_("Back to the news"), PAGE(back, 0))], [button(_("Main menu"), HOME)]])
    if not item.media_kind:
        await answer(update, text, markup)
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    await send(update, text, item.media_kind, item.media_file_id, markup)


@ROUTES.on(SUBSCRIBE)
@public
async def subscribe(update: Update, context: BotContext, target: str) -> None:
    """Get the news of an association (or all news) here."""
    await _show_list(update, context, target, 0, follow=True)


@ROUTES.on(UNSUBSCRIBE)
@public
async def unsubscribe(update: Update, context: BotContext, target: str) -> None:
    """Stop getting it."""
    await _show_list(update, context, target, 0, follow=False)


FEATURE = Feature(
    name="news",
    routes=[ROUTES],
    commands=[Command("news", N_("Latest news"), callback=browse)],
    menu=[MenuItem("news", N_("News"), 40, browse)],
)
