"""/stats and the staff menu's «Figures»: the bot's figures (association staff see their own associations)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telegram import Update

from bot.context import BotContext
from bot.formatting import fa_digits, fa_number, isolate_ltr, jalali_datetime
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


def render_inbox(_: Gettext, figures: Any, parked: list[tuple[int, str, object]]) -> list[str]:
    """The inbox of updates: how many are kept, waiting to be answered, and given up on."""
    lines = [
        "",
        _("<b>Incoming updates</b>"),
        _("Kept: {size}; not answered yet: {waiting}").format(
            size=fa_number(figures.size), waiting=fa_number(figures.unhandled)
        ),
    ]
    oldest = figures.oldest_unhandled
    if oldest is not None:
        seconds = max(0, int((datetime.now(UTC) - oldest).total_seconds()))
        lines.append(
            _("The oldest waiting arrived {seconds} seconds ago.").format(seconds=fa_number(seconds))
        )
    lines.append(_("Given up after repeated errors: {n}").format(n=fa_number(figures.parked)))
    lines += [
        _("Update {id} ({when}): {error}").format(
            id=isolate_ltr(fa_digits(update_id)),
            when=jalali_datetime(when) if isinstance(when, datetime) else "—",
            error=isolate_ltr(esc(error[:200])),
        )
        for update_id, error, when in parked
    ]
    return lines


@staff_only
async def stats_command(update: Update, context: BotContext) -> None:
    """Show the figures within the staff member's scope (the inbox to chamber staff)."""
    _ = context.gettext
    scope = context.staff
    chamber_wide = scope.covers(None)
    figures = await context.read(stats_service.collect, None if chamber_wide else scope.association_ids)
    text = render(_, figures, chamber_wide=chamber_wide)
    inbox = getattr(context.bot_data, "inbox", None)
    if chamber_wide and inbox is not None:
        text += "\n" + "\n".join(render_inbox(_, await inbox.figures(), await inbox.parked()))
    await answer(update, text)


FEATURE = Feature(
    name="stats",
    commands=[Command("stats", N_("Figures"), audience="staff", callback=stats_command)],
    menu=[MenuItem("stats", N_("Figures"), 150, stats_command, audience="staff")],
)
