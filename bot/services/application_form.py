"""The membership form's rules: how each answer is cleaned, where the draft lives, what would
qualify, and submitting with a tracking code (staff are told through the outbox by the caller)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import eligibility
from bot.services.actor import Actor
from bot.services.applications import (
    FIELDS,
    AlreadyDecided,
    AlreadyMember,
    AlreadyPending,
    BadDocument,
    Incomplete,
    NotAccepting,
    NotEligible,
    documents_of,
    log_event,
)
from bot.services.drafts import DraftStore, FileRef
from bot.services.errors import InvalidAnswer, NotFound
from bot.services.numbers import whole_number
from bot.services.profile import suggestions
from bot.services.staff import ADMIN
from bot.text import normalize_input, normalize_numeric
from db.models import Application, ApplicationDocument, Association, Member, Staff, utcnow
from db.models.applications import (
    DRAFT,
    EDITABLE_STATUSES,
    HOME_BUSINESS,
    MORE_INFO,
    OPEN_STATUSES,
    SUBMITTED,
    WITHDRAWN,
)
from db.models.associations import FORMING, INACTIVE

# Tracking codes: digits only (typed on a Persian keyboard without switching, shown in Persian
# digits), and no 0 or 1, which are easily read as O, I or l (and ۰ as a dot).
CODE_ALPHABET = "23456789"
CODE_LENGTH = 8

MAX_DOCUMENTS = 5
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DOCUMENT_MIMES = ("application/pdf", "image/jpeg", "image/png")
MAX_EXPERIENCE_YEARS = 70
PERMIT_LIMITS = (3, 40)
YEAR_WORDS = ("سال", "ساله", "years", "year")


# ---------------------------------------------------------------------------------------- cleaning


def clean_business_name(raw: str) -> str:
    """The name the business trades (or, for a home business, sells) under."""
    return _clean_text(raw, 2, 100, "business_name")


def clean_activity(raw: str) -> str:
    """What the business does, in a few words."""
    return _clean_text(raw, 3, 200, "activity")


def _clean_text(raw: str, shortest: int, longest: int, what: str) -> str:
    text = " ".join(normalize_input(raw).split())
    if len(text) < shortest:
        raise InvalidAnswer(f"{what}_too_short")
    if len(text) > longest:
        raise InvalidAnswer(f"{what}_too_long")
    if not any(ch.isalpha() for ch in text):
        raise InvalidAnswer(f"{what}_no_letters")
    return text


def clean_years(raw: str) -> int:
    """Years of experience: a whole number («۵», «۵ سال», «۵ ساله»); a decimal or a range is refused
    (``۱.۵`` is never read as 15, nor ``۳-۴`` as 34)."""
    try:
        return whole_number(raw, units=YEAR_WORDS, limit=MAX_EXPERIENCE_YEARS)
    except InvalidAnswer as exc:
        raise InvalidAnswer(f"years_{exc.reason}", **exc.details) from None


def clean_permit(raw: str) -> str:
    """A home-business permit number: 3 to 40 letters or digits (separators dropped)."""
    code = normalize_numeric(raw).replace("/", "")
    if not PERMIT_LIMITS[0] <= len(code) <= PERMIT_LIMITS[1] or not code.isalnum():
        raise InvalidAnswer("permit")
    return code.upper()


# ---------------------------------------------------------------------------------------- the draft


class ApplicationStore(DraftStore[Application]):
    """An application is its own draft (status `draft`, or `more_info` when staff asked for more)."""

    async def current(self, session: AsyncSession, actor: Actor) -> Application | None:
        """The editable application the user last worked on."""
        return await session.scalar(
            select(Application)
            .where(Application.user_id == actor.user_id, Application.status.in_(EDITABLE_STATUSES))
            .order_by(Application.updated_at.desc(), Application.id.desc())
            .limit(1)
        )

    async def open(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> Application:
        """`association_id`: the user's draft for it (started now if none); `application_id`: take up
        one of the user's own editable applications (e.g. after staff asked for more)."""
        if "application_id" in target:
            return await _take_up(session, actor.user_id, int(target["application_id"]))
        return await _open(session, actor.user_id, int(target["association_id"]))

    def value(self, draft: Application, field: str) -> object | None:
        if field == "documents":
            return draft.documents_done
        return getattr(draft, field, None)

    def is_answered(self, draft: Application, field: str) -> bool:
        if field in draft.requested:
            return False
        if field == "documents":
            return draft.documents_done
        return getattr(draft, field) is not None

    async def save(
        self, session: AsyncSession, draft: Application, field: str, value: object, actor: Actor
    ) -> None:
        _editable(draft)
        if field == "documents":
            assert isinstance(value, FileRef)
            await _add_document(session, draft, value)
            return
        if field == "applicant_type" and value != HOME_BUSINESS:
            draft.permit_number = None  # a permit number is only asked of home businesses
        setattr(draft, field, value)
        _answered(draft, field)

    async def finish(self, session: AsyncSession, draft: Application, field: str, actor: Actor) -> None:
        """Leave the upload step; refused (with what would qualify) while a document is needed."""
        _editable(draft)
        if await document_required(session, draft):
            raise NotEligible("document", verdict=await verdict(session, draft))
        draft.documents_done = True
        _answered(draft, "documents")

    async def reopen(self, session: AsyncSession, draft: Application, field: str, actor: Actor) -> None:
        if field == "documents":
            draft.documents_done = False

    async def extras(
        self, session: AsyncSession, draft: Application, field: str | None, actor: Actor
    ) -> Mapping[str, object]:
        found: dict[str, object] = dict(await suggestions(session, actor.user_id))
        association = await session.get(Association, draft.association_id)
        found["association"] = association.name if association is not None else "—"
        if field in (None, "documents"):
            found["files"] = len(await documents_of(session, draft.id))
            found["verdict"] = await verdict(session, draft)
            found["document_required"] = await document_required(session, draft)
        return found

    async def discard(self, session: AsyncSession, draft: Application, actor: Actor) -> None:
        """A never-submitted draft is deleted; one staff have seen is withdrawn (kept for the record)."""
        if draft.status == DRAFT:
            await session.delete(draft)
            return
        if draft.status not in OPEN_STATUSES:
            raise AlreadyDecided(draft.status, status=draft.status)
        draft.status = WITHDRAWN
        log_event(session, draft, actor.user_id, WITHDRAWN)


