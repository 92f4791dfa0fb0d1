"""Association ratings: admins record scores with /rate; everyone sees a scorecard (a chart sent as a
photo, its figures in the caption) and the ranking of all rated associations."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.formatting import fa_digits, isolate_ltr
from bot.handlers.common import answer, button, esc, keyboard
from bot.handlers.guards import admin_only, public
from bot.handlers.menu import HOME, MenuItem
from bot.i18n import N_, Gettext
from bot.services import rating as service
from bot.services import scorecard_chart
from bot.services.errors import DomainError, NotFound
from bot.text import normalize_input, search_key, truncate
from db.models.rating import INDICATORS

COMMANDS = [("ratings", N_("Association ratings")), ("rate", N_("Record association ratings (admins)"))]

LABELS = {
    "governance": N_("Governance"),
    "policy": N_("Policy influence"),
    "membership": N_("Membership"),
    "regulation": N_("Regulation"),
    "services": N_("Services"),
}
ERRORS = {
    "period": N_("That period is not valid. Write a Jalali year like ۱۴۰۵, or a half-year like ۱۴۰۵-H1."),
    "score": N_("A score is a whole number from ۰ to ۱۰۰."),
    "indicator": N_(
        "Unknown indicator. Use one of: governance, policy, membership, regulation, services (or its Persian name)."
    ),
    "note": N_("That note is too long (at most 200 letters)."),
    "association": N_("There is no association with that number."),
}
CAPTION_LIMIT = 1024
NOTE_IN_CAPTION = 45
RANKING_PERIODS = 6
TITLE_LIMIT = 60  # letters of the association's name that fit across the chart


def fa_decimal(value: Decimal) -> str:
    """A decimal with Persian digits and the Persian decimal separator, e.g. ۷۱٫۸."""
    return fa_digits(str(value)).replace(".", "٫")


def signed(value: Decimal) -> str:
    """A change with its sign, kept left-to-right inside Persian text."""
    sign = "+" if value > 0 else ("−" if value < 0 else "")
    return isolate_ltr(sign + fa_decimal(abs(value)))


def period_label(_: Gettext, period: str) -> str:
    """ "1405" → «سال ۱۴۰۵», "1405-H1" → «نیمهٔ اول ۱۴۰۵»."""
    year, _dash, half = period.partition("-")
    if half == "H1":
        return _("first half of {year}").format(year=fa_digits(year))
    if half == "H2":
        return _("second half of {year}").format(year=fa_digits(year))
    return _("year {year}").format(year=fa_digits(year))


def figures_lines(_: Gettext, figures: service.MembershipFigures) -> list[str]:
    """The membership evidence from the bot's own data."""
    growth = _("Members: {end} (at the start of the period {start}, change {growth}").format(
        end=fa_digits(figures.members_at_end),
        start=fa_digits(figures.members_at_start),
        growth=signed(Decimal(figures.growth)),
    )
    if figures.growth_percent is not None:
        growth += " = " + isolate_ltr(fa_decimal(figures.growth_percent) + "٪")
    growth += ")"
    if figures.share_in_time is None:
        decided = _("No application was decided in this period.")
    else:
        decided = _("Applications decided within {days} days: {fast} of {all} ({share})").format(
            days=fa_digits(figures.days),
            fast=fa_digits(figures.decided_in_time),
            all=fa_digits(figures.decided),
            share=fa_decimal(figures.share_in_time) + "٪",
        )
    return [_("<b>Membership evidence (from the bot's data)</b>"), growth, decided]


def caption(_: Gettext, card: service.Scorecard, *, notes: bool = True) -> str:
    """The scorecard as text: the five scores, the total, the change, and the automatic figures."""
    lines = [
        _("<b>Scorecard of {name}</b>").format(name=esc(card.name)),
        _("Period: {period}").format(period=period_label(_, card.period)),
    ]
    for indicator in INDICATORS:
        row = card.scores.get(indicator)
        if row is None:
            lines.append(f"• {_(LABELS[indicator])}: {_('not scored yet')}")
            continue
        line = f"• {_(LABELS[indicator])}: {fa_digits(row.score)}"
        if notes and row.note:
            line += " — " + esc(truncate(row.note, NOTE_IN_CAPTION))
        lines.append(line)
    if card.total is None:
        lines.append(_("Total: when all five indicators are scored"))
    else:
        lines.append(_("<b>Total: {total}</b> of ۱۰۰").format(total=fa_decimal(card.total)))
    previous = period_label(_, service.previous_period(card.period))
    if card.change is not None:
        lines.append(_("Change since {period}: {change}").format(period=previous, change=signed(card.change)))
    elif card.total is not None:
        lines.append(_("No complete scorecard for {period} to compare with.").format(period=previous))
    lines += ["", *figures_lines(_, card.figures)]
    text = "\n".join(lines)
    if len(text) > CAPTION_LIMIT and notes:
        return caption(_, card, notes=False)
    return text  # without notes it is well under the limit (the name is at most 200 letters)


