"""The review queue as CSV and XLSX (the writers, formula-safe, are in portal.exports)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.applications.models import Application
from portal.exports import csv_chunks as _csv_chunks
from portal.exports import iso_utc, safe_text
from portal.exports import xlsx_bytes as _xlsx_bytes

__all__ = ["COLUMNS", "csv_chunks", "headers", "row_values", "safe_text", "xlsx_bytes"]

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


def headers() -> list[str]:
    """Return the column headings in the user's language."""
    return [str(label) for _key, label in COLUMNS]


def csv_chunks(applications: Iterable[Application], batch: int = 200) -> Iterator[str]:
    """Yield the queue as CSV in chunks."""
    return _csv_chunks(headers(), (row_values(a) for a in applications), batch)


def xlsx_bytes(applications: Iterable[Application], title: str = "Queue") -> bytes:
    """Return the queue as an XLSX workbook."""
    return _xlsx_bytes(headers(), (row_values(a) for a in applications), title or "Queue")
