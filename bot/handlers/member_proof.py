"""Proof of membership: the certificate (PDF) and card (photo) queued in the outbox on approval and
each renewal and rendered when they are sent, `/start verify_<code>` for anyone, and the daily
renewal reminders (from the database, once each: see bot/services/terms.py)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot import delivery
from bot.context import BotApplication, BotContext
from bot.documents import card_png, certificate_pdf
from bot.kit.feature import Feature
from bot.kit.guards import public
from bot.kit.markup import button, keyboard, to_json
from bot.kit.reply import answer
from bot.services import membership_figures as figures
from bot.services import terms
from bot.views import membership_terms as view

log = logging.getLogger(__name__)
queue_proof = view.queue_proof
REMINDER_JOB = "membership-reminders"
REMINDER_INTERVAL = timedelta(hours=1)


class _Keys:
    """The verification-code key of this process (from the settings, set when the bot is built)."""

    key: bytes = b""
    bale: bool = False


KEYS = _Keys()


@delivery.generated(view.PROOF_KIND)
async def render_proof(application: Any, reference: str) -> InputFile | None:
    """`<member id>:pdf|card:<term end>`: the certificate or the card, drawn from the database now
    (None: the membership is gone, and the delivery fails permanently)."""
    member_id, kind, _end = reference.split(":", 2)
    data = application.bot_data
    _ = data.translations.gettext
    async with data.reader() as session:
        found = await figures.proof_facts(session, int(member_id))
    if found is None:
        return None
    member, name, business, association = found
    link = view.verify_link(
        application.bot.username or "", member.verify_code or "", bale=data.settings.is_bale
    )
    if kind == "card":
        layout = view.card_layout(_, name=name, association=association, member=member, link=link)
        return InputFile(await asyncio.to_thread(card_png, layout), filename="card.png")
    certificate = view.certificate_layout(
        _, name=name, business=business, association=association, member=member, link=link
    )
    number = member.member_number or str(member.id)
    pdf = await asyncio.to_thread(certificate_pdf, certificate)
    return InputFile(pdf, filename=f"membership-{number}.pdf")


@public
async def verify(update: Update, context: BotContext) -> None:
    """`/start verify_<code>`: valid today or not, for whom and until when; nothing more."""
    _ = context.gettext
    text = update.effective_message.text or "" if update.effective_message else ""
    code = text.partition("verify_")[2]
    day = terms.today(context.bot_data.clock())
    async with context.reading() as session:
        found = await figures.verify(session, context.settings.document_key, code, day)
    await answer(update, view.verified_text(_, found))


async def queue_reminders(context: BotContext) -> None:
    """The repeating job: renewal reminders due today go into the outbox (once each)."""
    _ = context.gettext
    async with context.transaction() as session:
        created = await terms.queue_reminders(
            session,
            lambda member, days, name: view.reminder_text(_, member, days, name),
            context.bot_data.clock(),
            lambda member: (
                to_json(keyboard([[button(_("Renew my membership"), view.RENEW(member.association_id))]]))
                or []
            ),
        )
    if created:
        log.info("Queued %d renewal reminder(s)", len(created))


def schedule(application: BotApplication) -> None:
    """Keep the key and wake the reminder planner every hour (it reads the database)."""
    KEYS.key = application.bot_data.settings.document_key
    KEYS.bale = application.bot_data.settings.is_bale
    if application.job_queue is None:
        return
    application.job_queue.run_repeating(
        queue_reminders, interval=REMINDER_INTERVAL, first=timedelta(seconds=20), name=REMINDER_JOB
    )


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """The verification deep link."""
    return [CommandHandler("start", verify, filters=filters.Regex(r"^/start verify_[A-Za-z0-9_-]+$"))]


FEATURE = Feature(name="member_proof", handlers=handlers, schedule=schedule)
