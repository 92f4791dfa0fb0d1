"""Staff triage of the dialogue council's issues: the list («Council issues» in the staff menu, or
/issues), one issue with its attachment, and what staff do with it — start the review, add it to
the council's agenda, hand it to an association, merge it with another issue, answer it (a one-field
staff form). The member is told of every change through the outbox, in the change's transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.context import BotContext
from bot.formatting import fa_digits
from bot.forms.conversation import FormConversation
from bot.forms.flow import Screen
from bot.forms.render import Actions, Notice, Presenter, Reply
from bot.forms.spec import Field, staff_form
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature
from bot.kit.guards import staff_only
from bot.kit.markup import button, keyboard, to_json
from bot.kit.menu import MenuItem
from bot.kit.reply import answer, esc
from bot.services import council as service
from bot.services import outbox
from bot.services.council import ON_AGENDA, OPEN_STATUSES, RECEIVED, CouncilIssue, IssueView
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.text import truncate
from bot.views import council as view

log = logging.getLogger(__name__)

PAGE = 10
NOT_POSSIBLE = N_("That is not possible in the issue's current state.")


def _open_button(_: Gettext, issue_id: int) -> InlineKeyboardMarkup:
    """Under a notice to the member: their issue's page."""
    return keyboard([[button(_("Open the issue"), view.VIEW(issue_id))]])


def _back(_: Gettext) -> list[Any]:
    return [button(_("Back to the list"), view.ISSUES(0))]


# ---------------------------------------------------------------------------------------- the list


async def _list(update: Update, context: BotContext, offset: int) -> None:
    _ = context.gettext
    async with context.reading() as session:
        page, total = await service.staff_issues(session, context.staff, offset=offset, limit=PAGE)
    if total == 0:
        await answer(update, _("No open issues."))
        return
    lines = [_("<b>Open issues</b> ({total}), most supported first:").format(total=fa_digits(total))]
    lines += [view.line(_, issue, count) for issue, count in page]
    rows = [
        [button(f"{view.number(i.id)} {view.topic_label(_, i.topic)} ({fa_digits(n)})", view.STAFF(i.id))]
        for i, n in page
    ]
    rows.append(view.pager(_, view.ISSUES, offset, PAGE, total))
    await answer(update, "\n".join(lines), keyboard(rows))


@staff_only
async def issues_command(update: Update, context: BotContext) -> None:
    """/issues and «Council issues»: the open issues this staff member may triage."""
    await _list(update, context, 0)


@view.COUNCIL.on(view.ISSUES)
@staff_only
async def issues_pressed(update: Update, context: BotContext, offset: int) -> None:
    """`council:issues:<offset>`."""
    await _list(update, context, offset)


# ---------------------------------------------------------------------------------------- one issue


def staff_markup(_: Gettext, issue: CouncilIssue, chamber: bool) -> InlineKeyboardMarkup:
    """What this staff member can do with the issue, each button saying what it does."""
    rows = []
    if issue.status in OPEN_STATUSES:
        if issue.status == RECEIVED:
            rows.append([button(_("Start the review"), view.REVIEW(issue.id))])
        if chamber and issue.status != ON_AGENDA:
            rows.append([button(_("Add to the council's agenda"), view.AGENDA(issue.id))])
        if chamber:
            rows.append([button(_("Hand over to an association"), view.ASSIGN(issue.id))])
            rows.append([button(_("Merge with another issue"), view.MERGE(issue.id))])
        rows.append([button(_("Answer the issue"), view.REPLY(issue.id))])
    rows.append(_back(_))
    return keyboard(rows)


async def _show(update: Update, context: BotContext, seen: IssueView, note: str = "") -> None:
    _ = context.gettext
    text = (note + "\n\n" if note else "") + view.issue_text(_, seen, context.settings.timezone, staff=True)
    await answer(update, text, staff_markup(_, seen.issue, context.staff.covers(None)))


async def _view(update: Update, context: BotContext, issue_id: int, note: str = "") -> IssueView | None:
    """Read the issue and show it (None: not one this staff member may see)."""
    _ = context.gettext
    try:
        seen = await context.read(service.staff_view, context.staff, issue_id)
    except (NotFound, NotAllowed):
        await answer(update, _("That issue was not found."))
        return None
    await _show(update, context, seen, note)
    return seen


async def _refused(update: Update, context: BotContext, issue_id: int, exc: DomainError) -> None:
    """A refused staff action: who may do it, a missing issue, or the issue shown again with why not."""
    _ = context.gettext
    if isinstance(exc, NotAllowed) and exc.reason == "chamber_only":
        await answer(update, _("Only the chamber's staff can do this."))
    else:
        await _view(update, context, issue_id, _(NOT_POSSIBLE))


