"""A student changes the password from the menu, on a phone, in each language."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.auth.models import User
from portal.extensions import db
from tests import factories
from tests.browser.conftest import translator
from tests.browser.test_full_journey import WAIT
from tests.browser.test_offers import LOCALES
from tests.browser.test_student_journey import DEVICES, Page

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Жаңа-құпиясөз-2026"


@pytest.mark.parametrize("lang", ["kk", "ru", "ky", "en"])
def test_student_changes_the_password_and_is_logged_out(
    app, live_server, chromium, screenshots, lang
):
    email = f"pw-{lang}@example.kz"
    with app.app_context():
        factories.user(email=email).locale = lang
        db.session.commit()
    _ = translator(lang)
    context = chromium.new_context(locale=LOCALES[lang], **DEVICES["phone"])
    tab = Page(context, live_server, screenshots, f"password-{lang}-phone", True)
    try:
        tab.goto("/account/login")
        tab.page.get_by_label(_("E-mail")).fill(email)
        tab.page.get_by_label(_("Password"), exact=True).fill(factories.PASSWORD)
        tab.page.get_by_role("button", name=_("Log in")).last.click()
        # The login page has a menu too: wait for the page the login leads to before opening it.
        tab.page.wait_for_url(lambda url: "/account/login" not in url, timeout=WAIT)
        tab.page.get_by_role("button", name=_("Menu")).click()
        tab.page.get_by_role("link", name=email).click()
        expect(tab.page.get_by_role("heading", name=_("Change the password"))).to_be_visible(
            timeout=WAIT
        )
        tab.shot("form")
        tab.page.get_by_label(_("Current password")).fill("not my password")
        tab.page.get_by_label(_("Password"), exact=True).fill(NEW_PASSWORD)
        tab.page.get_by_label(_("Repeat the password")).fill(NEW_PASSWORD)
        tab.page.get_by_role("button", name=_("Save the new password")).click()
        expect(tab.page.get_by_text(_("This is not your current password."))).to_be_visible(
            timeout=WAIT
        )
        tab.shot("wrong-current")
        tab.page.get_by_label(_("Current password")).fill(factories.PASSWORD)
        tab.page.get_by_label(_("Password"), exact=True).fill(NEW_PASSWORD)
        tab.page.get_by_label(_("Repeat the password")).fill(NEW_PASSWORD)
        tab.page.get_by_role("button", name=_("Save the new password")).click()
        done = _("Your password is changed and you are logged out everywhere. Please log in.")
        expect(tab.page.get_by_text(done)).to_be_visible(timeout=WAIT)
        tab.shot("logged-out")
        assert tab.problems == []
    finally:
        context.close()
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert user.check_password(NEW_PASSWORD)
