"""Staff review of applications: /review, one application with its documents, approve / reject /
ask for more (a short form: the fields to ask about, then a reason typed or picked from templates).
The applicant is told through the outbox, in the same transaction as the decision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram import Update

from bot.context import BotContext
from bot.formatting import fa_digits, jalali_date
from bot.forms.conversation import FormConversation
from bot.forms.flow import Screen
from bot.forms.render import Actions, Notice, Presenter, Reply
from bot.forms.spec import Choice, Field, staff_form
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature
from bot.kit.guards import staff_only
from bot.kit.markup import button, keyboard, pager
from bot.kit.menu import MenuItem
from bot.kit.refusals import staff_button
from bot.kit.reply import answer, esc
from bot.services import applications, decisions
from bot.services.actor import Actor
from bot.services.applications import APPROVED, FIELDS, MORE_INFO, REJECTED, PendingDecision
from bot.services.errors import DomainError
from bot.views import decisions as told
from bot.views import membership as view

PAGE_SIZE = 5


async def _templates(session: Any, draft: PendingDecision, actor: Actor) -> list[Choice]:
    templates = view.INFO_TEMPLATES if draft.decision == MORE_INFO else view.REJECT_TEMPLATES
    return [Choice(str(index), text) for index, text in enumerate(templates)]


REASON_FORM = staff_form(
    name="rv",
    fields=(
        Field(
            "fields",
            N_("Which answers should the applicant give again? Choose, then press «Next»."),
            kind="multi",
            choices=tuple(Choice(f, view.LABELS[f]) for f in FIELDS if f != "applicant_type"),
            columns=2,
            done=N_("Next"),
            when=lambda draft: draft.decision == MORE_INFO,
            errors={"no_fields": N_("Choose at least one answer first.")},
        ),
        Field(
            "reason",
            N_("Why is it rejected? Pick a reason or type your own."),
            kind="text",
            clean=decisions.clean_reason,
            choices=_templates,
            errors={
                "reason_too_short": N_("Please type a reason of a few words."),
                "reason_too_long": N_("That reason is too long (at most 1,000 letters)."),
            },
        ),
    ),
    store=decisions.PENDING,
    submit=decisions.decide_pending,
)


class ReasonPresenter(Presenter):
    """The reason form reads as one short exchange with the staff member."""

    def question(self, _: Gettext, screen: Screen, actions: Actions) -> Reply:
        reply = super().question(_, screen, actions)
        if screen.field is not None and screen.field.name == "reason" and screen.draft.decision == MORE_INFO:
            text = reply.text.replace(
                _("Why is it rejected? Pick a reason or type your own."),
                _("What should the applicant be told? Pick a message or type your own."),
            )
            return Reply(text, reply.markup)
        return reply

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        return Reply(view.decided_text(_, result))

    def notices(self, _: Gettext, result: Any) -> Sequence[Notice]:
        notice = view.applicant_notice(_, result)
        return [notice] if notice is not None else []

    def refused(self, _: Gettext, exc: DomainError, actions: Actions) -> Reply:
        return Reply(view.refusal(_, exc))

    def discarded(self, _: Gettext) -> Reply:
        return Reply(_("No decision was made."))

    def no_draft(self, _: Gettext) -> Reply:
        return Reply(_("This button is no longer valid. Send /start for the menu."))


REASONS = FormConversation(REASON_FORM, ReasonPresenter())


# ---------------------------------------------------------------------------------------- the queue


async def _list(update: Update, context: BotContext, offset: int) -> None:
    _ = context.gettext
    async with context.reading() as session:
        page = await decisions.pending(session, context.staff, offset, PAGE_SIZE)
        names = await applications.association_names(session)
    if page.total == 0:
        await answer(update, _("No applications are waiting for review."))
        return
    lines = [
        _("<b>Applications waiting for review</b> ({first}–{last} of {total}, oldest first)").format(
            first=fa_digits(page.offset + 1),
            last=fa_digits(page.offset + len(page.items)),
            total=fa_digits(page.total),
        )
    ]
    rows = []
    for item in page.items:
        when = jalali_date(item.submitted_at) if item.submitted_at else "—"
        founding = " " + _("(founding member)") if item.founding else ""
        lines.append(
            f"{view.code_text(item.tracking_code)} — {esc(item.full_name or '—')} — "
            f"{esc(names.get(item.association_id, '—'))}{founding} — {when}"
        )
        rows.append(
            [button(_("Open {code}").format(code=fa_digits(item.tracking_code or "")), view.OPEN(item.id))]
        )
    rows.append(
        pager(
            _,
            following=view.PAGE(page.offset + PAGE_SIZE)
            if page.offset + len(page.items) < page.total
            else None,
            previous=view.PAGE(max(0, page.offset - PAGE_SIZE)) if page.offset > 0 else None,
        )
    )
    await answer(update, "\n".join(lines), keyboard(rows))


@staff_only
async def review_command(update: Update, context: BotContext) -> None:
    """/review: pending applications of the staff member's associations."""
    await _list(update, context, 0)


@view.REVIEW.on(view.PAGE)
@staff_only
async def page_pressed(update: Update, context: BotContext, offset: int) -> None:
    """`review:page:<offset>`."""
    await _list(update, context, offset)


@staff_button(view.REVIEW, view.OPEN, refusal=view.refusal)
async def open_pressed(update: Update, context: BotContext, application_id: int) -> None:
    """`review:open:<id>`: the application, its documents and the decision buttons."""
    _ = context.gettext
    async with context.reading() as session:
        application = await decisions.for_staff(session, context.staff, application_id)
        names = await applications.association_names(session)
        documents = await applications.documents_of(session, application_id)
    markup = view.decision_buttons(_, application.id) if application.status == "submitted" else None
    name = names.get(application.association_id, "—")
    await answer(update, view.staff_text(_, application, name, len(documents)), markup, edit=False)
    chat = update.effective_chat
    for document in documents if chat is not None else []:
        if document.kind == "photo":
            await chat.send_photo(document.file_id)  # type: ignore[union-attr]
        else:
            await chat.send_document(document.file_id)  # type: ignore[union-attr]


@staff_button(view.REVIEW, view.APPROVE, refusal=view.refusal)
async def approve_pressed(update: Update, context: BotContext, application_id: int) -> None:
    """`review:approve:<id>`: decided and the applicant told, in one transaction."""
    _ = context.gettext
    async with context.transaction() as session:
        decided = await decisions.decide(
            session, context.staff, application_id, APPROVED, now=context.bot_data.clock()
        )
        await told.tell(session, _, decided, context.settings.document_key)
    await answer(update, view.decided_text(_, decided))


@view.REVIEW.on(view.REJECT)
@staff_only
async def reject_pressed(update: Update, context: BotContext, application_id: int) -> object:
    """`review:reject:<id>`: pick a reason or type one."""
    return await REASONS.enter(update, context, application_id=application_id, decision=REJECTED)


@view.REVIEW.on(view.ASK_MORE)
@staff_only
async def info_pressed(update: Update, context: BotContext, application_id: int) -> object:
    """`review:info:<id>`: which answers should the applicant give again, then why."""
    return await REASONS.enter(update, context, application_id=application_id, decision=MORE_INFO)


FEATURE = Feature(
    name="review",
    conversations=[REASONS],
    routes=[view.REVIEW],
    commands=[Command("review", N_("Review applications"), audience="staff", callback=review_command)],
    menu=[MenuItem("review", N_("Review applications"), 110, review_command, audience="staff")],
)
