"""How membership reads in Persian, shared by the form, the staff review (in the chat and on the web
dashboard) and «My requests»: labels, statuses, an application's summary, what would qualify, the
review buttons, and the decision as the staff member and the applicant are told it."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.formatting import fa_digits, isolate_ltr, jalali_date, jalali_datetime, jalali_day, show_mobile
from bot.forms.render import Notice
from bot.i18n import N_, Gettext
from bot.kit.callbacks import Router
from bot.kit.markup import button, keyboard
from bot.kit.reply import esc
from bot.services import decisions, eligibility
from bot.services.applications import (
    APPROVED,
    FIELDS,
    MORE_INFO,
    REJECTED,
    AlreadyDecided,
    Application,
    ApplicationEvent,
)
from bot.services.errors import DomainError, NotAllowed, NotFound

LABELS = {
    "applicant_type": N_("Applicant type"),
    "full_name": N_("Full name"),
    "national_id": N_("National ID"),
    "mobile": N_("Mobile"),
    "business_name": N_("Business name"),
    "activity": N_("Activity"),
    "city": N_("City"),
    "experience_years": N_("Years of experience"),
    "education": N_("Education"),
    "permit_number": N_("Home-business permit number"),
    "documents": N_("Documents"),
}
TYPES = {
    "business_owner": N_("Business owner (shop or company)"),
    "home_business": N_("Home business"),
}
EDUCATION = {
    "no_degree": N_("No university degree"),
    "diploma": N_("High-school diploma"),
    "associate": N_("Associate degree"),
    "bachelor": N_("Bachelor's degree"),
    "master": N_("Master's degree"),
    "doctorate": N_("Doctorate"),
}
STATUS = {
    "draft": N_("Draft (not sent yet)"),
    "submitted": N_("Sent, waiting for review"),
    "more_info": N_("More information needed"),
    "approved": N_("Approved"),
    "rejected": N_("Not approved"),
    "withdrawn": N_("Withdrawn"),
}
FOUNDING_STATUS = {
    "submitted": N_("Founding-member application sent, waiting for review"),
    "approved": N_("Approved as a founding member"),
}
ACTIONS = {
    "created": N_("Started"),
    "submitted": N_("Sent"),
    "resubmitted": N_("Sent again with more information"),
    "approved": N_("Approved"),
    "rejected": N_("Not approved"),
    "more_info": N_("More information asked for"),
    "withdrawn": N_("Withdrawn"),
    "anonymised": N_("Personal data deleted"),
}

# The membership form's own buttons that other screens show (an association's card, «My requests»,
# a decision asking for more).
APPLY = Router("apply")
START = APPLY.action("start", int)
RESUME = APPLY.action("resume", int)

# The staff review's buttons: declared here, where the applicant's form (which sends them to staff
# with a new application) and the review (which handles them) both see them.
REVIEW = Router("review")
OPEN = REVIEW.action("open", int)
APPROVE = REVIEW.action("approve", int)
REJECT = REVIEW.action("reject", int)
ASK_MORE = REVIEW.action("info", int)
PAGE = REVIEW.action("page", int)
EXPORT = REVIEW.action("export", int)


def status_text(_: Gettext, application: Application) -> str:
    """The status in Persian (a founding-member application says so)."""
    if application.founding and application.status in FOUNDING_STATUS:
        return _(FOUNDING_STATUS[application.status])
    return _(STATUS.get(application.status, application.status))


def code_text(code: str | None) -> str:
    """A tracking code in Persian digits, kept left-to-right."""
    return isolate_ltr(fa_digits(code or "—"))


def value_text(_: Gettext, application: Application, field: str, documents: int = 0) -> str:
    """One answer as the summary shows it (escaped, Persian digits)."""
    if field == "documents":
        return fa_digits(documents) if documents else _("none")
    value = getattr(application, field)
    if value is None:
        return "—"
    if field == "applicant_type":
        return _(TYPES.get(value, value))
    if field == "education":
        return _(EDUCATION.get(value, value))
    if field == "experience_years":
        return _("{years} years").format(years=fa_digits(value))
    if field == "permit_number":
        return isolate_ltr(fa_digits(esc(value))) if value else _("none")
    if field == "mobile":
        return show_mobile(value)
    if field == "national_id":
        return isolate_ltr(fa_digits(value))
    return esc(value)


def applies(application: Application, field: str) -> bool:
    """Whether a field is asked of this applicant (the permit number only of home businesses)."""
    return field != "permit_number" or application.applicant_type == "home_business"


def summary(_: Gettext, application: Application, association_name: str, documents: int) -> str:
    """Every answer, one a line (the national ID included: only for the applicant and their staff)."""
    lines = [_("Association: {name}").format(name=esc(association_name))]
    if application.founding:
        lines.append(_("Applying as: a founding member of an association being formed"))
    if application.tracking_code:
        lines.append(_("Tracking code: {code}").format(code=code_text(application.tracking_code)))
    for field in FIELDS:
        if applies(application, field):
            lines.append(f"{_(LABELS[field])}: {value_text(_, application, field, documents)}")
    return "\n".join(lines)


def staff_text(_: Gettext, application: Application, name: str, documents: int) -> str:
    """An application as staff read it."""
    heading = (
        _("<b>Founding-member application</b>")
        if application.founding
        else _("<b>Membership application</b>")
    )
    lines = [heading, summary(_, application, name, documents)]
    if application.submitted_at is not None:
        lines.append(_("Sent: {date}").format(date=jalali_datetime(application.submitted_at)))
    lines.append(_("Status: {status}").format(status=status_text(_, application)))
    return "\n".join(lines)


def decision_buttons(_: Gettext, application_id: int) -> InlineKeyboardMarkup:
    """Approve / reject / ask for more, for staff."""
    return keyboard(
        [
            [button(_("Approve"), APPROVE(application_id))],
            [
                button(_("Reject"), REJECT(application_id)),
                button(_("Ask for more information"), ASK_MORE(application_id)),
            ],
        ]
    )


def option_text(_: Gettext, option: eligibility.Option) -> str:
    """One way to qualify, in words."""
    if option.kind == "experience":
        return _("{years} years of work experience").format(years=fa_digits(option.years))
    if option.kind == "business_licence":
        return _("a business licence (a photo or PDF of it)")
    if option.kind == "home_permit":
        return _("a home-business permit (its number, or a photo or PDF of it)")
    return _("a university degree (associate or higher)")


def shortfall_text(_: Gettext, verdict: eligibility.Verdict) -> str:
    """What is missing and what would qualify instead; never a flat no."""
    lines = []
    for shortfall in verdict.shortfalls:
        if shortfall.need == eligibility.DEGREE:
            lines.append(
                _(
                    "This association's own rules ask for a university degree (associate or higher). "
                    "Most associations do not: you can apply to another one from the list."
                )
            )
        else:
            options = _(" or ").join(option_text(_, option) for option in shortfall.options)
            lines.append(
                _("To join this association, one of these is enough: {options}.").format(options=options)
            )
    return "\n".join(lines)


def event_line(_: Gettext, event: ApplicationEvent) -> str:
    """One line of an application's history."""
    line = f"{jalali_datetime(event.created_at)} — {_(ACTIONS.get(event.action, event.action))}"
    if event.reason:
        line += " — " + esc(event.reason)
    return line


