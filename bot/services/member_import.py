"""Importing an association's existing members from .xlsx or .csv: a preview with a verdict per row
(new, bad with its reason, duplicate), then invitations: each imported member gets a deep link
that binds their Telegram account once they confirm their national ID."""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import JalaliParseError, parse_jalali
from bot.services import terms
from bot.services.actor import Actor
from bot.services.drafts import DraftStore
from bot.services.errors import DomainError, InvalidAnswer, NotAllowed, NotFound
from bot.services.staff import StaffScope
from bot.services.validators import InvalidNationalId, normalize_national_id
from bot.text import normalize_input, normalize_numeric
from db.models import InviteClaim, Member, MemberImport, MemberInvite, utcnow

MAX_BYTES = 2_000_000
MAX_ROWS = 5000
MAX_TRIES = 5
NEW, BAD, DUPLICATE = "new", "bad", "duplicate"
# Header cells, English or Persian, to column names.
HEADERS = {
    "name": "name",
    "full_name": "name",
    "نام": "name",
    "نام و نام خانوادگی": "name",
    "national_id": "national_id",
    "کد ملی": "national_id",
    "member_number": "member_number",
    "number": "member_number",
    "شماره عضویت": "member_number",
    "شمارهٔ عضویت": "member_number",
    "valid_until": "valid_until",
    "term_end": "valid_until",
    "اعتبار تا": "valid_until",
}
REQUIRED = ("name", "national_id", "member_number")


class BadFile(DomainError):
    """The file cannot be read as a member list (reason: too_big, unreadable, no_rows, columns)."""


@dataclass(frozen=True)
class Verdict:
    """One row of the file and what the import does with it."""

    line: int
    name: str
    national_id: str
    member_number: str
    valid_until: str  # ISO date or ""
    verdict: str
    reason: str = ""


def _cells(data: bytes, xlsx: bool) -> list[list[str]]:
    if len(data) > MAX_BYTES:
        raise BadFile("too_big")
    try:
        if xlsx:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
            return [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]
        text = data.decode("utf-8-sig")
        first = text.split("\n", 1)[0]
        delimiter = ";" if ";" in first and "," not in first else ","
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except Exception as exc:
        raise BadFile("unreadable") from exc


def _date(cell: str) -> str:
    text = normalize_numeric(cell).strip()
    if not text:
        return ""
    try:
        return terms.today(parse_jalali(text.split(" ")[0])).isoformat()
    except JalaliParseError:
        return date.fromisoformat(text[:10]).isoformat()


