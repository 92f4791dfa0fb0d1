"""The dialogue council: members raise issues and support open ones; staff triage and answer them;
a weekly digest of new and most-supported issues goes to staff through the outbox."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotApplication, BotContext
from bot.formatting import fa_digits, isolate_ltr, jalali_date
from bot.handlers.broadcasts import runner_of
from bot.handlers.common import END, advance, answer, button, columns, conversation, esc, keyboard
from bot.handlers.guards import public, staff_only
from bot.handlers.menu import HOME, MenuItem
from bot.i18n import N_, Gettext
from bot.services import council as service
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.text import truncate
from db.models import CouncilIssue
from db.models.council import (
    ANSWERED,
    MERGED,
    ON_AGENDA,
    OPEN_STATUSES,
    RECEIVED,
    TOPICS,
    UNDER_REVIEW,
)

log = logging.getLogger(__name__)

COMMANDS = [("council", N_("Dialogue council")), ("issues", N_("Dialogue council issues (staff)"))]
NAME = "council"
STAFF_NAME = "council_staff"
TOPIC, DESCRIPTION, ATTACHMENT, CONSENT, CONFIRM = (
    "council:topic",
    "council:description",
    "council:attachment",
    "council:consent",
    "council:confirm",
)
ANSWER = "council:answer"
STEP_STATES = {"topic": TOPIC, "description": DESCRIPTION, "attachment": ATTACHMENT, "consent": CONSENT}
PAGE = 5
DIGEST_JOB = "council-digest"
DIGEST_INTERVAL = timedelta(hours=1)

TOPIC_LABELS = {
    "taxes": N_("Taxes"),
    "customs": N_("Customs"),
    "banking": N_("Banking"),
    "permits": N_("Permits and licences"),
    "insurance": N_("Insurance"),
    "other": N_("Other"),
}
STATUS_LABELS = {
    RECEIVED: N_("Received"),
    UNDER_REVIEW: N_("Under review"),
    ON_AGENDA: N_("On the council's agenda"),
    ANSWERED: N_("Answered"),
    MERGED: N_("Merged with another issue"),
}
ERRORS = {
    "description_too_short": N_("Please describe the problem in a sentence or two (at least 15 letters)."),
    "description_too_long": N_("That is too long (at most 2,000 letters). Please shorten it."),
    "answer_too_short": N_("Please type an answer of a few words."),
    "answer_too_long": N_("That answer is too long (at most 3,000 letters)."),
    "attachment_too_big": N_("That file is too big (at most 10 MB)."),
}


def number(issue_id: int) -> str:
    """An issue's number as shown: #۱۲."""
    return isolate_ltr("#" + fa_digits(issue_id))


def topic_label(_: Gettext, topic: str | None) -> str:
    """The topic in Persian."""
    return _(TOPIC_LABELS.get(topic or "other", TOPIC_LABELS["other"]))


def status_label(_: Gettext, status: str) -> str:
    """The status in Persian."""
    return _(STATUS_LABELS.get(status, STATUS_LABELS[RECEIVED]))


def _id(update: Update, position: int = 2) -> int:
    data = update.callback_query.data if update.callback_query is not None else None
    parts = (data or "").split(":")
    return int(parts[position]) if len(parts) > position and parts[position].isdecimal() else 0