STORE = ApplicationStore()


async def _open(session: AsyncSession, user_id: int, association_id: int) -> Application:
    association = await session.get(Association, association_id)
    if association is None:
        raise NotFound("association")
    member = await session.scalar(
        select(Member).where(Member.association_id == association_id, Member.user_id == user_id)
    )
    if member is not None:
        raise AlreadyMember(
            "member",
            association=association.name,
            member_number=member.member_number,
            founding=member.founding,
        )
    existing = await session.scalar(
        select(Application).where(
            Application.user_id == user_id,
            Application.association_id == association_id,
            Application.status.in_(OPEN_STATUSES),
        )
    )
    if existing is not None:
        if existing.status == SUBMITTED:
            raise AlreadyPending(
                "pending",
                association=association.name,
                tracking_code=existing.tracking_code,
                submitted_at=existing.submitted_at,
            )
        existing.updated_at = utcnow()  # the draft the conversation is now on
        return existing
    if association.status == INACTIVE:
        raise NotAccepting(association.status)
    application = Application(
        user_id=user_id, association_id=association_id, status=DRAFT, founding=association.status == FORMING
    )
    session.add(application)
    await session.flush()
    log_event(session, application, user_id, "created")
    return application


async def _take_up(session: AsyncSession, user_id: int, application_id: int) -> Application:
    application = await session.get(Application, application_id)
    if application is None or application.user_id != user_id:
        raise NotFound("application")
    _editable(application)
    application.updated_at = utcnow()
    return application


