"""A student who uses no mouse: logs in and fills the whole profile with the keyboard alone.

Only Tab, Shift+Tab, typing, the arrow keys (in a select), Space and Enter move and act; the
page is read (which element has the focus, what a select offers) but never clicked or filled
by script. Every element that takes the focus on the way must show it (an outline or a box
shadow), and the pages pass the same checks as every browser test (axe-core included).
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.auth.models import User
from portal.extensions import db
from portal.profiles.models import StudentProfile
from tests import factories
from tests.browser.conftest import translator
from tests.browser.test_full_journey import WAIT
from tests.browser.test_offers import LOCALES
from tests.browser.test_student_journey import DEVICES, Page
from tests.profiles.test_profile import iin_for

pytestmark = pytest.mark.browser

EMAIL = "keyboard@example.kz"
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== "none"
    && !/^rgba\\(\\d+, \\d+, \\d+, 0\\)/.test(style.boxShadow);
  return {
    id: el.id, tag: el.tagName.toLowerCase(), type: el.type || "",
    text: (el.innerText || el.value || "").trim().slice(0, 60),
    shown: outline || shadow,
  };
}"""


def press(tab: Page, key: str) -> dict:
    """Press one key and return what has the focus then, noting a focus that cannot be seen."""
    tab.page.keyboard.press(key)
    focused = tab.page.evaluate(FOCUSED)
    if focused is None:  # past the last element the focus leaves the page, as in a browser
        return {"id": None, "tag": None, "text": None}
    if not focused["shown"]:
        tab.problems.append(f"focus is not visible on {focused}")
    return focused


def tab_to(tab: Page, wanted, key: str = "Tab", limit: int = 40) -> dict:
    """Press Tab (or Shift+Tab) until the focused element satisfies wanted."""
    for _ in range(limit):
        focused = press(tab, key)
        if wanted(focused):
            return focused
    raise AssertionError(f"{limit} presses of {key} never reached the element")


def by_id(element_id: str):
    """Return a test that the focused element has the id."""
    return lambda focused: focused["id"] == element_id


def type_into(tab: Page, element_id: str, value: str, key: str = "Tab") -> None:
    """Move the focus to a field and type into it."""
    tab_to(tab, by_id(element_id), key)
    tab.page.keyboard.type(value)


def choose(tab: Page, element_id: str, value: str) -> None:
    """Move the focus to a select and step to the wanted option with the arrow keys."""
    # Arrows, not type-ahead: Playwright types letters outside the US layout (Cyrillic) as
    # inserted text, which a select's type-ahead never sees.
    tab_to(tab, by_id(element_id))
    now, wanted = tab.page.evaluate(
        "([id, value]) => { const s = document.getElementById(id);"
        " return [s.selectedIndex, [...s.options].findIndex(o => o.value === value)]; }",
        [element_id, value],
    )
    assert wanted >= 0, f"#{element_id} offers no {value!r}"
    for _ in range(abs(wanted - now)):
        tab.page.keyboard.press("ArrowDown" if wanted > now else "ArrowUp")
    chosen = tab.page.evaluate("id => document.getElementById(id).value", element_id)
    assert chosen == value, f"the arrows in #{element_id} chose {chosen!r}"


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_login_and_profile_with_the_keyboard_alone(app, live_server, chromium, screenshots, lang):
    with app.app_context():
        home = factories.institution(
            schac="vku.edu.kz",
            names={
                "en": "East Kazakhstan University",
                "kk": "Шығыс Қазақстан университеті",
                "ru": "Восточно-Казахстанский университет",
            },
        )
        home_id = home.id
        factories.user(email=EMAIL, locale=lang)
    _ = translator(lang)
    context = chromium.new_context(
        locale=LOCALES[lang], **DEVICES["desktop"]
    )
    tab = Page(context, live_server, screenshots, f"keyboard-{lang}", False)
    page = tab.page

    tab.goto(f"/account/login?lang={lang}")
    tab.shot("login")
    # The first Tab reaches the skip link, and Enter on it lands in the main content.
    skip = press(tab, "Tab")
    assert skip["text"] == _("Skip to content"), skip
    page.keyboard.press("Enter")
    type_into(tab, "email", EMAIL)
    type_into(tab, "password", factories.PASSWORD)
    tab_to(tab, by_id("remember"))
    page.keyboard.press("Space")
    expect(page.get_by_label(_("Keep me logged in on this device"))).to_be_checked()
    tab_to(tab, lambda f: f["tag"] == "button" and f["text"] == _("Log in"))
    tab.shot("login-filled")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=_("Log out"))).to_be_visible(timeout=WAIT)
    tab.shot("logged-in")

    # From the top of the page to the menu's "My profile" link.
    tab_to(tab, lambda f: f["tag"] == "a" and f["text"] == _("My profile"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/profile/")
    tab.shot("profile")
    # The passport is at hand: the Latin names first, then back up to the native ones.
    type_into(tab, "latin_given_names", "GALYMZHAN")
    type_into(tab, "latin_family_name", "KURMANGAZYULY")
    type_into(tab, "native_given_names", "Ғалымжан", key="Shift+Tab")
    type_into(tab, "native_family_name", "Құрманғазыұлы")
    choose(tab, "native_name_lang", "kk")
    tab_to(tab, by_id("latin_family_name"))
    # Chromium lays a date field out in its own UI language (en-US here: month/day/year),
    # whatever the page's language or the context's locale.
    type_into(tab, "birth_date", "05172003")
    assert page.evaluate("document.getElementById('birth_date').value") == "2003-05-17"
    choose(tab, "gender", "1")
    choose(tab, "citizenship", "KZ")
    type_into(tab, "national_id", iin_for(date(2003, 5, 17), True))
    type_into(tab, "passport_number", "N12345678")
    type_into(tab, "phone", "8 701 123 45 67")
    choose(tab, "home_institution", str(home_id))
    type_into(tab, "faculty", "Жаратылыстану факультеті")
    choose(tab, "study_level", "6")
    choose(tab, "isced_code", "052")
    type_into(tab, "year_of_study", "3")
    type_into(tab, "gpa", "3.40")
    choose(tab, "gpa_scale", "kz4")
    choose(tab, "languages-0-language", "en")
    choose(tab, "languages-0-level", "B2")
    tab_to(tab, lambda f: f["tag"] == "button" and f["text"] == _("Save my profile"))
    tab.shot("profile-filled")
    page.keyboard.press("Space")
    expect(page.locator(".alert-success")).to_be_visible(timeout=WAIT)
    tab.shot("profile-saved")
    context.close()

    with app.app_context():
        profile = db.session.scalar(sa.select(StudentProfile).join(User).where(User.email == EMAIL))
        assert profile is not None
        assert (profile.native_given_names, profile.native_family_name) == (
            "Ғалымжан",
            "Құрманғазыұлы",
        )
        assert profile.birth_date == date(2003, 5, 17)
        assert profile.home_institution_id == home_id
        assert profile.isced_code == "052"
        assert [(s.language, s.level) for s in profile.languages] == [("en", "B2")]
    assert not tab.problems, "\n".join(tab.problems)
