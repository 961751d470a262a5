"""Helpers shared by the fault tests: a Russian-speaking applicant, translations, stored files."""

from __future__ import annotations

import html
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale, gettext

from portal.documents.models import Document
from portal.extensions import db
from portal.offers.models import Offer
from tests.applications.conftest import Setup, build_setup

# The applicant of these tests reads the portal in Russian, so a message left untranslated shows.
LOCALE = "ru"


@pytest.fixture(autouse=True)
def own_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """Give each test an empty storage folder, so that every file in it must have its row."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    # Its own patcher: a test that undoes its monkeypatch must keep this folder.
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "uploads"))
        yield


@pytest.fixture
def applicant(app: Flask) -> Setup:
    """Make a complete, eligible student who uses the portal in Russian, and an open programme."""
    return build_setup(app, locale=LOCALE)


@pytest.fixture
def production_errors(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Answer unexpected exceptions with the error page, as in production, not by re-raising."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)


def translated(app: Flask, message: str, locale: str = LOCALE) -> str:
    """Return a message as the catalogue words it in a language (and check it is translated)."""
    with app.test_request_context("/"), force_locale(locale):
        text = gettext(message)
    assert text != message, f"{message!r} has no {locale} translation"
    return text


def page_text(response) -> str:
    """Return a page's text with entities decoded and white space folded, as a reader sees it."""
    return " ".join(html.unescape(response.get_data(as_text=True)).split())


def says(response, app: Flask, message: str, locale: str = LOCALE) -> bool:
    """Tell whether a page carries a message in the given language."""
    return " ".join(translated(app, message, locale).split()) in page_text(response)


def stored_files(app: Flask) -> set[Path]:
    """Return every file under the storage folder, finished or not."""
    root = Path(app.config["STORAGE_DIR"])
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def files_with_rows(app: Flask) -> set[Path]:
    """Return the stored files the database points at (documents and letters)."""
    from portal.storage import get_storage

    with app.app_context():
        storage = get_storage()
        keys = db.session.scalars(sa.select(Document.storage_key)).all()
        keys += db.session.scalars(sa.select(Offer.storage_key)).all()
        return {storage._path(key) for key in keys}


def assert_no_orphans(app: Flask) -> None:
    """Check that every stored file has its row and every row its file, nothing half-written."""
    on_disk = stored_files(app)
    assert not [p for p in on_disk if p.name.endswith(".part")], "a partial file was left"
    assert on_disk == files_with_rows(app)


def command_app() -> Flask:
    """Build the app of a command a test runs as `flask --app tests.faults.conftest:command_app`."""
    from tests.conftest import make_app

    # The test names its database and folders, so the command works on what the test looks at.
    return make_app(
        os.environ["FAULT_DATABASE_URL"],
        Path(os.environ["FAULT_TMP"]),
        STORAGE_DIR=os.environ["FAULT_STORAGE_DIR"],
    )
