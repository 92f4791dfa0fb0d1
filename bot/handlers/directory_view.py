"""How the directory looks: the list page, the association card and their buttons (no handlers here)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.formatting import fa_digits, fa_money, isolate_ltr
from bot.handlers.common import button, esc, keyboard
from bot.handlers.menu import HOME
from bot.i18n import N_, Gettext
from bot.services.directory import ALL, FILTERS, Page
from bot.text import truncate
from db.models import Association
from db.models.associations import ACTIVE, FORMING, INACTIVE

STATUS_LABELS = {ACTIVE: N_("Active"), FORMING: N_("Being formed"), INACTIVE: N_("Inactive")}
FILTER_LABELS = {ALL: N_("All"), **STATUS_LABELS}
EVIDENCE_LABELS = {
    "experience": N_("work experience"),
    "business_licence": N_("a business licence (پروانهٔ کسب)"),
    "home_permit": N_("a home-business permit"),
}
BUTTON_NAME_LIMIT = 48
# Room for a description in a card: the rest of the card stays well under Telegram's 4,096 characters.
DESCRIPTION_LIMIT = 3000


@dataclass(frozen=True)
class CardFacts:
    """What the card needs besides the association itself."""

    members: int
    subscribed: bool
    interested: bool
    # Staff covering this association see the staff tools and the founding-member count.
    staff: bool = False
    interest_count: int = 0
    back: str = f"dir:page:{ALL}:0"


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
    rows: list[list[InlineKeyboardButton]] = [
        [button(item_label(_, item), f"dir:open:{item.id}:{status}:{page.number}")] for item in page.items
    ]
    navigation = []
    if page.has_previous:
        navigation.append(button(_("« Previous"), f"dir:page:{status}:{page.number - 1}"))
    if page.has_next:
        navigation.append(button(_("Next »"), f"dir:page:{status}:{page.number + 1}"))
    rows.append(navigation)
    rows.append(
        [
            button(("✓ " if key == status else "") + _(FILTER_LABELS[key]), f"dir:page:{key}:0")
            for key in FILTERS
        ]
    )
    rows.append([button(_("🔍 Search"), "dir:search"), button(_("Main menu"), HOME)])
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
    rows = [[button(item_label(_, item), f"dir:open:{item.id}")] for item in found]
    rows.append(
        [button(_("🔍 Search again"), "dir:search"), button(_("All associations"), f"dir:page:{ALL}:0")]
    )
    return text, keyboard(rows)


def rules(_: Gettext, association: Association) -> list[str]:
    """The membership rules in plain Persian."""
    lines = []
    if association.degree_required:
        lines.append("• " + _("A university degree is required."))
    else:
        lines.append("• " + _("A university degree is not required."))
    kinds = []
    for kind in association.evidence_kinds:
        label = _(EVIDENCE_LABELS.get(kind, kind))
        if kind == "experience" and association.min_experience_years:
            label = _("{what} (at least {years} years)").format(
                what=label, years=fa_digits(association.min_experience_years)
            )
        kinds.append(label)
    if kinds:
        listed = "، ".join(kinds)
        if association.evidence_required:
            lines.append("• " + _("You need to show one of these: {kinds}.").format(kinds=listed))
        else:
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


def card(_: Gettext, association: Association, facts: CardFacts) -> tuple[str, InlineKeyboardMarkup]:
    """The association card: who they are, who may join, how to reach them, what you can do."""
    lines = [f"<b>{esc(association.name)}</b>"]
    lines.append(_("Status: {status}").format(status=_(STATUS_LABELS[association.status])))
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
        lines += ["", _("This association is being formed. Founding members are welcome.")]
        if facts.interested:
            lines.append(_("You have said you want to be a founding member."))
    if facts.staff and association.status == FORMING:
        lines.append(
            _("For staff: {count} people want to be founding members.").format(
                count=fa_digits(facts.interest_count)
            )
        )
    return "\n".join(lines), card_buttons(_, association, facts)


def card_buttons(_: Gettext, association: Association, facts: CardFacts) -> InlineKeyboardMarkup:
    """Apply, follow the news, courses, founding interest; staff tools for staff."""
    aid = association.id
    rows: list[list[InlineKeyboardButton]] = []
    if association.status == ACTIVE:
        rows.append([button(_("📝 Apply for membership"), f"apply:start:{aid}")])
    if association.status == FORMING:
        if facts.interested:
            rows.append([button(_("Withdraw my founding-member interest"), f"dir:unfound:{aid}")])
        else:
            rows.append([button(_("🤝 I want to be a founding member"), f"dir:found:{aid}")])
    if facts.subscribed:
        news = button(_("🔕 Stop its news"), f"dir:unsub:{aid}")
    else:
        news = button(_("🔔 Follow its news"), f"dir:sub:{aid}")
    rows.append([news, button(_("📅 Upcoming courses"), f"courses:assoc:{aid}")])
    rows.append([button(_("📊 Rating and scorecard"), f"rating:card:{aid}")])
    if facts.staff:
        staff_row = [button(_("✏️ Edit"), f"dir:edit:{aid}")]
        if association.status == FORMING:
            staff_row.append(button(_("Founding members list"), f"dir:fl:{aid}"))
        rows.append(staff_row)
    rows.append([button(_("« Back to the list"), facts.back), button(_("Main menu"), HOME)])
    return keyboard(rows)
