"""A staff decision on an application and what follows it, shared by the chat and the dashboard:
the applicant told (through the outbox) and, on approval with a member number, the certificate and
the card queued. All in the caller's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Gettext
from bot.kit.markup import to_json
from bot.services import decisions, outbox
from bot.views.membership import applicant_notice
from bot.views.membership_terms import queue_proof


async def tell(session: AsyncSession, _: Gettext, decided: decisions.Decided, document_key: bytes) -> None:
    """Queue the applicant's notice and (a numbered membership only) their certificate and card."""
    notice = applicant_notice(_, decided)
    if notice is not None:
        await outbox.notify(session, notice.recipients, notice.text, buttons=to_json(notice.buttons))
    if decided.member is not None:
        await queue_proof(session, _, decided.member, decided.association, document_key)
