"""CSV import and export of associations, in the shape Excel reads and writes.

Import is all-or-nothing for the file's *structure* (encoding, header, row lengths: a malformed file
applies nothing) and row by row for *values* (a bad row is rejected with its reason, the rest apply).
Rows are matched to associations by normalised name, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import association_fields as fields
from bot.services import directory_drafts as drafts
from bot.services.duplicates import NearDuplicate, near_in
from bot.services.errors import DomainError, NotFound
from bot.text import collation_key, normalize_input, normalize_numeric, search_key
from db.models import Association

COLUMNS = ("id", *fields.FIELDS)
MAX_ROWS = 5000
MAX_BYTES = 1_000_000

# The headers of the Persian export (read back by the import like the English ones).
PERSIAN_HEADERS = {
    "id": "شناسه",
    "name": "نام",
    "description": "توضیحات",
    "category": "رسته",
    "phone": "تلفن",
    "address": "نشانی",
    "channel": "کانال",
    "status": "وضعیت",
    "degree_required": "مدرک دانشگاهی لازم",
    "accepted_evidence": "سابقه یا مجوز پذیرفته",
    "min_experience_years": "حداقل سال‌های سابقهٔ کار",
    "evidence_required": "سابقه یا مجوز لازم",
    "yearly_fee_rials": "حق عضویت سالانه به ریال",
}
# Header words staff may use instead of the English column names.
HEADER_ALIASES = {
    "شناسه": "id",
    "شماره": "id",
    "نام": "name",
    "نام تشکل": "name",
    "توضیحات": "description",
    "معرفی": "description",
    "وضعیت": "status",
    "دسته": "category",
    "رسته": "category",
    "تلفن": "phone",
    "نشانی": "address",
    "آدرس": "address",
    "کانال": "channel",
    "مدرک لازم": "degree_required",
    "مدارک پذیرفته": "accepted_evidence",
    "حداقل سابقه": "min_experience_years",
    "مدرک جایگزین لازم": "evidence_required",
    "حق عضویت سالانه": "yearly_fee_rials",
}

ADDED, UPDATED, UNCHANGED, REJECTED = "added", "updated", "unchanged", "rejected"


class MalformedCsv(DomainError):
    """The file is not a CSV we can read as a whole; nothing was applied. `details` may name a line."""


@dataclass
class RowResult:
    """What import did (or would do) with one line of the file."""

    line: int
    name: str
    action: str
    reason: str = ""
    detail: str = ""
    near: NearDuplicate | None = None
    association_id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportReport:
    """Per-row results; `applied` is False for a preview."""

    rows: list[RowResult]
    applied: bool

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def near_duplicates(self) -> list[RowResult]:
        return [row for row in self.rows if row.reason == "near_duplicate"]


def _words(cell: str) -> str:
    return " ".join(normalize_input(cell).replace("\u200c", " ").split())


_ALIASES = {_words(word): column for word, column in HEADER_ALIASES.items()} | {
    _words(word): column for column, word in PERSIAN_HEADERS.items()
}


def _header_name(cell: str) -> str:
    word = _words(cell)
    return _ALIASES.get(word, word.casefold().replace(" ", "_"))


def _csv_error(message: str) -> str:
    """Python's English csv.Error as a reason the bot can say in Persian."""
    if "end of data" in message or "EOF" in message:
        return "open_quote"  # a quotation mark opened and never closed
    if "expected after" in message:
        return "stray_quote"  # text after a closing quotation mark in the same cell
    if "NUL" in message:
        return "not_utf8"
    return "bad_csv"


