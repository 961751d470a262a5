"""Coordinators and administrators on the demo data: their home, menu, queue and charts.

At 1280 px the menu stays on one line and the queue fits without scrolling sideways, in every
language (Kazakh and Kyrgyz are the longest); on a 390 px phone every row of the queue shows
its state. Every page is screenshotted and checked like the other browser tests' pages.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.auth.models import User
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from tests.browser.conftest import translator
from tests.browser.test_full_journey import WAIT
from tests.browser.test_offers import LOCALES
from tests.browser.test_student_journey import DEVICES, Page

pytestmark = pytest.mark.browser

ADMIN, COORDINATOR = "admin@kopir.demo", "coordinator@kopir.demo"

# How the menu and the queue sit on the page, measured by the browser.
_LAYOUT = """() => {
  const root = document.documentElement;
  const nav = document.querySelector('nav.navbar');
  const links = [...nav.querySelectorAll('#nav .nav-link')].filter((e) => e.offsetParent);
  const box = document.querySelector('.table-responsive');
  return {
    pageOverflow: root.scrollWidth - root.clientWidth,
    navHeight: nav.getBoundingClientRect().height,
    toggler: getComputedStyle(nav.querySelector('.navbar-toggler')).display,
    tallestLink: Math.max(...links.map((e) => e.getBoundingClientRect().height)),
    linkTops: links.map((e) => Math.round(e.getBoundingClientRect().top)),
    tableOverflow: box ? box.scrollWidth - box.clientWidth : 0,
  };
}"""


@pytest.fixture
def demo(app):
    """Load the demo data: real names in four languages, long Kazakh ones among them."""
    result = app.test_cli_runner().invoke(args=["portal", "seed-demo"])
    assert result.exit_code == 0, result.output


def _speak(app, email: str, lang: str) -> None:
    with app.app_context():
        db.session.scalar(sa.select(User).where(User.email == email)).locale = lang
        db.session.commit()


def _log_in(tab: Page, _, email: str) -> None:
    tab.goto("/account/login")
    tab.page.get_by_label(_("E-mail")).fill(email)
    tab.page.get_by_label(_("Password"), exact=True).fill(DEMO_PASSWORD)
    tab.page.get_by_role("button", name=_("Log in")).last.click()
    tab.page.wait_for_url(re.compile(r"/home$"), timeout=WAIT)


def _fits(tab: Page, where: str) -> dict:
    layout = tab.page.evaluate(_LAYOUT)
    assert layout["toggler"] == "none", f"the menu is folded at 1280 px on {where}"
    # One line: every link as tall as one line of text, all at the same height.
    assert layout["tallestLink"] < 48, (where, layout)
    assert max(layout["linkTops"]) - min(layout["linkTops"]) <= 4, (where, layout)
    assert layout["navHeight"] < 64, (where, layout)
    assert layout["pageOverflow"] <= 0, (where, layout)
    return layout


@pytest.mark.parametrize("lang", ["kk", "ky", "ru", "en"])
def test_staff_pages_fit_a_1280_pixel_screen(app, live_server, chromium, screenshots, demo, lang):
    _ = translator(lang)
    problems = []
    for who, email in (("admin", ADMIN), ("coordinator", COORDINATOR)):
        _speak(app, email, lang)
        context = chromium.new_context(locale=LOCALES[lang], **DEVICES["desktop"])
        tab = Page(context, live_server, screenshots, f"staff-{who}-{lang}-desktop", False)
        page = tab.page
        _log_in(tab, _, email)
        expect(page.get_by_role("heading", name=_("What waits for you"))).to_be_visible()
        tab.shot("home")
        _fits(tab, f"{who} home")

        # The account menu opens with a click and holds the catalogue and "Log out".
        menu = page.locator("details.account-menu")
        menu.locator("summary").click()
        expect(menu.get_by_role("button", name=_("Log out"))).to_be_visible()
        expect(menu.get_by_role("link", name=_("Change the password"))).to_be_visible()
        tab.shot("account-menu")
        menu.locator("summary").click()
        expect(menu.get_by_role("button", name=_("Log out"))).to_be_hidden()
        # Escape closes it and gives the focus back to its button; so does a click elsewhere.
        menu.locator("summary").click()
        page.keyboard.press("Escape")
        expect(menu.get_by_role("button", name=_("Log out"))).to_be_hidden()
        expect(menu.locator("summary")).to_be_focused()
        menu.locator("summary").click()
        page.locator("h1").click()
        expect(menu.get_by_role("button", name=_("Log out"))).to_be_hidden()

        # The queue fits beside its filters, without a sideways scroll bar anywhere.
        page.get_by_role("navigation", name=_("Main")).get_by_role(
            "link", name=_("Applications"), exact=True
        ).click()
        page.wait_for_url(re.compile(r"/staff/queue$"))
        tab.shot("queue")
        layout = _fits(tab, f"{who} queue")
        assert layout["tableOverflow"] <= 0, (who, lang, layout)
        # A state is ticked with the keyboard (no Ctrl-click), and the filter applies.
        box = page.get_by_role("checkbox", name=_("Submitted"), exact=True)
        box.focus()
        page.keyboard.press("Space")
        expect(box).to_be_checked()
        page.get_by_role("button", name=_("Show")).click()
        page.wait_for_url(re.compile(r"state=submitted"))
        expect(page.get_by_role("checkbox", name=_("Submitted"), exact=True)).to_be_checked()
        rows = page.locator(".queue-table tbody tr")
        assert rows.count() >= 1
        for state in rows.locator("td:not(.applicant) .badge").all_inner_texts():
            assert state == _("Submitted"), state
        tab.shot("queue-submitted")
        if who == "admin":
            tab.goto("/staff/dashboard")
            tab.shot("dashboard")
            _fits(tab, "dashboard")
            charts = page.locator("#main figure.chart")
            assert charts.count() == 4
            for i in range(charts.count()):
                # Two universities never read the same beside their bars.
                labels = charts.nth(i).locator("svg .chart-label").all_text_contents()
                assert len(set(labels)) == len(labels), labels
        context.close()
        problems.extend(tab.problems)
    assert not problems, problems


@pytest.mark.parametrize("lang", ["kk", "en"])
def test_the_queue_on_a_phone_shows_every_rows_state(
    app, live_server, chromium, screenshots, demo, lang
):
    _ = translator(lang)
    _speak(app, ADMIN, lang)
    context = chromium.new_context(locale=LOCALES[lang], **DEVICES["phone"])
    tab = Page(context, live_server, screenshots, f"staff-admin-{lang}-phone", True)
    page = tab.page
    _log_in(tab, _, ADMIN)
    tab.shot("home")
    page.get_by_role("button", name=_("Menu")).click()
    page.locator("details.account-menu summary").click()
    expect(page.get_by_role("button", name=_("Log out"))).to_be_visible()
    tab.shot("menu")
    tab.goto("/staff/queue")
    tab.shot("queue")
    rows = page.locator(".queue-table tbody tr")
    assert rows.count() >= 5
    for i in range(rows.count()):
        badge = rows.nth(i).locator("td.applicant .badge")
        expect(badge).to_be_visible()
        assert badge.inner_text().strip(), i
    # The table does not scroll sideways inside its box either: nothing is cut off.
    assert tab.page.evaluate(_LAYOUT)["tableOverflow"] <= 0
    context.close()
    assert not tab.problems, tab.problems