def chart(_: Gettext, card: service.Scorecard) -> bytes:
    """The scorecard as a PNG bar chart."""
    subtitle = period_label(_, card.period)
    if card.total is not None:
        subtitle += " — " + _("total {total}").format(total=fa_decimal(card.total))
    return scorecard_chart.render(
        truncate(card.name, TITLE_LIMIT),
        [_(LABELS[indicator]) for indicator in INDICATORS],
        [card.scores[i].score if i in card.scores else None for i in INDICATORS],
        subtitle=subtitle,
        missing_label=_("not scored yet"),
    )


def _card_markup(_: Gettext, card: service.Scorecard, periods: list[str]) -> InlineKeyboardMarkup:
    others = [p for p in periods if p != card.period][:4]
    rows: list[list[InlineKeyboardButton]] = [
        [button(period_label(_, p), f"rating:card:{card.association_id}:{p}") for p in others],
        [
            button(_("Association card"), f"dir:open:{card.association_id}"),
            button(_("Ranking"), f"rating:rank:{card.period}"),
        ],
        [button(_("Main menu"), HOME)],
    ]
    return keyboard(rows)


async def show_scorecard(
    update: Update, context: BotContext, association_id: int, period: str | None = None
) -> None:
    """Send the scorecard photo (or, before any score, the evidence as text)."""
    _ = context.gettext
    settings = context.settings
    try:
        async with context.session() as session:
            card = await service.scorecard(
                session, association_id, period, settings.rating_weights, settings.timezone
            )
            periods = await service.periods_of(session, association_id)
    except NotFound:
        await answer(update, _("That association does not exist (any more)."))
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat = update.effective_chat
    if chat is None:
        return
    markup = _card_markup(_, card, periods)
    if not card.scores:
        text = "\n".join(
            [
                _("<b>{name}</b> has not been rated for {period} yet.").format(
                    name=esc(card.name), period=period_label(_, card.period)
                ),
                "",
                *figures_lines(_, card.figures),
            ]
        )
        await chat.send_message(text, reply_markup=markup, parse_mode=ParseMode.HTML)
        return
    png = await asyncio.to_thread(chart, _, card)
    await chat.send_photo(
        InputFile(png, filename=f"scorecard-{association_id}-{card.period}.png"),
        caption=caption(_, card),
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
    )


@public
async def card_pressed(update: Update, context: BotContext) -> None:
    """`rating:card:<association_id>[:<period>]`."""
    data = update.callback_query.data if update.callback_query is not None else None
    parts = (data or "").split(":")
    if len(parts) < 3 or not parts[2].isdecimal():
        return
    await show_scorecard(update, context, int(parts[2]), parts[3] if len(parts) > 3 else None)


async def show_ranking(update: Update, context: BotContext, period: str | None = None) -> None:
    """The ranking of every association with a complete scorecard in the period (newest by default)."""
    _ = context.gettext
    async with context.session() as session:
        periods = await service.ranked_periods(session)
        if period is None and periods:
            period = periods[0]
        ranked = await service.ranking(session, period, context.settings.rating_weights) if period else []
    if period is None:
        await answer(
            update, _("No association has been rated yet."), keyboard([[button(_("Main menu"), HOME)]])
        )
        return
    lines = [_("<b>Ranking of the associations — {period}</b>").format(period=period_label(_, period))]
    if not ranked:
        lines.append(_("No association has a complete scorecard for this period."))
    lines += [f"{fa_digits(item.rank)}. {esc(item.name)}: {fa_decimal(item.total)}" for item in ranked]
    lines.append(
        _(
            "The total is the weighted average of the five indicators: governance, policy influence, "
            "membership, regulation and services. Equal totals share a rank."
        )
    )
    rows: list[list[InlineKeyboardButton]] = [
        [
            button(
                f"{fa_digits(item.rank)}. {truncate(item.name, 40)}",
                f"rating:card:{item.association_id}:{period}",
            )
        ]
        for item in ranked
    ]
    rows.append(
        [button(period_label(_, p), f"rating:rank:{p}") for p in periods[:RANKING_PERIODS] if p != period]
    )
    rows.append([button(_("Main menu"), HOME)])
    await answer(update, "\n".join(lines), keyboard(rows))


