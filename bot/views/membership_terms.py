"""What members, staff and strangers read about membership terms, dues, receipts and certificates."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import attachment_id
from bot.documents import CardLayout, CertificateLayout, format_code
from bot.formatting import fa_digits, fa_money, fa_number, isolate_ltr, jalali_day, jalali_day_long
from bot.i18n import N_, Gettext
from bot.kit.callbacks import Router
from bot.kit.reply import esc
from bot.services import outbox, terms
from bot.services.membership_figures import Figures, Verified
from db.models import DuesPayment, Member

MEMBERSHIP = Router("mem")
RENEW = MEMBERSHIP.action("renew", int)  # association id
CONFIRM = MEMBERSHIP.action("ok", int)  # payment id
REJECT = MEMBERSHIP.action("no", int)  # payment id
FIGURES = MEMBERSHIP.action("fig", int)  # association id
SHEET = MEMBERSHIP.action("xlsx", int)  # association id
IMPORT = MEMBERSHIP.action("imp", int)  # staged import id
IMPORT_CANCEL = MEMBERSHIP.action("impno", int)  # staged import id
REVOKE = MEMBERSHIP.action("revoke", int)  # member id

STATUS = {
    terms.ACTIVE: N_("active"),
    terms.DUE: N_("due for renewal"),
    terms.LAPSED: N_("lapsed"),
    terms.REVOKED: N_("revoked"),
}


def money(rials: int) -> str:
    """An amount in rials and in tomans, Persian digits."""
    return f"{fa_money(rials)} ({fa_money(rials // 10, 'تومان')})"


def term_line(_: Gettext, member: Member, day: date) -> str:
    """«Membership term: from … to … (active)»."""
    if member.term_end is None:
        return ""
    return _("Membership term: {start} to {end} ({status})").format(
        start=jalali_day(member.term_start or member.term_end),
        end=jalali_day(member.term_end),
        status=_(STATUS[terms.status_of(member, day)]),
    )


def membership_text(_: Gettext, association: str, member: Member, day: date, fee: int) -> str:
    """One membership on the member's screen."""
    lines = [f"<b>{esc(association)}</b>"]
    if member.member_number:
        lines.append(_("Member number: {number}").format(number=isolate_ltr(fa_digits(member.member_number))))
    if (line := term_line(_, member, day)) != "":
        lines.append(line)
    if fee > 0:
        lines.append(_("Yearly fee: {amount}").format(amount=money(fee)))
    if member.verify_code:
        lines.append(_("Verification code: {code}").format(code=isolate_ltr(format_code(member.verify_code))))
    return "\n".join(lines)


def reminder_text(_: Gettext, member: Member, days: int, association: str) -> str:
    """A renewal reminder 30 or 7 days before the end, or on the last day."""
    assert member.term_end is not None
    end = jalali_day_long(member.term_end)
    if days == 0:
        text = _("Your membership of {name} ends today ({end}). Renew it to keep it valid.")
    else:
        text = _("Your membership of {name} ends on {end}, in {days} days. You can renew it now.")
    return (
        text.format(name=esc(association), end=end, days=fa_digits(days))
        + "\n"
        + _("Open «My membership» from the menu to renew.")
    )


def receipt_text(_: Gettext, payment: DuesPayment, association: str) -> str:
    """The Persian receipt of a payment."""
    lines = [
        _("<b>Receipt of membership dues</b>"),
        _("Association: {name}").format(name=esc(association)),
        _("Receipt number: {number}").format(number=isolate_ltr(fa_digits(payment.receipt_number or "—"))),
        _("Amount: {amount}").format(amount=money(payment.amount_rials)),
        _("Membership valid until: {date}").format(date=jalali_day(payment.term_end)),
    ]
    return "\n".join(lines)


def verified_text(_: Gettext, found: Verified | None) -> str:
    """What anyone sees for a verification code: validity, name, association, valid-until only."""
    if found is None:
        return _("This verification code is not known. Please check it.")
    until = jalali_day(found.valid_until) if found.valid_until else "—"
    if found.valid:
        head = _("✅ This membership is valid today.")
    else:
        head = _("❌ This membership is not valid today.")
    return "\n".join(
        [
            head,
            _("Member: {name}").format(name=esc(found.name)),
            _("Association: {name}").format(name=esc(found.association)),
            _("Valid until: {date}").format(date=until),
        ]
    )