async def preview(session: AsyncSession, association_id: int, data: bytes, *, xlsx: bool) -> list[Verdict]:
    """Every row with its verdict; nothing is written."""
    lines = [row for row in _cells(data, xlsx)]
    if not lines:
        raise BadFile("no_rows")
    header = [HEADERS.get(normalize_input(c).strip().lower(), "") for c in lines[0]]
    if any(name not in header for name in REQUIRED):
        raise BadFile("columns")
    known_ids = set(
        await session.scalars(
            select(MemberInvite.national_id).where(MemberInvite.association_id == association_id)
        )
    )
    known_numbers = set(
        await session.scalars(select(Member.member_number).where(Member.association_id == association_id))
    ) | set(
        await session.scalars(
            select(MemberInvite.member_number).where(MemberInvite.association_id == association_id)
        )
    )
    seen_ids: set[str] = set()
    seen_numbers: set[str] = set()
    verdicts: list[Verdict] = []
    for line, cells in enumerate(lines[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        row = {
            name: normalize_input(cells[i]).strip()
            for i, name in enumerate(header)
            if name and i < len(cells)
        }
        name, number = row.get("name", ""), normalize_numeric(row.get("member_number", "")).strip()
        raw_id = row.get("national_id", "")
        verdict, reason, nid, until = NEW, "", raw_id, ""
        try:
            nid = normalize_national_id(raw_id)
            until = _date(row.get("valid_until", ""))
        except InvalidNationalId:
            verdict, reason = BAD, "national_id"
        except ValueError:
            verdict, reason = BAD, "date"
        if verdict == NEW and not (2 <= len(name) <= 256):
            verdict, reason = BAD, "name"
        elif verdict == NEW and not (1 <= len(number) <= 32):
            verdict, reason = BAD, "number"
        elif verdict == NEW and (nid in known_ids or nid in seen_ids):
            verdict, reason = DUPLICATE, "national_id"
        elif verdict == NEW and (number in known_numbers or number in seen_numbers):
            verdict, reason = DUPLICATE, "number"
        if verdict == NEW:
            seen_ids.add(nid)
            seen_numbers.add(number)
        verdicts.append(Verdict(line, name, nid, number, until, verdict, reason))
        if len(verdicts) > MAX_ROWS:
            raise BadFile("too_big")
    if not verdicts:
        raise BadFile("no_rows")
    return verdicts


async def stage(
    session: AsyncSession, scope: StaffScope, association_id: int, data: bytes, *, xlsx: bool
) -> tuple[MemberImport, list[Verdict]]:
    """Read the file and keep its verdicts until staff choose."""
    if not scope.covers(association_id):
        raise NotAllowed("not_covered")
    verdicts = await preview(session, association_id, data, xlsx=xlsx)
    staged = MemberImport(
        staff_id=scope.user_id, association_id=association_id, rows=json.dumps([asdict(v) for v in verdicts])
    )
    session.add(staged)
    await session.flush()
    return staged, verdicts


async def apply(session: AsyncSession, scope: StaffScope, import_id: int) -> list[MemberInvite]:
    """Import the new rows of a staged file as invitations (once; a second press does nothing)."""
    staged = await session.get(MemberImport, import_id)
    if staged is None or staged.staff_id != scope.user_id or staged.done_at is not None:
        raise NotFound("import")
    if not scope.covers(staged.association_id):
        raise NotAllowed("not_covered")
    staged.done_at = utcnow()
    invites = []
    for row in json.loads(staged.rows):
        if row["verdict"] != NEW:
            continue
        taken = await session.scalar(
            select(MemberInvite.id).where(
                MemberInvite.association_id == staged.association_id,
                MemberInvite.national_id == row["national_id"],
            )
        )
        if taken is not None:
            continue
        invite = MemberInvite(
            association_id=staged.association_id,
            full_name=row["name"],
            national_id=row["national_id"],
            member_number=row["member_number"],
            term_end=date.fromisoformat(row["valid_until"]) if row["valid_until"] else None,
            token=secrets.token_urlsafe(12),
            created_by=scope.user_id,
        )
        session.add(invite)
        invites.append(invite)
    await session.flush()
    return invites


async def cancel(session: AsyncSession, scope: StaffScope, import_id: int) -> None:
    """Drop a staged file."""
    staged = await session.get(MemberImport, import_id)
    if staged is None or staged.staff_id != scope.user_id or staged.done_at is not None:
        raise NotFound("import")
    await session.delete(staged)


# ---------------------------------------------------------------------------- binding an invitation


class InviteClaims(DraftStore[InviteClaim]):
    """The national-ID confirmation of an invitation link: one row per user while they answer."""

    async def current(self, session: AsyncSession, actor: Actor) -> InviteClaim | None:
        return await session.get(InviteClaim, actor.user_id)

    async def open(self, session: AsyncSession, actor: Actor, target: Mapping[str, Any]) -> InviteClaim:
        invite = await session.scalar(select(MemberInvite).where(MemberInvite.token == str(target["token"])))
        if invite is None:
            raise NotFound("invite")
        if invite.user_id is not None:
            raise NotAllowed("invite_used")
        member = await session.scalar(
            select(Member.id).where(
                Member.association_id == invite.association_id, Member.user_id == actor.user_id
            )
        )
        if member is not None:
            raise NotAllowed("already_member")
        claim = await session.get(InviteClaim, actor.user_id)
        if claim is not None:
            await session.delete(claim)
            await session.flush()
        claim = InviteClaim(user_id=actor.user_id, invite_id=invite.id, attempts=0)
        session.add(claim)
        await session.flush()
        return claim

    async def save(
        self, session: AsyncSession, draft: InviteClaim, field: str, value: object, actor: Actor
    ) -> None:
        invite = await session.get(MemberInvite, draft.invite_id)
        if invite is None or invite.user_id is not None:
            raise NotAllowed("invite_used")
        if draft.attempts >= MAX_TRIES:
            raise NotAllowed("too_many_tries")
        if value != invite.national_id:
            draft.attempts += 1
            await session.flush()
            raise InvalidAnswer("nid_mismatch")
        draft.national_id = str(value)


CLAIMS = InviteClaims()


@dataclass(frozen=True)
class Bound:
    """An invitation bound: the new membership and its association's name."""

    member: Member
    association_id: int


async def bind(session: AsyncSession, draft: InviteClaim, actor: Actor) -> Bound:
    """The national ID matched: the user is the member (their number and term from the file)."""
    invite = await session.get(MemberInvite, draft.invite_id)
    if invite is None or invite.user_id is not None or draft.national_id != invite.national_id:
        raise NotAllowed("invite_used")
    invite.user_id = actor.user_id
    invite.bound_at = utcnow()
    member = Member(
        association_id=invite.association_id, user_id=actor.user_id, member_number=invite.member_number
    )
    session.add(member)
    await session.flush()
    now = utcnow()
    await terms.start_first_term(session, member, terms.today(now), invite.term_end)
    await session.delete(draft)
    return Bound(member, invite.association_id)
