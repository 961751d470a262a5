"""The letter as a PDF: one typeface for every script, text read back, nothing fetched, QR code."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from portal.applications.models import Application
from portal.auth.models import User
from portal.extensions import db
from portal.offers import services
from portal.offers.pdf import STATIC_ROOT, FetchRefused, Renderer, StaticOnlyFetcher
from portal.storage import get_storage


def _issue(offers, locale, **kwargs):
    application = db.session.get(Application, offers.accepted[locale])
    coordinator = db.session.scalar(sa.select(User).where(User.email == offers.coordinator))
    offer = services.issue_offer(application, actor=coordinator, **kwargs)
    db.session.commit()
    return offer


def _save(offer, tmp_path: Path) -> Path:
    path = tmp_path / f"{offer.reference}.pdf"
    path.write_bytes(get_storage().load(offer.storage_key))
    return path


def _fonts(path: Path) -> set[str]:
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    names = set()
    for line in out.stdout.splitlines()[2:]:
        name = line.split()[0]
        names.add(name.split("+", 1)[-1])
    return names


def _text(path: Path) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return out.stdout


@pytest.mark.parametrize(
    ("locale", "native", "words"),
    [
        ("kk", "Әйгерім Сейітқалиева", ["Геоэкология бойынша Алтай жазғы мектебі", "Өскемен"]),
        ("ru", "Иван Щукин", ["Алтайская летняя школа по геоэкологии", "Усть-Каменогорск"]),
        ("ky", "Нурзат Өмүрбекова", ["Геоэкология боюнча Алтай жайкы мектеби"]),
        ("en", None, ["Altai Summer School in Geoecology", "Offer of a place"]),
    ],
)
def test_every_letter_renders_in_one_named_typeface(
    app, ctx, offers, tmp_path, locale, native, words
):
    offer = _issue(offers, locale)
    path = _save(offer, tmp_path)
    fonts = _fonts(path)
    # Noto Serif and its bold, nothing else: no glyph fell back to another family.
    assert fonts and all(name.startswith("Noto-Serif") for name in fonts), fonts
    text = _text(path)
    assert offer.reference in text
    assert offer.printed["student_latin"] in text
    if native:
        assert native in text
    for word in words:
        assert word in " ".join(text.split())
    reader = PdfReader(path)
    assert len(reader.pages) == 1


def test_kazakh_letters_all_survive(app, ctx, offers, tmp_path):
    application = db.session.get(Application, offers.accepted["kk"])
    application.profile_snapshot = {
        **application.profile_snapshot,
        "native_given_names": "Әғқңөұүһі",
        "native_family_name": "ӘҒҚҢӨҰҮҺІ",
    }
    db.session.commit()
    text = _text(_save(_issue(offers, "kk"), tmp_path))
    assert "Әғқңөұүһі ӘҒҚҢӨҰҮҺІ" in text


def test_bilingual_letter_has_english_beside(app, ctx, offers, tmp_path):
    offer = _issue(offers, "ru", bilingual=True)
    text = " ".join(_text(_save(offer, tmp_path)).split())
    assert "Алтайская летняя школа по геоэкологии" in text
    assert "Altai Summer School in Geoecology" in text
    assert offer.bilingual and offer.printed["bilingual"]


def test_typed_markup_prints_as_characters_and_loads_nothing(app, ctx, offers, tmp_path):
    application = db.session.get(Application, offers.accepted["en"])
    application.profile_snapshot = {
        **application.profile_snapshot,
        "latin_family_name": '<img src="file:///etc/passwd">',
    }
    db.session.commit()
    path = _save(_issue(offers, "en"), tmp_path)
    text = " ".join(_text(path).split())
    assert '<img src="file:///etc/passwd">' in text
    assert "root:" not in text
    # Only the QR code is an image in the letter.
    images = [name for page in PdfReader(path).pages for name in page.images]
    assert len(images) == 1


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        f"file://{STATIC_ROOT}/../portal/config.py",
        f"file://{STATIC_ROOT}/css/../../instance/config.py",
        "http://127.0.0.1:5432/",
        "https://example.com/logo.png",
        "data:text/html;base64,PHNjcmlwdD4=",
        "ftp://example.com/x",
        f"file://{STATIC_ROOT}/js/app.js",
    ],
)
def test_the_fetcher_refuses_everything_outside_static_images_and_css(url):
    with pytest.raises(FetchRefused):
        StaticOnlyFetcher().fetch(url)


def test_the_fetcher_serves_the_projects_own_static_files():
    response = StaticOnlyFetcher().fetch((STATIC_ROOT / "img" / "favicon.svg").as_uri())
    assert response.content_type == "image/svg+xml"


def test_a_letter_asking_for_a_forbidden_file_still_renders_without_it():
    pdf = Renderer().render(
        '<p>Hello</p><img src="file:///etc/hostname"><img src="http://example.com/x.png">'
    )
    assert pdf.startswith(b"%PDF-")


def test_the_qr_code_opens_the_verification_page(app, ctx, offers, tmp_path):
    offer = _issue(offers, "kk")
    path = _save(offer, tmp_path)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "page")],
        check=True,
    )
    out = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(tmp_path / "page.png")],
        capture_output=True,
        text=True,
        check=True,
    )
    url = out.stdout.strip()
    assert url.startswith("http://kopir.test/verify/")
    code = url.rsplit("/", 1)[1]
    assert services.find_by_code(code).id == offer.id
    assert url in " ".join(_text(path).split())
