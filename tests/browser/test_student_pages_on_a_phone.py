"""The student's pages on a phone in four languages: zones, answers, numbers, radios, nudge.

Each page is screenshotted to test-artifacts/screenshots/ (pages-<lang>-NN-<name>.png) and checked
for axe-core violations, untranslated text and horizontal scrolling by the journey's Page helper.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from portal.applications.models import Application
from portal.db import utcnow
from portal.extensions import db
from portal.programs.models import ProgramQuestion
from tests import factories
from tests.browser.conftest import translator
from tests.browser.test_offers import LOCALES, _login
from tests.browser.test_student_journey import DEVICES, Page
from tests.questions import HOSTEL, MOUNTAIN, SLEEP, TENT

pytestmark = pytest.mark.browser

TITLES = {
    "en": "Altai Summer School",
    "ru": "Алтайская школа",
    "kk": "Алтай жазғы мектебі",
    "ky": "Алтай жайкы мектеби",
}
ALMATY = {"en": "Almaty", "ru": "Алматы", "kk": "Алматы", "ky": "Алматы"}
BISHKEK = {"en": "Bishkek", "ru": "Бишкек", "kk": "Бішкек", "ky": "Бишкек"}

# WCAG 2.1 contrast of each control's edge against what surrounds it, computed in the page.
_EDGE_CONTRAST = """(selector) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const behind = (el) => {
    for (let e = el.parentElement; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] > 0) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)].map((el) => {
    const a = lum(rgb(getComputedStyle(el).borderTopColor)), b = lum(behind(el));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}"""

# Heading levels in document order: none may skip one going down.
_HEADINGS = "() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1])"


def _questions() -> list[ProgramQuestion]:
    return [
        ProgramQuestion(position=1, kind="short", prompts=MOUNTAIN, choices=[]),
        ProgramQuestion(
            position=2,
            kind="choice",
            prompts=SLEEP,
            choices=[{"value": "tent", "labels": TENT}, {"value": "hostel", "labels": HOSTEL}],
        ),
    ]


def build(app, lang: str) -> dict[str, object]:
    """A host in Almaty, two programmes with questions, a newcomer and a student who applied."""
    with app.app_context():
        host = factories.institution(
            schac=f"vku-{lang}.edu.kz",
            timezone="Asia/Almaty",
            names={"en": "East Kazakhstan University", "ru": "ВКУ", "kk": "ШҚУ", "ky": "ЧКУ"},
        )
        closes = datetime(2027, 3, 31, 18, 59, tzinfo=UTC)
        altai = factories.program(
            host,
            slug=f"altai-{lang}",
            titles=TITLES,
            min_gpa=60,
            seats=1200,
            fee_amount=Decimal("150000.50"),
            closes_at=closes,
        )
        altai.questions = _questions()
        tien = factories.program(host, slug=f"tien-{lang}", titles=TITLES, closes_at=closes)
        tien.questions = _questions()
        db.session.flush()
        factories.user(email=f"new-{lang}@example.kz", locale=lang)
        student = factories.user(email=f"done-{lang}@example.kz", locale=lang)
        factories.complete_profile(
            student, gpa=Decimal("3.45"), gpa_scale="kz4", gpa_normalized=Decimal("86.3")
        )
        draft = Application(student=student, program=altai, state="draft", answers={})
        sent = Application(
            student=student,
            program=tien,
            state="submitted",
            submitted_at=utcnow() - timedelta(hours=1),
            motivation="Glaciers.",
            answers={str(tien.questions[0].id): "Белуха", str(tien.questions[1].id): "tent"},
        )
        db.session.add_all([draft, sent])
        db.session.commit()
        return {"altai": altai.slug, "draft": draft.id, "sent": sent.id}


def headings_in_order(tab: Page, name: str) -> None:
    levels = tab.page.evaluate(_HEADINGS)
    assert levels and levels[0] == 1 and levels.count(1) == 1, (name, levels)
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, (name, levels)


def main_text(tab: Page) -> str:
    return tab.page.locator("main").inner_text()


@pytest.mark.parametrize("lang", ["en", "ru", "kk", "ky"])
def test_student_pages_on_a_phone(app, live_server, chromium, screenshots, lang):
    _ = translator(lang)
    world = build(app, lang)
    context = chromium.new_context(
        locale=LOCALES[lang], timezone_id="Asia/Bishkek", **DEVICES["phone"]
    )
    tab = Page(context, live_server, screenshots, f"pages-{lang}", phone=True)
    page = tab.page

    # First view: the browser has not told its zone yet, so the programme's own is shown, named.
    tab.goto(f"/programs/{world['altai']}?lang={lang}")
    tab.shot("programme-first-view")
    text = main_text(tab)
    assert f"({ALMATY[lang]}, UTC+5)" in text
    assert BISHKEK[lang] not in text and "UTC)" not in text
    headings_in_order(tab, "programme")
    if lang != "en":
        assert not re.search(r"\d\.\d", text), text  # one decimal sign on the page
    # The script has reported the zone now: the next view adds the viewer's own time.
    tab.goto(f"/programs/{world['altai']}")
    tab.shot("programme-zone-known")
    assert f"({BISHKEK[lang]}, UTC+6)" in main_text(tab)
    assert f"{BISHKEK[lang]} (UTC+6)" in page.locator("footer").inner_text()

    tab.goto("/programs")
    tab.shot("catalogue")
    headings_in_order(tab, "catalogue")

    # A newcomer's first login: told what the profile lacks, with the way there.
    _login(tab, _, f"new-{lang}@example.kz")
    page.wait_for_url(lambda url: "/account/login" not in url)
    tab.shot("home-after-first-login")
    nudge = page.locator("section.profile-nudge")
    assert nudge.is_visible()
    assert _("Passport number") in nudge.inner_text()
    tab.goto("/applications/")
    tab.shot("dashboard-newcomer")
    headings_in_order(tab, "dashboard")
    page.locator("section.profile-nudge a").click()
    page.wait_for_url(re.compile(r"/profile/$"))
    tab.shot("profile-from-nudge")
    context.close()

    context = chromium.new_context(
        locale=LOCALES[lang], timezone_id="Asia/Bishkek", **DEVICES["phone"]
    )
    tab2 = Page(context, live_server, screenshots, f"pages-{lang}-student", phone=True)
    page = tab2.page
    _login(tab2, _, f"done-{lang}@example.kz")
    page.wait_for_url(lambda url: "/account/login" not in url)
    assert page.locator("section.profile-nudge").count() == 0

    # Radio buttons: their edge stands out from the page at 3:1 at least (WCAG 1.4.11).
    tab2.goto(f"/applications/{world['draft']}/questions")
    tab2.shot("questions")
    ratios = page.evaluate(_EDGE_CONTRAST, "input[type=radio]")
    assert len(ratios) == 2 and min(ratios) >= 3, ratios
    page.get_by_label(HOSTEL[lang]).focus()
    tab2.shot("questions-radio-focused")
    assert min(page.evaluate(_EDGE_CONTRAST, "input[type=radio]")) >= 3

    # The submitted application reads back every answer, in the student's language.
    tab2.goto(f"/applications/{world['sent']}")
    tab2.shot("submitted-application")
    answers = page.locator("dl.answers").inner_text()
    for shown in (MOUNTAIN[lang], "Белуха", SLEEP[lang], TENT[lang]):
        assert shown in answers, answers
    headings_in_order(tab2, "application")

    tab2.goto(f"/applications/{world['draft']}/profile")
    tab2.shot("step-profile")
    text = main_text(tab2)
    assert ("3.45" if lang == "en" else "3,45") in text
    if lang != "en":
        assert not re.search(r"\d\.\d", text), text
    context.close()
    assert tab.problems == [] and tab2.problems == [], tab.problems + tab2.problems
