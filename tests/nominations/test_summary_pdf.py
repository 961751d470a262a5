"""The partner's PDF summary fits its A4 pages, wraps long names and addresses, and writes every
date and time the way the partner's language does."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import lxml.etree
import pytest
import sqlalchemy as sa
from babel.dates import format_date
from pypdf import PdfReader

from portal.applications.models import Application
from portal.applications.services import snapshot_profile
from portal.applications.states import State
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations import services
from portal.programs.models import Program
from tests import factories
from tests.conftest import Browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
MARGIN = 12 / 25.4 * 72  # summary.css: 12 mm on every side, in points
A4_LANDSCAPE = (841.89, 595.28)
LONG_GIVEN = "MAXIMILIANOALEKSANDROVICHKONSTANTINOPOLSKIYEVICH"
LONG_FAMILY = "SEITKALIYEVA-ABDURAKHMANOVA-KONSTANTINOPOLSKAYA"
LONG_EMAIL = (
    "a.very.long.address.without.any.spaces.at.all"
    "@postgraduate-students.some-very-long-university-domain.example.kz"
)
LONG_UNIVERSITY = (
    "Kazakh National Technical University named after Kanysh Satbayev, Faculty of Geology"
)


def _world_with_long_text(app, world, extra: int = 14) -> None:
    """Give Aigerim a very long name and address, add students to fill a second page."""
    with app.app_context():
        vku = db.session.scalar(sa.select(Institution).where(Institution.schac == "vku.edu.kz"))
        vku.names = {"en": LONG_UNIVERSITY, "ru": LONG_UNIVERSITY, "ky": LONG_UNIVERSITY}
        application = db.session.get(Application, world.confirmed["aigerim@example.kz"])
        application.student.email = LONG_EMAIL
        application.profile_snapshot = {
            **application.profile_snapshot,
            "latin_given_names": LONG_GIVEN,
            "latin_family_name": LONG_FAMILY,
        }
        for n in range(extra):
            student = factories.user(email=f"student{n}.with.a.long.address@example.kz")
            profile = factories.complete_profile(
                student, home_institution=vku, latin_family_name=f"STUDENT-{n}"
            )
            db.session.add(
                Application(
                    student=student,
                    program_id=world.program_id,
                    state=State.CONFIRMED.value,
                    submitted_at=utcnow(),
                    profile_snapshot=snapshot_profile(profile),
                )
            )
        db.session.commit()
        coordinator = db.session.scalar(sa.select(User).where(User.email == world.coordinator))
        for waiting in db.session.scalars(
            sa.select(Application).where(Application.state == State.CONFIRMED.value)
        ).all():
            services.nominate(waiting, actor=coordinator)
        db.session.commit()


def _words(pdf: Path) -> list[tuple[int, float, float, dict[str, float], str]]:
    """Return every word pdftotext finds: page number, page size, box and text."""
    xhtml = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, check=True
    ).stdout
    root = lxml.etree.fromstring(xhtml)
    found = []
    for number, page in enumerate(root.iter("{*}page"), start=1):
        width, height = float(page.get("width")), float(page.get("height"))
        for word in page.iter("{*}word"):
            box = {k: float(word.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")}
            found.append((number, width, height, box, word.text or ""))
    return found


def _column(words, left: float, right: float) -> str:
    """Return the words between two x positions, read down the pages, without spaces."""
    inside = [(n, box["yMin"], box["xMin"], text) for n, _w, _h, box, text in words
              if box["xMin"] >= left - 0.5 and box["xMax"] <= right + 0.5]
    return "".join(text for *_position, text in sorted(inside))


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " "))


@pytest.mark.parametrize("lang", ["en", "ru", "ky"])
def test_the_summary_fits_its_pages_in_the_partners_language(app, world, tmp_path, lang):
    _world_with_long_text(app, world)
    with app.app_context():
        partner = db.session.scalar(sa.select(User).where(User.email == world.partner_host))
        partner.locale = lang
        db.session.commit()
        program = db.session.get(Program, world.program_id)
        starts, ends = program.starts_on, program.ends_on
    host = Browser(app.test_client())
    host.login(world.partner_host)
    response = host.get("/partner/nominations.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = tmp_path / f"summary-{lang}.pdf"
    pdf.write_bytes(response.data)

    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) >= 2  # the long rows fill more than one page
    for page in reader.pages:
        box = page.mediabox
        assert (float(box.width), float(box.height)) == pytest.approx(A4_LANDSCAPE, abs=0.5)

    # No word outside the page, nor in the left or right margin.
    words = _words(pdf)
    assert words
    outside = [
        (number, text, box)
        for number, width, height, box, text in words
        if box["xMin"] < MARGIN - 0.5
        or box["xMax"] > width - MARGIN + 0.5
        or box["yMin"] < 0
        or box["yMax"] > height
    ]
    assert not outside, outside[:5]

    # Long names and addresses are wrapped within their column, not cut: read down the
    # student column (the first 21% of the width), every character is there.
    content = A4_LANDSCAPE[0] - 2 * MARGIN
    student = _column(words, MARGIN, MARGIN + 0.21 * content)
    for text in (LONG_GIVEN, LONG_FAMILY, LONG_EMAIL, "Сейітқалиева"):
        assert text in student, text
    # Universities by name, their codes below them (the third column).
    sending = _column(words, MARGIN + 0.36 * content, MARGIN + 0.50 * content)
    assert re.sub(r"\s+", "", LONG_UNIVERSITY) + "vku.edu.kz" in sending
    layout = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = _plain("".join(page.extract_text() for page in reader.pages))
    plain_layout = _plain(layout)
    # Dates and the time of making, as the partner's language writes them; no US-style or
    # ISO dates, no raw timestamp.
    for day in (starts, ends):
        assert _plain(format_date(day, "medium", locale=lang)) in plain_layout, day
    today = utcnow().astimezone(program.zone).date()
    assert _plain(format_date(today, "medium", locale=lang)) in plain_layout
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2}\b", text)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert "T" not in re.findall(r"\d{2}T\d{2}", text)

    # A look at the first page.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile",
            str(pdf), str(SCREENSHOTS / f"nominations-summary-{lang}"),
        ],
        check=True,
    )