@view.COUNCIL.on(view.STAFF)
@staff_only
async def staff_pressed(update: Update, context: BotContext, issue_id: int) -> None:
    """`council:staff:<id>`: the issue with the triage buttons, then its attachment."""
    _ = context.gettext
    seen = await _view(update, context, issue_id)
    if seen is None:
        return
    issue, chat = seen.issue, update.effective_chat
    if not (issue.attachment_kind and issue.attachment_file_id and chat is not None):
        return
    send = chat.send_photo if issue.attachment_kind == "photo" else chat.send_document
    try:
        await send(
            issue.attachment_file_id,
            caption=_("Attachment of issue {number}").format(number=view.number(issue.id)),
        )
    except TelegramError as exc:
        log.warning("attachment of council issue %s: %s", issue.id, exc)


# ---------------------------------------------------------------------------------------- triage

# What the member is told, and the staff member's note: placeholders {number}, {target} (the issue
# merged into), {association} and {status}, filled from the issue after the change.
REVIEWED = (
    N_("Your issue {number} to the dialogue council is now under review."),
    N_("Marked as under review; the member was told."),
)
ON_THE_AGENDA = (
    N_("Your issue {number} is now on the agenda of the dialogue council."),
    N_("Put on the agenda; the member was told."),
)
ASSIGNED = (
    N_("Your issue {number} was handed to {association} to follow up. Status: {status}."),
    N_("Assigned to {association}; the member was told."),
)
MERGED = (
    N_(
        "Your issue {number} raises the same problem as issue {target}, so the two were merged. "
        "You now support {target} and will get its answer."
    ),
    N_("Merged into {target}; the member was told."),
)
Act = Callable[..., Awaitable[CouncilIssue]]  # (session, scope, issue_id, *args): the issue to tell about


async def _triage(
    update: Update, context: BotContext, told: tuple[str, str], act: Act, issue_id: int, *args: int
) -> None:
    """A staff action and the member told of it through the outbox, in one transaction; then the
    issue (or the one it was merged into) with the staff member's note."""
    _ = context.gettext
    try:
        async with context.transaction() as session:
            issue = await act(session, context.staff, issue_id, *args)
            seen = await service.staff_view(session, context.staff, issue.merged_into_id or issue.id)
            values = {
                "number": view.number(issue.id),
                "target": view.number(issue.merged_into_id or issue.id),
                "association": esc(seen.association_name or ""),
                "status": view.status_label(_, issue.status),
            }
            notice, note = (_(text).format(**values) for text in told)
            await outbox.notify(session, [issue.user_id], notice, buttons=to_json(_open_button(_, issue.id)))
    except DomainError as exc:
        await _refused(update, context, issue_id, exc)
        return
    await _show(update, context, seen, note)


@view.COUNCIL.on(view.REVIEW)
@staff_only
async def review_pressed(update: Update, context: BotContext, issue_id: int) -> None:
    """`council:rev:<id>`: received → under review."""
    await _triage(update, context, REVIEWED, service.mark_under_review, issue_id)


@view.COUNCIL.on(view.AGENDA)
@staff_only
async def agenda_pressed(update: Update, context: BotContext, issue_id: int) -> None:
    """`council:agenda:<id>`: on the council's agenda (chamber staff)."""
    await _triage(update, context, ON_THE_AGENDA, service.put_on_agenda, issue_id)


@view.COUNCIL.on(view.ASSIGN_TO)
@staff_only
async def assign_to_pressed(update: Update, context: BotContext, issue_id: int, association_id: int) -> None:
    """`council:to:<id>:<association_id>`: handed to the association (chamber staff)."""
    await _triage(update, context, ASSIGNED, service.assign, issue_id, association_id)


@view.COUNCIL.on(view.MERGE_INTO)
@staff_only
async def merge_into_pressed(update: Update, context: BotContext, issue_id: int, target_id: int) -> None:
    """`council:into:<id>:<target>`: merged (chamber staff); the merged issue's raiser is told."""
    await _triage(update, context, MERGED, service.merge, issue_id, target_id)


PICK_ASSOCIATION = (N_("Which association should follow up issue {number}?"),) * 2
PICK_TARGET = (
    N_("Merge issue {number} into which issue? Its supporters and its raiser will support that one."),
    N_("There is no other open issue to merge into."),
)
Load = Callable[..., Awaitable[Sequence[Any]]]  # (session, scope, issue_id): what can be chosen
Choose = Callable[[Gettext, Any], tuple[str, str]]  # a choice's label and callback data