def figures_text(_: Gettext, figures: Figures) -> str:
    """The staff's figures for one association."""
    by = figures.by_status
    return "\n".join(
        [
            _("<b>Membership of {name}</b>").format(name=esc(figures.association)),
            _("Active: {active}  Due for renewal: {due}  Lapsed: {lapsed}  Revoked: {revoked}").format(
                active=fa_number(by.get(terms.ACTIVE, 0)),
                due=fa_number(by.get(terms.DUE, 0)),
                lapsed=fa_number(by.get(terms.LAPSED, 0)),
                revoked=fa_number(by.get(terms.REVOKED, 0)),
            ),
            _("Dues for the current term: {paid} paid, {unpaid} unpaid, {waiting} receipts waiting").format(
                paid=fa_number(figures.paid),
                unpaid=fa_number(figures.unpaid),
                waiting=fa_number(figures.waiting),
            ),
            _("Collected: {amount}").format(amount=money(figures.collected_rials)),
        ]
    )


# ------------------------------------------------------------------------------------------ documents


def verify_link(username: str, code: str, *, bale: bool) -> str:
    """The deep link the QR code opens."""
    host = "ble.ir" if bale else "t.me"
    return f"https://{host}/{username}?start=verify_{code}"


def certificate_layout(
    _: Gettext, *, name: str, business: str, association: str, member: Member, link: str
) -> CertificateLayout:
    """The membership certificate's lines."""
    assert member.verify_code is not None
    start = jalali_day_long(member.term_start) if member.term_start else "—"
    end = jalali_day_long(member.term_end) if member.term_end else "—"
    fields = [(_("Member number"), isolate_ltr(fa_digits(member.member_number or "—")))]
    if business:
        fields.append((_("Business"), business))
    fields.append((_("Membership term"), _("{start} to {end}").format(start=start, end=end)))
    return CertificateLayout(
        title=_("Membership certificate"),
        issuer=association,
        intro=_("This certifies that"),
        name=name,
        statement=[_("is a member of {name}.").format(name=association)],
        fields=fields,
        code=format_code(member.verify_code),
        code_label=_("Verification code:"),
        qr_data=link,
        verify_lines=[_("To verify, scan the QR code or open:"), link],
    )


def card_layout(_: Gettext, *, name: str, association: str, member: Member, link: str) -> CardLayout:
    """The membership card's lines."""
    assert member.verify_code is not None
    return CardLayout(
        title=_("Membership card"),
        subtitle=association,
        lines=[
            (_("Member"), name),
            (_("Member number"), isolate_ltr(fa_digits(member.member_number or "—"))),
            (_("Valid until"), jalali_day_long(member.term_end) if member.term_end else "—"),
        ],
        qr_data=link,
        code=format_code(member.verify_code),
        footer=[_("Scan the QR code to verify this membership.")],
    )


def proof_caption(_: Gettext, member: Member, association: str) -> str:
    """The message carrying the certificate (its verification code in the text too)."""
    assert member.verify_code is not None
    return _("Your membership certificate of {name}. Verification code: {code}").format(
        name=esc(association), code=isolate_ltr(format_code(member.verify_code))
    )


PROOF_KIND = "mproof"


async def queue_proof(
    session: AsyncSession, _: Gettext, member: Member, association: str, key: bytes
) -> None:
    """Queue the certificate and the card for the member (a numbered, current membership only); they
    are drawn from the database when the outbox sends them (bot/handlers/member_proof.py)."""
    if member.member_number is None or member.term_end is None:
        return
    await terms.ensure_code(session, member, key)
    caption = proof_caption(_, member, association)
    for media_kind, kind, text in (
        ("document", "pdf", caption),
        ("photo", "card", _("Your membership card.")),
    ):
        await outbox.notify(
            session,
            [member.user_id],
            text,
            media_kind=media_kind,
            media_file_id=attachment_id(PROOF_KIND, f"{member.id}:{kind}:{member.term_end.isoformat()}"),
            association_id=member.association_id,
        )
