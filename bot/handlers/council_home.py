"""The dialogue council for members: its page, the open issues (most supported first), one issue
with its support button (once per person; the raiser named only with their consent), and the
member's own issues."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot.context import BotContext
from bot.formatting import fa_digits
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature
from bot.kit.guards import public
from bot.kit.markup import button, keyboard
from bot.kit.menu import HOME, MenuItem
from bot.kit.reply import answer, sender
from bot.services import council as service
from bot.services.council import OPEN_STATUSES, IssueView
from bot.services.errors import DomainError, NotFound
from bot.views import council as view

PAGE = 5
SUPPORT_REFUSED = {
    "own": N_("This is your own issue."),
    "already": N_("You already support this issue."),
    "closed": N_("This issue is closed; it can no longer be supported."),
}


def _raise_row(_: Gettext) -> list[Any]:
    return [button(_("✍️ Raise an issue"), view.NEW()), button(_("Main menu"), HOME)]


@public
async def home(update: Update, context: BotContext) -> None:
    """The council's page: what it is, raise an issue, open issues, my issues."""
    _ = context.gettext
    text = "\n".join(
        [
            _("<b>Dialogue council</b>"),
            _(
                "The chamber's dialogue council takes up the problems members face with government bodies "
                "— taxes, customs, banks, permits, insurance — and follows them up."
            ),
            _(
                "Raise a problem, or support one that others raised: the more support, the sooner it is heard."
            ),
        ]
    )
    rows = [
        [button(_("✍️ Raise an issue"), view.NEW())],
        [button(_("📋 Open issues"), view.LIST(0)), button(_("🗂 My issues"), view.MINE())],
        [button(_("Main menu"), HOME)],
    ]
    await answer(update, text, keyboard(rows))


@view.COUNCIL.on(view.LIST)
@public
async def list_pressed(update: Update, context: BotContext, offset: int) -> None:
    """`council:list:<offset>`: open issues, most supported first."""
    _ = context.gettext
    async with context.reading() as session:
        page, total = await service.open_issues(session, offset=offset, limit=PAGE)
    if total == 0:
        text = _("There are no open issues right now.")
    else:
        text = _(
            "<b>Open issues</b> ({total}), most supported first. Open one to read it and support it:"
        ).format(total=fa_digits(total))
    rows = [[button(view.label(_, issue), view.VIEW(issue.id))] for issue, _count in page]
    rows += [view.pager(_, view.LIST, offset, PAGE, total), _raise_row(_)]
    await answer(update, text, keyboard(rows))


def _public_markup(_: Gettext, seen: IssueView) -> InlineKeyboardMarkup:
    issue = seen.issue
    rows = []
    if issue.status in OPEN_STATUSES and not seen.own and not seen.supported:
        count = fa_digits(seen.supporters)
        rows.append(
            [button(_("👍 I have this problem too ({count})").format(count=count), view.SUPPORT(issue.id))]
        )
    if issue.merged_into_id:
        rows.append([button(_("Open the issue it was merged into"), view.VIEW(issue.merged_into_id))])
    rows.append([button(_("Back to the list"), view.LIST(0)), button(_("Main menu"), HOME)])
    return keyboard(rows)


async def _show(
    update: Update, context: BotContext, issue_id: int, note: str = "", seen: IssueView | None = None
) -> None:
    """The issue's page (read now unless the step just loaded it), with a note on top."""
    _ = context.gettext
    try:
        if seen is None:
            seen = await context.read(service.view, issue_id, sender(update))
    except NotFound:
        await answer(
            update, _("That issue was not found."), keyboard([[button(_("Back to the list"), view.LIST(0))]])
        )
        return
    text = view.issue_text(_, seen, context.settings.timezone)
    await answer(update, (f"<i>{note}</i>\n\n" if note else "") + text, _public_markup(_, seen))


@view.COUNCIL.on(view.VIEW)
@public
async def view_pressed(update: Update, context: BotContext, issue_id: int) -> None:
    """`council:view:<id>`."""
    await _show(update, context, issue_id)


@view.COUNCIL.on(view.SUPPORT)
@public
async def support_pressed(update: Update, context: BotContext, issue_id: int) -> None:
    """`council:sup:<id>`: one tap, once per person."""
    _ = context.gettext
    try:
        seen = await context.write(service.support, issue_id, sender(update))
    except DomainError as exc:
        await _show(
            update, context, issue_id, _(SUPPORT_REFUSED.get(exc.reason, N_("That issue was not found.")))
        )
        return
    note = _("Thank you. {count} members now support this issue.").format(count=fa_digits(seen.supporters))
    await _show(update, context, issue_id, note, seen)


@view.COUNCIL.on(view.MINE)
@public
async def mine_pressed(update: Update, context: BotContext) -> None:
    """`council:mine`: the member's own issues and their status."""
    _ = context.gettext
    issues = await context.read(service.mine, sender(update))
    if not issues:
        text = _("You have not raised any issue yet.")
    else:
        text = "\n".join([_("<b>Your issues</b>"), *(view.line(_, i, n) for i, n in issues)])
    rows = [
        [button(f"{view.number(i.id)} {view.topic_label(_, i.topic)}", view.VIEW(i.id))]
        for i, _n in issues[:10]
    ]
    rows.append(_raise_row(_))
    await answer(update, text, keyboard(rows))


FEATURE = Feature(
    name="council",
    routes=[view.COUNCIL],
    commands=[Command("council", N_("Dialogue council"), callback=home)],
    menu=[MenuItem("council", N_("Dialogue council"), 70, home)],
)
