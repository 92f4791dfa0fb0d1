"""CSV import and export: by the service, by a staff member sending the file, and on the command line."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.context import BotApplication
from bot.services import association_csv
from bot.services.association_csv import MalformedCsv
from fakeapi.simulator import Simulator
from fakeapi.state import FakeTelegram
from tests.conftest import ADMIN_ID
from tests.directory_helpers import associations, send_csv
from tests.factories import add_association

BOM = "\ufeff".encode()
GOOD = (
    "name,description,status,category,phone,channel,degree_required,accepted_evidence,"
    "min_experience_years,evidence_required,yearly_fee_rials\r\n"
    "انجمن صادرکنندگان پسته,صادرکنندگان پستهٔ استان,active,کشاورزی,034-3222 1234,@kerman_pistachio,no,"
    '"experience,business_licence",3,yes,"1,500,000"\r\n'
    "انجمن خرما,,فعال,کشاورزی,,,خیر,مجوز کسب‌وکار خانگی,,خیر,\r\n"
    "كانون مهندسان ناظر,,inactive,خدمات,,,بله,,۵,no,۲۰۰۰۰۰۰\r\n"
)


async def _import(app: BotApplication, data: bytes, **options: bool) -> association_csv.ImportReport:
    async with app.bot_data.sessionmaker() as session, session.begin():
        return await association_csv.import_csv(session, data, **options)


def _actions(report: association_csv.ImportReport) -> list[str]:
    return [row.action for row in report.rows]


async def test_good_file_with_bom_then_again_changes_nothing(app: BotApplication) -> None:
    report = await _import(app, BOM + GOOD.encode())
    assert _actions(report) == ["added", "added", "added"]
    saved = {a.name: a for a in await associations(app)}
    pistachio = saved["انجمن صادرکنندگان پسته"]
    assert pistachio.phone == "03432221234" and pistachio.yearly_fee_rials == 1_500_000
    assert pistachio.evidence_kinds == ["experience", "business_licence"] and pistachio.evidence_required
    assert pistachio.min_experience_years == 3 and not pistachio.degree_required
    dates = saved["انجمن خرما"]
    assert (
        dates.status == "active"
        and dates.evidence_kinds == ["home_permit"]
        and dates.yearly_fee_rials is None
    )
    # Arabic kaf in the file is stored as Persian; Persian digits become numbers.
    engineers = saved["کانون مهندسان ناظر"]
    assert (
        engineers.degree_required and engineers.min_experience_years == 5 and engineers.status == "inactive"
    )
    assert engineers.yearly_fee_rials == 2_000_000
    before = [(a.id, a.updated_at) for a in await associations(app)]
    again = await _import(app, GOOD.encode())  # without BOM this time
    assert _actions(again) == ["unchanged", "unchanged", "unchanged"]
    assert [(a.id, a.updated_at) for a in await associations(app)] == before


async def test_changed_rows_are_updated_and_matched_by_normalised_name(app: BotApplication) -> None:
    await _import(app, GOOD.encode())
    changed = "name,description,yearly_fee_rials\nانجمن صادركنندگان پسته,شرح تازه,0\n"
    report = await _import(app, changed.encode())
    assert _actions(report) == ["updated"]
    saved = {a.name: a for a in await associations(app)}
    assert len(saved) == 3
    # Matched by the normalised name (Arabic kaf in the file).
    assert saved["انجمن صادرکنندگان پسته"].description == "شرح تازه"
    assert saved["انجمن صادرکنندگان پسته"].yearly_fee_rials is None
    # A name that differs by a missing space is a near-duplicate, not the same association.
    spaced = await _import(app, "name\nانجمن صادر کنندگان پسته\n".encode())
    assert [row.reason for row in spaced.rows] == ["near_duplicate"]


async def test_repeated_and_invalid_rows_are_rejected_with_reasons(app: BotApplication) -> None:
    data = (
        "name,status,phone,min_experience_years\n"
        "انجمن پسته,active,,\n"
        "انجمن  پسته,forming,,\n"
        "انجمن مس,closed,,\n"
        "انجمن سنگ,active,abc,\n"
        ",active,,\n"
        "انجمن فرش,active,,ده\n"
        "انجمن زعفران,active,,2\n"
    )
    report = await _import(app, data.encode())
    reasons = [(row.action, row.reason) for row in report.rows]
    assert reasons == [
        ("added", ""),
        ("rejected", "repeated_in_file"),
        ("rejected", "bad_status"),
        ("rejected", "bad_phone"),
        ("rejected", "too_short"),
        ("rejected", "not_a_number"),
        ("added", ""),
    ]
    assert report.rows[1].detail == "2"
    assert sorted(a.name for a in await associations(app)) == ["انجمن زعفران", "انجمن پسته"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (GOOD.encode("utf-8") + "انجمن سنگ,active\r\n".encode(), "ragged_row"),
        (GOOD.encode("cp1256", errors="replace"), "not_utf8"),
        ("نام,رنگ\nانجمن پسته,سبز\n".encode(), "unknown_columns"),
        (b"status,phone\nactive,\n", "no_name_column"),
        (b"", "empty"),
        (b"name,name\nx,y\n", "repeated_column"),
        ('name,description\n"انجمن پسته,unterminated\n'.encode(), "open_quote"),
        ('name,description\n"انجمن پسته"x,y\n'.encode(), "stray_quote"),
    ],
)
async def test_malformed_file_applies_nothing(app: BotApplication, data: bytes, reason: str) -> None:
    await add_association(app, "انجمن موجود")
    with pytest.raises(MalformedCsv) as raised:
        await _import(app, data)
    assert raised.value.reason == reason
    assert [a.name for a in await associations(app)] == ["انجمن موجود"]


async def test_persian_headers_and_semicolons(app: BotApplication) -> None:
    data = "نام;وضعیت;تلفن\nانجمن پسته;در حال تشکیل;۰۳۴۳۲۲۲۱۲۳۴\n".encode()
    report = await _import(app, BOM + data)
    assert _actions(report) == ["added"]
    (saved,) = await associations(app)
    assert saved.status == "forming" and saved.phone == "03432221234"


async def test_near_duplicates_rejected_unless_allowed(app: BotApplication) -> None:
    await add_association(app, "کسب‌وکارهای خانگی", status="forming")
    data = "name\nانجمن کسب و کارهای خانگی استان کرمان\nانجمن پسته\n".encode()
    preview = await _import(app, data, apply=False)
    assert [row.reason for row in preview.near_duplicates] == ["near_duplicate"]
    assert preview.near_duplicates[0].detail == "کسب‌وکارهای خانگی"
    assert len(await associations(app)) == 1  # a preview changes nothing
    skipped = await _import(app, data)
    assert _actions(skipped) == ["rejected", "added"]
    allowed = await _import(app, data, allow_near=True)
    assert _actions(allowed) == ["added", "unchanged"]
    assert len(await associations(app)) == 3


async def test_export_round_trip(app: BotApplication) -> None:
    await _import(app, GOOD.encode())
    await add_association(
        app, "انجمن «ویژه», با ویرگول", description="سطر اول\nسطر دوم", channel="https://t.me/x_y"
    )
    exported = await _export(app)
    assert exported.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    assert list(rows[0]) == list(association_csv.COLUMNS)
    assert "انجمن «ویژه», با ویرگول" in [row["name"] for row in rows]
    before = [(a.id, a.name, a.description, a.updated_at) for a in await associations(app)]
    report = await _import(app, exported)
    assert set(_actions(report)) == {"unchanged"} and len(report.rows) == 4
    assert [(a.id, a.name, a.description, a.updated_at) for a in await associations(app)] == before


async def _export(app: BotApplication, *, persian: bool = False) -> bytes:
    async with app.bot_data.sessionmaker() as session:
        return await association_csv.export_csv(session, persian=persian)


# ---------------------------------------------------------------- through the bot


async def test_staff_imports_by_sending_the_file(sim: Simulator, app: BotApplication) -> None:
    admin = sim.user(ADMIN_ID)
    # First a preview with a verdict per row; nothing changes until staff confirm.
    messages = await send_csv(admin, BOM + GOOD.encode())
    preview = messages[-1].content
    assert "۳ افزودنی" in preview and "سطر ۲: «انجمن صادرکنندگان پسته» افزوده می‌شود" in preview
    assert "هنوز چیزی وارد نشده است" in preview and await associations(app) == []
    await admin.press("ورود اطلاعات")
    text = admin.last_text
    assert "۳ افزوده" in text and "سطر ۲: «انجمن صادرکنندگان پسته» افزوده شد" in text
    assert len(await associations(app)) == 3
    again = await send_csv(admin, BOM + GOOD.encode())
    assert "۳ بدون تغییر" in again[-1].content and "چیزی برای ورود اطلاعات نیست" in again[-1].content
    assert admin.buttons(again[-1]) == []
    bad = (
        "name,description,status\nانجمن سنگ,,active\nانجمن مس,,active\n"
        "انجمن مس,,active\nانجمن بیمه,,unknown\n"
    )
    rejected = await send_csv(admin, bad.encode())
    assert "سطر ۴: «انجمن مس» وارد نمی‌شود — همین تشکل در سطر ۳ هم آمده است" in rejected[-1].content
    await admin.press("ورود اطلاعات")
    assert "سطر ۴: «انجمن مس» رد شد — همین تشکل در سطر ۳ هم آمده است" in admin.last_text
    assert "سطر ۵: «انجمن بیمه» رد شد — وضعیت ناشناخته است" in admin.last_text
    assert len(await associations(app)) == 5
    sim.assert_no_errors()


async def test_malformed_file_sent_to_the_bot_applies_nothing(sim: Simulator, app: BotApplication) -> None:
    admin = sim.user(ADMIN_ID)
    data = GOOD.encode() + "انجمن سنگ,active\n".encode()
    messages = await send_csv(admin, data)
    assert "هیچ چیز وارد نشد" in messages[-1].content and "سطر ۵" in messages[-1].content
    await send_csv(admin, GOOD.encode("cp1256", errors="replace"))
    assert "UTF-8" in admin.last_text
    assert await associations(app) == []


async def test_bot_import_with_near_duplicate_asks_first(sim: Simulator, app: BotApplication) -> None:
    await add_association(app, "کسب‌وکارهای خانگی", status="forming")
    admin = sim.user(ADMIN_ID)
    data = "name\nانجمن کسب و کارهای خانگی\nانجمن پسته\n".encode()
    await send_csv(admin, data)
    assert (
        "«انجمن کسب و کارهای خانگی» وارد نمی‌شود — به تشکل موجود «کسب‌وکارهای خانگی» نزدیک است"
        in admin.last_text
    )
    assert len(await associations(app)) == 1
    await admin.press("لغو ورود اطلاعات")
    assert "لغو شد" in admin.last_text and len(await associations(app)) == 1
    await send_csv(admin, data)
    button = admin.last_message.button("این‌ها هم افزوده شوند")  # type: ignore[union-attr]
    assert button is not None
    await admin.press("بدون این‌ها وارد شود")
    assert "۱ افزوده" in admin.last_text and "۱ ردشده" in admin.last_text
    assert sorted(a.name for a in await associations(app)) == ["انجمن پسته", "کسب‌وکارهای خانگی"]
    # The decided import's other button does nothing any more.
    await admin.press_data(str(button["callback_data"]))
    assert "پیش‌تر انجام یا لغو شده" in admin.last_text
    assert len(await associations(app)) == 2
    await send_csv(admin, data)
    await admin.press("این‌ها هم افزوده شوند")
    assert len(await associations(app)) == 3


async def test_export_button_sends_a_csv_that_reimports_unchanged(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    await _import(app, GOOD.encode())
    admin = sim.user(ADMIN_ID)
    await admin.command("/associations")
    await admin.press("⬇️ خروجی CSV")
    document = admin.last_message.media["document"]  # type: ignore[union-attr]
    assert document["file_name"] == "associations.csv"
    content = api.files[document["file_id"]].data()
    assert content.startswith(BOM) and "انجمن صادرکنندگان پسته".encode() in content
    await send_csv(admin, content)
    assert "۳ بدون تغییر" in admin.last_text


# ---------------------------------------------------------------- command line


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "TELEGRAM_BOT_TOKEN": ""}
    return subprocess.run(
        [sys.executable, "-m", "bot", "associations", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )


async def test_cli_import_and_export(app: BotApplication, database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(BOM + GOOD.encode())
    done = _cli(database_url, "import", str(source))
    assert done.returncode == 0, done.stderr
    assert "3 added" in done.stdout
    assert len(await associations(app)) == 3
    again = _cli(database_url, "import", str(source))
    assert "3 unchanged" in again.stdout
    broken = tmp_path / "bad.csv"
    broken.write_bytes(GOOD.encode() + "انجمن سنگ,active\n".encode())
    failed = _cli(database_url, "import", str(broken))
    assert failed.returncode == 4 and "nothing imported" in failed.stderr and "line 5" in failed.stderr
    out = tmp_path / "out.csv"
    exported = _cli(database_url, "export", str(out))
    assert exported.returncode == 0 and "wrote 3 associations" in exported.stdout
    assert out.read_bytes().startswith(BOM)
    near = tmp_path / "near.csv"
    near.write_bytes("name\nانجمن خرمای کرمان\n".encode())
    assert "near_duplicate" in _cli(database_url, "import", str(near)).stdout
    assert "1 added" in _cli(database_url, "import", "--allow-near-duplicates", str(near)).stdout
    assert len(await associations(app)) == 4


# ---------------------------------------------------------------- Persian (issue #13 item 7)


async def test_persian_export_reimports_unchanged(app: BotApplication) -> None:
    await _import(app, GOOD.encode())
    await add_association(app, "جوانان کارآفرین", status="forming", accepted_evidence="")
    exported = await _export(app, persian=True)
    assert exported.startswith(BOM)
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert rows[0] == [association_csv.PERSIAN_HEADERS[c] for c in association_csv.COLUMNS]
    assert not any(cell.isascii() and cell.isalpha() for cell in rows[0])  # no English heading
    by_name = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    pistachio = by_name["انجمن صادرکنندگان پسته"]
    assert pistachio["وضعیت"] == "فعال" and pistachio["مدرک دانشگاهی لازم"] == "خیر"
    assert pistachio["سابقه یا مجوز لازم"] == "بله"
    assert pistachio["سابقه یا مجوز پذیرفته"] == "سابقهٔ کار، پروانهٔ کسب"
    assert by_name["جوانان کارآفرین"]["وضعیت"] == "در حال تأسیس"
    # Every association, in Persian alphabetical order (پ after ب, ک after ج).
    names = [row[1] for row in rows[1:]]
    assert names == ["انجمن خرما", "انجمن صادرکنندگان پسته", "جوانان کارآفرین", "کانون مهندسان ناظر"]
    before = [(a.id, a.name, a.status, a.accepted_evidence, a.updated_at) for a in await associations(app)]
    report = await _import(app, exported)
    assert set(_actions(report)) == {"unchanged"} and len(report.rows) == 4
    assert [
        (a.id, a.name, a.status, a.accepted_evidence, a.updated_at) for a in await associations(app)
    ] == before


async def test_malformed_file_is_explained_in_persian(sim: Simulator, app: BotApplication) -> None:
    """Python's csv.Error ("unexpected end of data") never reaches staff: the reason is said in Persian."""
    admin = sim.user(ADMIN_ID)
    await send_csv(admin, 'name,description\nانجمن سنگ,خوب\n"انجمن پسته,باز\n'.encode())
    text = admin.last_text
    assert "هیچ چیز وارد نشد" in text and "گیومه" in text and "سطر ۳" in text
    assert not any(word in text for word in ("unexpected", "end of data", "Error", "expected"))
    await send_csv(admin, 'name,description\n"انجمن پسته"x,خوب\n'.encode())
    assert "پس از گیومهٔ پایانی" in admin.last_text and "سطر ۲" in admin.last_text
    assert await associations(app) == []


