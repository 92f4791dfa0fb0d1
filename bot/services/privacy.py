"""A user's own data: everything the bot stores about them (/mydata), and deleting it on request
once chamber staff confirm. Decisions already made stay, anonymised."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.applications import FIELDS
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.staff import ADMIN, StaffScope
from db.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    DeletionRequest,
    FoundingInterest,
    Member,
    Profile,
    Staff,
    Subscription,
    User,
    utcnow,
)
from db.models.applications import (
    DELETION_DECLINED,
    DELETION_DONE,
    DELETION_PENDING,
    DRAFT,
    MORE_INFO,
    SUBMITTED,
    WITHDRAWN,
)
from db.session import rowcount

# What anonymising an application clears.
PERSONAL_FIELDS = ("full_name", "national_id", "mobile", "business_name", "activity", "permit_number")


class AlreadyHandled(DomainError):
    """The deletion request was confirmed or declined already (`details["status"]`)."""


@dataclass
class StoredApplication:
    """An application with its documents and history."""

    application: Application
    documents: list[ApplicationDocument]
    events: list[ApplicationEvent]


@dataclass
class MyData:
    """Everything the bot stores about one user."""

    user: User | None
    profile: Profile | None
    applications: list[StoredApplication] = field(default_factory=list)
    memberships: list[Member] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    founding_interests: list[FoundingInterest] = field(default_factory=list)
    deletion_requests: list[DeletionRequest] = field(default_factory=list)


async def my_data(session: AsyncSession, user_id: int) -> MyData:
    """Collect every row about the user."""
    data = MyData(user=await session.get(User, user_id), profile=await session.get(Profile, user_id))
    applications = await session.scalars(
        select(Application).where(Application.user_id == user_id).order_by(Application.id)
    )
    for application in applications:
        documents = await session.scalars(
            select(ApplicationDocument).where(ApplicationDocument.application_id == application.id)
        )
        events = await session.scalars(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == application.id)
            .order_by(ApplicationEvent.id)
        )
        data.applications.append(StoredApplication(application, list(documents), list(events)))
    data.memberships = list(await session.scalars(select(Member).where(Member.user_id == user_id)))
    data.subscriptions = list(
        await session.scalars(select(Subscription).where(Subscription.user_id == user_id))
    )
    data.founding_interests = list(
        await session.scalars(select(FoundingInterest).where(FoundingInterest.user_id == user_id))
    )
    data.deletion_requests = list(
        await session.scalars(select(DeletionRequest).where(DeletionRequest.user_id == user_id))
    )
    return data


def _row(obj: object, columns: tuple[str, ...]) -> dict[str, Any]:
    def plain(value: object) -> object:
        return value.isoformat() if isinstance(value, datetime) else value

    return {name: plain(getattr(obj, name)) for name in columns}


# Every answer of the form (the uploads are listed apart), with the application's own facts around them.
APPLICATION_COLUMNS = (
    "id", "association_id", "status", "tracking_code",
    *(name for name in FIELDS if name != "documents"),
    "last_reason", "created_at", "submitted_at", "decided_at",
)  # fmt: skip


def as_json(data: MyData) -> bytes:
    """The same data as a JSON file (UTF-8, Persian kept readable)."""
    out: dict[str, Any] = {
        "user": _row(data.user, ("id", "first_name", "last_name", "username", "language_code", "first_seen"))
        if data.user
        else None,
        "profile": _row(data.profile, ("full_name", "national_id", "mobile", "city", "updated_at"))
        if data.profile
        else None,
        "applications": [
            {
                **_row(
                    stored.application,
                    APPLICATION_COLUMNS,
                ),
                "documents": [_row(d, ("kind", "mime", "size", "created_at")) for d in stored.documents],
                "history": [_row(e, ("action", "reason", "created_at")) for e in stored.events],
            }
            for stored in data.applications
        ],
        "memberships": [_row(m, ("association_id", "member_number", "started_at")) for m in data.memberships],
        "subscriptions": [_row(s, ("association_id", "created_at")) for s in data.subscriptions],
        "founding_interests": [_row(f, ("association_id", "created_at")) for f in data.founding_interests],
        "deletion_requests": [
            _row(r, ("status", "created_at", "decided_at")) for r in data.deletion_requests
        ],
    }
    return json.dumps(out, ensure_ascii=False, indent=2).encode("utf-8")


async def request_deletion(session: AsyncSession, user_id: int) -> tuple[DeletionRequest, bool]:
    """Ask for the user's data to be deleted; returns the request and whether it is new."""
    existing = await session.scalar(
        select(DeletionRequest).where(
            DeletionRequest.user_id == user_id, DeletionRequest.status == DELETION_PENDING
        )
    )
    if existing is not None:
        return existing, False
    request = DeletionRequest(user_id=user_id)
    session.add(request)
    await session.flush()
    return request, True


