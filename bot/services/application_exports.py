"""Spreadsheet exports of an association's members and applications (staff of that association only)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import NotAllowed, NotFound
from bot.services.staff import StaffScope
from bot.text import collation_key
from db.models import Application, Association, Member
from db.models.applications import DRAFT


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


@dataclass(frozen=True)
class Export:
    """What an association's export holds."""

    association: Association
    members: list[MemberRow]
    applications: list[Application]


async def covered_associations(session: AsyncSession, scope: StaffScope) -> list[Association]:
    """The associations a staff member may export, in Persian alphabetical order."""
    rows = await session.scalars(select(Association))
    return sorted((a for a in rows if scope.covers(a.id)), key=lambda a: collation_key(a.name))


async def export(session: AsyncSession, scope: StaffScope, association_id: int) -> Export:
    """The association's members (oldest first) and its applications except unsent drafts."""
    association = await session.get(Association, association_id)
    if association is None:
        raise NotFound("association")
    if not scope.covers(association_id):
        raise NotAllowed("not_covered")
    members = list(
        await session.scalars(
            select(Member)
            .where(Member.association_id == association_id)
            .order_by(Member.started_at, Member.id)
        )
    )
    applications = list(
        await session.scalars(
            select(Application)
            .where(Application.association_id == association_id, Application.status != DRAFT)
            .order_by(Application.id)
        )
    )
    by_id = {a.id: a for a in applications}
    rows = [
        MemberRow(m, by_id.get(m.application_id) if m.application_id is not None else None) for m in members
    ]
    return Export(association, rows, applications)