async def test_numbers_are_whole_numbers_in_any_digits(app: BotApplication) -> None:
    """«۱.۵» years is refused (never read as 15), a range too; Persian, Arabic-Indic and ASCII digits."""
    data = (
        "name,min_experience_years,yearly_fee_rials\n"
        "انجمن الف,۳,۲٬۵۰۰٬۰۰۰\n"
        "انجمن ب,٤ سال,1500000\n"
        "انجمن پ,1.5,\n"
        "انجمن ت,۳-۴,\n"
        "انجمن ث,2,۱۲٫۵\n"
    )
    report = await _import(app, data.encode())
    assert [(row.action, row.reason) for row in report.rows] == [
        ("added", ""),
        ("added", ""),
        ("rejected", "decimal"),
        ("rejected", "range"),
        ("rejected", "decimal"),
    ]
    saved = {a.name: a for a in await associations(app)}
    assert (saved["انجمن الف"].min_experience_years, saved["انجمن الف"].yearly_fee_rials) == (3, 2_500_000)
    assert (saved["انجمن ب"].min_experience_years, saved["انجمن ب"].yearly_fee_rials) == (4, 1_500_000)


async def test_export_button_with_persian_headings(
    sim: Simulator, app: BotApplication, api: FakeTelegram
) -> None:
    await _import(app, GOOD.encode())
    admin = sim.user(ADMIN_ID)
    await admin.command("/associations")
    await admin.press("خروجی با عنوان‌های فارسی")
    document = admin.last_message.media["document"]  # type: ignore[union-attr]
    assert document["file_name"] == "associations-fa.csv"
    content = api.files[document["file_id"]].data()
    assert content.decode("utf-8-sig").startswith("شناسه,نام,")
    await send_csv(admin, content)
    assert "۳ بدون تغییر" in admin.last_text


def test_cli_persian_export(database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "fa.csv"
    done = _cli(database_url, "export", "--persian", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().decode("utf-8-sig").startswith("شناسه,نام,")
