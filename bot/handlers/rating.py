"""Association ratings: admins score an association with a short form (/rate, or «Score associations»
in their menu); everyone sees a scorecard (a chart sent as a photo, its figures in the caption) and
the ranking of all rated associations."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.formatting import fa_decimal, fa_digits, isolate_ltr, signed
from bot.forms.conversation import FormConversation
from bot.forms.flow import Screen
from bot.forms.render import Actions, Presenter, Reply
from bot.forms.spec import Choice, Field, Form
from bot.handlers import directory_view as view
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature, opened_by
from bot.kit.guards import admin_only, public
from bot.kit.markup import button, keyboard
from bot.kit.menu import HOME, MenuItem
from bot.kit.reply import answer, esc
from bot.services import rating as service
from bot.services import rating_form, scorecard_chart
from bot.services.actor import Actor
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.rating import INDICATORS
from bot.text import truncate

LABELS = {
    "governance": N_("Governance"),
    "policy": N_("Policy influence"),
    "membership": N_("Membership"),
    "regulation": N_("Regulation"),
    "services": N_("Services"),
}
ERRORS = {
    "period": N_(
        "That is not a rating period. Choose a button, or type a year like ۱۴۰۳ or a half-year like «نیمهٔ اول ۱۴۰۳»."
    ),
    "score": N_("A score is a whole number from ۰ to ۱۰۰."),
    "score_decimal": N_("A score is a whole number from ۰ to ۱۰۰: type {whole}, without a decimal point."),
    "note": N_("That note is too long (at most 200 letters)."),
}
CAPTION_LIMIT = 1024
NOTE_IN_CAPTION = 45
RANKING_PERIODS = 6
TITLE_LIMIT = 60  # letters of the association's name that fit across the chart


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
        [button(period_label(_, p), view.SCORECARD(card.association_id, p)) for p in others],
        [
            button(_("The association's page"), view.card_of(card.association_id)),
            button(_("Ranking"), view.RANKING(card.period)),
        ],
        [button(_("Main menu"), HOME)],
    ]
    return keyboard(rows)


@view.RATING.on(view.SCORECARD)
@public
async def show_scorecard(update: Update, context: BotContext, association_id: int, period: str) -> None:
    """`rating:card:<association>:<period|last>`: the scorecard photo (before any score: the evidence as text)."""
    _ = context.gettext
    settings = context.settings
    try:
        wanted = None if period == view.LATEST else service.parse_period(period)
        async with context.reading() as session:
            card = await service.scorecard(
                session, association_id, wanted, settings.rating_weights, settings.timezone
            )
            periods = await service.periods_of(session, association_id)
    except (NotFound, service.InvalidRating):
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


async def show_ranking(update: Update, context: BotContext, period: str | None = None) -> None:
    """The ranking of every association with a complete scorecard in the period (newest by default)."""
    _ = context.gettext
    async with context.reading() as session:
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
                view.SCORECARD(item.association_id, period),
            )
        ]
        for item in ranked
    ]
    rows.append(
        [button(period_label(_, p), view.RANKING(p)) for p in periods[:RANKING_PERIODS] if p != period]
    )
    rows.append([button(_("Main menu"), HOME)])
    await answer(update, "\n".join(lines), keyboard(rows))


@public
async def ranking_entry(update: Update, context: BotContext) -> None:
    """The menu item and /ratings."""
    await show_ranking(update, context)


@view.RATING.on(view.RANKING)
@public
async def rank_pressed(update: Update, context: BotContext, period: str) -> None:
    """`rating:rank:<period|last>`."""
    try:
        wanted = None if period == view.LATEST else service.parse_period(period)
    except DomainError:
        wanted = None
    await show_ranking(update, context, wanted)


# ---------------------------------------------------------------------------------------- scoring (admins)


async def _associations(session: AsyncSession, draft: Any, actor: Actor) -> Sequence[Choice]:
    return [
        Choice(key, name, plain=True) for key, name in await rating_form.associations(session, draft, actor)
    ]


async def _periods(session: AsyncSession, draft: Any, actor: Actor) -> Sequence[Choice]:
    return [Choice(period, period) for period in await rating_form.periods(session, draft, actor)]


RATE_FORM = Form(
    name="rate",
    fields=(
        Field(
            "association",
            N_("Which association are you scoring?"),
            N_("Association"),
            kind="choice",
            choices=_associations,
        ),
        Field(
            "period",
            N_("Which rating period are these scores for? Choose one, or type another year (e.g. ۱۴۰۳)."),
            N_("Rating period"),
            clean=service.parse_period,
            choices=_periods,
            columns=3,
            errors=ERRORS,
        ),
        *(
            Field(
                indicator,
                N_("Type its score, a whole number from ۰ to ۱۰۰. A short note may follow the number."),
                LABELS[indicator],
                clean=rating_form.clean_entry,
                skip=N_("Keep this indicator as it is"),
                skip_value=None,
                errors=ERRORS,
            )
            for indicator in INDICATORS
        ),
    ),
    store=rating_form.STORE,
    title=N_("Scores to record"),
    audience="admin",
    submit=rating_form.submit,
    submit_label=N_("Save the scores"),
)


class RatePresenter(Presenter):
    """The scoring form: periods by their names, each indicator with what is recorded now."""

    def choice_label(self, _: Gettext, choice: Choice) -> str:
        return choice.label if choice.plain else period_label(_, choice.key)

    def intro(self, _: Gettext, screen: Screen) -> list[str]:
        if screen.field is None or screen.field.name not in INDICATORS:
            return []
        return [
            f"{esc(screen.extras.get('association', ''))} — {period_label(_, str(screen.value('period')))}",
            _("Indicator: <b>{indicator}</b>").format(indicator=_(LABELS[screen.field.name])),
        ]

    def notes(self, _: Gettext, screen: Screen) -> list[str]:
        now = screen.extras.get(f"now:{screen.field.name}") if screen.field is not None else None
        if not isinstance(now, rating_form.Entry):
            return []
        return [_("Recorded now: {score}").format(score=_entry_text(now))]

    def value(self, _: Gettext, field: Field, value: object, screen: Screen) -> str:
        if field.name == "association":
            return esc(screen.extras.get("association", "—"))
        if field.name == "period":
            return period_label(_, str(value))
        given = rating_form.entry(value)
        return _entry_text(given) if given is not None else _("left as it is")

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        recorded: rating_form.Recorded = result
        text = _("Saved: {count} indicators of {name} for {period}.").format(
            count=fa_digits(len(recorded.indicators)),
            name=esc(recorded.association),
            period=period_label(_, recorded.period),
        )
        rows = [
            [button(_("View the scorecard"), view.SCORECARD(recorded.association_id, recorded.period))],
            [button(_("Main menu"), HOME)],
        ]
        return Reply(text, keyboard(rows))

    def refused(self, _: Gettext, exc: DomainError, actions: Actions) -> Reply:
        if exc.reason == "no_scores":
            return Reply(
                _("Give at least one indicator a score first."),
                keyboard([[button(_("Edit an answer"), actions.data("fields"))]]),
            )
        if isinstance(exc, NotAllowed):
            return Reply(_("Sorry, this is only for the chamber's staff."))
        return Reply(_("That association does not exist (any more)."))


def _entry_text(given: rating_form.Entry) -> str:
    return fa_digits(given.score) + (" — " + esc(given.note) if given.note else "")


SCORING = FormConversation(RATE_FORM, RatePresenter())


@admin_only
async def rate_command(update: Update, context: BotContext) -> object:
    """/rate and the admins' «Score associations»: the scoring form (an unfinished one is taken up)."""
    if context.args and update.effective_message is not None:
        await update.effective_message.reply_text(
            context.gettext("Scores are recorded step by step now: choose the association below.")
        )
    return await SCORING.enter(update, context)


# The scoring form (its entry points: /rate and the admins' menu item), then /ratings; the scorecard
# and ranking buttons are on the rating router.
FEATURE = Feature(
    name="rating",
    handlers=lambda: [SCORING.handler(entry_points=opened_by(rate_command, "rate"))],
    routes=[view.RATING],
    commands=[
        Command("ratings", N_("Association ratings"), listed=False, callback=ranking_entry),
        Command("rate", N_("Score associations"), audience="admin"),
    ],
    menu=[
        MenuItem("rating", N_("Association ratings"), 60, ranking_entry),
        MenuItem(
            "rate", N_("Score associations"), 160, rate_command, starts_conversation=True, audience="admin"
        ),
    ],
)
