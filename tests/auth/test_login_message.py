"""The "please log in" notice speaks the visitor's language, like the page it is shown on."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from flask_babel import get_translations

MSGID = "Please log in to access this page."
ROOT = Path(__file__).resolve().parents[2]
LOCALES = ["ru", "kk", "ky"]


def flashed_after_protected_page(browser, locale: str) -> list[str]:
    """Open a page that needs an account, anonymously in a language; return the notices shown."""
    response = browser.get(f"/profile/?lang={locale}")
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]
    page = browser.get(response.headers["Location"])
    assert page.status_code == 200
    html = lxml.html.fromstring(page.get_data(as_text=True))
    assert html.get("lang") == locale
    return [
        " ".join(a.text_content().split()) for a in html.xpath("//*[contains(@class, 'alert')]")
    ]


def test_the_notice_is_a_message_of_our_catalogue():
    # `make translations-update` extracts it, so it reaches the translators.
    found = {
        message
        for _line, message, _comments, _context in extract_from_file(
            "python",
            str(ROOT / "portal" / "extensions.py"),
            keywords={"_l": None, "lazy_gettext": None, "_": None, "gettext": None},
        )
    }
    assert MSGID in found


@pytest.mark.parametrize("locale", LOCALES)
def test_the_notice_is_looked_up_in_the_visitors_language(app, browser, monkeypatch, locale):
    # Whatever the catalogue of the visitor's language says is what they read.
    said = f"[{locale}] войдите, пожалуйста"
    with app.test_request_context(f"/?lang={locale}"):
        catalogue = get_translations()
    monkeypatch.setitem(catalogue._catalog, MSGID, said)
    notices = flashed_after_protected_page(browser, locale)
    assert said in notices
    assert MSGID not in notices


@pytest.mark.parametrize("locale", LOCALES)
def test_the_notice_is_translated(app, browser, locale):
    # Fails until the catalogues translate the message (the lead translates new strings).
    with open(ROOT / "portal" / "translations" / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        message = read_po(f, locale=locale).get(MSGID)
    assert message is not None and message.string and not message.fuzzy, (
        f"{locale}: {MSGID!r} is not translated yet"
    )
    notices = flashed_after_protected_page(browser, locale)
    assert MSGID not in notices
    assert message.string in notices
