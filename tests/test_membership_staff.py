"""Staff: membership figures and the dues spreadsheet (.xlsx, right to left, expected rows); the
member import with good, bad and duplicate rows, its preview and the invitation that binds a
Telegram account after the national ID is confirmed."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from bot.context import BotApplication
from bot.services import dues
from db.models import Member, MemberImport, MemberInvite
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.factories import add_association, add_staff
from tests.membership_support import NID, NID_2
from tests.membership_terms_support import NAME, STAFF, approved, at, documents, fix_clock, member_of
from tests.test_membership_terms import _g

END = _g(1405, 12, 29)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FEE = 2_000_000


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_figures_and_the_dues_spreadsheet(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    fix_clock(app, at(END - timedelta(days=10)))
    association, member_user = await approved(sim, app, yearly_fee_rials=FEE)
    staff = sim.user(STAFF)
    await staff.command("/dues")
    text = staff.last_text
    assert "۰" in text and "۱" in text  # figures in Persian digits
    await staff.press_data(f"mem:xlsx:{association}")
    sheet_message = staff.messages[-1]
    assert sheet_message.kind == "document" and sheet_message.media["document"]["file_name"].endswith(".xlsx")
    content = api.files[sheet_message.media["document"]["file_id"]].content
    assert content is not None
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    assert sheet is not None and sheet.sheet_view.rightToLeft
    rows = list(sheet.iter_rows(values_only=True))
    member = await member_of(app)
    assert len(rows) == 2
    assert rows[1][0] == member.member_number and rows[1][1] == NAME and rows[1][5] == 0

    # Staff of another association see nothing of it.
    other = await add_association(app, name="انجمن صنفی پسته رفسنجان")
    await add_staff(app, 7002, other)
    outsider = sim.user(7002)
    mark = outsider.mark()
    await outsider.press_data(f"mem:xlsx:{association}")
    assert all(m.kind != "document" for m in outsider.messages_since(mark))

    # The member pays: the sheet says paid, with the amount and the receipt number.
    now = at(END - timedelta(days=10))
    async with app.bot_data.sessionmaker() as session, session.begin():
        payment = await dues.open_invoice(session, member_user.id, association, now)
        recorded = await dues.record_payment(session, payment.payload, "charge-9", FEE, "IRR", now)
    await staff.press_data(f"mem:xlsx:{association}")
    content = api.files[staff.messages[-1].media["document"]["file_id"]].content
    assert content is not None
    (_header, row) = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert row[5] == FEE and row[6] == recorded.payment.receipt_number


async def test_member_import_with_good_bad_and_duplicate_rows_and_the_invitation(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    fix_clock(app, at(END - timedelta(days=100)))
    association = await add_association(app)
    await add_staff(app, STAFF, association)
    staff = sim.user(STAFF)
    data = _xlsx(
        [
            ["نام", "کد ملی", "شمارهٔ عضویت", "اعتبار تا"],
            ["مریم کرمانی", NID, "101", "۱۴۰۵/۱۲/۲۹"],
            ["حسن یزدی", NID_2, "102", ""],
            ["بی‌کد", "1234567890", "103", ""],  # a national ID that fails its check digit
            ["تکراری", NID, "104", ""],  # the same national ID again
            ["شماره تکراری", "0084575948", "101", ""],  # the same member number again
        ]
    )
    await staff.send_document("members.xlsx", XLSX, len(data), content=data)
    preview = staff.last_text
    assert "مریم کرمانی" in preview and "بی‌کد" in preview
    assert "۲" in preview  # two to import
    async with app.bot_data.sessionmaker() as session:
        assert list(await session.scalars(select(MemberInvite))) == []  # nothing before the choice

        (staged,) = list(await session.scalars(select(MemberImport)))
    await staff.press_data(f"mem:imp:{staged.id}")
    async with app.bot_data.sessionmaker() as session:
        invites = list(await session.scalars(select(MemberInvite).order_by(MemberInvite.id)))
    assert [(i.full_name, i.national_id, i.member_number) for i in invites] == [
        ("مریم کرمانی", NID, "101"),
        ("حسن یزدی", NID_2, "102"),
    ]
    assert invites[0].term_end == END and invites[1].term_end is None
    links = re.findall(r"start=invite_([A-Za-z0-9_-]+)", staff.last_text)
    assert links == [i.token for i in invites]
    # Pressing again imports nothing more; the same file again: all duplicates.
    await staff.press_data(f"mem:imp:{staged.id}")
    await staff.send_document("members.xlsx", XLSX, len(data), content=data)
    async with app.bot_data.sessionmaker() as session:
        assert len(list(await session.scalars(select(MemberInvite)))) == 2

    # The invited member: a wrong national ID is refused, the right one binds the account.
    invited = sim.user(8800)
    await invited.command("/start", f"invite_{links[0]}")
    await invited.send(NID_2)
    async with app.bot_data.sessionmaker() as session:
        assert await session.scalar(select(Member).where(Member.user_id == 8800)) is None
    await invited.send(NID)
    async with app.bot_data.sessionmaker() as session:
        member = await session.scalar(select(Member).where(Member.user_id == 8800))
    assert member is not None and member.member_number == "101" and member.term_end == END
    assert len(documents(api, invited)) == 1  # the certificate
    # The link cannot be used twice (by anyone).
    other = sim.user(8801)
    await other.command("/start", f"invite_{links[0]}")
    async with app.bot_data.sessionmaker() as session:
        assert await session.scalar(select(Member).where(Member.user_id == 8801)) is None

    # Guessing a national ID: after five wrong tries even the right one is refused.
    guesser = sim.user(8802)
    await guesser.command("/start", f"invite_{links[1]}")
    for _ in range(5):
        await guesser.send(NID)
    await guesser.send(NID_2)
    async with app.bot_data.sessionmaker() as session:
        assert await session.scalar(select(Member).where(Member.user_id == 8802)) is None


async def test_a_csv_member_file_and_a_bad_file(sim: Simulator, app: BotApplication) -> None:
    association = await add_association(app)
    await add_staff(app, STAFF, association)
    staff = sim.user(STAFF)
    data = f"name,national_id,member_number\nمریم کرمانی,{NID},101\n".encode()
    await staff.send_document("members.csv", "text/csv", len(data), content=data)
    # A CSV needs the caption «اعضا»: without it, it is not taken as a member file.
    async with app.bot_data.sessionmaker() as session:
        assert list(await session.scalars(select(MemberImport))) == []
    update = staff.document_update("members.csv", "text/csv", len(data), content=data)
    update["message"]["caption"] = f"اعضا {association}"
    await staff._deliver(update)
    async with app.bot_data.sessionmaker() as session:
        assert len(list(await session.scalars(select(MemberImport)))) == 1
    assert "مریم کرمانی" in staff.last_text
    bad = b"foo,bar\n1,2\n"
    update = staff.document_update("members.csv", "text/csv", len(bad), content=bad)
    update["message"]["caption"] = "اعضا"
    await staff._deliver(update)
    async with app.bot_data.sessionmaker() as session:
        assert len(list(await session.scalars(select(MemberImport)))) == 1


async def test_staff_revoke_a_membership_and_it_no_longer_verifies(
    sim: Simulator, app: BotApplication
) -> None:
    fix_clock(app, at(END - timedelta(days=100)))
    association, _member_user = await approved(sim, app)
    member = await member_of(app)
    other = await add_association(app, name="انجمن صنفی پسته رفسنجان")
    await add_staff(app, 7002, other)
    await sim.user(7002).command("/revoke", f"{association} {member.member_number}")
    await sim.user(7002).press_data(f"mem:revoke:{member.id}")
    assert not (await member_of(app)).revoked  # not their association
    staff = sim.user(STAFF)
    await staff.command("/revoke", f"{association} {member.member_number}")
    assert NAME in staff.last_text
    await staff.press_data(f"mem:revoke:{member.id}")
    assert (await member_of(app)).revoked
    stranger = sim.user(9900)
    await stranger.command("/start", f"verify_{member.verify_code}")
    assert "❌" in stranger.last_text
