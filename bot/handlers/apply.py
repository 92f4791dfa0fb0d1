"""The membership form: every answer goes to the application's draft row at once, so leaving,
/cancel or a restart resumes at the same question. Entry: the menu, an association card, a deep
link, «My requests». An association being formed takes founding-member applications the same way."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, Update

from bot.context import BotContext
from bot.formatting import fa_digits, isolate_ltr, jalali_date
from bot.forms.conversation import FormConversation
from bot.forms.flow import Screen
from bot.forms.render import Actions, Notice, Presenter, Reply
from bot.forms.spec import Choice, Field, Form
from bot.handlers.person import CITY, FULL_NAME, MOBILE, NATIONAL_ID
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature, opened_by, start_link
from bot.kit.guards import public
from bot.kit.markup import Markup, button, keyboard
from bot.kit.menu import HOME, MenuItem
from bot.kit.reply import answer, esc, sender
from bot.services import application_form as rules
from bot.services import applications, eligibility
from bot.services.applications import APPLICANT_TYPES, EDUCATION_LEVELS, HOME_BUSINESS
from bot.services.errors import DomainError
from bot.views import membership as view

DOCUMENT_TYPE_ERROR = N_(
    "Only a photo, or a PDF / JPEG / PNG file, can be accepted. Please send the licence or permit again."
)
FIELDS = (
    Field(
        "applicant_type",
        N_("Are you applying as a business owner or as a home business?"),
        view.LABELS["applicant_type"],
        kind="choice",
        choices=tuple(Choice(key, view.TYPES[key]) for key in APPLICANT_TYPES),
    ),
    FULL_NAME,
    NATIONAL_ID,
    MOBILE,
    Field(
        "business_name",
        N_("What is the name of your business? (For a home business, the name you sell under.)"),
        view.LABELS["business_name"],
        clean=rules.clean_business_name,
        errors={
            "business_name_too_short": N_("That business name is too short. Please type it again."),
            "business_name_too_long": N_("That business name is too long (at most 100 letters)."),
            "business_name_no_letters": N_("A business name needs some letters. Please type it again."),
        },
    ),
    Field(
        "activity",
        N_("What does your business do? (e.g. handmade carpets, pistachio packaging)"),
        view.LABELS["activity"],
        clean=rules.clean_activity,
        errors={
            "activity_too_short": N_("Please describe your activity in a few words."),
            "activity_too_long": N_(
                "That is too long (at most 200 letters). Please describe it more briefly."
            ),
            "activity_no_letters": N_("Please describe your activity in words."),
        },
    ),
    CITY,
    Field(
        "experience_years",
        N_("How many years of work experience do you have in this field? Type a whole number (0 is fine)."),
        view.LABELS["experience_years"],
        clean=rules.clean_years,
        errors={
            "years_not_number": N_(
                "Please type the number of years as a number, e.g. ۳ (or 0 if you are just starting)."
            ),
            "years_decimal": N_(
                "Please type whole years, without a decimal point: for example, for one and a half years type {whole}."
            ),
            "years_range": N_("Please type one number of years, not a range: for example ۴."),
            "years_too_big": N_("That is more years than seems possible. Please type it again."),
        },
    ),
    Field(
        "education",
        N_(
            "What is your education? A university degree is not required: every answer is accepted the same way."
        ),
        view.LABELS["education"],
        kind="choice",
        choices=tuple(Choice(key, view.EDUCATION[key]) for key in EDUCATION_LEVELS),
        columns=2,
    ),
    Field(
        "permit_number",
        N_("If you have a home-business permit, type its number. If not, press the button."),
        view.LABELS["permit_number"],
        clean=rules.clean_permit,
        skip=N_("I do not have a permit number"),
        when=lambda draft: draft.applicant_type == HOME_BUSINESS,
        ltr=True,
        errors={
            "permit": N_(
                "A permit number has 3 to 40 letters or digits. Please type it again, or press the button."
            )
        },
    ),
    Field(
        "documents",
        N_(
            "If you have a business licence or a home-business permit, send a photo or PDF of it here "
            "(up to 10 MB each). When you are done, press the button."
        ),
        view.LABELS["documents"],
        kind="files",
        done=N_("Done, continue"),
        errors={
            "type": DOCUMENT_TYPE_ERROR,
            "file_type": DOCUMENT_TYPE_ERROR,
            "file_expected": DOCUMENT_TYPE_ERROR,
            "size": N_("That file is larger than 10 MB. Please send a smaller photo or file."),
            "too_many": N_("You have already sent 5 files, which is the most. Press the button to continue."),
        },
    ),
)

FORM = Form(
    name="apply",
    fields=FIELDS,
    store=rules.STORE,
    title=N_("Your application: please check it"),
    submit=rules.submit,
    submit_label=N_("Send the application"),
)


class ApplyPresenter(Presenter):
    """The membership form's own words: what staff asked, founding members, what would qualify."""

    discard_question = N_("Delete this application? Your answers will be deleted.")
    discarded_note = N_("The application was deleted.")

    def intro(self, _: Gettext, screen: Screen) -> list[str]:
        draft, field = screen.draft, screen.field
        lines = []
        if field is not None and field.name in draft.requested and draft.last_reason:
            lines.append(_("The association asked: {reason}").format(reason=esc(draft.last_reason)))
        if draft.founding and screen.step == 1:
            lines.append(
                _(
                    "{name} is being formed: you are applying as one of its founding members. When it "
                    "starts its work, its founding members become its first members."
                ).format(name=esc(str(screen.extras.get("association", ""))))
            )
        return lines

    def notes(self, _: Gettext, screen: Screen) -> list[str]:
        if screen.field is None or screen.field.name != "documents" or screen.received:
            return []
        lines = []
        if screen.extras.get("document_required"):
            lines.append(_("For this association a document is needed, because:"))
            lines.append(view.shortfall_text(_, self._verdict(screen)))
        files = int(str(screen.extras.get("files", 0)))
        if files:
            lines.append(_("Files received so far: {count}").format(count=fa_digits(files)))
        return lines

    def question_markup(self, _: Gettext, screen: Screen, actions: Actions) -> Markup | None:
        if screen.field is None or screen.field.name != "documents":
            return super().question_markup(_, screen, actions)
        required = bool(screen.extras.get("document_required"))
        done = (
            _("Done, continue") if required or screen.received else _("Continue (with or without a document)")
        )
        rows = [[button(done, actions.data("done", "documents"))]]
        if required:
            rows += self._alternatives(_, screen, actions)
        return keyboard(rows)

    def _alternatives(self, _: Gettext, screen: Screen, actions: Actions) -> list[list[InlineKeyboardButton]]:
        """Ways out of a missing document other than sending one: never a dead end."""
        rows = [[button(_("Change my years of experience"), actions.data("edit", "experience_years"))]]
        if screen.draft.applicant_type == HOME_BUSINESS:
            rows.append([button(_("Type my permit number"), actions.data("edit", "permit_number"))])
        return rows

    def error(self, _: Gettext, field: Field, exc: DomainError) -> str:
        if isinstance(exc, applications.NotEligible):
            verdict = exc.details.get("verdict")
            if isinstance(verdict, eligibility.Verdict):
                return _("A document is still needed.") + "\n" + view.shortfall_text(_, verdict)
        return super().error(_, field, exc)

    def value(self, _: Gettext, field: Field, value: object, screen: Screen) -> str:
        if field.name == "documents":
            files = int(str(screen.extras.get("files", 0)))
            return fa_digits(files) if files else _("none")
        return view.value_text(_, screen.draft, field.name)

    def summary(self, _: Gettext, screen: Screen, actions: Actions) -> Reply:
        draft = screen.draft
        files = int(str(screen.extras.get("files", 0)))
        lines = [
            f"<b>{_(FORM.title)}</b>",
            view.summary(_, draft, str(screen.extras.get("association", "—")), files),
        ]
        verdict = self._verdict(screen)
        if not verdict.eligible:
            lines += ["", view.shortfall_text(_, verdict)]
        rows = [
            [button(_("Send the application"), actions.data("submit"))],
            [button(_("Edit an answer"), actions.data("fields"))],
            [button(_("Delete this application"), actions.data("discard"))],
        ]
        return Reply("\n".join(lines), keyboard(rows))

    def fields_menu(self, _: Gettext, screen: Screen, actions: Actions) -> Reply:
        reply = super().fields_menu(_, screen, actions)
        return Reply(_("Which answer would you like to change?"), reply.markup)

    @staticmethod
    def _verdict(screen: Screen) -> eligibility.Verdict:
        verdict = screen.extras.get("verdict")
        return verdict if isinstance(verdict, eligibility.Verdict) else eligibility.Verdict()

    def no_draft(self, _: Gettext) -> Reply:
        return Reply(
            _("There is no application in progress. Choose «Membership application» in the menu."),
            keyboard([[button(_("Membership application"), "menu:apply")], [button(_("Main menu"), HOME)]]),
        )

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        sent: rules.Submitted = result
        code = view.code_text(sent.application.tracking_code)
        if sent.application.founding:
            text = _(
                "Your application to be a founding member of {name} was sent. Tracking code: {code}\n"
                "Keep this code. You will be told the outcome here; you can also see it in «My requests»."
            )
        else:
            text = _(
                "Your application to {name} was sent. Tracking code: {code}\n"
                "Keep this code. You will be told the outcome here; you can also see it in «My requests»."
            )
        return Reply(
            text.format(name=esc(sent.association), code=code),
            keyboard([[button(_("My requests"), "menu:requests")], [button(_("Main menu"), HOME)]]),
        )

    def notices(self, _: Gettext, result: Any) -> Sequence[Notice]:
        """Staff of the association (and the admins) get the application with its documents."""
        sent: rules.Submitted = result
        application = sent.application
        heading = (
            _("An application was sent again with more information.")
            if sent.resubmitted
            else _("A new application to review.")
        )
        text = heading + "\n" + view.staff_text(_, application, sent.association, len(sent.documents))
        notices = [Notice(sent.staff, text, view.decision_buttons(_, application.id))]
        notices += [
            Notice(sent.staff, "", media_kind=document.kind, media_file_id=document.file_id)
            for document in sent.documents
        ]
        return notices

    def refused(self, _: Gettext, exc: DomainError, actions: Actions) -> Reply:
        if isinstance(exc, applications.AlreadyMember):
            number = exc.details.get("member_number")
            if number is None:
                return Reply(
                    _("You are already a founding member of {name}.").format(
                        name=esc(exc.details["association"])
                    )
                )
            return Reply(
                _("You are already a member of {name}. Member number: {number}").format(
                    name=esc(exc.details["association"]), number=isolate_ltr(fa_digits(str(number)))
                )
            )
        if isinstance(exc, applications.AlreadyPending):
            sent = exc.details["submitted_at"]
            return Reply(
                _(
                    "You already have an application to {name} waiting for review (tracking code {code}, sent "
                    "{date}). You will be told the outcome here."
                ).format(
                    name=esc(exc.details["association"]),
                    code=view.code_text(str(exc.details["tracking_code"] or "")),
                    date=jalali_date(sent) if isinstance(sent, datetime) else "—",
                ),
                keyboard([[button(_("My requests"), "menu:requests")]]),
            )
        if isinstance(exc, applications.NotAccepting):
            return Reply(_("This association is not taking applications at the moment."))
        if isinstance(exc, applications.AlreadyDecided):
            return Reply(_("This application can no longer be changed."))
        if isinstance(exc, applications.NotEligible):
            verdict = exc.details["verdict"]
            assert isinstance(verdict, eligibility.Verdict)
            rows = []
            if any(s.need == eligibility.EVIDENCE for s in verdict.shortfalls):
                rows.append(
                    [button(_("Change my years of experience"), actions.data("edit", "experience_years"))]
                )
                rows.append([button(_("Send a document"), actions.data("edit", "documents"))])
            rows.append([button(_("Edit an answer"), actions.data("fields"))])
            rows.append([button(_("Delete this application"), actions.data("discard"))])
            return Reply(
                _("The application cannot be sent yet.") + "\n" + view.shortfall_text(_, verdict),
                keyboard(rows),
            )
        return Reply(_("There is no association with that number."))


