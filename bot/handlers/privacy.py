"""/mydata (a readable Persian summary and a file of everything stored) and the request to delete
one's data, which chamber staff confirm or decline; each side is told through the outbox."""

from __future__ import annotations

from telegram import InputFile, Update

from bot.context import BotContext
from bot.formatting import fa_digits, isolate_ltr, jalali_date, show_mobile
from bot.i18n import N_, Gettext
from bot.kit.callbacks import Router
from bot.kit.feature import Command, Feature
from bot.kit.guards import public, staff_only
from bot.kit.markup import button, keyboard, to_json
from bot.kit.menu import HOME
from bot.kit.reply import answer, esc, sender
from bot.services import applications, outbox, privacy
from bot.services.errors import NotAllowed, NotFound
from bot.views import membership as view

MAX_TEXT = 3800
ROUTES = Router("privacy")
DELETE = ROUTES.action("delete")
DELETE_YES = ROUTES.action("sure")
CONFIRM = ROUTES.action("ok", int)
DECLINE = ROUTES.action("no", int)


def my_data_text(_: Gettext, data: privacy.MyData, names: dict[int, str]) -> str:
    """Everything stored about the user, in Persian words."""
    lines = [_("<b>What the bot stores about you</b>")]
    if data.user is not None:
        lines.append(
            _("Telegram account: {name} (ID {id}), first seen {date}").format(
                name=esc(data.user.first_name),
                id=isolate_ltr(fa_digits(data.user.id)),
                date=jalali_date(data.user.first_seen),
            )
        )
    if data.profile is not None:
        p = data.profile
        lines.append(
            _("Profile: {name}, national ID {nid}, mobile {mobile}, city {city}").format(
                name=esc(p.full_name or "—"),
                nid=isolate_ltr(fa_digits(p.national_id or "—")),
                mobile=show_mobile(p.mobile) if p.mobile else "—",
                city=esc(p.city or "—"),
            )
        )
    for stored in data.applications:
        a = stored.application
        name = names.get(a.association_id, "—")
        lines += [
            "",
            _("Application to {name}: {status}").format(name=esc(name), status=view.status_text(_, a)),
            view.summary(_, a, name, len(stored.documents)),
        ]
    for member in data.memberships:
        number = isolate_ltr(fa_digits(member.member_number)) if member.member_number else _("not yet given")
        lines.append(
            _("Member of {name}, number {number}, since {date}").format(
                name=esc(names.get(member.association_id, "—")),
                number=number,
                date=jalali_date(member.started_at),
            )
        )
    if data.subscriptions:
        lines.append(_("News subscriptions: {count}").format(count=fa_digits(len(data.subscriptions))))
    if data.founding_interests:
        lines.append(
            _("Founding-member interests: {count}").format(count=fa_digits(len(data.founding_interests)))
        )
    lines += [
        "",
        _(
            "The attached file has all of it, for your records. You can ask for your data to be deleted with the button below."
        ),
    ]
    text = "\n".join(lines)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


@public
async def mydata_command(update: Update, context: BotContext) -> None:
    """/mydata: a readable summary plus a file with everything stored about the user."""
    _ = context.gettext
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    async with context.reading() as session:
        data = await privacy.my_data(session, user.id)
        names = await applications.association_names(session)
    await chat.send_message(
        my_data_text(_, data, names), reply_markup=keyboard([[button(_("Delete my data"), DELETE())]])
    )
    await chat.send_document(InputFile(privacy.as_json(data), filename="mydata.json"))


@ROUTES.on(DELETE)
@public
async def delete_pressed(update: Update, context: BotContext) -> None:
    """'Delete my data': ask to confirm."""
    _ = context.gettext
    await answer(
        update,
        _(
            "Delete your data? Your profile, drafts, documents and memberships will be deleted once chamber staff "
            "confirm. Decisions already made stay only as anonymous records."
        ),
        keyboard(
            [[button(_("Yes, ask for deletion"), DELETE_YES())], [button(_("No, back to the menu"), HOME)]]
        ),
    )


@ROUTES.on(DELETE_YES)
@public
async def delete_confirmed(update: Update, context: BotContext) -> None:
    """The user confirmed: record the request; chamber staff are told through the outbox."""
    _ = context.gettext
    user_id = sender(update)
    async with context.transaction() as session:
        request, new = await privacy.request_deletion(session, user_id)
        if new:
            markup = keyboard(
                [
                    [
                        button(_("Confirm deletion"), CONFIRM(request.id)),
                        button(_("Decline"), DECLINE(request.id)),
                    ]
                ]
            )
            await outbox.notify(
                session,
                await privacy.deletion_deciders(session, context.settings.admin_ids),
                _("User {id} asked for their data to be deleted.").format(id=isolate_ltr(fa_digits(user_id))),
                buttons=to_json(markup),
            )
    await answer(update, _("Your request was recorded. You will be told when it is done."))


async def _decide(update: Update, context: BotContext, request_id: int, confirm: bool) -> None:
    _ = context.gettext
    query = update.callback_query
    assert query is not None
    try:
        async with context.transaction() as session:
            if confirm:
                user_id = await privacy.confirm_deletion(session, context.staff, request_id)
                tell = _("Your data was deleted, as you asked.")
            else:
                request = await privacy.decline_deletion(session, context.staff, request_id)
                user_id = request.user_id or 0
                tell = _("Your request to delete your data was declined. Please contact the chamber.")
            await outbox.notify(session, [user_id] if user_id else [], tell)
    except privacy.AlreadyHandled:
        await query.answer(_("This request was already handled."), show_alert=True)
        return
    except NotAllowed:
        await query.answer(_("Only chamber staff can decide this."), show_alert=True)
        return
    except NotFound:
        await query.answer(_("This button is no longer valid. Send /start for the menu."), show_alert=True)
        return
    await answer(update, _("The data was deleted.") if confirm else _("The request was declined."))


@ROUTES.on(CONFIRM)
@staff_only
async def deletion_confirmed(update: Update, context: BotContext, request_id: int) -> None:
    """`privacy:ok:<id>` (chamber staff only)."""
    await _decide(update, context, request_id, confirm=True)


@ROUTES.on(DECLINE)
@staff_only
async def deletion_declined(update: Update, context: BotContext, request_id: int) -> None:
    """`privacy:no:<id>` (chamber staff only)."""
    await _decide(update, context, request_id, confirm=False)


FEATURE = Feature(
    name="privacy",
    routes=[ROUTES],
    commands=[
        Command("mydata", N_("Everything the bot stores about me"), listed=False, callback=mydata_command)
    ],
)
