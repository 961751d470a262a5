"""Every string a user sees is translated into Russian, Kazakh and Kyrgyz."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "portal" / "translations"
LOCALES = ["ru", "kk", "ky"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]|%\(\w+\)\.\d+f")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
}
METHODS = [
    ("portal/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]


def load(locale: str):
    with open(CATALOGUES / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=locale)


def source_messages() -> set[str]:
    """Extract the msgids from the code and templates, as `make translations-update` does."""
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map=METHODS,
        keywords=KEYWORDS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_has_no_untranslated_or_fuzzy_message(locale):
    catalogue = load(locale)
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(s.strip() for s in strings):
            problems.append(message.id)
    assert problems == [], f"{locale}: {len(problems)} untranslated, e.g. {problems[:5]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_their_placeholders(locale):
    for message in load(locale):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            if string:
                assert set(PLACEHOLDER.findall(string)) <= expected, (locale, message.id)
                assert set(PLACEHOLDER.findall(string)) >= set(PLACEHOLDER.findall(ids[0])) - {
                    "%(num)d"
                }, (locale, message.id)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_holds_every_message_of_the_code(locale):
    in_catalogue = {m.id[0] if isinstance(m.id, tuple) else m.id for m in load(locale) if m.id}
    missing = sorted(source_messages() - in_catalogue)
    assert missing == [], f"run `make translations-update` and translate: {missing[:5]}"


def test_kazakh_and_kyrgyz_use_their_own_letters():
    kazakh_only = set("әғқұіһ")
    kk = " ".join(m.string if isinstance(m.string, str) else " ".join(m.string) for m in load("kk"))
    ky = " ".join(m.string if isinstance(m.string, str) else " ".join(m.string) for m in load("ky"))
    assert kazakh_only & set(kk.lower())
    assert set("ңөү") & set(ky.lower())
    assert not kazakh_only & set(ky.lower()), "Kyrgyz text uses Kazakh-only letters"


@pytest.mark.parametrize("locale", ["ru", "kk", "ky"])
def test_pages_speak_the_chosen_language(browser, locale):
    english = ["Programmes", "Log in", "Register", "Study abroad across Central Asia"]
    text = browser.get(f"/?lang={locale}").get_data(as_text=True)
    assert f'<html lang="{locale}">' in text
    for phrase in english:
        assert f">{phrase}<" not in text, (locale, phrase)


def test_language_choice_is_remembered_for_the_account(app, browser):
    from tests import factories

    with app.app_context():
        factories.user(email="s@example.kg", locale="en")
    browser.login("s@example.kg", factories.PASSWORD)
    browser.get("/")
    browser.post("/account/language", {"lang": "ky", "next": "/programs"})
    assert '<html lang="ky">' in browser.get("/").get_data(as_text=True)
    with app.app_context():
        from portal.auth.models import User
        from portal.extensions import db

        assert db.session.scalar(db.select(User.locale)) == "ky"


def test_accept_language_is_the_fallback(browser):
    text = browser.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}).get_data(
        as_text=True
    )
    assert '<html lang="ru">' in text