MEMBERSHIP = FormConversation(FORM, ApplyPresenter(), routes=view.APPLY)
ROUTES, START, RESUME = view.APPLY, view.START, view.RESUME


@public
async def choose(update: Update, context: BotContext) -> object:
    """The menu item: continue a draft, or pick an association (founding-member applications too)."""
    _ = context.gettext
    async with context.reading() as session:
        drafts = [
            a
            for a in await applications.of_user(session, sender(update))
            if a.status in ("draft", "more_info")
        ]
        open_to = await applications.accepting_associations(session)
        names = await applications.association_names(session)
    started = {d.association_id for d in drafts}
    rows = [
        [button(_("Continue: {name}").format(name=names.get(d.association_id, "—")), RESUME(d.id))]
        for d in drafts
    ]
    for association in open_to:
        if association.id in started:
            continue
        label = association.name
        if association.status == "forming":
            label = _("{name} (being formed: founding members)").format(name=association.name)
        rows.append([button(label, START(association.id))])
    rows.append([button(_("Main menu"), HOME)])
    if not open_to and not drafts:
        text = _("No association is taking applications at the moment.")
    else:
        text = _(
            "Which association would you like to join? A university degree is not required. "
            "Associations being formed take founding members."
        )
    await answer(update, text, keyboard(rows))
    return None


