"""How the directory looks: its buttons (one router for the directory, one for the ratings it links
to), the list page, an association's page with its buttons, the staff's edit screen and the founding
members list. No handlers here."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.formatting import fa_digits, fa_money, isolate_ltr, show_mobile
from bot.i18n import N_, Gettext
from bot.kit.callbacks import Router
from bot.kit.markup import button, columns, keyboard, pager
from bot.kit.menu import HOME
from bot.kit.reply import esc
from bot.services.directory import (
    ACTIVE,
    ALL,
    APPROVED,
    EVIDENCE_KINDS,
    FILTERS,
    FORMING,
    INACTIVE,
    STATUSES,
    Association,
    Card,
    Founder,
    FoundingList,
    Page,
)
from bot.text import truncate
from bot.views import membership as membership_view

DIR = Router("dir")
PAGE = DIR.action("page", str, int)  # status filter, page number
OPEN = DIR.action("open", int, str, int)  # association, and the list page to come back to
NEWS = DIR.action("news", int, int)  # association, 1: get its news / 0: stop
FOUND = DIR.action("found", int, int)  # association, 1: "I want to be a founding member" / 0: withdraw
SEARCH = DIR.action("search")
# Staff: the panel's buttons, the edit screen, the founding members, the CSV.
ADD = DIR.action("add")
EDIT = DIR.action("edit", int)
STATUS = DIR.action("st", int, str)
ACTIVATE = DIR.action("activate", int)  # forming → active, confirmed
TOGGLE = DIR.action("tg", int, str)
EVIDENCE = DIR.action("ev", int, str)
FIELD = DIR.action("ef", int, str)
ASSIGN = DIR.action("as", int)
FOUNDERS = DIR.action("fl", int)
EXPORT, EXPORT_FA = DIR.action("export"), DIR.action("exportfa")
IMPORT = DIR.action("imp", str, int)  # all | skip | no, the waiting file's draft

# The ratings link to an association's page and back.
RATING = Router("rating")
SCORECARD = RATING.action("card", int, str)  # association, period (LATEST: its newest)
RANKING = RATING.action("rank", str)  # period (LATEST: the newest ranked)
LATEST = "last"

STATUS_LABELS = {ACTIVE: N_("Active"), FORMING: N_("Being formed"), INACTIVE: N_("Inactive")}
FILTER_LABELS = {ALL: N_("All"), **STATUS_LABELS}
EVIDENCE_LABELS = {
    "experience": N_("work experience"),
    "business_licence": N_("a business licence (پروانهٔ کسب)"),
    "home_permit": N_("a home-business permit"),
}
FIELD_LABELS = {
    "name": N_("Name"),
    "description": N_("Description"),
    "category": N_("Field of work"),
    "phone": N_("Phone"),
    "address": N_("Address"),
    "channel": N_("Channel"),
    "min_experience_years": N_("Minimum years of experience"),
    "yearly_fee_rials": N_("Yearly fee (rials)"),
}
SET_STATUS = {
    ACTIVE: N_("Make it active"),
    FORMING: N_("Mark it as being formed"),
    INACTIVE: N_("Make it inactive"),
}
FOUNDER_STATUS = {
    APPROVED: N_("approved founding member"),
    "submitted": N_("founding-member application waiting for review"),
    "more_info": N_("founding-member application: more information asked for"),
}
BUTTON_NAME_LIMIT = 48
# Room for a description on the page: the rest stays well under Telegram's 4,096 characters.
DESCRIPTION_LIMIT = 3000
LIST_LIMIT = 100


def card_of(association_id: int) -> str:
    """The button data of an association's page (coming back to the whole list)."""
    return OPEN(association_id, ALL, 0)


def list_page(_: Gettext, page: Page, status: str) -> tuple[str, InlineKeyboardMarkup]:
    """The directory page: one button per association, paging, filters, search."""
    title = _("<b>Associations of the chamber</b>")
    shown = _("Showing: {filter}").format(filter=_(FILTER_LABELS[status]))
    if page.total == 0:
        body = _("No associations here yet.")
    else:
        body = _("Page {page} of {pages} ({total} associations). Choose one to see its details:").format(
            page=fa_digits(page.number + 1), pages=fa_digits(page.pages), total=fa_digits(page.total)
        )
    rows = [[button(item_label(_, item), OPEN(item.id, status, page.number))] for item in page.items]
    rows.append(
        pager(
            _,
            following=PAGE(status, page.number + 1) if page.has_next else None,
            previous=PAGE(status, page.number - 1) if page.has_previous else None,
        )
    )
    rows.append(
        [button(("✓ " if key == status else "") + _(FILTER_LABELS[key]), PAGE(key, 0)) for key in FILTERS]
    )
    rows.append([button(_("🔍 Search"), SEARCH()), button(_("Main menu"), HOME)])
    return "\n".join([title, shown, body]), keyboard(rows)


