"""/dashboard and the staff menu's «Dashboard»: a one-time login link to the web dashboard (for a
desktop browser, and on Bale), and where Telegram allows it the Mini App's button."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update, WebAppInfo
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.formatting import fa_digits, isolate_ltr
from bot.i18n import N_
from bot.kit.feature import Command, Feature
from bot.kit.guards import staff_only
from bot.kit.menu import MenuItem
from bot.kit.reply import ack, esc
from bot.services import web_access


@staff_only
async def dashboard(update: Update, context: BotContext) -> None:
    """A login link, usable once within ten minutes; the Mini App button when the address is https."""
    _ = context.gettext
    token = await context.write(web_access.issue_link, context.staff)
    settings = context.settings
    link = f"{settings.public_url}/login/{token}"
    minutes = int(web_access.LINK_LIFETIME.total_seconds() // 60)
    lines = [
        _("<b>Staff dashboard</b>"),
        _(
            "This login link opens the dashboard in a browser, for example on your computer. It works "
            "once, within {minutes} minutes; do not share it."
        ).format(minutes=fa_digits(minutes)),
        isolate_ltr(esc(link)),
    ]
    rows = [[InlineKeyboardButton(_("Open the dashboard in a browser"), url=link)]]
    if settings.mini_app_url is not None and not settings.is_bale:
        lines.append(_("Inside Telegram, the «Dashboard» button opens it without a link."))
        rows.append([InlineKeyboardButton(_("Dashboard"), web_app=WebAppInfo(settings.mini_app_url))])
    if update.callback_query is not None:
        await ack(update.callback_query)
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(
            "\n".join(lines),
            reply_markup=InlineKeyboardMarkup(rows),
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )


FEATURE = Feature(
    name="dashboard",
    commands=[Command("dashboard", N_("Staff dashboard (web)"), audience="staff", callback=dashboard)],
    menu=[MenuItem("dashboard", N_("Dashboard"), 105, dashboard, audience="staff")],
)