def _editable(application: Application) -> None:
    if application.status not in EDITABLE_STATUSES:
        raise AlreadyDecided(application.status, status=application.status)


def _answered(application: Application, field: str) -> None:
    application.requested_fields = ",".join(f for f in application.requested if f != field)
    application.updated_at = utcnow()


async def _add_document(
    session: AsyncSession, application: Application, file: FileRef
) -> ApplicationDocument:
    mime = file.mime or ("image/jpeg" if file.kind == "photo" else "")
    if file.kind not in ("photo", "document") or mime.lower() not in DOCUMENT_MIMES:
        raise BadDocument("type")
    if file.size is not None and file.size > MAX_DOCUMENT_BYTES:
        raise BadDocument("size")
    if len(await documents_of(session, application.id)) >= MAX_DOCUMENTS:
        raise BadDocument("too_many")
    document = ApplicationDocument(
        application_id=application.id,
        file_id=file.file_id,
        file_unique_id=file.unique_id,
        kind=file.kind,
        mime=mime.lower(),
        size=file.size,
    )
    session.add(document)
    application.updated_at = utcnow()
    await session.flush()
    return document


# ---------------------------------------------------------------------------------------- the rules


async def rules_of(session: AsyncSession, application: Application) -> eligibility.Rules:
    """The rules of the application's association."""
    association = await session.get(Association, application.association_id)
    return eligibility.Rules.of(association) if association is not None else eligibility.Rules()


async def verdict(session: AsyncSession, application: Application) -> eligibility.Verdict:
    """Eligibility of the answers so far."""
    count = len(await documents_of(session, application.id))
    return eligibility.assess(
        await rules_of(session, application), eligibility.Answers.of(application, count)
    )


async def document_required(session: AsyncSession, application: Application) -> bool:
    """The document step cannot be skipped by this applicant."""
    count = len(await documents_of(session, application.id))
    rules = await rules_of(session, application)
    return eligibility.document_required(rules, eligibility.Answers.of(application, count))


# ---------------------------------------------------------------------------------------- submitting


@dataclass(frozen=True)
class Submitted:
    """A sent application, with what the applicant's and the staff's messages need."""

    application: Application
    association: str
    resubmitted: bool
    staff: list[int]
    documents: list[ApplicationDocument]


async def submit(session: AsyncSession, application: Application, actor: Actor) -> Submitted:
    """Send a complete, eligible draft to staff; the tracking code is kept on resubmission."""
    _editable(application)
    for name in FIELDS:
        if name == "permit_number" and application.applicant_type != HOME_BUSINESS:
            continue
        if not STORE.is_answered(application, name):
            raise Incomplete("incomplete", field=name)
    outcome = await verdict(session, application)
    if not outcome.eligible:
        raise NotEligible("rules", verdict=outcome)
    resubmitted = application.status == MORE_INFO
    if application.tracking_code is None:
        application.tracking_code = await _new_code(session)
    application.status = SUBMITTED
    application.submitted_at = utcnow()
    application.requested_fields = ""
    log_event(session, application, application.user_id, "resubmitted" if resubmitted else "submitted")
    association = await session.get(Association, application.association_id)
    staff = await recipients(session, application.association_id, actor.admin_ids)
    return Submitted(
        application,
        association.name if association is not None else "—",
        resubmitted,
        [chat for chat in staff if chat != application.user_id],
        await documents_of(session, application.id),
    )


async def _new_code(session: AsyncSession) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        taken = await session.scalar(select(Application.id).where(Application.tracking_code == code))
        if taken is None:
            return code


async def recipients(session: AsyncSession, association_id: int, admin_ids: frozenset[int]) -> list[int]:
    """Who is told about a new application: the association's staff and every admin."""
    rows = await session.scalars(
        select(Staff.telegram_id).where((Staff.association_id == association_id) | (Staff.role == ADMIN))
    )
    return list(dict.fromkeys([*sorted(admin_ids), *rows]))
