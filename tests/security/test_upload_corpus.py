"""Hostile uploads through the real form: refused, or stored harmlessly and never inline."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.documents.models import Document
from portal.extensions import db
from tests import factories
from tests.applications.test_journey import start, upload
from tests.documents import corpus


def _polyglot_pdf_html() -> bytes:
    """A real PDF that a sniffing browser could also read as HTML with a script."""
    return corpus.make_pdf() + b"\n<html><script>alert(document.cookie)</script></html>"


def _over_the_limit(limit: int) -> bytes:
    data = corpus.make_pdf() + b"\n%"
    return data + b" " * (limit + 1 - len(data))


# (name, maker, what the student reads); a maker takes the upload limit.
REFUSED = [
    ("zero bytes", lambda limit: b"", "The file is empty."),
    ("one byte over the limit", _over_the_limit, "larger than"),
    ("HTML", lambda limit: corpus.make_html(), "Only PDF, JPEG and PNG"),
    ("HTML named .pdf", lambda limit: corpus.make_html_as_pdf(), "Only PDF, JPEG and PNG"),
    ("SVG with script", lambda limit: corpus.make_svg_with_script(), "Only PDF, JPEG and PNG"),
    ("ZIP", lambda limit: corpus.make_zip(), "Only PDF, JPEG and PNG"),
    ("GIF", lambda limit: corpus.make_gif(), "Only PDF, JPEG and PNG"),
    ("PNG with a payload after its end", lambda limit: corpus.make_polyglot_png(), "damaged"),
    ("JPEG with a payload after its end", lambda limit: corpus.make_polyglot_jpeg(), "damaged"),
    ("PDF with OpenAction JavaScript", lambda limit: corpus.make_pdf_with_js(), "scripts"),
    ("PDF with page JavaScript", lambda limit: corpus.make_pdf_with_page_js(), "scripts"),
    ("PDF with hex-hidden JavaScript", lambda limit: corpus.make_pdf_with_hidden_js(), "scripts"),
    ("PDF that launches a program", lambda limit: corpus.make_pdf_with_launch(), "scripts"),
    ("PDF with an embedded file", lambda limit: corpus.make_pdf_with_embedded_file(), None),
    ("PDF with XFA forms", lambda limit: corpus.make_pdf_with_xfa(), None),
    ("damaged PDF", lambda limit: corpus.make_garbage_pdf(), "damaged"),
    ("encrypted PDF", lambda limit: corpus.make_encrypted_pdf(), "password"),
    ("image bomb (20000×20000 in a small file)", lambda limit: corpus.make_png_bomb(), "pixels"),
]

HOSTILE_NAMES = [
    "../../../../etc/passwd.pdf",
    "..\\..\\windows\\win.ini.pdf",
    "transcript\x00.html.pdf",
    "invoice\u202efdp.exe",
    "<img src=x onerror=alert(1)>.pdf",
    "C:\\Users\\Public\\x.pdf",
    "\u0430\u0441\u0435\u043b.pdf",  # Cyrillic letters that look Latin
]


@pytest.fixture
def draft(app, browser):
    """Log a student in with a draft application to upload to."""
    with app.app_context():
        student = factories.user(email="aru@example.kz")
        factories.complete_profile(student)
        factories.program(factories.institution(schac="vku.edu.kz"), slug="altai")
    browser.login("aru@example.kz", factories.PASSWORD)
    return start(browser)


def _files(app) -> set[Path]:
    return {p for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file()}


def _documents(app) -> list[Document]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Document)))


@pytest.mark.parametrize(("label", "maker", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_hostile_file_is_refused_and_nothing_is_kept(app, browser, draft, label, maker, message):
    before = _files(app)
    response = upload(browser, draft, "transcript", maker(app.config["UPLOAD_MAX_BYTES"]), "t.pdf")
    assert response.status_code == 422, label
    text = response.get_data(as_text=True)
    if message:
        assert message in text, label
    assert 'class="invalid-feedback' in text  # the reason sits beside the field
    assert _documents(app) == []
    assert _files(app) == before


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize(
    ("maker", "media_type"),
    [(corpus.make_pdf, "application/pdf"), (corpus.make_png, "image/png")],
    ids=["pdf", "png"],
)
def test_a_good_file_with_a_hostile_name_is_stored_harmlessly(
    app, browser, draft, name, maker, media_type
):
    before = _files(app)
    response = upload(browser, draft, "transcript", maker(), name)
    assert response.status_code == 302
    [document] = _documents(app)
    assert document.media_type == media_type
    stored = document.original_name
    assert "/" not in stored and "\\" not in stored and "\x00" not in stored
    assert not any(0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069 for ch in stored)
    # The file on disk is named by us, inside the storage folder, whatever the upload said.
    root = Path(app.config["STORAGE_DIR"]).resolve()
    [path] = _files(app) - before
    assert path.resolve().is_relative_to(root)
    assert "passwd" not in str(path) and "win.ini" not in str(path)
    # The page that lists it shows the name as text, never as markup.
    page = browser.get(f"/applications/{draft}/documents").get_data(as_text=True)
    assert "<img src=x" not in page

    download = browser.get(f"/documents/{document.id}")
    assert download.status_code == 200
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "/" not in disposition.split("filename*=")[0] and "\\" not in disposition
    assert "\x00" not in disposition and "\u202e" not in disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.mimetype == media_type
    assert download.data == maker() or download.data.startswith(maker()[:8])


def test_only_checked_pdfs_and_images_are_shown_in_place(app, browser, draft):
    """The staff's in-place view is limited to the three sniffed types, framed only by us."""
    assert upload(browser, draft, "transcript", corpus.make_jpeg(), "photo.html").status_code == 302
    [document] = _documents(app)
    assert document.media_type == "image/jpeg"
    shown = browser.get(f"/documents/{document.id}/view")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'self'" in shown.headers["Content-Security-Policy"]
    with app.app_context():
        kinds = set(db.session.scalars(sa.select(Document.media_type)))
    assert kinds <= {"application/pdf", "image/png", "image/jpeg"}


def test_a_pdf_with_html_after_its_end_is_only_ever_a_pdf(app, browser, draft):
    """PDF readers ignore bytes after %%EOF (incremental updates live there), so it is kept.

    What matters is that no browser ever reads it as HTML: it is sent as a PDF, never sniffed,
    as an attachment, and inside a sandbox.
    """
    assert upload(browser, draft, "transcript", _polyglot_pdf_html(), "t.html").status_code == 302
    [document] = _documents(app)
    assert document.media_type == "application/pdf" and document.extension == ".pdf"
    for path in (f"/documents/{document.id}", f"/documents/{document.id}/view"):
        answer = browser.get(path)
        assert answer.mimetype == "application/pdf"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert "html" not in answer.headers["Content-Disposition"]
    assert browser.get(f"/documents/{document.id}").headers["Content-Disposition"].startswith(
        "attachment;"
    )
