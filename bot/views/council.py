"""How the dialogue council reads in Persian, shared by its pages, its form, staff triage and the
digest: the council's buttons (one router; the member pages, the form's entry and staff triage
register their callbacks on it), topic and status names, an issue's number and its one-line form."""

from __future__ import annotations

from telegram import InlineKeyboardButton

from bot.formatting import fa_digits, isolate_ltr, jalali_date
from bot.i18n import N_, Gettext
from bot.kit import markup
from bot.kit.callbacks import Action, Router
from bot.kit.reply import esc
from bot.services.council import ANSWERED, MERGED, ON_AGENDA, RECEIVED, UNDER_REVIEW, CouncilIssue, IssueView
from bot.text import truncate

# The data of these buttons is what it was before the form engine, so buttons already in chats
# (an issue's support button, staff triage under an issue) keep working.
COUNCIL = Router("council")
NEW = COUNCIL.action("new")  # the member's issue form (council_form)
LIST = COUNCIL.action("list", int)  # open issues from an offset (council_home)
VIEW = COUNCIL.action("view", int)
SUPPORT = COUNCIL.action("sup", int)
MINE = COUNCIL.action("mine")
ISSUES = COUNCIL.action("issues", int)  # staff: the issues to triage (council_staff)
STAFF = COUNCIL.action("staff", int)
REVIEW = COUNCIL.action("rev", int)
AGENDA = COUNCIL.action("agenda", int)
ASSIGN = COUNCIL.action("assign", int)
ASSIGN_TO = COUNCIL.action("to", int, int)
MERGE = COUNCIL.action("merge", int)
MERGE_INTO = COUNCIL.action("into", int, int)
REPLY = COUNCIL.action("reply", int)

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


def number(issue_id: int) -> str:
    """An issue's number as shown: #۱۲, kept left-to-right."""
    return isolate_ltr("#" + fa_digits(issue_id))


def topic_label(_: Gettext, topic: str | None) -> str:
    """The topic in Persian."""
    return _(TOPIC_LABELS.get(topic or "other", TOPIC_LABELS["other"]))


def status_label(_: Gettext, status: str) -> str:
    """The status in Persian."""
    return _(STATUS_LABELS.get(status, STATUS_LABELS[RECEIVED]))


def heading(_: Gettext, issue: CouncilIssue) -> str:
    """The first line of an issue's page: its number and topic."""
    return _("<b>Issue {number}</b> — {topic}").format(
        number=number(issue.id), topic=topic_label(_, issue.topic)
    )


def issue_text(_: Gettext, seen: IssueView, tz: str, *, staff: bool = False) -> str:
    """An issue's page. Members see the raiser's name only with their consent; staff always see who
    raised it (and their Telegram id), and whether they may be named to others."""
    issue = seen.issue
    if staff:
        consent = _("may be shown") if issue.show_name else _("anonymous to other members")
        raiser = _("Raised by: {name} ({id}); name {consent}").format(
            name=esc(issue.raiser_name or "—"), id=isolate_ltr(fa_digits(issue.user_id)), consent=consent
        )
    else:
        shown = seen.public_name()
        raiser = _("Raised by: {name}").format(name=esc(shown) if shown else _("a member (name not shown)"))
    lines = [heading(_, issue), _("Status: {status}").format(status=status_label(_, issue.status)), raiser]
    if issue.submitted_at is not None:
        lines.append(_("Date: {date}").format(date=jalali_date(issue.submitted_at, tz)))
    if seen.association_name:
        lines.append(_("Followed up by: {association}").format(association=esc(seen.association_name)))
    lines += ["", esc(truncate(issue.description or "", 2500 if staff else 1500)), ""]
    lines.append(_("Supporters: {count}").format(count=fa_digits(seen.supporters)))
    if issue.status == ANSWERED and issue.answer:
        lines += ["", _("<b>The council's answer</b>"), esc(issue.answer)]
    if seen.own:
        lines.append(_("You raised this issue."))
    elif seen.supported:
        lines.append(_("You support this issue."))
    return "\n".join(lines)


def line(_: Gettext, issue: CouncilIssue, supporters: int) -> str:
    """One issue in a list: number, topic, support and status."""
    return _("{number} {topic} — {supporters} supporters — {status}").format(
        number=number(issue.id),
        topic=topic_label(_, issue.topic),
        supporters=fa_digits(supporters),
        status=status_label(_, issue.status),
    )


def label(_: Gettext, issue: CouncilIssue) -> str:
    """A button naming an issue: number, topic and the start of its text (never the raiser)."""
    return truncate(f"{number(issue.id)} {topic_label(_, issue.topic)}: {issue.description or ''}", 60)


def pager(_: Gettext, action: Action, offset: int, size: int, total: int) -> list[InlineKeyboardButton]:
    """The paging row of a page of `size` at `offset`."""
    return markup.pager(
        _,
        following=action(offset + size) if offset + size < total else None,
        previous=action(max(0, offset - size)) if offset > 0 else None,
    )
