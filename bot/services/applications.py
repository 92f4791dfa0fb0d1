"""Membership applications: drafts saved per answer, submission with a tracking code, staff
decisions (first decision wins), membership on approval, and CSV exports."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import eligibility
from bot.services.errors import DomainError, NotAllowed, NotFound
from bot.services.profile import clean_city, clean_name
from bot.services.staff import ADMIN, StaffScope
from bot.services.validators import normalize_mobile, normalize_national_id
from bot.text import normalize_input, normalize_numeric
from db.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    Association,
    Member,
    Staff,
    utcnow,
)
from db.models.applications import (
    APPLICANT_TYPES,
    APPROVED,
    DRAFT,
    EDITABLE_STATUSES,
    EDUCATION_LEVELS,
    HOME_BUSINESS,
    MORE_INFO,
    OPEN_STATUSES,
    REJECTED,
    SUBMITTED,
    WITHDRAWN,
)
from db.models.associations import ACTIVE

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
# Answers the user's saved profile can fill in with one tap.
PROFILE_FIELDS = ("full_name", "national_id", "mobile", "city")

DECISIONS = (APPROVED, REJECTED, MORE_INFO)

# Tracking codes: digits only (typed on a Persian keyboard without switching, shown in Persian
# digits), and no 0 or 1, which are easily read as O, I or l (and ۰ as a dot).
CODE_ALPHABET = "23456789"
CODE_LENGTH = 8

MAX_DOCUMENTS = 5
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DOCUMENT_MIMES = ("application/pdf", "image/jpeg", "image/png")
MAX_EXPERIENCE_YEARS = 70
PERMIT_LIMITS = (3, 40)


class InvalidAnswer(DomainError):
    """An answer that cannot be stored; `reason` says why."""


class AlreadyPending(DomainError):
    """The person already has a submitted application to this association (details: association,
    tracking_code, submitted_at: plain values, as the transaction is rolled back)."""


class AlreadyMember(DomainError):
    """The person is already a member of this association (details: association, member_number)."""


class NotAccepting(DomainError):
    """The association does not take applications (forming or inactive)."""


class Incomplete(DomainError):
    """Something is still unanswered (`details["field"]`)."""


class NotEligible(DomainError):
    """The answers do not meet the rules yet (`details["verdict"]` says what would)."""


class AlreadyDecided(DomainError):
    """Someone decided first; `details["status"]` is the decision that stands."""


class BadDocument(DomainError):
    """Reasons: "type", "size", "too_many"."""


# ---------------------------------------------------------------------------------------- the form


def applies(application: Application, field: str) -> bool:
    """Whether a field is asked of this applicant (the permit number only of home businesses)."""
    if field == "permit_number":
        return application.applicant_type == HOME_BUSINESS
    return True


def is_answered(application: Application, field: str) -> bool:
    """Whether the applicant has answered `field` ("" counts for the optional permit number)."""
    if field == "documents":
        return application.documents_done
    return getattr(application, field) is not None


def next_step(application: Application) -> str | None:
    """The first unanswered field, else the first field staff asked about; None: the summary."""
    for field in FIELDS:
        if applies(application, field) and not is_answered(application, field):
            return field
    for field in application.requested:
        if field in FIELDS and applies(application, field):
            return field
    return None


def clean_answer(field: str, raw: str) -> str | int:
    """Validate and normalise one typed answer (raises InvalidAnswer or a ValidationError)."""
    text = " ".join(normalize_input(raw).split())
    if field == "applicant_type":
        if text not in APPLICANT_TYPES:
            raise InvalidAnswer("choice")
        return text
    if field == "education":
        if text not in EDUCATION_LEVELS:
            raise InvalidAnswer("choice")
        return text
    if field == "full_name":
        return clean_name(raw)
    if field == "national_id":
        return normalize_national_id(raw)
    if field == "mobile":
        return normalize_mobile(raw)
    if field == "city":
        return clean_city(raw)
    if field == "business_name":
        return _clean_text(text, 2, 100, "business_name")
    if field == "activity":
        return _clean_text(text, 3, 200, "activity")
    if field == "experience_years":
        return _clean_years(text)
    if field == "permit_number":
        return _clean_permit(text)
    raise ValueError(f"unknown application field {field!r}")


def _clean_text(text: str, shortest: int, longest: int, what: str) -> str:
    if len(text) < shortest:
        raise InvalidAnswer(f"{what}_too_short")
    if len(text) > longest:
        raise InvalidAnswer(f"{what}_too_long")
    if not any(ch.isalpha() for ch in text):
        raise InvalidAnswer(f"{what}_no_letters")
    return text


def _clean_years(text: str) -> int:
    digits = normalize_numeric(text)
    for word in ("سال", "years", "year"):
        digits = digits.replace(word, "")
    if not digits.isdecimal():
        raise InvalidAnswer("years_not_number")
    years = int(digits)
    if years > MAX_EXPERIENCE_YEARS:
        raise InvalidAnswer("years_too_many")
    return years


def _clean_permit(text: str) -> str:
    code = normalize_numeric(text).replace("/", "")
    if not PERMIT_LIMITS[0] <= len(code) <= PERMIT_LIMITS[1] or not code.isalnum():
        raise InvalidAnswer("permit")
    return code.upper()


# ---------------------------------------------------------------------------------------- drafts


async def active_associations(session: AsyncSession) -> list[Association]:
    """Associations that take applications, by name."""
    rows = await session.scalars(
        select(Association).where(Association.status == ACTIVE).order_by(Association.name)
    )
    return list(rows)


async def open_draft(session: AsyncSession, user_id: int, association_id: int) -> Application:
    """The user's editable application to this association, started now if there is none."""
    association = await session.get(Association, association_id)
    if association is None:
        raise NotFound("association")
    member = await session.scalar(
        select(Member).where(Member.association_id == association_id, Member.user_id == user_id)
    )
    if member is not None:
        raise AlreadyMember("member", association=association.name, member_number=member.member_number)
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
        await session.flush()
        return existing
    if association.status != ACTIVE:
        raise NotAccepting(association.status)
    application = Application(user_id=user_id, association_id=association_id, status=DRAFT)
    session.add(application)
    await session.flush()
    _log(session, application, user_id, "created")
    await session.flush()
    return application


