"""Membership applications, what every part of the membership feature shares: the questions' names,
the errors, and reading an application (by user, by tracking code, its documents and history)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import DomainError
from bot.services.staff import scope_of
from bot.text import collation_key, normalize_numeric
from db.models import Application, ApplicationDocument, ApplicationEvent, Association, Member, PendingDecision
from db.models.applications import (
    APPLICANT_TYPES,
    APPROVED,
    EDUCATION_LEVELS,
    HOME_BUSINESS,
    MORE_INFO,
    REJECTED,
)
from db.models.associations import ACTIVE, FORMING

# The rows and words the membership handlers read (they never import the database layer).
__all__ = [
    "APPLICANT_TYPES",
    "APPROVED",
    "EDUCATION_LEVELS",
    "HOME_BUSINESS",
    "MORE_INFO",
    "REJECTED",
    "Application",
    "ApplicationEvent",
    "PendingDecision",
]

# The form, in the order it is asked. "documents" is the upload step.
FIELDS = (
    "applicant_type",
    "full_name",
    "national_id",
    "mobile",
    "business_name",
    "activity",
    "city",
    "experience_years",
    "education",
    "permit_number",
    "documents",
)
# Statuses of associations that take applications: active ones, and those being formed (whose
# applicants become founding members).
ACCEPTING = (ACTIVE, FORMING)


class AlreadyPending(DomainError):
    """The person already has a submitted application to this association (details: association,
    tracking_code, submitted_at: plain values, as the transaction is rolled back)."""


class AlreadyMember(DomainError):
    """The person is already a member of this association (details: association, member_number)."""


class NotAccepting(DomainError):
    """The association does not take applications (inactive)."""


class Incomplete(DomainError):
    """Something is still unanswered (`details["field"]`)."""


class NotEligible(DomainError):
    """The answers do not meet the rules yet (`details["verdict"]` says what would)."""


class AlreadyDecided(DomainError):
    """Someone decided first; `details["status"]` is the decision that stands."""


class BadDocument(DomainError):
    """Reasons: "type", "size", "too_many"."""


async def accepting_associations(session: AsyncSession) -> list[Association]:
    """Associations that take applications (active and being formed), in Persian alphabetical order."""
    rows = await session.scalars(select(Association).where(Association.status.in_(ACCEPTING)))
    return sorted(rows, key=lambda a: collation_key(a.name))


async def documents_of(session: AsyncSession, application_id: int) -> list[ApplicationDocument]:
    """The documents of an application, in the order they were sent."""
    rows = await session.scalars(
        select(ApplicationDocument)
        .where(ApplicationDocument.application_id == application_id)
        .order_by(ApplicationDocument.id)
    )
    return list(rows)


async def membership_of(session: AsyncSession, application: Application) -> Member | None:
    """The membership an approved application made."""
    if application.user_id is None:
        return None
    return await session.scalar(
        select(Member).where(
            Member.association_id == application.association_id, Member.user_id == application.user_id
        )
    )


async def of_user(session: AsyncSession, user_id: int) -> list[Application]:
    """All of the user's applications (drafts included), newest first."""
    rows = await session.scalars(
        select(Application).where(Application.user_id == user_id).order_by(Application.id.desc())
    )
    return list(rows)


def normalize_code(text: str) -> str:
    """A tracking code as typed (Persian digits, spaces, dashes) in its stored form."""
    return normalize_numeric(text).upper()


async def by_code(session: AsyncSession, code: str) -> Application | None:
    """The application with this tracking code."""
    return await session.scalar(select(Application).where(Application.tracking_code == normalize_code(code)))


async def history(session: AsyncSession, application_id: int) -> list[ApplicationEvent]:
    """The audit log of one application, oldest first."""
    rows = await session.scalars(
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == application_id)
        .order_by(ApplicationEvent.created_at, ApplicationEvent.id)
    )
    return list(rows)


def log_event(
    session: AsyncSession,
    application: Application,
    actor_id: int | None,
    action: str,
    reason: str | None = None,
) -> None:
    """Add a line to an application's audit log."""
    session.add(
        ApplicationEvent(application_id=application.id, actor_id=actor_id, action=action, reason=reason)
    )


async def association_names(session: AsyncSession) -> dict[int, str]:
    """Every association's name by id (for lists of applications)."""
    return {a.id: a.name for a in await session.scalars(select(Association))}


def member_number(application: Application) -> str:
    """The member number an approved application gives, e.g. 12-00042."""
    return f"{application.association_id}-{application.id:05d}"


@dataclass(frozen=True)
class Followed:
    """An application as its applicant follows it: the row, its history, the membership it made."""

    application: Application
    association: str
    events: list[ApplicationEvent]
    member: Member | None


async def followed(session: AsyncSession, user_id: int, limit: int = 10) -> list[Followed]:
    """The user's latest applications with their history (for «My requests»)."""
    names = await association_names(session)
    found = []
    for application in (await of_user(session, user_id))[:limit]:
        found.append(await _follow(session, application, names))
    return found


async def _follow(session: AsyncSession, application: Application, names: dict[int, str]) -> Followed:
    member = await membership_of(session, application) if application.status == "approved" else None
    return Followed(
        application,
        names.get(application.association_id, "—"),
        await history(session, application.id),
        member,
    )


async def followed_by_code(
    session: AsyncSession, code: str, user_id: int, admin_ids: frozenset[int]
) -> Followed | None:
    """/status: the application with this code, to its applicant or its association's staff only."""
    application = await by_code(session, code)
    if application is None:
        return None
    if application.user_id != user_id:
        scope = await scope_of(session, user_id, admin_ids)
        if not scope.covers(application.association_id):
            return None
    return await _follow(session, application, await association_names(session))