def item_label(_: Gettext, association: Association) -> str:
    """A list button: the name, marked when the association is not (yet) active."""
    name = truncate(association.name, BUTTON_NAME_LIMIT)
    if association.status == ACTIVE:
        return name
    return f"{name} ({_(STATUS_LABELS[association.status])})"


def search_results(_: Gettext, query: str, found: list[Association]) -> tuple[str, InlineKeyboardMarkup]:
    """Search results as buttons, closest first."""
    if found:
        text = _("Associations matching «{query}», closest first:").format(query=esc(query))
    else:
        text = _("No association matches «{query}». Try fewer or different words.").format(query=esc(query))
    rows = [[button(item_label(_, item), card_of(item.id))] for item in found]
    rows.append([button(_("🔍 Search again"), SEARCH()), button(_("All associations"), PAGE(ALL, 0))])
    return text, keyboard(rows)


def rules(_: Gettext, association: Association) -> list[str]:
    """The membership rules in plain Persian."""
    lines = [
        "• "
        + (
            _("A university degree is required.")
            if association.degree_required
            else _("A university degree is not required.")
        )
    ]
    kinds = []
    for kind in association.evidence_kinds:
        label = _(EVIDENCE_LABELS.get(kind, kind))
        if kind == "experience" and association.min_experience_years:
            label = _("{what} (at least {years} years)").format(
                what=label, years=fa_digits(association.min_experience_years)
            )
        kinds.append(label)
    listed = "، ".join(kinds)
    if kinds and association.evidence_required:
        lines.append("• " + _("You need to show one of these: {kinds}.").format(kinds=listed))
    elif kinds:
        lines.append(
            "• " + _("These count in your favour, but none is required: {kinds}.").format(kinds=listed)
        )
    elif association.evidence_required:
        lines.append("• " + _("Ask the association which documents it needs."))
    if association.yearly_fee_rials:
        lines.append(
            "• " + _("Yearly membership fee: {fee}").format(fee=fa_money(association.yearly_fee_rials))
        )
    else:
        lines.append("• " + _("No yearly membership fee."))
    return lines


def card(_: Gettext, facts: Card, back: str = "") -> tuple[str, InlineKeyboardMarkup]:
    """An association's page: who they are, who may join, how to reach them, what you can do."""
    association = facts.association
    lines = [
        f"<b>{esc(association.name)}</b>",
        _("Status: {status}").format(status=_(STATUS_LABELS[association.status])),
    ]
    if association.category:
        lines.append(_("Field: {category}").format(category=esc(association.category)))
    if association.description:
        lines += ["", esc(truncate(association.description, DESCRIPTION_LIMIT))]
    lines += ["", _("<b>Who can join</b>"), *rules(_, association)]
    contact = []
    if association.phone:
        contact.append(_("Phone: {phone}").format(phone=isolate_ltr(fa_digits(association.phone))))
    if association.address:
        contact.append(_("Address: {address}").format(address=esc(association.address)))
    if association.channel:
        contact.append(_("Channel: {channel}").format(channel=isolate_ltr(esc(association.channel))))
    if contact:
        lines += ["", _("<b>Contact</b>"), *contact]
    if association.status == ACTIVE:
        lines += ["", _("Members: {count}").format(count=fa_digits(facts.members))]
    if association.status == FORMING:
        lines += [
            "",
            _(
                "This association is being formed and takes founding-member applications: its founding "
                "members become its first members when it starts its work."
            ),
        ]
        if facts.interested:
            lines.append(_("You have said you want to be a founding member."))
        if facts.staff:
            lines.append(
                _("For staff: {count} people want to be founding members.").format(
                    count=fa_digits(facts.interests)
                )
            )
            if facts.founding_waiting:
                lines.append(
                    _("For staff: {count} founding-member applications are waiting for review.").format(
                        count=fa_digits(facts.founding_waiting)
                    )
                )
    return "\n".join(lines), card_buttons(_, facts, back or PAGE(ALL, 0))