async def current_draft(session: AsyncSession, user_id: int) -> Application | None:
    """The editable application the user last worked on (the one the conversation fills in)."""
    return await session.scalar(
        select(Application)
        .where(Application.user_id == user_id, Application.status.in_(EDITABLE_STATUSES))
        .order_by(Application.updated_at.desc(), Application.id.desc())
        .limit(1)
    )


async def editable(session: AsyncSession, user_id: int, application_id: int) -> Application:
    """One of the user's own applications that they may still change, made the current one."""
    application = await session.get(Application, application_id)
    if application is None or application.user_id != user_id:
        raise NotFound("application")
    if application.status not in EDITABLE_STATUSES:
        raise AlreadyDecided(application.status, status=application.status)
    application.updated_at = utcnow()
    await session.flush()
    return application


async def save_answer(session: AsyncSession, application: Application, field: str, raw: str) -> Application:
    """Validate one answer and store it at once; a field staff asked about counts as answered again."""
    if application.status not in EDITABLE_STATUSES:
        raise AlreadyDecided(application.status, status=application.status)
    value = clean_answer(field, raw)
    if field == "applicant_type" and value != application.applicant_type and value != HOME_BUSINESS:
        application.permit_number = None  # a permit number is only asked of home businesses
    setattr(application, field, value)
    _answered(application, field)
    await session.flush()
    return application


async def skip_permit(session: AsyncSession, application: Application) -> Application:
    """A home business without a permit number: an ordinary answer, not a dead end."""
    application.permit_number = ""
    _answered(application, "permit_number")
    await session.flush()
    return application


def _answered(application: Application, field: str) -> None:
    application.requested_fields = ",".join(f for f in application.requested if f != field)
    application.updated_at = utcnow()


async def documents_of(session: AsyncSession, application_id: int) -> list[ApplicationDocument]:
    """The documents of an application, in the order they were sent."""
    rows = await session.scalars(
        select(ApplicationDocument)
        .where(ApplicationDocument.application_id == application_id)
        .order_by(ApplicationDocument.id)
    )
    return list(rows)


