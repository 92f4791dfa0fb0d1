"""«My membership»: each membership's term, renewing it (one tap, paying the fee in the chat with
the Bot API's payments, or by a bank receipt photo staff confirm), receipts, and staff's decision
on a receipt."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram import LabeledPrice, Update
from telegram.error import TelegramError
from telegram.ext import MessageHandler, PreCheckoutQueryHandler, filters

from bot.context import BotContext
from bot.formatting import jalali_day
from bot.forms.conversation import FormConversation
from bot.forms.flow import Screen
from bot.forms.render import Notice, Presenter, Reply
from bot.forms.spec import Field, short_form
from bot.handlers.member_proof import queue_proof
from bot.i18n import N_, Gettext
from bot.kit.feature import Command, Feature
from bot.kit.guards import public
from bot.kit.markup import button, keyboard, to_json
from bot.kit.menu import HOME, MenuItem
from bot.kit.refusals import staff_button
from bot.kit.reply import alert_and_say, answer, esc
from bot.services import dues, membership_figures, outbox, terms
from bot.services.application_form import recipients as staff_of
from bot.services.errors import DomainError
from bot.views import membership_terms as view

REFUSALS = {
    "member": N_("You are not a member of this association."),
    "revoked": N_("This membership was revoked; please contact the association."),
    "no_fee": N_("This association has no fee: renewing needs no payment."),
    "fee_due": N_("This association has a yearly fee; it is paid when you renew."),
    "decided": N_("This receipt was already decided."),
    "not_covered": N_("This belongs to another association."),
    "payment": N_("This payment no longer exists."),
}
PRE_CHECKOUT = {
    "stale": N_("This invoice is no longer valid. Please ask for a new one from «My membership»."),
    "paid": N_("This invoice is already paid."),
    "amount": N_("The amount of this invoice does not match. Please ask for a new one."),
    "unknown": N_("This invoice is not known."),
}


def _refusal(_: Gettext, exc: DomainError) -> str:
    return _(REFUSALS.get(exc.reason, "This membership is not available."))


@public
async def my_membership(update: Update, context: BotContext) -> None:
    """Each membership with its term, status and a renew button."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    day = terms.today(context.bot_data.clock())
    found = await context.read(membership_figures.memberships_of, user.id, day)
    if not found:
        await answer(
            update,
            _("You are not a member of any association yet."),
            keyboard([[button(_("Main menu"), HOME)]]),
        )
        return
    parts = [_("<b>My membership</b>")]
    rows = []
    for seen in found:
        parts.append(
            view.membership_text(
                _, seen.association.name, seen.member, day, seen.association.yearly_fee_rials or 0
            )
        )
        if seen.status in (terms.DUE, terms.LAPSED):
            rows.append(
                [
                    button(
                        _("Renew: {name}").format(name=seen.association.name), view.RENEW(seen.association.id)
                    )
                ]
            )
    rows.append([button(_("Main menu"), HOME)])
    await answer(update, "\n\n".join(parts), keyboard(rows))


@view.MEMBERSHIP.on(view.RENEW)
@public
async def renew_pressed(update: Update, context: BotContext, association_id: int) -> object:
    """One tap: renewed at once (no fee), an invoice (a provider is set), or the receipt form."""
    _ = context.gettext
    user = update.effective_user
    assert user is not None
    now = context.bot_data.clock()
    token = context.settings.payment_provider_token
    try:
        async with context.transaction() as session:
            fee = await dues.fee_of(session, association_id)
            if fee <= 0:
                member = await dues.renew_free(session, user.id, association_id, now)
                name = await membership_figures.association_name(session, association_id)
                await queue_proof(session, _, member, name, context.settings.document_key)
                end = member.term_end
            elif token:
                payment = await dues.open_invoice(session, user.id, association_id, now)
                name = await membership_figures.association_name(session, association_id)
    except DomainError as exc:
        await alert_and_say(update, _refusal(_, exc))
        return None
    if fee <= 0:
        await answer(
            update,
            _("Your membership was renewed until {date}.").format(date=jalali_day(end) if end else "—"),
            edit=False,
        )
        return None
    if not token:
        return await RECEIPT_FORM.enter(update, context, association_id=association_id, now=now)
    chat = update.effective_chat
    assert chat is not None
    await answer(
        update,
        _("The yearly fee of {name} is {amount}. Pay it with the invoice below.").format(
            name=esc(name), amount=view.money(payment.amount_rials)
        ),
        edit=False,
    )
    try:
        await context.bot.send_invoice(
            chat.id,
            title=_("Membership dues")[:32],
            description=_("Membership of {name} until {date}").format(
                name=name, date=jalali_day(payment.term_end)
            )[:255],
            payload=payment.payload,
            provider_token=token,
            currency=dues.CURRENCY,
            prices=[LabeledPrice(_("Yearly fee"), payment.amount_rials)],
        )
    except TelegramError:
        await answer(update, _("The invoice could not be sent. Please try again later."), edit=False)
    return None