@ROUTES.on(START)
@public
async def start_pressed(update: Update, context: BotContext, association_id: int) -> object:
    """`apply:start:<id>` from the list or an association card."""
    return await MEMBERSHIP.enter(update, context, association_id=association_id)


@ROUTES.on(RESUME)
@public
async def resume_pressed(update: Update, context: BotContext, application_id: int) -> object:
    """`apply:resume:<id>`: back to a draft, or to the answers staff asked about."""
    return await MEMBERSHIP.enter(update, context, application_id=application_id)


@public
async def deep_link(update: Update, context: BotContext) -> object:
    """`/start apply_<id>`."""
    text = update.effective_message.text if update.effective_message else ""
    number = (text or "").rsplit("_", 1)[-1]
    if not number.isdecimal():
        return None
    return await MEMBERSHIP.enter(update, context, association_id=int(number))


FEATURE = Feature(
    name="apply",
    # The buttons are entry points too, so they work after /cancel or a restart.
    handlers=lambda: [
        MEMBERSHIP.handler(entry_points=[start_link("apply_", deep_link), *opened_by(choose, "apply")])
    ],
    commands=[Command("apply", N_("Apply for membership"))],
    menu=[MenuItem("apply", N_("Membership application"), 20, choose, starts_conversation=True)],
)
