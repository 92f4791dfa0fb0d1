"""News: the latest items (all or one association's), one item, subscribing; staff post an item.

Posting is a persistent conversation whose answers go to a draft row at each step; publishing
queues the item for its subscribers in the outbox, and a live progress message follows it.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, Message, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.formatting import fa_digits, fa_number, jalali_date
from bot.handlers.broadcasts import start_progress
from bot.handlers.common import END, answer, button, columns, conversation, esc, keyboard
from bot.handlers.guards import current_scope, public, staff_only
from bot.handlers.menu import HOME, MenuItem
from bot.i18n import N_, Gettext
from bot.services import news as news_service
from bot.services import subscriptions
from bot.services.errors import DomainError
from bot.text import truncate
from db.models import Association, NewsItem

COMMANDS = [("news", N_("Latest news")), ("postnews", N_("Post a news item (staff)"))]

SCOPE, TITLE, TEXT_STEP, MEDIA, PREVIEW = (
    "news:scope",
    "news:title",
    "news:text",
    "news:media",
    "news:preview",
)
TEXT = filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED  # an edit of an old message is no answer
ALL = "all"

ERRORS = {
    "title_too_short": N_("That title is too short. Please type a title of a few words."),
    "title_too_long": N_("That title is too long (at most 150 letters). Please shorten it."),
    "text_empty": N_("Please type the text of the news item."),
    "text_too_long": N_("That text is too long (at most {limit} letters). Please shorten it."),
    "too_long_for_media": N_(
        "With a photo or file, the title and text together may have at most {limit} letters. "
        "Shorten the text (send /postnews again) or continue without an attachment."
    ),
    "incomplete": N_("This news item is not complete yet."),
    "not_your_association": N_("You can only post news for your own associations."),
    "unknown_association": N_("That association was not found."),
    "no_draft": N_("There is no news item in progress. Send /postnews to start one."),
}


def _error(_: Gettext, exc: DomainError) -> str:
    template = _(ERRORS.get(exc.reason, N_("That did not work. Please try again.")))
    limit = exc.details.get("limit")
    return template.format(limit=fa_number(int(limit))) if isinstance(limit, int) else template


def render_item(_: Gettext, item: NewsItem, association: str | None) -> str:
    """A news item as members read it (in the bot and in the message they receive)."""
    source = esc(association) if association else _("Chamber of commerce")
    lines = [f"📰 <b>{esc(item.title)}</b>", f"<i>{source}</i>", "", item.text]
    if item.published_at is not None:
        lines += ["", jalali_date(item.published_at)]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- reading


def _parse_view(data: str) -> tuple[int | None, int]:
    """`news:page:<all|id>:<page>` → (association id or None, page)."""
    parts = data.split(":")
    target = parts[2] if len(parts) > 2 else ALL
    page = int(parts[3]) if len(parts) > 3 and parts[3].isdecimal() else 0
    return (int(target) if target.isdecimal() else None), page


@public
async def browse(update: Update, context: BotContext) -> None:
    """The news menu: the latest items of all associations."""
    await _show_list(update, context, None, 0)


@public
async def page(update: Update, context: BotContext) -> None:
    """A page of the list (all news or one association's)."""
    query = update.callback_query
    assert query is not None
    association_id, number = _parse_view(query.data or "")
    await _show_list(update, context, association_id, number)


async def _show_list(
    update: Update, context: BotContext, association_id: int | None, number: int, note: str = ""
) -> None:
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    try:
        async with context.session() as session:
            association = (
                await news_service.get_association(session, association_id)
                if association_id is not None
                else None
            )
            listing = await news_service.latest(session, association_id, number)
            names = await news_service.association_names(
                session, {i.association_id for i in listing.items if i.association_id is not None}
            )
            subscribed = await subscriptions.is_subscribed(session, user.id, association_id)
    except DomainError:
        await answer(
            update, _("That association was not found."), keyboard([[button(_("News"), "news:page:all:0")]])
        )
        return
    scope = await current_scope(update, context)
    title = (
        _("<b>News of {association}</b>").format(association=esc(association.name))
        if association is not None
        else _("<b>Latest news</b>")
    )
    lines = [note, title] if note else [title]
    if not listing.items:
        lines.append(_("There is no news yet."))
    if listing.pages > 1:
        lines.append(
            _("Page {page} of {pages}").format(
                page=fa_digits(listing.page + 1), pages=fa_digits(listing.pages)
            )
        )
    target = str(association_id) if association_id is not None else ALL
    rows: list[list[InlineKeyboardButton]] = []
    for item in listing.items:
        when = jalali_date(item.published_at) if item.published_at else ""
        source = names.get(item.association_id or 0, _("Chamber"))
        rows.append(
            [button(truncate(f"{item.title} — {source} ({when})", 60), f"news:open:{item.id}:{target}")]
        )
    nav = []
    if listing.page > 0:
        nav.append(button(_("Newer"), f"news:page:{target}:{listing.page - 1}"))
    if listing.page + 1 < listing.pages:
        nav.append(button(_("Older"), f"news:page:{target}:{listing.page + 1}"))
    rows.append(nav)
    if subscribed:
        label = _("Stop news of this association") if association else _("Stop receiving all news")
        rows.append([button(label, f"news:unsub:{target}")])
    else:
        label = _("Get this association's news") if association else _("Get all news")
        rows.append([button(label, f"news:sub:{target}")])
    if association is None:
        rows.append([button(_("News of one association"), "news:filter")])
    else:
        rows.append([button(_("All news"), "news:page:all:0")])
    if scope.is_staff:
        rows.append([button(_("Post a news item"), "news:post")])
    rows.append([button(_("Main menu"), HOME)])
    await answer(update, "\n".join(lines), keyboard(rows))


@public
async def choose_filter(update: Update, context: BotContext) -> None:
    """Pick an association whose news to see."""
    _ = context.gettext
    async with context.session() as session:
        associations = await news_service.associations_with_news(session)
    if not associations:
        await answer(
            update,
            _("No association has published news yet."),
            keyboard([[button(_("All news"), "news:page:all:0")]]),
        )
        return
    buttons = [button(truncate(a.name, 40), f"news:page:{a.id}:0") for a in associations]
    await answer(
        update,
        _("Whose news would you like to see?"),
        keyboard([*columns(buttons), [button(_("All news"), "news:page:all:0")]]),
    )


@public
async def open_item(update: Update, context: BotContext) -> None:
    """One news item in full (a photo or file comes as its own message)."""
    _ = context.gettext
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    news_id = int(parts[2]) if len(parts) > 2 and parts[2].isdecimal() else 0
    back = parts[3] if len(parts) > 3 and (parts[3].isdecimal() or parts[3] == ALL) else ALL
    try:
        async with context.session() as session:
            item = await news_service.get_published(session, news_id)
            names = await news_service.association_names(
                session, {item.association_id} if item.association_id is not None else set()
            )
    except DomainError:
        await answer(
            update, _("That news item was not found."), keyboard([[button(_("News"), "news:page:all:0")]])
        )
        return
    text = render_item(_, item, names.get(item.association_id or 0))
    markup = keyboard(
        [[button(_("Back to the news"), f"news:page:{back}:0")], [button(_("Main menu"), HOME)]]
    )
    if item.media_kind is None or update.effective_chat is None:
        await answer(update, text, markup)
        return
    await query.answer()
    chat = update.effective_chat
    if item.media_kind == "photo":
        await chat.send_photo(
            item.media_file_id or "", caption=text, reply_markup=markup, parse_mode=ParseMode.HTML
        )
    else:
        await chat.send_document(
            item.media_file_id or "", caption=text, reply_markup=markup, parse_mode=ParseMode.HTML
        )


@public
async def toggle_subscription(update: Update, context: BotContext) -> None:
    """Subscribe or unsubscribe (all news, or one association's), then show the list again."""
    _ = context.gettext
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    parts = (query.data or "").split(":")
    action, target = parts[1], parts[2] if len(parts) > 2 else ALL
    association_id = int(target) if target.isdecimal() else None
    async with context.session() as session, session.begin():
        if association_id is not None and await session.get(Association, association_id) is None:
            await query.answer(_("That association was not found."), show_alert=True)
            return
        if action == "sub":
            await subscriptions.subscribe(session, user.id, association_id)
        else:
            await subscriptions.unsubscribe(session, user.id, association_id)
    note = (
        _("You will receive this news here.")
        if action == "sub"
        else _("You will no longer receive this news.")
    )
    await _show_list(update, context, association_id, 0, note)


# ---------------------------------------------------------------------------- posting (staff)


@staff_only
async def post_start(update: Update, context: BotContext) -> str | int:
    """Start a news item: first, whose news is it?"""
    _ = context.gettext
    async with context.session() as session, session.begin():
        await news_service.start_draft(session, context.staff)
        associations = [a for a in await _all_associations(session) if context.staff.covers(a.id)]
    buttons = [button(truncate(a.name, 40), f"newspost:scope:{a.id}") for a in associations]
    rows = columns(buttons)
    if context.staff.covers(None):
        rows.insert(0, [button(_("Chamber-wide"), "newspost:scope:all")])
    if not rows:
        await answer(update, _("You have no association to post news for."))
        return END
    await answer(update, _("<b>New news item</b>\nWhose news is it?"), keyboard(rows), edit=False)
    return SCOPE


async def _all_associations(session: Any) -> list[Association]:
    from sqlalchemy import select

    return list(await session.scalars(select(Association).order_by(Association.name)))


@staff_only
async def post_scope(update: Update, context: BotContext) -> str:
    _ = context.gettext
    query = update.callback_query
    assert query is not None
    target = (query.data or "").rsplit(":", 1)[-1]
    try:
        async with context.session() as session, session.begin():
            await news_service.set_scope(session, context.staff, int(target) if target.isdecimal() else None)
    except DomainError as exc:
        await query.answer(_error(_, exc), show_alert=True)
        return SCOPE
    await answer(update, _("Please type the title of the news item."))
    return TITLE


@staff_only
async def post_title(update: Update, context: BotContext) -> str:
    _ = context.gettext
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        async with context.session() as session, session.begin():
            await news_service.set_title(session, context.staff.user_id, message.text)
    except DomainError as exc:
        await message.reply_text(_error(_, exc))
        return TITLE
    await message.reply_text(
        _(
            "Now type the text of the news item. You can use bold, italic and links with Telegram's formatting."
        )
    )
    return TEXT_STEP


@staff_only
async def post_text(update: Update, context: BotContext) -> str:
    _ = context.gettext
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        async with context.session() as session, session.begin():
            await news_service.set_text(session, context.staff.user_id, message.text_html, len(message.text))
    except DomainError as exc:
        await message.reply_text(_error(_, exc))
        return TEXT_STEP
    await message.reply_text(
        _("Send a photo or a file to go with it, or continue without one."),
        reply_markup=keyboard([[button(_("No attachment"), "newspost:nomedia")]]),
    )
    return MEDIA


def media_of(message: Message) -> tuple[str, str] | None:
    """(kind, file_id) of a photo or document message."""
    if message.photo:
        return "photo", message.photo[-1].file_id
    if message.document is not None:
        return "document", message.document.file_id
    return None


@staff_only
async def post_media(update: Update, context: BotContext) -> str:
    _ = context.gettext
    message = update.effective_message
    media = media_of(message) if message is not None and update.callback_query is None else None
    kind, file_id = media if media is not None else (None, None)
    try:
        async with context.session() as session, session.begin():
            await news_service.set_media(session, context.staff.user_id, kind, file_id)
    except DomainError as exc:
        await answer(update, _error(_, exc), keyboard([[button(_("No attachment"), "newspost:nomedia")]]))
        return MEDIA
    return await _preview(update, context)


async def _preview(update: Update, context: BotContext) -> str:
    _ = context.gettext
    async with context.session() as session:
        draft = await news_service.current_draft(session, context.staff.user_id)
        names = await news_service.association_names(
            session, {draft.association_id} if draft.association_id is not None else set()
        )
        count = await news_service.subscriber_count(session, draft.association_id)
    chat = update.effective_chat
    assert chat is not None
    if update.callback_query is not None:
        await update.callback_query.answer()
    await chat.send_message(_("<b>Preview</b> — this is how subscribers will see it:"))
    text = render_item(_, draft, names.get(draft.association_id or 0))
    if draft.media_kind == "photo":
        await chat.send_photo(draft.media_file_id or "", caption=text, parse_mode=ParseMode.HTML)
    elif draft.media_kind == "document":
        await chat.send_document(draft.media_file_id or "", caption=text, parse_mode=ParseMode.HTML)
    else:
        await chat.send_message(text, parse_mode=ParseMode.HTML)
    await chat.send_message(
        _("Publish it? It will be sent to {count} subscribers.").format(count=fa_number(count)),
        reply_markup=keyboard(
            [[button(_("Publish"), "newspost:publish"), button(_("Discard"), "newspost:discard")]]
        ),
    )
    return PREVIEW


@staff_only
async def post_publish(update: Update, context: BotContext) -> int | str:
    _ = context.gettext
    async with context.session() as session:
        draft = await news_service.current_draft(session, context.staff.user_id)
        names = await news_service.association_names(
            session, {draft.association_id} if draft.association_id is not None else set()
        )
    name = names.get(draft.association_id or 0)
    chat = update.effective_chat
    try:
        async with context.session() as session, session.begin():
            published = await news_service.publish(
                session,
                context.staff,
                lambda item: render_item(_, item, name),
                progress_chat_id=chat.id if chat is not None else None,
            )
    except DomainError as exc:
        await answer(update, _error(_, exc))
        return PREVIEW
    await answer(
        update,
        _("Published. It is being sent to {count} subscribers.").format(
            count=fa_number(published.recipients)
        ),
    )
    await start_progress(update, context, published.broadcast.id)
    return END


@staff_only
async def post_discard(update: Update, context: BotContext) -> int:
    _ = context.gettext
    async with context.session() as session, session.begin():
        await news_service.start_draft(session, context.staff)  # replaces the draft with an empty one
    await answer(update, _("Discarded. Nothing was published."), keyboard([[button(_("Main menu"), HOME)]]))
    return END


@staff_only
async def wrong_kind(update: Update, context: BotContext) -> None:
    """Something else than what this step expects."""
    _ = context.gettext
    await answer(update, _("Please answer this step as asked, or send /cancel to stop."))


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The posting conversation, then the reading buttons."""
    other = MessageHandler(~filters.COMMAND & ~filters.UpdateType.EDITED, wrong_kind)
    posting = conversation(
        "news_post",
        entry_points=[
            CommandHandler("postnews", post_start),
            CallbackQueryHandler(post_start, pattern="^news:post$"),
        ],
        states={
            SCOPE: [CallbackQueryHandler(post_scope, pattern=r"^newspost:scope:(all|\d+)$"), other],
            TITLE: [MessageHandler(TEXT, post_title), other],
            TEXT_STEP: [MessageHandler(TEXT, post_text), other],
            MEDIA: [
                MessageHandler(filters.PHOTO | filters.Document.ALL, post_media),
                CallbackQueryHandler(post_media, pattern="^newspost:nomedia$"),
                other,
            ],
            PREVIEW: [
                CallbackQueryHandler(post_publish, pattern="^newspost:publish$"),
                CallbackQueryHandler(post_discard, pattern="^newspost:discard$"),
                other,
            ],
        },
    )
    return [
        posting,
        CommandHandler("news", browse),
        CallbackQueryHandler(page, pattern=r"^news:page:(all|\d+):\d+$"),
        CallbackQueryHandler(open_item, pattern=r"^news:open:\d+:(all|\d+)$"),
        CallbackQueryHandler(choose_filter, pattern="^news:filter$"),
        CallbackQueryHandler(toggle_subscription, pattern=r"^news:(sub|unsub):(all|\d+)$"),
    ]


MENU = [MenuItem("news", N_("News"), 40, browse)]
