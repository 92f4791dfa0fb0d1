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
from bot.services.duplicates import NearDuplicate, near_in
from bot.services.errors import DomainError
from bot.text import normalize_input, normalize_numeric, search_key
from db.models import Association

COLUMNS = ("id", *fields.FIELDS)
MAX_ROWS = 5000
MAX_BYTES = 1_000_000

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


def _header_name(cell: str) -> str:
    word = " ".join(normalize_input(cell).replace("\u200c", " ").split())
    return HEADER_ALIASES.get(word, word.casefold().replace(" ", "_"))


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
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise MalformedCsv("bad_csv", detail=str(exc)) from None
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
    """Every association, by id."""
    return list(await session.scalars(select(Association).order_by(Association.id)))


async def export_csv(session: AsyncSession) -> bytes:
    """Every association as CSV, UTF-8 with a BOM so Excel shows the Persian."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for association in await list_all(session):
        writer.writerow(
            [str(association.id)]
            + [fields.as_text(column, getattr(association, column)) for column in fields.FIELDS]
        )
    return out.getvalue().encode("utf-8-sig")