async def add_document(
    session: AsyncSession,
    application: Application,
    *,
    file_id: str,
    file_unique_id: str | None,
    kind: str,
    mime: str | None,
    size: int | None,
) -> ApplicationDocument:
    """Keep a photo or PDF of a licence or permit (type and size checked)."""
    if kind == "photo":
        mime = mime or "image/jpeg"
    if kind not in ("photo", "document") or (mime or "").lower() not in DOCUMENT_MIMES:
        raise BadDocument("type")
    if size is not None and size > MAX_DOCUMENT_BYTES:
        raise BadDocument("size")
    if len(await documents_of(session, application.id)) >= MAX_DOCUMENTS:
        raise BadDocument("too_many")
    document = ApplicationDocument(
        application_id=application.id,
        file_id=file_id,
        file_unique_id=file_unique_id,
        kind=kind,
        mime=(mime or "").lower(),
        size=size,
    )
    session.add(document)
    application.updated_at = utcnow()
    await session.flush()
    return document


async def clear_documents(session: AsyncSession, application: Application) -> None:
    """Remove the documents of a draft (to send better ones)."""
    await session.execute(
        delete(ApplicationDocument).where(ApplicationDocument.application_id == application.id)
    )
    application.documents_done = False
    await session.flush()


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


async def finish_documents(session: AsyncSession, application: Application) -> Application:
    """Leave the upload step; refused (with what would qualify) when a document is needed."""
    if await document_required(session, application):
        raise NotEligible("document", verdict=await verdict(session, application))
    application.documents_done = True
    _answered(application, "documents")
    await session.flush()
    return application


async def discard(session: AsyncSession, application: Application, actor_id: int) -> str:
    """A never-submitted draft is deleted; one staff have seen is withdrawn (kept for the record)."""
    if application.status == DRAFT:
        await session.delete(application)
        await session.flush()
        return "deleted"
    if application.status not in OPEN_STATUSES:
        raise AlreadyDecided(application.status, status=application.status)
    application.status = WITHDRAWN
    _log(session, application, actor_id, WITHDRAWN)
    await session.flush()
    return WITHDRAWN


# ---------------------------------------------------------------------------------------- submission


async def _new_code(session: AsyncSession) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        taken = await session.scalar(select(Application.id).where(Application.tracking_code == code))
        if taken is None:
            return code


def normalize_code(text: str) -> str:
    """A tracking code as typed (Persian digits, spaces, dashes) in its stored form."""
    return normalize_numeric(text).upper()


async def submit(session: AsyncSession, application: Application) -> Application:
    """Send a complete, eligible draft to staff; the tracking code is kept on resubmission."""
    if application.status not in EDITABLE_STATUSES:
        raise AlreadyDecided(application.status, status=application.status)
    missing = next_step(application)
    if missing is not None:
        raise Incomplete("incomplete", field=missing)
    outcome = await verdict(session, application)
    if not outcome.eligible:
        raise NotEligible("rules", verdict=outcome)
    action = "resubmitted" if application.status == MORE_INFO else "submitted"
    if application.tracking_code is None:
        application.tracking_code = await _new_code(session)
    application.status = SUBMITTED
    application.submitted_at = utcnow()
    application.requested_fields = ""
    _log(session, application, application.user_id, action)
    await session.flush()
    return application


async def recipients(session: AsyncSession, association_id: int, admin_ids: Collection[int]) -> list[int]:
    """Who is told about a new application: the association's staff and every admin."""
    rows = await session.scalars(
        select(Staff.telegram_id).where((Staff.association_id == association_id) | (Staff.role == ADMIN))
    )
    return list(dict.fromkeys([*sorted(admin_ids), *rows]))


# ---------------------------------------------------------------------------------------- decisions


async def for_staff(session: AsyncSession, scope: StaffScope, application_id: int) -> Application:
    """An application the staff member may see (their association's, or any for chamber staff)."""
    application = await session.get(Application, application_id)
    if application is None:
        raise NotFound("application")
    if not scope.covers(application.association_id):
        raise NotAllowed("not_covered")
    return application