@public
async def ranking_entry(update: Update, context: BotContext) -> None:
    """The menu item and /ratings."""
    await show_ranking(update, context)


@public
async def rank_pressed(update: Update, context: BotContext) -> None:
    """`rating:rank:<period>`."""
    data = update.callback_query.data if update.callback_query is not None else None
    try:
        period = service.parse_period((data or "").rsplit(":", 1)[-1])
    except DomainError:
        return await show_ranking(update, context)
    await show_ranking(update, context, period)


# ---------------------------------------------------------------------------------------- /rate


def _usage(_: Gettext) -> str:
    return "\n".join(
        [
            _("Usage:"),
            _("/rate ASSOCIATION_ID PERIOD INDICATOR SCORE NOTE — one indicator with a short note"),
            _("/rate ASSOCIATION_ID PERIOD S1 S2 S3 S4 S5 — all five, in this order:"),
            "، ".join(f"{_(LABELS[i])} ({i})" for i in INDICATORS),
            _("PERIOD is a Jalali year (۱۴۰۵) or a half-year (۱۴۰۵-H1, ۱۴۰۵-H2); scores are ۰ to ۱۰۰."),
            _("Example: /rate 12 1405 governance 80 regular board meetings and published minutes"),
        ]
    )


def parse_indicator(_: Gettext, raw: str) -> str:
    """An indicator by its key, its number (1–5) or its Persian name."""
    word = normalize_input(raw).lower()
    if word in INDICATORS:
        return word
    if word.isdecimal() and 1 <= int(word) <= len(INDICATORS):
        return INDICATORS[int(word) - 1]
    key = search_key(word)
    for indicator in INDICATORS:
        if search_key(_(LABELS[indicator])).startswith(key) and key:
            return indicator
    raise service.InvalidRating("indicator")


@admin_only
async def rate_command(update: Update, context: BotContext) -> None:
    """/rate: record one indicator with a note, or all five scores at once."""
    _ = context.gettext
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    args = context.args or []
    if len(args) < 4 or not normalize_input(args[0]).isdecimal():
        await message.reply_text(_usage(_))
        return
    association_id = int(normalize_input(args[0]))
    try:
        period = service.parse_period(args[1])
        if len(args) == 7 and all(normalize_input(a).isdecimal() for a in args[2:]):
            entries = [
                (ind, service.clean_score(raw), "") for ind, raw in zip(INDICATORS, args[2:], strict=True)
            ]
        else:
            entries = [(parse_indicator(_, args[2]), service.clean_score(args[3]), " ".join(args[4:]))]
        async with context.session() as session, session.begin():
            for indicator, score, note in entries:
                await service.record(session, user.id, association_id, period, indicator, score, note)
        async with context.session() as session:
            card = await service.scorecard(
                session, association_id, period, context.settings.rating_weights, context.settings.timezone
            )
    except DomainError as exc:
        await message.reply_text(_(ERRORS.get(exc.reason, ERRORS["score"])) + "\n\n" + _usage(_))
        return
    markup = keyboard([[button(_("View the scorecard"), f"rating:card:{association_id}:{period}")]])
    await message.reply_text(
        _("Saved.") + "\n\n" + caption(_, card), reply_markup=markup, parse_mode=ParseMode.HTML
    )


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """/rate, /ratings, the scorecard and ranking buttons."""
    return [
        CommandHandler("rate", rate_command),
        CommandHandler("ratings", ranking_entry),
        CallbackQueryHandler(card_pressed, pattern=r"^rating:card:\d+(:\d{4}(-H[12])?)?$"),
        CallbackQueryHandler(rank_pressed, pattern=r"^rating:rank:\d{4}(-H[12])?$"),
    ]


MENU = [MenuItem("rating", N_("Association ratings"), 60, ranking_entry)]