async def notify(context: BotContext, user_id: int, text: str) -> bool:
    """A one-off message to a member; a blocked or failing chat is logged, not raised."""
    try:
        await context.bot.send_message(user_id, text, parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        log.warning("council notice to %s not delivered: %s", user_id, exc)
        return False
    return True


# ---------------------------------------------------------------------------------------- home


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
    markup = keyboard(
        [
            [button(_("✍️ Raise an issue"), "council:new")],
            [button(_("📋 Open issues"), "council:list:0"), button(_("🗂 My issues"), "council:mine")],
            [button(_("Main menu"), HOME)],
        ]
    )
    await answer(update, text, markup)


# ---------------------------------------------------------------------------------------- raising


async def ask(update: Update, context: BotContext, step: str | None, issue: CouncilIssue) -> str:
    """Ask the question for `step` (None: show the summary)."""
    _ = context.gettext
    if step == "topic":
        buttons = [button(topic_label(_, t), f"council:topic:{t}") for t in TOPICS]
        await answer(update, _("What is the problem about? Choose a topic:"), keyboard(columns(buttons, 2)))
        return TOPIC
    if step == "description":
        await answer(
            update,
            _("Describe the problem: what happened, with which office, and what you would like done."),
            edit=False,
        )
        return DESCRIPTION
    if step == "attachment":
        await answer(
            update,
            _(
                "If you have a document (a letter, a notice, a receipt), send a photo or PDF of it. Otherwise press «No attachment»."
            ),
            keyboard([[button(_("No attachment"), "council:noatt")]]),
            edit=False,
        )
        return ATTACHMENT
    if step == "consent":
        await answer(
            update,
            _(
                "May other members see your name with this issue? Staff of the chamber always see who raised "
                "it; other members see your name only if you agree."
            ),
            keyboard(
                [
                    [button(_("Yes, show my name"), "council:name:yes")],
                    [button(_("No, keep me anonymous"), "council:name:no")],
                ]
            ),
            edit=False,
        )
        return CONSENT
    return await summary(update, context, issue)


async def summary(update: Update, context: BotContext, issue: CouncilIssue) -> str:
    """The draft as it will be sent, with Send and Discard."""
    _ = context.gettext
    lines = [
        _("<b>Your issue — please check it</b>"),
        _("Topic: {topic}").format(topic=topic_label(_, issue.topic)),
        _("Description: {text}").format(text=esc(truncate(issue.description or "", 1500))),
        _("Attachment: {value}").format(value=_("yes") if issue.attachment_kind else _("none")),
        _("Your name shown to other members: {value}").format(value=_("yes") if issue.show_name else _("no")),
    ]
    markup = keyboard(
        [[button(_("Send to the council"), "council:send"), button(_("Discard"), "council:discard")]]
    )
    await answer(update, "\n".join(lines), markup)
    return CONFIRM


@public
async def new_issue(update: Update, context: BotContext) -> str:
    """Entry: start a draft (or resume the one left) at its first missing step."""
    user = update.effective_user
    assert user is not None
    async with context.session() as session, session.begin():
        issue = await service.start(session, user.id)
        step = service.next_step(issue)
        await advance(session, update, NAME, STEP_STATES.get(step or "", CONFIRM))
    return await ask(update, context, step, issue)


async def _step(update: Update, context: BotContext, save: Any, state: str) -> str | int:
    """Save one answer with `save(session)`, record the next state, ask the next question."""
    _ = context.gettext
    try:
        async with context.session() as session, session.begin():
            issue = await save(session)
            step = service.next_step(issue)
            await advance(session, update, NAME, STEP_STATES.get(step or "", CONFIRM))
    except NotFound:
        await answer(update, _("This form is no longer open. Press «Raise an issue» to start again."))
        return END
    except DomainError as exc:
        await answer(update, _(ERRORS.get(exc.reason, ERRORS["description_too_short"])))
        return state
    return await ask(update, context, step, issue)


@public
async def topic_pressed(update: Update, context: BotContext) -> str | int:
    """`council:topic:<topic>`."""
    user = update.effective_user
    data = update.callback_query.data if update.callback_query is not None else None
    assert user is not None
    topic = (data or "").rsplit(":", 1)[-1]
    return await _step(update, context, lambda s: service.set_topic(s, user.id, topic), TOPIC)


@public
async def description_typed(update: Update, context: BotContext) -> str | int:
    """The description."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None and message.text is not None
    text = message.text
    return await _step(update, context, lambda s: service.set_description(s, user.id, text), DESCRIPTION)


@public
async def attachment_sent(update: Update, context: BotContext) -> str | int:
    """A photo or a PDF."""
    _ = context.gettext
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    if message.photo:
        photo = message.photo[-1]
        kind, file_id, size = "photo", photo.file_id, photo.file_size
    elif message.document is not None and (message.document.mime_type or "") == "application/pdf":
        kind, file_id, size = "document", message.document.file_id, message.document.file_size
    else:
        await answer(
            update, _("Only a photo or a PDF file can be attached. Send one, or press «No attachment».")
        )
        return ATTACHMENT
    return await _step(
        update, context, lambda s: service.set_attachment(s, user.id, kind, file_id, size), ATTACHMENT
    )


@public
async def no_attachment(update: Update, context: BotContext) -> str | int:
    """`council:noatt`."""
    user = update.effective_user
    assert user is not None
    return await _step(update, context, lambda s: service.set_attachment(s, user.id, None, None), ATTACHMENT)


@public
async def consent_pressed(update: Update, context: BotContext) -> str | int:
    """`council:name:yes|no`."""
    user = update.effective_user
    data = update.callback_query.data if update.callback_query is not None else None
    assert user is not None
    show = (data or "").endswith(":yes")
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return await _step(update, context, lambda s: service.set_consent(s, user.id, show, name), CONSENT)


@public
async def send_pressed(update: Update, context: BotContext) -> int | str:
    """`council:send`: the issue goes to the council."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    try:
        async with context.session() as session, session.begin():
            issue = await service.submit(session, user.id)
    except DomainError as exc:
        if exc.reason == "incomplete":
            return await new_issue(update, context)
        await answer(update, _("This form is no longer open. Press «Raise an issue» to start again."))
        return END
    text = "\n".join(
        [
            _("Your issue was received. Its number is {number}.").format(number=number(issue.id)),
            _("You will be told here at each step: under review, on the council's agenda, answered."),
        ]
    )
    await answer(
        update, text, keyboard([[button(_("🗂 My issues"), "council:mine"), button(_("Main menu"), HOME)]])
    )
    return END


@public
async def discard_pressed(update: Update, context: BotContext) -> int:
    """`council:discard`: drop the draft."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    async with context.session() as session, session.begin():
        draft = await service.draft_of(session, user.id)
        if draft is not None:
            await session.delete(draft)
    await answer(update, _("Discarded. Nothing was sent."), keyboard([[button(_("Main menu"), HOME)]]))
    return END


@public
async def wrong_kind(update: Update, context: BotContext) -> None:
    """Something the current step cannot take."""
    _ = context.gettext
    await answer(update, _("Please answer the question above, use its buttons, or send /cancel to stop."))


# ---------------------------------------------------------------------------------------- reading


def _line(_: Gettext, issue: CouncilIssue, supporters: int) -> str:
    return _("{number} {topic} — {supporters} supporters — {status}").format(
        number=number(issue.id),
        topic=topic_label(_, issue.topic),
        supporters=fa_digits(supporters),
        status=status_label(_, issue.status),
    )


@public
async def list_pressed(update: Update, context: BotContext) -> None:
    """`council:list:<offset>`: open issues, most supported first."""
    _ = context.gettext
    offset = _id(update)
    async with context.session() as session:
        page, total = await service.open_issues(session, offset=offset, limit=PAGE)
    if total == 0:
        text = _("There are no open issues right now.")
    else:
        text = _(
            "<b>Open issues</b> ({total}), most supported first. Open one to read it and support it:"
        ).format(total=fa_digits(total))
    rows: list[list[InlineKeyboardButton]] = [
        [
            button(
                truncate(f"{number(i.id)} {topic_label(_, i.topic)}: {i.description or ''}", 60),
                f"council:view:{i.id}",
            )
        ]
        for i, _count in page
    ]
    navigation = []
    if offset > 0:
        navigation.append(button(_("« Previous"), f"council:list:{max(0, offset - PAGE)}"))
    if offset + PAGE < total:
        navigation.append(button(_("Next »"), f"council:list:{offset + PAGE}"))
    rows += [navigation, [button(_("✍️ Raise an issue"), "council:new"), button(_("Main menu"), HOME)]]
    await answer(update, text, keyboard(rows))


def public_text(_: Gettext, seen: service.IssueView, tz: str) -> str:
    """An issue as any member sees it: the raiser's name only with their consent."""
    issue = seen.issue
    raiser = esc(seen.public_name()) if seen.public_name() else _("a member (name not shown)")
    lines = [
        _("<b>Issue {number}</b> — {topic}").format(
            number=number(issue.id), topic=topic_label(_, issue.topic)
        ),
        _("Status: {status}").format(status=status_label(_, issue.status)),
        _("Raised by: {name}").format(name=raiser),
    ]
    if issue.submitted_at is not None:
        lines.append(_("Date: {date}").format(date=jalali_date(issue.submitted_at, tz)))
    if seen.association_name:
        lines.append(_("Followed up by: {association}").format(association=esc(seen.association_name)))
    lines += ["", esc(truncate(issue.description or "", 1500)), ""]
    lines.append(_("Supporters: {count}").format(count=fa_digits(seen.supporters)))
    if issue.status == ANSWERED and issue.answer:
        lines += ["", _("<b>The council's answer</b>"), esc(issue.answer)]
    if seen.own:
        lines.append(_("You raised this issue."))
    elif seen.supported:
        lines.append(_("You support this issue."))
    return "\n".join(lines)


def _public_markup(_: Gettext, seen: service.IssueView) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    if seen.issue.status in OPEN_STATUSES and not seen.own and not seen.supported:
        rows.append(
            [
                button(
                    _("👍 I have this problem too ({count})").format(count=fa_digits(seen.supporters)),
                    f"council:sup:{seen.issue.id}",
                )
            ]
        )
    if seen.issue.merged_into_id:
        rows.append(
            [button(_("Open the issue it was merged into"), f"council:view:{seen.issue.merged_into_id}")]
        )
    rows.append([button(_("« Open issues"), "council:list:0"), button(_("Main menu"), HOME)])
    return keyboard(rows)


async def _show_issue(update: Update, context: BotContext, issue_id: int, note: str = "") -> None:
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    try:
        async with context.session() as session:
            seen = await service.view(session, issue_id, user.id)
    except NotFound:
        await answer(
            update, _("That issue was not found."), keyboard([[button(_("« Open issues"), "council:list:0")]])
        )
        return
    text = public_text(_, seen, context.settings.timezone)
    await answer(update, (f"<i>{note}</i>\n\n" if note else "") + text, _public_markup(_, seen))


@public
async def view_pressed(update: Update, context: BotContext) -> None:
    """`council:view:<id>`."""
    await _show_issue(update, context, _id(update))


@public
async def support_pressed(update: Update, context: BotContext) -> None:
    """`council:sup:<id>`: one tap, once per person."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    issue_id = _id(update)
    notes = {
        "own": _("This is your own issue."),
        "already": _("You already support this issue."),
        "closed": _("This issue is closed; it can no longer be supported."),
        "issue": _("That issue was not found."),
    }
    try:
        async with context.session() as session, session.begin():
            count = await service.support(session, issue_id, user.id)
    except DomainError as exc:
        note = notes.get(exc.reason, notes["issue"])
    else:
        note = _("Thank you. {count} members now support this issue.").format(count=fa_digits(count))
    await _show_issue(update, context, issue_id, note)


@public
async def mine_pressed(update: Update, context: BotContext) -> None:
    """`council:mine` and the list of the member's own issues."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    async with context.session() as session:
        issues = await service.mine(session, user.id)
    if not issues:
        text = _("You have not raised any issue yet.")
    else:
        text = "\n".join([_("<b>Your issues</b>"), *(_line(_, i, n) for i, n in issues)])
    rows = [
        [button(f"{number(i.id)} {topic_label(_, i.topic)}", f"council:view:{i.id}")] for i, _n in issues[:10]
    ]
    rows.append([button(_("✍️ Raise an issue"), "council:new"), button(_("Main menu"), HOME)])
    await answer(update, text, keyboard(rows))


# ---------------------------------------------------------------------------------------- staff


def staff_text(_: Gettext, seen: service.IssueView, tz: str) -> str:
    """The issue for staff: who raised it (always), and whether they may be named to others."""
    issue = seen.issue
    consent = _("may be shown") if issue.show_name else _("anonymous to other members")
    lines = [
        public_text(_, seen, tz).split("\n", 1)[0],
        _("Status: {status}").format(status=status_label(_, issue.status)),
        _("Raised by: {name} ({id}); name {consent}").format(
            name=esc(issue.raiser_name or "—"), id=isolate_ltr(fa_digits(issue.user_id)), consent=consent
        ),
        _("Supporters: {count}").format(count=fa_digits(seen.supporters)),
    ]
    if seen.association_name:
        lines.append(_("Followed up by: {association}").format(association=esc(seen.association_name)))
    lines += ["", esc(truncate(issue.description or "", 2500))]
    if issue.answer:
        lines += ["", _("<b>Answer</b>"), esc(issue.answer)]
    return "\n".join(lines)


def _staff_markup(_: Gettext, issue: CouncilIssue, chamber: bool) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    iid = issue.id
    if issue.status in OPEN_STATUSES:
        first = []
        if issue.status == RECEIVED:
            first.append(button(_("Under review"), f"council:rev:{iid}"))
        if chamber and issue.status != ON_AGENDA:
            first.append(button(_("Put on the agenda"), f"council:agenda:{iid}"))
        rows.append(first)
        if chamber:
            rows.append(
                [
                    button(_("Assign to an association"), f"council:assign:{iid}"),
                    button(_("Merge into…"), f"council:merge:{iid}"),
                ]
            )
        rows.append([button(_("✉️ Reply"), f"council:reply:{iid}")])
    rows.append([button(_("« Issues"), "council:issues:0")])
    return keyboard(rows)


async def _staff_view(update: Update, context: BotContext, issue_id: int, note: str = "") -> None:
    _ = context.gettext
    try:
        async with context.session() as session:
            await service.for_staff(session, context.staff, issue_id)
            seen = await service.view(session, issue_id, context.staff.user_id)
    except (NotFound, NotAllowed):
        await answer(update, _("That issue was not found."))
        return
    text = (note + "\n\n" if note else "") + staff_text(_, seen, context.settings.timezone)
    await answer(update, text, _staff_markup(_, seen.issue, context.staff.covers(None)))
    issue = seen.issue
    if not note and issue.attachment_kind and issue.attachment_file_id and update.effective_chat is not None:
        caption = _("Attachment of issue {number}").format(number=number(issue.id))
        try:
            if issue.attachment_kind == "photo":
                await update.effective_chat.send_photo(issue.attachment_file_id, caption=caption)
            else:
                await update.effective_chat.send_document(issue.attachment_file_id, caption=caption)
        except TelegramError as exc:
            log.warning("attachment of council issue %s: %s", issue.id, exc)


async def _staff_list(update: Update, context: BotContext, offset: int) -> None:
    _ = context.gettext
    scope = context.staff
    association_ids = None if scope.covers(None) else scope.association_ids
    async with context.session() as session:
        page, total = await service.open_issues(
            session, offset=offset, limit=PAGE * 2, association_ids=association_ids
        )
    if total == 0:
        await answer(update, _("No open issues."))
        return
    lines = [_("<b>Open issues</b> ({total}), most supported first:").format(total=fa_digits(total))]
    lines += [_line(_, i, n) for i, n in page]
    rows: list[list[InlineKeyboardButton]] = [
        [button(f"{number(i.id)} {topic_label(_, i.topic)} ({fa_digits(n)})", f"council:staff:{i.id}")]
        for i, n in page
    ]
    navigation = []
    if offset > 0:
        navigation.append(button(_("« Previous"), f"council:issues:{max(0, offset - PAGE * 2)}"))
    if offset + PAGE * 2 < total:
        navigation.append(button(_("Next »"), f"council:issues:{offset + PAGE * 2}"))
    rows.append(navigation)
    await answer(update, "\n".join(lines), keyboard(rows))


@staff_only
async def issues_command(update: Update, context: BotContext) -> None:
    """/issues: the open issues this staff member may triage."""
    await _staff_list(update, context, 0)


@staff_only
async def issues_pressed(update: Update, context: BotContext) -> None:
    """`council:issues:<offset>`."""
    await _staff_list(update, context, _id(update))


@staff_only
async def staff_pressed(update: Update, context: BotContext) -> None:
    """`council:staff:<id>`: the staff view with the triage buttons."""
    await _staff_view(update, context, _id(update))


async def _transition(update: Update, context: BotContext, action: Any, tell: Any) -> None:
    """Run a staff action on the issue, tell the raiser in Persian, show the issue again."""
    _ = context.gettext
    issue_id = _id(update)
    try:
        async with context.session() as session, session.begin():
            issue = await action(session)
            message, note = await tell(session, issue)
    except (NotFound, NotAllowed) as exc:
        if isinstance(exc, NotAllowed) and exc.reason == "chamber_only":
            await answer(update, _("Only the chamber's staff can do this."))
        else:
            await answer(update, _("That issue was not found."))
        return
    except DomainError:
        await _staff_view(update, context, issue_id, _("That is not possible in the issue's current state."))
        return
    sent = await notify(context, issue.user_id, message) if message else True
    if not sent:
        note += "\n" + _("The member could not be reached (they may have blocked the bot).")
    await _staff_view(update, context, issue_id, note)


@staff_only
async def review_pressed(update: Update, context: BotContext) -> None:
    """`council:rev:<id>`: received → under review."""
    _ = context.gettext
    issue_id = _id(update)

    async def tell(session: Any, issue: CouncilIssue) -> tuple[str, str]:
        return (
            _("Your issue {number} to the dialogue council is now under review.").format(
                number=number(issue.id)
            ),
            _("Marked as under review; the member was told."),
        )

    await _transition(update, context, lambda s: service.mark_under_review(s, context.staff, issue_id), tell)


@staff_only
async def agenda_pressed(update: Update, context: BotContext) -> None:
    """`council:agenda:<id>`: on the council's agenda."""
    _ = context.gettext
    issue_id = _id(update)

    async def tell(session: Any, issue: CouncilIssue) -> tuple[str, str]:
        return (
            _("Your issue {number} is now on the agenda of the dialogue council.").format(
                number=number(issue.id)
            ),
            _("Put on the agenda; the member was told."),
        )

    await _transition(update, context, lambda s: service.put_on_agenda(s, context.staff, issue_id), tell)


@staff_only
async def assign_pressed(update: Update, context: BotContext) -> None:
    """`council:assign:<id>`: choose the association."""
    _ = context.gettext
    issue_id = _id(update)
    if not context.staff.covers(None):
        await answer(update, _("Only the chamber's staff can do this."))
        return
    async with context.session() as session:
        found = await service.associations(session)
    rows = [[button(truncate(a.name, 50), f"council:to:{issue_id}:{a.id}")] for a in found]
    rows.append([button(_("« Back"), f"council:staff:{issue_id}")])
    await answer(
        update,
        _("Which association should follow up issue {number}?").format(number=number(issue_id)),
        keyboard(rows),
    )


@staff_only
async def assign_to_pressed(update: Update, context: BotContext) -> None:
    """`council:to:<id>:<association_id>`."""
    _ = context.gettext
    issue_id, association_id = _id(update), _id(update, 3)

    async def tell(session: Any, issue: CouncilIssue) -> tuple[str, str]:
        seen = await service.view(session, issue.id, 0)
        name = esc(seen.association_name or "")
        return (
            _("Your issue {number} was handed to {association} to follow up. Status: under review.").format(
                number=number(issue.id), association=name
            ),
            _("Assigned to {association}; the member was told.").format(association=name),
        )

    await _transition(
        update, context, lambda s: service.assign(s, context.staff, issue_id, association_id), tell
    )


@staff_only
async def merge_pressed(update: Update, context: BotContext) -> None:
    """`council:merge:<id>`: pick the issue this one duplicates (similar ones first)."""
    _ = context.gettext
    issue_id = _id(update)
    if not context.staff.covers(None):
        await answer(update, _("Only the chamber's staff can do this."))
        return
    try:
        async with context.session() as session:
            candidates = await service.merge_candidates(session, context.staff, issue_id)
    except (NotFound, NotAllowed):
        await answer(update, _("That issue was not found."))
        return
    rows = [
        [
            button(
                truncate(f"{number(c.id)} {topic_label(_, c.topic)}: {c.description or ''}", 60),
                f"council:into:{issue_id}:{c.id}",
            )
        ]
        for c in candidates
    ]
    rows.append([button(_("« Back"), f"council:staff:{issue_id}")])
    text = _(
        "Merge issue {number} into which issue? Its supporters and its raiser will support that one."
    ).format(number=number(issue_id))
    if not candidates:
        text = _("There is no other open issue to merge into.")
    await answer(update, text, keyboard(rows))


@staff_only
async def merge_into_pressed(update: Update, context: BotContext) -> None:
    """`council:into:<id>:<target>`: merge; the merged issue's raiser is told."""
    _ = context.gettext
    issue_id, target_id = _id(update), _id(update, 3)

    try:
        async with context.session() as session, session.begin():
            raiser = (await service.for_staff(session, context.staff, issue_id)).user_id
            await service.merge(session, context.staff, issue_id, target_id)
    except (NotFound, NotAllowed):
        await answer(update, _("That issue was not found."))
        return
    except DomainError:
        await _staff_view(update, context, issue_id, _("That is not possible in the issue's current state."))
        return
    message = _(
        "Your issue {number} raises the same problem as issue {target}, so the two were merged. "
        "You now support {target} and will get its answer."
    ).format(number=number(issue_id), target=number(target_id))
    note = _("Merged into {target}; the member was told.").format(target=number(target_id))
    if not await notify(context, raiser, message):
        note += "\n" + _("The member could not be reached (they may have blocked the bot).")
    await _staff_view(update, context, target_id, note)


@staff_only
async def reply_pressed(update: Update, context: BotContext) -> str | int:
    """`council:reply:<id>`: the staff member types the answer next."""
    _ = context.gettext
    issue_id = _id(update)
    try:
        async with context.session() as session, session.begin():
            await service.start_answer(session, context.staff, issue_id)
            await advance(session, update, STAFF_NAME, ANSWER)
    except (NotFound, NotAllowed):
        await answer(update, _("That issue was not found."))
        return END
    except DomainError:
        await _staff_view(update, context, issue_id, _("That is not possible in the issue's current state."))
        return END
    await answer(
        update,
        _("Type the answer to issue {number}. The member and everyone who supports it will get it.").format(
            number=number(issue_id)
        ),
        keyboard([[button(_("Cancel"), "council:noreply")]]),
        edit=False,
    )
    return ANSWER


@staff_only
async def answer_typed(update: Update, context: BotContext) -> str | int:
    """The answer: the issue is answered; the raiser gets it now, supporters through the outbox."""
    _ = context.gettext
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        async with context.session() as session, session.begin():
            issue = await service.answer(session, context.staff, message.text)
            seen = await service.view(session, issue.id, 0)
            supporters_text = "\n".join(
                [
                    _(
                        "An issue you supported ({number}, {topic}) was answered by the dialogue council:"
                    ).format(number=number(issue.id), topic=topic_label(_, issue.topic)),
                    "",
                    esc(issue.answer or ""),
                ]
            )
            queued = await service.queue_answer_for_supporters(
                session, issue, supporters_text, context.staff.user_id
            )
    except DomainError as exc:
        if exc.reason in ERRORS:
            await message.reply_text(_(ERRORS[exc.reason]))
            return ANSWER
        await message.reply_text(_("That issue can no longer be answered (it was answered or closed)."))
        return END
    raiser_text = "\n".join(
        [
            _("The dialogue council answered your issue {number}:").format(number=number(issue.id)),
            "",
            esc(issue.answer or ""),
        ]
    )
    sent = await notify(context, issue.user_id, raiser_text)
    if queued is not None:
        runner_of(context.application).wake()
    lines = [
        _("Answer saved; the member was told.")
        if sent
        else _("Answer saved, but the member could not be reached.")
    ]
    lines.append(_("Supporters who will get it too: {count}").format(count=fa_digits(seen.supporters)))
    await message.reply_text(
        "\n".join(lines), reply_markup=keyboard([[button(_("« Issues"), "council:issues:0")]])
    )
    return END


@staff_only
async def no_reply_pressed(update: Update, context: BotContext) -> int:
    """`council:noreply`."""
    _ = context.gettext
    async with context.session() as session, session.begin():
        await service.drop_answer(session, context.staff.user_id)
    await answer(update, _("No answer was sent."))
    return END


# ---------------------------------------------------------------------------------------- digest


def render_digest(_: Gettext, digest: service.Digest, tz: str) -> str:
    """The weekly digest for staff."""
    start, end = service.week_bounds(digest.year, digest.week, tz)
    lines = [
        _("<b>Dialogue council — weekly digest</b>"),
        _("From {start} to {end}").format(
            start=jalali_date(start, tz), end=jalali_date(end - timedelta(seconds=1), tz)
        ),
        "",
        _("<b>New issues this week: {count}</b>").format(count=fa_digits(digest.new_total)),
    ]
    lines += ["• " + esc_line(_, i, n) for i, n in digest.new]
    if digest.new_total > len(digest.new):
        lines.append(_("…and {count} more").format(count=fa_digits(digest.new_total - len(digest.new))))
    lines += [
        "",
        _("<b>Most supported open issues</b> (of {count} open)").format(count=fa_digits(digest.open_total)),
    ]
    lines += ["• " + esc_line(_, i, n) for i, n in digest.top]
    if not digest.top:
        lines.append(_("No open issues."))
    lines += ["", _("Send /issues to triage them.")]
    return "\n".join(lines)


def esc_line(_: Gettext, issue: CouncilIssue, supporters: int) -> str:
    """One issue in the digest: number, topic, support, status and the start of its text."""
    return _line(_, issue, supporters) + ": " + esc(truncate(issue.description or "", 80))


async def queue_digest(context: BotContext) -> None:
    """The repeating job: queue last week's digest once (the dedupe key makes repeats no-ops)."""
    _ = context.gettext
    tz = context.settings.timezone
    async with context.session() as session, session.begin():
        created = await service.queue_digest(
            session, lambda digest: render_digest(_, digest, tz), context.settings.admin_ids, tz
        )
    if created is not None:
        log.info("Queued the council digest %s", created.dedupe_key)
        runner_of(context.application).wake()


def schedule(application: BotApplication) -> None:
    """Check every hour whether last week's digest is queued (it reads the database: restarts lose nothing)."""
    if application.job_queue is None:
        return
    application.job_queue.run_repeating(
        queue_digest, interval=DIGEST_INTERVAL, first=timedelta(seconds=30), name=DIGEST_JOB
    )


# ---------------------------------------------------------------------------------------- wiring


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The raise form, the staff answer step, and the council's buttons and commands."""
    other = MessageHandler(~filters.COMMAND & ~filters.UpdateType.EDITED, wrong_kind)
    text = (
        filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED
    )  # an edit of an old message is no answer
    return [
        conversation(
            STAFF_NAME,
            entry_points=[CallbackQueryHandler(reply_pressed, pattern=r"^council:reply:\d+$")],
            states={ANSWER: [MessageHandler(text, answer_typed)]},
            fallbacks=[CallbackQueryHandler(no_reply_pressed, pattern="^council:noreply$")],
        ),
        conversation(
            NAME,
            entry_points=[CallbackQueryHandler(new_issue, pattern="^council:new$")],
            states={
                TOPIC: [CallbackQueryHandler(topic_pressed, pattern=r"^council:topic:\w+$"), other],
                DESCRIPTION: [MessageHandler(text, description_typed), other],
                ATTACHMENT: [
                    MessageHandler(filters.PHOTO | filters.Document.ALL, attachment_sent),
                    CallbackQueryHandler(no_attachment, pattern="^council:noatt$"),
                    other,
                ],
                CONSENT: [CallbackQueryHandler(consent_pressed, pattern=r"^council:name:(yes|no)$"), other],
                CONFIRM: [
                    CallbackQueryHandler(send_pressed, pattern="^council:send$"),
                    CallbackQueryHandler(discard_pressed, pattern="^council:discard$"),
                    other,
                ],
            },
        ),
        CommandHandler("council", home),
        CommandHandler("issues", issues_command),
        CallbackQueryHandler(list_pressed, pattern=r"^council:list:\d+$"),
        CallbackQueryHandler(view_pressed, pattern=r"^council:view:\d+$"),
        CallbackQueryHandler(support_pressed, pattern=r"^council:sup:\d+$"),
        CallbackQueryHandler(mine_pressed, pattern="^council:mine$"),
        CallbackQueryHandler(issues_pressed, pattern=r"^council:issues:\d+$"),
        CallbackQueryHandler(staff_pressed, pattern=r"^council:staff:\d+$"),
        CallbackQueryHandler(review_pressed, pattern=r"^council:rev:\d+$"),
        CallbackQueryHandler(agenda_pressed, pattern=r"^council:agenda:\d+$"),
        CallbackQueryHandler(assign_pressed, pattern=r"^council:assign:\d+$"),
        CallbackQueryHandler(assign_to_pressed, pattern=r"^council:to:\d+:\d+$"),
        CallbackQueryHandler(merge_pressed, pattern=r"^council:merge:\d+$"),
        CallbackQueryHandler(merge_into_pressed, pattern=r"^council:into:\d+:\d+$"),
    ]


MENU = [MenuItem("council", N_("Dialogue council"), 70, home)]
