"""How an application reads in Persian: labels, the summary, statuses, and what would qualify."""

from __future__ import annotations

from bot.formatting import fa_digits, isolate_ltr, jalali_datetime
from bot.handlers.common import esc
from bot.i18n import N_, Gettext
from bot.services import applications as service
from bot.services import eligibility
from db.models import Application, ApplicationEvent

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
    if field in ("national_id", "mobile"):
        return isolate_ltr(fa_digits(value))
    return esc(value)


def summary(_: Gettext, application: Application, association_name: str, documents: int) -> str:
    """Every answer, one a line (the national ID included: only for the applicant and their staff)."""
    lines = [_("Association: {name}").format(name=esc(association_name))]
    if application.tracking_code:
        lines.append(_("Tracking code: {code}").format(code=code_text(application.tracking_code)))
    for field in service.FIELDS:
        if not service.applies(application, field):
            continue
        lines.append(f"{_(LABELS[field])}: {value_text(_, application, field, documents)}")
    return "\n".join(lines)


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
