"""My profile: name, national ID, mobile and city, saved at each step and offered to later forms."""

from __future__ import annotations

from typing import Any

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.formatting import fa_digits, isolate_ltr
from bot.handlers.common import advance, answer, button, conversation, esc, keyboard
from bot.handlers.guards import public
from bot.handlers.menu import HOME, MenuItem
from bot.i18n import N_, Gettext
from bot.services import profile as profile_service
from bot.services.errors import DomainError
from bot.services.validators import ValidationError
from db.models import Profile

COMMANDS = [("profile", N_("My profile"))]

# State names are unique across all conversations (they are persisted as they are).
STATES = {field: f"profile:{field}" for field in profile_service.FIELDS}
REVIEW = "profile:review"
NAME = "profile"
TEXT = filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED  # an edit of an old message is no answer

QUESTIONS = {
    "full_name": N_("Please type your full name (first and last name)."),
    "national_id": N_("Please type your 10-digit national ID (کد ملی)."),
    "mobile": N_("Please share your mobile number with the button below, or type it (e.g. 0912 345 6789)."),
    "city": N_("Which city is your business in?"),
}
LABELS = {
    "full_name": N_("Full name"),
    "national_id": N_("National ID"),
    "mobile": N_("Mobile"),
    "city": N_("City"),
}
# The answers about a person, shared with the membership form (bot/handlers/apply.py).
PERSON_ERRORS = {
    "name_too_short": N_("That name is too short. Please type your first and last name."),
    "name_too_long": N_("That name is too long (at most 100 letters)."),
    "name_not_letters": N_("A name may contain only letters and spaces. Please type it again."),
    "city_too_short": N_("That city name is too short."),
    "city_too_long": N_("That city name is too long (at most 60 letters)."),
    "city_not_letters": N_("A city name may contain only letters and spaces."),
    "national_id": N_(
        "That is not a valid national ID. It has 10 digits, like ۰۰۱۲۳۴۵۶۷۸. Please check it and type it again."
    ),
    "mobile": N_(
        "That is not a valid Iranian mobile number. It looks like 0912 345 6789. Please type it again."
    ),
    "not_own_contact": N_("Please share your own number with the button, or type it."),
}
ERRORS = PERSON_ERRORS


def _error_text(_: Gettext, field: str, exc: DomainError | ValidationError) -> str:
    key = exc.reason if exc.reason in ERRORS else field
    return _(ERRORS.get(key, ERRORS["name_too_short"]))


async def ask(update: Update, context: BotContext, field: str) -> str:
    """Ask the question for `field` and enter its state."""
    _ = context.gettext
    question = _(QUESTIONS[field])
    if field == "mobile":
        share = ReplyKeyboardMarkup(
            [[KeyboardButton(_("Share my number"), request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        if update.callback_query is not None:
            await update.callback_query.answer()
        if update.effective_chat is not None:
            await update.effective_chat.send_message(question, reply_markup=share)
    else:
        await answer(update, question, edit=False)
    return STATES[field]


@public
async def open_profile(update: Update, context: BotContext) -> str:
    """Entry: show the profile when complete, else ask the first missing answer."""
    user = update.effective_user
    assert user is not None
    async with context.session() as session:
        profile = await profile_service.get_profile(session, user.id)
    missing = profile_service.next_missing(profile)
    if missing is None and profile is not None:
        return await review(update, context, profile)
    return await ask(update, context, missing or "full_name")


async def review(update: Update, context: BotContext, profile: Profile) -> str:
    """Show every saved answer with buttons to change one, or finish."""
    _ = context.gettext
    values = {
        "full_name": esc(profile.full_name or "—"),
        "national_id": isolate_ltr(fa_digits(profile.national_id or "—")),
        "mobile": isolate_ltr(fa_digits(profile.mobile or "—")),
        "city": esc(profile.city or "—"),
    }
    lines = [_("<b>Your profile</b>")]
    lines += [f"{_(LABELS[field])}: {values[field]}" for field in profile_service.FIELDS]
    lines.append(_("These details fill in your applications for you. Change any of them below."))
    markup = keyboard(
        [
            [button(_("Edit {field}").format(field=_(LABELS[f])), f"profile:edit:{f}") for f in pair]
            for pair in (profile_service.FIELDS[:2], profile_service.FIELDS[2:])
        ]
        + [[button(_("Done"), HOME)]]
    )
    if update.callback_query is not None:
        await answer(update, "\n".join(lines), markup)
    elif update.effective_chat is not None:
        # A text step ended here: drop the share-contact keyboard, then show the summary.
        await update.effective_chat.send_message(_("Saved."), reply_markup=ReplyKeyboardRemove())
        await answer(update, "\n".join(lines), markup)
    return REVIEW


async def _save(update: Update, context: BotContext, field: str, raw: str) -> str:
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    try:
        async with context.session() as session, session.begin():
            profile = await profile_service.save_answer(session, user.id, field, raw)
            missing = profile_service.next_missing(profile)
            await advance(session, update, NAME, STATES[missing] if missing else REVIEW)
    except (DomainError, ValidationError) as exc:
        await answer(update, _error_text(_, field, exc))
        return STATES[field]
    if missing is None:
        return await review(update, context, profile)
    return await ask(update, context, missing)


def _text_step(field: str) -> Any:
    @public
    async def step(update: Update, context: BotContext) -> str:
        message = update.effective_message
        assert message is not None and message.text is not None
        return await _save(update, context, field, message.text)

    step.__name__ = f"profile_{field}"
    return step


@public
async def contact_step(update: Update, context: BotContext) -> str:
    """A shared contact: accepted only when it is the sender's own number."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.contact is not None and user is not None
    if message.contact.user_id != user.id:
        await answer(update, context.gettext(ERRORS["not_own_contact"]))
        return STATES["mobile"]
    return await _save(update, context, "mobile", message.contact.phone_number)


@public
async def edit(update: Update, context: BotContext) -> str:
    """'Edit <field>' on the summary."""
    query = update.callback_query
    assert query is not None and query.data is not None
    field = query.data.rsplit(":", 1)[-1]
    if field not in STATES:
        await query.answer()
        return REVIEW
    return await ask(update, context, field)


@public
async def wrong_kind(update: Update, context: BotContext) -> None:
    """Something other than text (a photo, a sticker…) where an answer was expected."""
    _ = context.gettext
    await answer(update, _("Please answer with a text message, or send /cancel to stop."))


def _states() -> dict[object, list[BaseHandler[Update, BotContext, Any]]]:
    other = MessageHandler(~filters.COMMAND & ~filters.UpdateType.EDITED, wrong_kind)
    states: dict[object, list[BaseHandler[Update, BotContext, Any]]] = {
        STATES[f]: [MessageHandler(TEXT, _text_step(f)), other] for f in profile_service.FIELDS
    }
    states[STATES["mobile"]].insert(0, MessageHandler(filters.CONTACT, contact_step))
    states[REVIEW] = []
    return states


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The profile conversation."""
    return [
        conversation(
            NAME,
            entry_points=[
                CommandHandler("profile", open_profile),
                CallbackQueryHandler(open_profile, pattern="^menu:profile$"),
                CallbackQueryHandler(edit, pattern=r"^profile:edit:\w+$"),
            ],
            states=_states(),
            fallbacks=[CallbackQueryHandler(edit, pattern=r"^profile:edit:\w+$")],
        )
    ]


MENU = [MenuItem("profile", N_("My profile"), 80, open_profile, starts_conversation=True)]
