"""/stats and the staff menu's «Figures»: the bot's figures (association staff see their own associations)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import BotContext
from bot.formatting import fa_number
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature
from bot.kit.guards import staff_only
from bot.kit.menu import MenuItem
from bot.kit.reply import answer, esc
from bot.services import stats as stats_service

BROADCAST_STATES = {
    "pending": N_("{n} waiting"),
    "running": N_("{n} sending"),
    "paused": N_("{n} paused"),
    "cancelled": N_("{n} cancelled"),
    "done": N_("{n} finished"),
}


def render(_: Gettext, figures: stats_service.Stats, *, chamber_wide: bool) -> str:
    """The figures as Persian text."""
    lines = [_("<b>Figures</b>")]
    if chamber_wide:
        lines.append(
            _("Users: {users} (of whom {blocked} blocked the bot)").format(
                users=fa_number(figures.users), blocked=fa_number(figures.blocked)
            )
        )
    lines.append(_("Members: {members}").format(members=fa_number(figures.members)))
    for name, count in figures.members_by_association:
        lines.append(f"  • {esc(name)}: {fa_number(count)}")
    lines.append(
        _("Applications waiting for a decision: {n}").format(n=fa_number(figures.pending_applications))
    )
    lines.append(
        _("Courses: {upcoming} upcoming, {total} in all").format(
            upcoming=fa_number(figures.upcoming_courses), total=fa_number(figures.courses)
        )
    )
    if figures.broadcasts_by_status:
        parts = [
            _(BROADCAST_STATES[status]).format(n=fa_number(count))
            for status, count in sorted(figures.broadcasts_by_status.items())
            if status in BROADCAST_STATES
        ]
        lines.append(_("Broadcasts: {parts}").format(parts="، ".join(parts)))
    return "\n".join(lines)


@staff_only
async def stats_command(update: Update, context: BotContext) -> None:
    """Show the figures within the staff member's scope."""
    scope = context.staff
    chamber_wide = scope.covers(None)
    async with context.reading() as session:
        figures = await stats_service.collect(session, None if chamber_wide else scope.association_ids)
    await answer(update, render(context.gettext, figures, chamber_wide=chamber_wide))


FEATURE = Feature(
    name="stats",
    handlers=lambda: [CommandHandler("stats", stats_command)],
    commands=[Command("stats", N_("Figures"), audience="staff")],
    menu=[MenuItem("stats", N_("Figures"), 150, stats_command, audience="staff")],
)