async def decide(
    session: AsyncSession,
    scope: StaffScope,
    application_id: int,
    decision: str,
    reason: str | None = None,
    fields: Sequence[str] = (),
) -> Application:
    """Approve, reject or ask for more information; the first decision wins, later ones raise
    AlreadyDecided. Approval makes the applicant a member."""
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    application = await for_staff(session, scope, application_id)
    asked = [f for f in fields if f in FIELDS]
    if decision == MORE_INFO and not asked:
        raise InvalidAnswer("no_fields")
    if decision in (REJECTED, MORE_INFO) and not (reason or "").strip():
        raise InvalidAnswer("no_reason")
    values: dict[str, object] = {
        "status": decision,
        "decided_at": utcnow(),
        "decided_by": scope.user_id,
        "last_reason": (reason or "").strip() or None,
    }
    if decision == MORE_INFO:
        values["requested_fields"] = ",".join(asked)
        if "documents" in asked:
            values["documents_done"] = False
    # The conditional UPDATE is the race guard: only one decision can find the row still submitted.
    result = await session.execute(
        update(Application)
        .where(Application.id == application_id, Application.status == SUBMITTED)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        await session.refresh(application)
        raise AlreadyDecided(application.status, status=application.status)
    await session.refresh(application)
    _log(session, application, scope.user_id, decision, values["last_reason"])  # type: ignore[arg-type]
    if decision == APPROVED and application.user_id is not None:
        await _make_member(session, application)
    await session.flush()
    return application


async def _make_member(session: AsyncSession, application: Application) -> Member:
    assert application.user_id is not None
    member = await session.scalar(
        select(Member).where(
            Member.association_id == application.association_id, Member.user_id == application.user_id
        )
    )
    if member is None:
        # Derived from the application id, so two approvals at once never collide.
        member = Member(
            association_id=application.association_id,
            user_id=application.user_id,
            member_number=member_number(application),
            started_at=utcnow(),
            application_id=application.id,
        )
        session.add(member)
        await session.flush()
    return member


def member_number(application: Application) -> str:
    """The member number an approved application gives, e.g. 12-00042."""
    return f"{application.association_id}-{application.id:05d}"


async def membership_of(session: AsyncSession, application: Application) -> Member | None:
    """The membership an approved application made."""
    if application.user_id is None:
        return None
    return await session.scalar(
        select(Member).where(
            Member.association_id == application.association_id, Member.user_id == application.user_id
        )
    )


@dataclass(frozen=True)
class Page:
    """One page of pending applications."""

    items: list[Application]
    total: int
    offset: int


async def pending(session: AsyncSession, scope: StaffScope, offset: int = 0, limit: int = 5) -> Page:
    """Submitted applications the staff member covers, oldest first."""
    query = select(Application).where(Application.status == SUBMITTED)
    if not (scope.is_admin or scope.chamber_wide):
        query = query.where(Application.association_id.in_(scope.association_ids or {-1}))
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.scalars(
        query.order_by(Application.submitted_at, Application.id).offset(max(0, offset)).limit(limit)
    )
    return Page(list(rows), total, max(0, offset))


# ---------------------------------------------------------------------------------------- status


async def of_user(session: AsyncSession, user_id: int) -> list[Application]:
    """All of the user's applications (drafts included), newest first."""
    rows = await session.scalars(
        select(Application).where(Application.user_id == user_id).order_by(Application.id.desc())
    )
    return list(rows)


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


def _log(
    session: AsyncSession,
    application: Application,
    actor_id: int | None,
    action: str,
    reason: str | None = None,
) -> None:
    session.add(
        ApplicationEvent(application_id=application.id, actor_id=actor_id, action=action, reason=reason)
    )


# ---------------------------------------------------------------------------------------- exports


def to_csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """CSV in UTF-8 with a BOM, so spreadsheet programs read the Persian text right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class MemberRow:
    """A member with the details of the application that made them one (if any)."""

    member: Member
    application: Application | None


async def member_rows(session: AsyncSession, scope: StaffScope, association_id: int) -> list[MemberRow]:
    """The association's members, oldest first (staff of that association only)."""
    if not scope.covers(association_id):
        raise NotAllowed("not_covered")
    members = await session.scalars(
        select(Member).where(Member.association_id == association_id).order_by(Member.started_at, Member.id)
    )
    rows = []
    for member in members:
        application = (
            await session.get(Application, member.application_id)
            if member.application_id is not None
            else None
        )
        rows.append(MemberRow(member, application))
    return rows


async def application_rows(
    session: AsyncSession, scope: StaffScope, association_id: int
) -> list[Application]:
    """Every application to the association except unsent drafts, oldest first."""
    if not scope.covers(association_id):
        raise NotAllowed("not_covered")
    rows = await session.scalars(
        select(Application)
        .where(Application.association_id == association_id, Application.status != DRAFT)
        .order_by(Application.id)
    )
    return list(rows)
