"""Tables as CSV (streamed, UTF-8 with BOM) and XLSX, safe to open in a spreadsheet.

A spreadsheet runs any cell that starts with =, +, - or @ (and some that start with a tab or a
carriage return) as a formula: a student could put `=HYPERLINK(...)` in their name. In CSV such
text gets a leading apostrophe, which spreadsheets take as "this is text"; in XLSX the cell is
written with the string type, which a spreadsheet never evaluates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def iso_utc(value: datetime | None) -> str:
    """Write a datetime as ISO 8601 in UTC, to the second, with a Z."""
    if value is None:
        return ""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


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


def csv_chunks(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], batch: int = 200
) -> Iterator[str]:
    """Yield a CSV in chunks: a BOM (so Excel reads UTF-8), the header, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(headers)
    for n, row in enumerate(rows, start=1):
        writer.writerow([_csv_cell(v) for v in row])
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


def xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> bytes:
    """Return an XLSX workbook of the rows (write-only: memory stays flat per row)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Sheet")
    sheet.append([_xlsx_cell(sheet, h) for h in headers])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
