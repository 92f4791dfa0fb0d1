"""/start, /help and the main menu: the first thing a newcomer reads."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.context import BotContext
from bot.formatting import fa_digits, isolate_ltr
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature
from bot.kit.guards import public
from bot.kit.home import show_menu
from bot.kit.menu import MenuItem
from bot.kit.reply import esc


def _introduction(_: Gettext, phone: str) -> list[str]:
    """What a trade association is, that no degree is needed, and how to follow an application."""
    lines = [
        _(
            "A trade association (تشکل) brings together the businesses of one trade. Its members take the "
            "chamber's training courses, get the news of their trade, and are heard by government offices "
            "through the chamber's dialogue council."
        ),
        _(
            "You can apply for membership here in a few minutes, from your phone. A university degree is "
            "not needed: work experience, a business licence or a home-business permit is enough."
        ),
        _(
            "When you apply you get a tracking code. To follow your application, open «My requests» in the "
            "menu, or send the code after /status."
        ),
    ]
    if phone:
        lines.append(
            _("Questions? The chamber's associations office answers on {phone}.").format(
                phone=isolate_ltr(fa_digits(esc(phone)))
            )
        )
    return lines


@public
async def start(update: Update, context: BotContext) -> None:
    """Greet the user by name, say what the bot is for, and show the main menu."""
    _ = context.gettext
    user = update.effective_user
    name = esc(user.first_name) if user is not None else ""
    lines = [
        _("Hello {name}! Welcome to the bot of the chamber of commerce's trade associations.").format(
            name=name
        ),
        "",
        *_introduction(_, context.settings.chamber_phone),
        "",
        _("What would you like to do?"),
    ]
    await show_menu(update, context, "\n".join(lines))


@public
async def home(update: Update, context: BotContext) -> None:
    """The 'main menu' button."""
    await show_menu(update, context)


@public
async def help_(update: Update, context: BotContext) -> None:
    """What the bot does and how to use it; every line starts with Persian words."""
    _ = context.gettext
    lines = [
        _("<b>Help</b>"),
        *_introduction(_, context.settings.chamber_phone),
        "",
        _("Use the menu buttons to browse associations, apply, sign up for courses and read the news."),
        _("To see the main menu at any time, send /start."),
        _("To stop the step you are in, send /cancel; your answers so far are kept."),
        _("To change your name, national ID or mobile number, send /profile."),
    ]
    await show_menu(update, context, "\n".join(lines))


@public
async def cancel_outside(update: Update, context: BotContext) -> None:
    """/cancel when nothing is in progress."""
    _ = context.gettext
    await show_menu(update, context, _("Nothing is in progress.") + "\n" + _("Main menu"))


FEATURE = Feature(
    name="start",
    handlers=lambda: [CommandHandler("start", start, filters=~filters.Regex(r"^/start\s+\S"))],
    commands=[
        Command("start", N_("Main menu")),
        Command("help", N_("Help"), callback=help_),
        Command("cancel", N_("Cancel the current step"), callback=cancel_outside),
    ],
    menu=[MenuItem("help", N_("Help"), 90, help_)],
)