def card_buttons(_: Gettext, facts: Card, back: str) -> InlineKeyboardMarkup:
    """Apply (as a founding member of an association being formed), the news, courses, ratings, the
    founding-member interest; staff tools for staff."""
    aid = facts.association.id
    status = facts.association.status
    rows: list[list[InlineKeyboardButton]] = []
    if status == ACTIVE:
        rows.append([button(_("📝 Apply for membership"), membership_view.START(aid))])
    if status == FORMING:
        rows.append([button(_("📝 Apply as a founding member"), membership_view.START(aid))])
        if facts.interested:
            rows.append([button(_("Withdraw my founding-member interest"), FOUND(aid, 0))])
        else:
            rows.append([button(_("🤝 I want to be a founding member"), FOUND(aid, 1))])
    news = (
        button(_("🔕 Stop its news"), NEWS(aid, 0))
        if facts.subscribed
        else button(_("🔔 Follow its news"), NEWS(aid, 1))
    )
    rows.append([news, button(_("📅 Upcoming courses"), f"courses:assoc:{aid}")])
    rows.append([button(_("📊 Rating and scorecard"), SCORECARD(aid, LATEST))])
    if facts.staff:
        rows.append(
            [button(_("✏️ Edit"), EDIT(aid))]
            + ([button(_("Founding members list"), FOUNDERS(aid))] if status == FORMING else [])
        )
    rows.append([button(_("Back to the list"), back), button(_("Main menu"), HOME)])
    return keyboard(rows)


def founding_prompt(_: Gettext, association_id: int) -> InlineKeyboardMarkup:
    """Under "interest recorded": the founding-member application, one tap away."""
    return keyboard([[button(_("📝 Apply as a founding member"), membership_view.START(association_id))]])


# ---------------------------------------------------------------------------------------- staff screens


def edit_screen(_: Gettext, association: Association, *, admin: bool) -> tuple[str, InlineKeyboardMarkup]:
    """What staff can change: the typed fields, the status, the membership rules, the staff."""
    aid = association.id
    fields = [button(_(label), FIELD(aid, name)) for name, label in FIELD_LABELS.items()]
    rows = columns(fields)
    rows.append(
        [
            button(_(SET_STATUS[status]), STATUS(aid, status))
            for status in STATUSES
            if status != association.status
        ]
    )
    degree = (
        _("No longer require a degree") if association.degree_required else _("Require a university degree")
    )
    evidence = (
        _("Make experience or a permit optional")
        if association.evidence_required
        else _("Require experience or a permit")
    )
    rows += [
        [button(degree, TOGGLE(aid, "degree_required"))],
        [button(evidence, TOGGLE(aid, "evidence_required"))],
    ]
    rows.append(
        [
            button(
                ("✓ " if kind in association.evidence_kinds else "✗ ") + _(EVIDENCE_LABELS[kind]),
                EVIDENCE(aid, kind),
            )
            for kind in EVIDENCE_KINDS
        ]
    )
    if admin:
        rows.append([button(_("👤 Assign staff"), ASSIGN(aid))])
    rows.append([button(_("Back to the association's page"), card_of(aid))])
    text = "\n".join(
        [
            _("Editing «{name}». Choose what to change:").format(name=esc(association.name)),
            _("Status: {status}").format(status=_(STATUS_LABELS[association.status])),
            _("✓ marks the evidence accepted instead of a degree; press one to change it."),
        ]
    )
    return text, keyboard(rows)


def confirm_activation(_: Gettext, association: Association) -> tuple[str, InlineKeyboardMarkup]:
    """Forming → active is asked once more: the founding members get numbers and are told."""
    text = _(
        "Make «{name}» active? Its approved founding members get their member numbers and are told."
    ).format(name=esc(association.name))
    rows = [
        [button(_("Yes, make it active"), ACTIVATE(association.id))],
        [button(_("No, back to editing"), EDIT(association.id))],
    ]
    return text, keyboard(rows)


def founders_text(_: Gettext, founding: FoundingList) -> tuple[str, InlineKeyboardMarkup]:
    """The founding-members list: applicants (approved first) and the interested who have not applied."""
    people = founding.applicants + founding.interested
    lines = [
        _("<b>Founding members of «{name}»</b>: {count} people").format(
            name=esc(founding.association.name), count=fa_digits(len(people))
        )
    ]
    for number, person in enumerate(people[:LIST_LIMIT], start=1):
        lines.append(f"{fa_digits(number)}. {_founder_line(_, person)}")
    if not people:
        lines.append(_("Nobody yet."))
    return "\n".join(lines), keyboard(
        [[button(_("Back to the association's page"), card_of(founding.association.id))]]
    )


def _founder_line(_: Gettext, person: Founder) -> str:
    who = esc(person.full_name) if person.full_name else _("(no profile name)")
    details = [
        show_mobile(person.mobile) if person.mobile else "",
        esc(person.city) if person.city else "",
        _("id {id}").format(id=isolate_ltr(fa_digits(person.user_id))) if person.user_id else "",
    ]
    if person.status in FOUNDER_STATUS:
        state = _(FOUNDER_STATUS[person.status])
        if person.tracking_code:
            state += " " + _("(tracking code {code})").format(
                code=membership_view.code_text(person.tracking_code)
            )
    else:
        state = _("interested, has not applied yet")
    return f"{who} — {' '.join(d for d in details if d)} — {state}"