# ---------------------------------------------------------------------------------------- decisions

REJECT_TEMPLATES = (
    N_("The documents sent are not readable."),
    N_("The activity described is not in this association's field."),
    N_("The information given is incomplete or does not match."),
)
INFO_TEMPLATES = (
    N_("Please send a clear photo of your licence or permit."),
    N_("Please check and correct your national ID."),
    N_("Please describe your activity in more detail."),
)


def decided_text(_: Gettext, decided: decisions.Decided) -> str:
    """What the staff member who decided reads (in the chat and on the dashboard)."""
    done = {
        APPROVED: _("Approved. {name} has a new member."),
        REJECTED: _("Rejected. The applicant was told the reason."),
        MORE_INFO: _("More information was asked for. The applicant was told."),
    }[decided.application.status].format(name=esc(decided.association))
    return _("Application {code}: {done}").format(
        code=code_text(decided.application.tracking_code), done=done
    )


def applicant_notice(_: Gettext, decided: decisions.Decided) -> Notice | None:
    """The decision, told to the applicant (through the outbox)."""
    application = decided.application
    if application.user_id is None:
        return None
    code = code_text(application.tracking_code)
    name = esc(decided.association)
    buttons = None
    if application.status == APPROVED and decided.member is not None and decided.member.founding:
        text = _(
            "Congratulations! Your application to be a founding member of {name} (tracking code {code}) was "
            "approved. You will get your member number when the association starts its work."
        ).format(name=name, code=code)
    elif application.status == APPROVED:
        text = _(
            "Congratulations! Your application to {name} (tracking code {code}) was approved.\n"
            "Member number: {number}\nMembership starts: {date}"
        ).format(
            name=name,
            code=code,
            number=isolate_ltr(fa_digits(decided.member.member_number or "—" if decided.member else "—")),
            date=jalali_date(decided.member.started_at) if decided.member is not None else "—",
        )
        if decided.member is not None and decided.member.term_end is not None:
            text += "\n" + _("Membership valid until: {date}").format(
                date=jalali_day(decided.member.term_end)
            )
    elif application.status == REJECTED:
        text = _(
            "Your application to {name} (tracking code {code}) was not approved.\nReason: {reason}\n"
            "You may apply again once this is resolved."
        ).format(name=name, code=code, reason=esc(application.last_reason or "—"))
    else:
        fields = "، ".join(_(LABELS[f]) for f in application.requested if f in LABELS)
        text = _(
            "The association {name} needs more information about your application (tracking code {code}).\n"
            "Message: {reason}\nPlease update: {fields}"
        ).format(name=name, code=code, reason=esc(application.last_reason or "—"), fields=fields)
        buttons = keyboard([[button(_("Update my application"), RESUME(application.id))]])
    return Notice([application.user_id], text, buttons)


def refusal(_: Gettext, exc: DomainError) -> str:
    """Why a decision (or opening an application) was refused."""
    if isinstance(exc, AlreadyDecided):
        status = str(exc.details.get("status", ""))
        return _("This application was already decided by someone else: {status}").format(
            status=_(STATUS.get(status, status))
        )
    if isinstance(exc, (NotFound, NotAllowed)):
        return _("This application is not one of your associations'.")
    return _("That did not work. Please try again.")
