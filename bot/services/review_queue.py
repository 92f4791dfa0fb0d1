"""The review queue as the dashboard filters it: applications a staff member covers, by association,
status and age (days since they were sent), oldest first; and one application with what its page
shows (documents, history, the membership it made)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import applications, decisions
from bot.services.errors import NotFound
from bot.services.staff import StaffScope
from db.models import Application, ApplicationDocument, ApplicationEvent, Member, utcnow
from db.models.applications import APPROVED, DRAFT, MORE_INFO, REJECTED, SUBMITTED, WITHDRAWN

# The statuses staff filter by ("" in a filter: every status but unsent drafts).
QUEUE_STATUSES = (SUBMITTED, MORE_INFO, APPROVED, REJECTED, WITHDRAWN)


@dataclass(frozen=True)
class Filters:
    """What the queue shows: an association (None: every one covered), a status ("" any), and only
    applications sent at least `older_than` days ago (0: any age)."""

    association_id: int | None = None
    status: str = SUBMITTED
    older_than: int = 0


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue."""

    items: list[Application]
    total: int
    offset: int


@dataclass(frozen=True)
class Dossier:
    """An application as its page shows it."""

    application: Application
    association: str
    documents: list[ApplicationDocument]
    events: list[ApplicationEvent]
    member: Member | None


async def search(
    session: AsyncSession,
    scope: StaffScope,
    filters: Filters,
    *,
    offset: int = 0,
    limit: int = 20,
    now: datetime | None = None,
) -> QueuePage:
    """The applications matching the filters, within the staff member's scope, oldest first."""
    query = select(Application).where(Application.status != DRAFT)
    if not scope.covers(None):
        query = query.where(Application.association_id.in_(scope.association_ids or {-1}))
    if filters.association_id is not None:
        query = query.where(Application.association_id == filters.association_id)
    if filters.status:
        query = query.where(Application.status == filters.status)
    if filters.older_than > 0:
        cutoff = (now or utcnow()) - timedelta(days=filters.older_than)
        query = query.where(Application.submitted_at <= cutoff)
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.scalars(
        query.order_by(Application.submitted_at, Application.id).offset(max(0, offset)).limit(limit)
    )
    return QueuePage(list(rows), total, max(0, offset))


async def dossier(session: AsyncSession, scope: StaffScope, application_id: int) -> Dossier:
    """One application the staff member covers (NotFound / NotAllowed otherwise; drafts are not
    staff's to see)."""
    application = await decisions.for_staff(session, scope, application_id)
    if application.status == DRAFT:
        raise NotFound("application")
    names = await applications.association_names(session)
    return Dossier(
        application,
        names.get(application.association_id, "—"),
        await applications.documents_of(session, application_id),
        await applications.history(session, application_id),
        await applications.membership_of(session, application) if application.status == APPROVED else None,
    )


async def document(
    session: AsyncSession, scope: StaffScope, application_id: int, document_id: int
) -> ApplicationDocument:
    """One document of an application the staff member covers."""
    await dossier(session, scope, application_id)
    found = await session.get(ApplicationDocument, document_id)
    if found is None or found.application_id != application_id:
        raise NotFound("document")
    return found