@public
async def pre_checkout(update: Update, context: BotContext) -> None:
    """Answer a pre-checkout query: ok only for an invoice still valid and unpaid."""
    _ = context.gettext
    query = update.pre_checkout_query
    assert query is not None
    reason = await context.read(
        dues.pre_checkout,
        query.invoice_payload,
        query.total_amount,
        query.currency,
        query.from_user.id,
        context.bot_data.clock(),
    )
    if reason is None:
        await query.answer(ok=True)
    else:
        await query.answer(ok=False, error_message=_(PRE_CHECKOUT.get(reason, PRE_CHECKOUT["unknown"])))


@public
async def paid(update: Update, context: BotContext) -> None:
    """A successful payment: recorded once, the term renewed, the receipt and the new certificate."""
    _ = context.gettext
    message = update.effective_message
    assert message is not None and message.successful_payment is not None
    payment = message.successful_payment
    async with context.transaction() as session:
        recorded = await dues.record_payment(
            session,
            payment.invoice_payload,
            payment.telegram_payment_charge_id,
            payment.total_amount,
            payment.currency,
            context.bot_data.clock(),
        )
        if recorded.new:
            await queue_proof(
                session, _, recorded.member, recorded.association, context.settings.document_key
            )
    if recorded.new:
        await answer(update, view.receipt_text(_, recorded.payment, recorded.association), edit=False)


# ---------------------------------------------------------------------------- the receipt photo

RECEIPT = short_form(
    name="dues_receipt",
    fields=(
        Field(
            "photo",
            N_("Please send a photo (or PDF) of the bank transfer receipt for the yearly fee."),
            N_("Receipt"),
            kind="file",
            errors={
                "file_expected": N_("Please send a photo or a PDF of the receipt."),
                "file_type": N_("Please send a photo or a PDF of the receipt."),
            },
        ),
    ),
    store=dues.RECEIPTS,
    submit=dues.submit_receipt,
    cancel=N_("Cancel"),
    errors={"no_fee": REFUSALS["no_fee"], "member": REFUSALS["member"], "revoked": REFUSALS["revoked"]},
)


class ReceiptPresenter(Presenter):
    """The receipt goes to the association's staff with confirm and reject buttons."""

    def intro(self, _: Gettext, screen: Screen) -> list[str]:
        return [_("Amount to pay: {amount}").format(amount=view.money(screen.draft.amount_rials))]

    def submitted(self, _: Gettext, screen: Screen, result: Any) -> Reply:
        return Reply(
            _("Thank you. The association's staff will check the receipt and you will be told."),
            keyboard([[button(_("Main menu"), HOME)]]),
        )

    def notices(self, _: Gettext, result: Any) -> Sequence[Notice]:
        return ()

    async def queue(self, _: Gettext, session: Any, result: Any) -> None:
        staff = await staff_of(session, result.association_id, frozenset())
        name = await membership_figures.association_name(session, result.association_id)
        text = _(
            "A member of {name} sent a receipt for {amount}. Confirm it when the money is in the account."
        ).format(name=esc(name), amount=view.money(result.amount_rials))
        buttons = keyboard(
            [[button(_("Confirm"), view.CONFIRM(result.id)), button(_("Reject"), view.REJECT(result.id))]]
        )
        await outbox.notify(
            session,
            staff,
            text,
            buttons=to_json(buttons),
            media_kind="photo",
            media_file_id=result.photo_file_id,
        )


RECEIPT_FORM = FormConversation(RECEIPT, ReceiptPresenter())


@staff_button(view.MEMBERSHIP, view.CONFIRM, refusal=_refusal)
async def confirm_pressed(update: Update, context: BotContext, payment_id: int) -> None:
    """Staff saw the money: the member renewed, their receipt and new certificate queued."""
    _ = context.gettext
    async with context.transaction() as session:
        recorded = await dues.confirm_receipt(session, context.staff, payment_id, context.bot_data.clock())
        await outbox.notify(
            session,
            [recorded.member.user_id],
            view.receipt_text(_, recorded.payment, recorded.association),
        )
        await queue_proof(session, _, recorded.member, recorded.association, context.settings.document_key)
    await answer(update, _("The receipt was confirmed; the member was told."), edit=False)


@staff_button(view.MEMBERSHIP, view.REJECT, refusal=_refusal)
async def reject_pressed(update: Update, context: BotContext, payment_id: int) -> None:
    """Staff did not find the money: the member is told and may send another receipt."""
    _ = context.gettext
    async with context.transaction() as session:
        payment = await dues.reject_receipt(session, context.staff, payment_id)
        name = await membership_figures.association_name(session, payment.association_id)
        await outbox.notify(
            session,
            [payment.user_id],
            _(
                "The receipt you sent for {name} was not confirmed. Please check it and send it again from «My membership»."
            ).format(name=esc(name)),
        )
    await answer(update, _("The receipt was rejected; the member was told."), edit=False)


FEATURE = Feature(
    name="dues",
    conversations=[RECEIPT_FORM],
    handlers=lambda: [
        PreCheckoutQueryHandler(pre_checkout),
        MessageHandler(filters.SUCCESSFUL_PAYMENT, paid),
    ],
    routes=[view.MEMBERSHIP],
    commands=[Command("membership", N_("My membership"), listed=False, callback=my_membership)],
    menu=[MenuItem("membership", N_("My membership"), 55, my_membership)],
)