def read_rows(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Decode and split a CSV file into its header and (line number, {column: cell}) rows."""
    if len(data) > MAX_BYTES:
        raise MalformedCsv("too_big")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedCsv("not_utf8") from None
    if "\x00" in text:
        raise MalformedCsv("not_utf8")
    first = text.split("\n", 1)[0]
    delimiter = "," if "," in first else ";" if ";" in first else "\t" if "\t" in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        lines = list(reader)
    except csv.Error as exc:
        # `detail` keeps Python's words for the command line; the bot says the reason in Persian.
        raise MalformedCsv(_csv_error(str(exc)), line=reader.line_num, detail=str(exc)) from None
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise MalformedCsv("empty")
    header = [_header_name(cell) for cell in lines[0]]
    unknown = [cell for cell, name in zip(lines[0], header, strict=True) if name not in COLUMNS]
    if unknown:
        raise MalformedCsv("unknown_columns", detail=", ".join(unknown))
    if len(set(header)) != len(header):
        raise MalformedCsv("repeated_column")
    if "name" not in header:
        raise MalformedCsv("no_name_column")
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise MalformedCsv("ragged_row", line=number, detail=f"{len(cells)}/{len(header)}")
        rows.append((number, dict(zip(header, cells, strict=True))))
    if len(rows) > MAX_ROWS:
        raise MalformedCsv("too_many_rows")
    return header, rows


async def import_csv(
    session: AsyncSession, data: bytes, *, allow_near: bool = False, apply: bool = True
) -> ImportReport:
    """Plan the import of a CSV file and (with `apply`) carry it out in the caller's transaction."""
    _, rows = read_rows(data)
    existing = list(await session.scalars(select(Association).order_by(Association.id)))
    by_key = {association.name_key: association for association in existing}
    by_id = {association.id: association for association in existing}
    names = [(association.id, association.name) for association in existing]
    seen: dict[str, int] = {}
    results: list[RowResult] = []
    for line, cells in rows:
        result = _plan_row(line, cells, by_key, by_id, names, seen, allow_near)
        results.append(result)
        if result.action == ADDED:
            names.append((-line, result.name))
    if apply:
        await _apply(session, results, by_id)
    return ImportReport(results, applied=apply)


def _plan_row(
    line: int,
    cells: dict[str, str],
    by_key: dict[str, Association],
    by_id: dict[int, Association],
    names: list[tuple[int, str]],
    seen: dict[str, int],
    allow_near: bool,
) -> RowResult:
    raw_name = " ".join(normalize_input(cells.get("name", "")).split())
    values: dict[str, Any] = {}
    try:
        for column, cell in cells.items():
            if column != "id":
                values[column] = fields.clean(column, cell)
    except fields.InvalidField as exc:
        return RowResult(line, raw_name, REJECTED, exc.reason, str(exc.details.get("field", "")))
    name = values["name"]
    key = search_key(name)
    if key in seen:
        return RowResult(line, name, REJECTED, "repeated_in_file", str(seen[key]))
    seen[key] = line
    target = by_key.get(key)
    wanted_id = normalize_numeric(cells.get("id", ""))
    if target is None and wanted_id.isdecimal() and int(wanted_id) in by_id:
        # A known id with a new name: a rename, unless the old name is also in this file.
        target = by_id[int(wanted_id)]
        if target.name_key in seen:
            target = None
    if target is None:
        near = near_in(name, names)
        if near and not allow_near:
            return RowResult(
                line, name, REJECTED, "near_duplicate", near[0].name, near=near[0], values=values
            )
        return RowResult(line, name, ADDED, near=near[0] if near else None, values=values)
    changes = {column: value for column, value in values.items() if getattr(target, column) != value}
    if not changes:
        return RowResult(line, name, UNCHANGED, association_id=target.id)
    return RowResult(line, name, UPDATED, association_id=target.id, values=changes)


async def _apply(session: AsyncSession, results: list[RowResult], by_id: dict[int, Association]) -> None:
    for result in results:
        if result.action == ADDED:
            association = Association(name_key=search_key(result.name), **result.values)
            session.add(association)
            await session.flush()
            result.association_id = association.id
        elif result.action == UPDATED and result.association_id is not None:
            target = by_id[result.association_id]
            for column, value in result.values.items():
                setattr(target, column, value)
            target.name_key = search_key(target.name)
    await session.flush()


async def list_all(session: AsyncSession) -> list[Association]:
    """Every association, in Persian alphabetical order."""
    return sorted(await session.scalars(select(Association)), key=lambda a: collation_key(a.name))


async def export_csv(session: AsyncSession, *, persian: bool = False) -> bytes:
    """Every association as CSV, UTF-8 with a BOM so Excel shows the Persian; with `persian`, the
    headers and the words (status, yes/no, evidence) in Persian. Either imports back unchanged."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([PERSIAN_HEADERS[column] for column in COLUMNS] if persian else COLUMNS)
    for association in await list_all(session):
        writer.writerow(
            [str(association.id)]
            + [
                fields.as_text(column, getattr(association, column), persian=persian)
                for column in fields.FIELDS
            ]
        )
    return out.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------------------------------- through the bot


@dataclass(frozen=True)
class Staged:
    """A file checked row by row and kept until staff confirm (`draft_id`; None: nothing to import)."""

    report: ImportReport
    draft_id: int | None


async def stage(session: AsyncSession, user_id: int, data: bytes) -> Staged:
    """Preview a file sent to the bot and keep it for the staff member's decision (MalformedCsv)."""
    report = await import_csv(session, data, apply=False)
    if not any(row.action in (ADDED, UPDATED) or row.near is not None for row in report.rows):
        return Staged(report, None)
    draft = await drafts.start(session, user_id, drafts.IMPORT, data=data.decode("utf-8-sig"))
    return Staged(report, draft.id)


async def decide(session: AsyncSession, user_id: int, draft_id: int, choice: str) -> ImportReport | None:
    """Import a kept file (`all`: near-duplicates too; `skip`: without them) or drop it (`no`: None).
    NotFound when the file was already imported or dropped."""
    draft = await drafts.by_id(session, user_id, draft_id)
    if draft.kind != drafts.IMPORT:
        raise NotFound("no_draft")
    data = draft.data.encode("utf-8")
    await drafts.finish(session, draft)
    if choice not in ("all", "skip"):
        return None
    return await import_csv(session, data, allow_near=choice == "all")