async def _pick(
    update: Update, context: BotContext, issue_id: int, load: Load, choose: Choose, texts: Sequence[str]
) -> None:
    """What to do the issue with (an association, an issue to merge into), or why not: `texts` are
    the question and what to say when there is nothing to choose."""
    _ = context.gettext
    try:
        found = await context.read(load, context.staff, issue_id)
    except DomainError as exc:
        await _refused(update, context, issue_id, exc)
        return
    rows = [[button(*choose(_, item))] for item in found]
    rows.append([button(_("Back to the issue"), view.STAFF(issue_id))])
    await answer(update, _(texts[0 if found else 1]).format(number=view.number(issue_id)), keyboard(rows))


@view.COUNCIL.on(view.ASSIGN)
@staff_only
async def assign_pressed(update: Update, context: BotContext, issue_id: int) -> None:
    """`council:assign:<id>`: which association follows it up (in Persian alphabetical order)."""
    choose: Choose = lambda _, a: (truncate(a.name, 50), view.ASSIGN_TO(issue_id, a.id))  # noqa: E731
    await _pick(update, context, issue_id, service.assignable, choose, PICK_ASSOCIATION)


@view.COUNCIL.on(view.MERGE)
@staff_only
async def merge_pressed(update: Update, context: BotContext, issue_id: int) -> None:
    """`council:merge:<id>`: pick the issue this one duplicates (same topic and similar text first)."""
    choose: Choose = lambda _, c: (view.label(_, c), view.MERGE_INTO(issue_id, c.id))  # noqa: E731
    await _pick(update, context, issue_id, service.merge_candidates, choose, PICK_TARGET)


# ---------------------------------------------------------------------------------------- answering

ANSWER_FORM = staff_form(
    name="council_answer",
    fields=(
        Field(
            "answer",
            N_("Type the answer to issue {number}. The member and everyone who supports it will get it."),
            clean=service.clean_answer,
            errors={
                "answer_too_short": N_("Please type an answer of a few words."),
                "answer_too_long": N_("That answer is too long (at most 3,000 letters)."),
            },
        ),
    ),
    store=service.ANSWERS,
    submit=service.answer,
)


class AnswerPresenter(Presenter):
    """The answer reads as one short exchange; the raiser and the supporters get it through the outbox."""

    def question(self, _: Gettext, screen: Screen, actions: Actions) -> Reply:
        assert screen.field is not None
        lines = [self.error(_, screen.field, screen.error), ""] if screen.error is not None else []
        lines.append(_(screen.field.question).format(number=view.number(screen.draft.issue_id)))
        return Reply("\n".join(lines), self.question_markup(_, screen, actions))

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        answered: service.Answered = result
        lines = [
            _("Answer saved; the member was told."),
            _("Supporters who will get it too: {count}").format(count=fa_digits(len(answered.supporters))),
        ]
        return Reply("\n".join(lines), keyboard([_back(_)]))

    def notices(self, _: Gettext, result: Any) -> Sequence[Notice]:
        issue = result.issue
        heading = _("The dialogue council answered your issue {number}:").format(number=view.number(issue.id))
        text = "\n".join([heading, "", esc(issue.answer or "")])
        return [Notice([issue.user_id], text, _open_button(_, issue.id))]

    async def queue(self, _: Gettext, session: AsyncSession, result: Any) -> None:
        """Every supporter gets the answer too, paced, once (never naming the raiser)."""
        answered: service.Answered = result
        issue = answered.issue
        heading = _(
            "An issue you supported ({number}, {topic}) was answered by the dialogue council:"
        ).format(number=view.number(issue.id), topic=view.topic_label(_, issue.topic))
        text = "\n".join([heading, "", esc(issue.answer or "")])
        await service.queue_answer_for_supporters(session, answered, text, issue.answered_by or 0)

    def refused(self, _: Gettext, exc: DomainError, actions: Actions) -> Reply:
        if isinstance(exc, (NotFound, NotAllowed)):
            return Reply(_("That issue was not found."))
        return Reply(
            _("That issue can no longer be answered (it was answered or closed)."),
            keyboard([[button(_("Cancel"), actions.data("cancel"))], _back(_)]),
        )

    def discarded(self, _: Gettext) -> Reply:
        return Reply(_("No answer was sent."), keyboard([_back(_)]))


ANSWERS = FormConversation(ANSWER_FORM, AnswerPresenter())


@view.COUNCIL.on(view.REPLY)
@staff_only
async def reply_pressed(update: Update, context: BotContext, issue_id: int) -> object:
    """`council:reply:<id>`: the staff member types the answer next (edits of old messages never count)."""
    return await ANSWERS.enter(update, context, issue_id=issue_id)


FEATURE = Feature(
    name="council_staff",
    conversations=[ANSWERS],
    commands=[Command("issues", N_("Council issues"), audience="staff", callback=issues_command)],
    menu=[MenuItem("council_issues", N_("Council issues"), 150, issues_command, audience="staff")],
)
