"""The review queue as CSV (streamed, UTF-8 with BOM) and XLSX, safe to open in a spreadsheet.

A spreadsheet runs any cell that starts with =, +, - or @ (and some that start with a tab or a
carriage return) as a formula: a student could put `=HYPERLINK(...)` in their name. In CSV such
text gets a leading apostrophe, which spreadsheets take as "this is text"; in XLSX the cell is
written with the string type, which a spreadsheet never evaluates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from portal.applications.models import Application

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = (
    ("id", _l("ID")),
    ("programme", _l("Programme")),
    ("state", _l("State")),
    ("native_name", _l("Name (native script)")),
    ("latin_name", _l("Name (Latin)")),
    ("email", _l("E-mail")),
    ("citizenship", _l("Citizenship")),
    ("national_id", _l("National identifier")),
    ("home_institution", _l("Home institution")),
    ("study_level", _l("Study level (EQF)")),
    ("isced", _l("Field (ISCED-F)")),
    ("gpa", _l("GPA (of 100)")),
    ("score", _l("Score")),
    ("reviews_done", _l("Reviews done")),
    ("submitted_at", _l("Submitted at (UTC)")),
)


def iso_utc(value: datetime | None) -> str:
    """Write a datetime as ISO 8601 in UTC, to the second, with a Z."""
    if value is None:
        return ""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def row_values(application: Application) -> list[Any]:
    """Return the export's cells for one application (text, int, Decimal or None)."""
    profile = application.student.profile
    home = ""
    if profile is not None:
        home = profile.home_institution_name()
    return [
        application.id,
        application.program.slug,
        application.state,
        profile.native_name if profile else "",
        profile.latin_name if profile else "",
        application.student.email,
        (profile.citizenship or "") if profile else "",
        (profile.national_id or "") if profile else "",
        home,
        profile.study_level if profile else None,
        (profile.isced_code or "") if profile else "",
        profile.gpa_normalized if profile else None,
        application.score,
        sum(1 for review in application.reviews if review.submitted_at is not None),
        iso_utc(application.submitted_at),
    ]


def safe_text(value: str) -> str:
    """Prefix text a spreadsheet would run as a formula with an apostrophe."""
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_text(value)
    return str(value)


def headers() -> list[str]:
    """Return the column headings in the user's language."""
    return [str(label) for _key, label in COLUMNS]


def csv_chunks(applications: Iterable[Application], batch: int = 200) -> Iterator[str]:
    """Yield the CSV in chunks: a BOM (so Excel reads UTF-8), a header, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(headers())
    for n, application in enumerate(applications, start=1):
        writer.writerow([_csv_cell(v) for v in row_values(application)])
        if n % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        # openpyxl guesses "f" (formula) for text starting with "="; text stays text.
        cell.data_type = "s"
        return cell
    return WriteOnlyCell(sheet, value=value)


def xlsx_bytes(applications: Iterable[Application], title: str = "Queue") -> bytes:
    """Return an XLSX workbook of the applications (write-only: memory stays flat per row)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Queue")
    sheet.append([_xlsx_cell(sheet, h) for h in headers()])
    for application in applications:
        sheet.append([_xlsx_cell(sheet, v) for v in row_values(application)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
