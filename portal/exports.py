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
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

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


# The header row of a workbook: bold on a light band, wrapped, kept in view and filterable.
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E9F2F4")
_HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")


def _header_cell(sheet: Any, text: str) -> Any:
    cell = _xlsx_cell(sheet, text)
    cell.font = _HEADER_FONT
    cell.fill = _HEADER_FILL
    cell.alignment = _HEADER_ALIGNMENT
    return cell


def xlsx_bytes(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    title: str,
    widths: Sequence[float] | None = None,
) -> bytes:
    """Return an XLSX workbook of the rows (write-only: memory stays flat per row).

    The header row stays in view while scrolling and has filters; each column is as wide as
    widths says (in characters), or as its header.
    """
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Sheet")
    # A write-only sheet writes its layout before its first row: set it now.
    sheet.freeze_panes = "A2"
    for index, header in enumerate(headers, start=1):
        width = widths[index - 1] if widths else min(max(len(header) + 2, 10), 40)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append([_header_cell(sheet, h) for h in headers])
    count = 0
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
        count += 1
    if headers:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
