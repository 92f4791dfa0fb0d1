"""Shared steps for the membership-term tests: an approved member, a fixed clock, the outbox."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

from pypdf import PdfReader
from sqlalchemy import select

from bot.context import BotApplication
from db.models import Broadcast, Member
from fakeapi.records import StoredMessage
from fakeapi.simulator import Simulator, SimUser
from fakeapi.state import FakeTelegram
from tests.factories import add_association, add_staff
from tests.membership_support import submitted

STAFF = 7001
APPLICANT = 7100
NAME = "رضا احمدی"


def at(day: date, hour: int = 9) -> datetime:
    """A moment on a Tehran day (09:00 local is 05:30 UTC)."""
    return datetime.combine(day, time(hour, 0), tzinfo=UTC) - timedelta(hours=3, minutes=30)


def fix_clock(app: BotApplication, moment: datetime) -> None:
    """Inject the bot's clock (terms, reminders, payments read it)."""
    app.bot_data.clock = lambda: moment


async def approved(sim: Simulator, app: BotApplication, **association: object) -> tuple[int, SimUser]:
    """An association with a staff member and an applicant they approve; (association, applicant)."""
    association_id = await add_association(app, **association)
    await add_staff(app, STAFF, association_id)
    applicant = sim.user(APPLICANT)
    await submitted(applicant, association_id, name=NAME)
    await sim.user(STAFF).press("تأیید")
    return association_id, applicant


async def member_of(app: BotApplication, user_id: int = APPLICANT) -> Member:
    async with app.bot_data.sessionmaker() as session:
        member = await session.scalar(select(Member).where(Member.user_id == user_id))
        assert member is not None
        return member


async def set_term(app: BotApplication, member_id: int, end: date, *, revoked: bool = False) -> None:
    async with app.bot_data.sessionmaker() as session, session.begin():
        member = await session.get(Member, member_id)
        assert member is not None
        member.term_end = end
        member.revoked = revoked


async def reminder_keys(app: BotApplication) -> list[str]:
    async with app.bot_data.sessionmaker() as session:
        rows = await session.scalars(
            select(Broadcast.dedupe_key).where(Broadcast.kind == "reminder").order_by(Broadcast.id)
        )
        return [k for k in rows if k]


def documents(api: FakeTelegram, user: SimUser) -> list[StoredMessage]:
    return [m for m in user.messages if m.kind == "document"]


def photos(user: SimUser) -> list[StoredMessage]:
    return [m for m in user.messages if m.kind == "photo"]


def pdf_text(api: FakeTelegram, message: StoredMessage) -> str:
    file_id = message.media["document"]["file_id"]
    content = api.files[file_id].content
    assert content is not None and content.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def png_bytes(api: FakeTelegram, message: StoredMessage) -> bytes:
    file_id = message.media["photo"][-1]["file_id"]
    content = api.files[file_id].content
    assert content is not None
    return content