async def _take(session: AsyncSession, scope: StaffScope, request_id: int, status: str) -> DeletionRequest:
    # Deleting someone's data is a chamber-wide matter, not one association's.
    if not scope.covers(None):
        raise NotAllowed("not_chamber")
    request = await session.get(DeletionRequest, request_id)
    if request is None:
        raise NotFound("request")
    result = await session.execute(
        update(DeletionRequest)
        .where(DeletionRequest.id == request_id, DeletionRequest.status == DELETION_PENDING)
        .values(status=status, decided_by=scope.user_id, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    await session.refresh(request)
    if rowcount(result) != 1:
        raise AlreadyHandled(request.status, status=request.status)
    return request


async def decline_deletion(session: AsyncSession, scope: StaffScope, request_id: int) -> DeletionRequest:
    """Staff decline a deletion request (e.g. it was not really the user's wish)."""
    return await _take(session, scope, request_id, DELETION_DECLINED)


async def confirm_deletion(session: AsyncSession, scope: StaffScope, request_id: int) -> int:
    """Staff confirm: the user's data goes; decided applications stay as anonymised records.
    Returns the user id (the request itself no longer names them)."""
    request = await _take(session, scope, request_id, DELETION_DONE)
    assert request.user_id is not None
    user_id = request.user_id
    await erase_user(session, user_id, actor_id=scope.user_id)
    request.user_id = None
    await session.flush()
    return user_id


async def erase_user(session: AsyncSession, user_id: int, actor_id: int) -> None:
    """Delete the user's personal data, keeping decisions as anonymised records."""
    applications = list(await session.scalars(select(Application).where(Application.user_id == user_id)))
    for application in applications:
        if application.status == DRAFT:
            await session.delete(application)
            continue
        if application.status in (SUBMITTED, MORE_INFO):
            application.status = WITHDRAWN
            session.add(ApplicationEvent(application_id=application.id, actor_id=actor_id, action=WITHDRAWN))
        for name in PERSONAL_FIELDS:
            setattr(application, name, None)
        application.user_id = None
        application.anonymised = True
        await session.execute(
            delete(ApplicationDocument).where(ApplicationDocument.application_id == application.id)
        )
        # The applicant's own steps (created, submitted) no longer name them; staff decisions keep their actor.
        await session.execute(
            update(ApplicationEvent)
            .where(ApplicationEvent.application_id == application.id, ApplicationEvent.actor_id == user_id)
            .values(actor_id=None)
        )
        session.add(ApplicationEvent(application_id=application.id, actor_id=actor_id, action="anonymised"))
    for model in (Member, Subscription, FoundingInterest):
        await session.execute(delete(model).where(model.user_id == user_id))
    await session.execute(delete(Profile).where(Profile.user_id == user_id))
    await session.execute(delete(User).where(User.id == user_id))
    await session.flush()


async def deletion_deciders(session: AsyncSession, admin_ids: frozenset[int]) -> list[int]:
    """Who decides deletion requests: the chamber's staff and the admins."""
    staff = await session.scalars(
        select(Staff.telegram_id).where(Staff.association_id.is_(None) | (Staff.role == ADMIN))
    )
    return list(dict.fromkeys([*sorted(admin_ids), *staff]))
