"""One application from registration to the partner's answer, every role in its own browser.

A Kazakh student registers, applies to a Bishkek summer school and submits; the coordinator
assigns a reviewer, who scores; the coordinator accepts and issues the letter; the student
accepts the offer; the coordinator nominates; the receiving university's partner verifies the
nomination and downloads it as XLSX and EWP XML. Only what an operator sets up beforehand is
seeded (universities, the programme and its staff accounts); the rest goes through the pages.
Runs in all four languages on a phone and on a desktop; on PostgreSQL alone when
TEST_DATABASE_URL is set (see conftest.py).
"""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
import sqlalchemy as sa
from lxml import etree
from openpyxl import load_workbook
from playwright.sync_api import expect

from portal.applications.models import Application
from portal.applications.states import State
from portal.auth.models import Role
from portal.extensions import db
from portal.nominations import ewp
from portal.nominations.models import Nomination
from portal.programs.models import ProgramStaff, RubricCriterion
from tests import factories
from tests.browser.conftest import translator
from tests.browser.test_offers import LOCALES, _login
from tests.browser.test_student_journey import (
    DEVICES,
    Page,
    apply_with_documents,
    fill_profile,
    register_and_log_in,
)

pytestmark = pytest.mark.browser

HOST = {
    "en": "Kyrgyz National University",
    "ru": "Кыргызский национальный университет",
    "kk": "Қырғыз ұлттық университеті",
    "ky": "Кыргыз улуттук университети",
}
HOME = {
    "en": "Sarsen Amanzholov East Kazakhstan University",
    "ru": "Восточно-Казахстанский университет им. С. Аманжолова",
    "kk": "С. Аманжолов атындағы Шығыс Қазақстан университеті",
    "ky": "С. Аманжолов атындагы Чыгыш Казакстан университети",
}
TITLES = {
    "en": "Issyk-Kul Summer School in Limnology",
    "ru": "Иссык-Кульская летняя школа лимнологии",
    "kk": "Ыстықкөл лимнология жазғы мектебі",
    "ky": "Ысык-Көл лимнология жайкы мектеби",
}
CRITERIA = (
    {"en": "Motivation", "ru": "Мотивация", "kk": "Уәждеме", "ky": "Мотивация"},
    {"en": "Academic record", "ru": "Успеваемость", "kk": "Үлгерім", "ky": "Окуу жетишкендиги"},
)
NATIVE = ("Ғалымжан", "Құрманғазыұлы")
LATIN = ("GALYMZHAN", "KURMANGAZYULY")
# How long a page may take to answer a form: generous, because CI machines run the browser
# tests beside the rest of the suite and a POST can then wait several seconds for a core.
WAIT = 20_000
COORDINATOR = "coordinator@knu.kg"
REVIEWER = "reviewer@knu.kg"
PARTNER = "partner@knu.kg"


def shown(locator) -> None:
    """Wait for the text or element a page shows once the form before it is handled."""
    expect(locator).to_be_visible(timeout=WAIT)


def _operator_setup(app, lang: str) -> None:
    """Make what an operator prepares: universities, the programme, its staff, the partner."""
    with app.app_context():
        host = factories.institution(
            schac="knu.kg",
            country="KG",
            timezone="Asia/Bishkek",
            names=HOST,
            city={"en": "Bishkek", "ru": "Бишкек", "kk": "Бішкек", "ky": "Бишкек"},
        )
        home = factories.institution(schac="vku.edu.kz", country="KZ", names=HOME)
        program = factories.program(
            host,
            slug="issyk-kul",
            titles=TITLES,
            timezone="Asia/Bishkek",
            partners=[home],
            criteria=[
                RubricCriterion(position=n, names=names, weight=Decimal(1), max_score=10)
                for n, names in enumerate(CRITERIA, start=1)
            ],
        )
        coordinator = factories.user(
            Role.COORDINATOR, email=COORDINATOR, institution=host, locale=lang
        )
        reviewer = factories.user(Role.REVIEWER, email=REVIEWER, institution=host, locale=lang)
        factories.user(Role.PARTNER, email=PARTNER, institution=host, locale=lang)
        db.session.add_all(
            [
                ProgramStaff(program=program, user=coordinator, role="coordinator"),
                ProgramStaff(program=program, user=reviewer, role="reviewer"),
            ]
        )
        db.session.commit()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("lang", ["kk", "ru", "ky", "en"])
def test_from_registration_to_the_partners_answer(
    app, live_server, chromium, screenshots, tmp_path, lang, device
):
    started = time.monotonic()
    _operator_setup(app, lang)
    _ = translator(lang)
    tabs: list[Page] = []

    def open_tab(role: str) -> Page:
        context = chromium.new_context(
            locale=LOCALES[lang],
            timezone_id="Asia/Bishkek",
            accept_downloads=True,
            **DEVICES[device],
        )
        tabs.append(
            Page(
                context,
                live_server,
                screenshots,
                f"journey-{lang}-{device}-{role}",
                device == "phone",
            )
        )
        return tabs[-1]

    def log_in(tab: Page, email: str) -> None:
        """Log in through the form and wait for the page it leads to."""
        _login(tab, _, email)
        tab.page.wait_for_url(lambda url: "/account/login" not in url)
        tab.shot("logged-in")

    def go(tab: Page, name: str) -> None:
        """Follow a link of the main menu, opening the menu first on a phone."""
        toggler = tab.page.get_by_role("button", name=_("Menu"))
        if toggler.is_visible():
            toggler.click()
        tab.page.get_by_role("navigation", name=_("Main")).get_by_role(
            "link", name=name, exact=True
        ).click()

    # The student registers, fills the profile and applies with two documents.
    student = open_tab("student")
    email = f"galymzhan-{lang}-{device}@example.kz"
    student.goto(f"/?lang={lang}")
    student.shot("home")
    register_and_log_in(student, app, _, email, "Issyk-Kul-2026")
    fill_profile(student, _, native=NATIVE, latin=LATIN, home=HOME[lang])
    apply_with_documents(student, _, "issyk-kul", tmp_path)
    shown(student.page.get_by_text(_("Submitted")).first)

    # The coordinator finds the application in the programme's queue and assigns the reviewer.
    coordinator = open_tab("coordinator")
    page = coordinator.page
    log_in(coordinator, COORDINATOR)
    go(coordinator, _("My programmes"))
    coordinator.shot("programmes")
    actions = page.get_by_role("group", name=f"{_('Actions')}: {TITLES[lang]}")
    actions.get_by_role("link", name=_("Applications")).click()
    coordinator.shot("queue")
    page.get_by_role("link", name=f"{NATIVE[0]} {NATIVE[1]}").click()
    coordinator.shot("application")
    page.get_by_label(_("Reviewer"), exact=True).select_option(label=REVIEWER)
    page.get_by_role("button", name=_("Assign"), exact=True).click()
    shown(page.get_by_text(_("Reviewer assigned.")))
    coordinator.shot("assigned")

    # The reviewer scores both criteria.
    reviewer = open_tab("reviewer")
    log_in(reviewer, REVIEWER)
    go(reviewer, _("My reviews"))
    reviewer.shot("my-reviews")
    reviewer.page.get_by_role("link", name=f"{LATIN[0]} {LATIN[1]}").click()
    reviewer.page.get_by_label(CRITERIA[0][lang]).fill("9")
    reviewer.page.get_by_label(CRITERIA[1][lang]).fill("8")
    reviewer.page.get_by_label(_("Comment")).fill("Жақсы уәждеме, тәжірибесі бар.")
    reviewer.shot("scoring")
    reviewer.page.get_by_role("button", name=_("Save my review")).click()
    shown(reviewer.page.get_by_text(_("Your review is saved.")))
    reviewer.shot("scored")

    # The coordinator, still on the application, reloads it to see the score, accepts the
    # application and issues the letter from its page (one letter needs no batch job).
    page.reload()
    page.get_by_label(_("Decision"), exact=True).select_option(label=_("Accepted"))
    page.get_by_label(_("Message to the student (they will read this)")).fill("Үздік үміткер")
    page.get_by_label(_("Internal note (staff only)")).fill("Комиссия бірауыздан")
    page.get_by_role("button", name=_("Save the decision")).click()
    shown(page.get_by_text(_("Decision saved; the student is told by e-mail.")))
    coordinator.shot("accepted")
    page.get_by_role("button", name=_("Issue the letter")).click()
    shown(page.locator(".alert-success"))
    coordinator.shot("letter-issued")

    # The student reads the offer on the application's page and accepts it.
    go(student, _("My applications"))
    student.shot("my-applications")
    student.page.get_by_role("link", name=TITLES[lang]).first.click()
    student.shot("offer")
    student.page.once("dialog", lambda dialog: dialog.accept())
    student.page.get_by_role("button", name=_("Accept the offer")).click()
    shown(student.page.get_by_text(_("You accepted the offer. Welcome!")))
    student.shot("offer-accepted")

    # The coordinator nominates the confirmed student to the host, the partner university.
    go(coordinator, _("My programmes"))
    actions.get_by_role("link", name=_("Nominations")).click()
    ticked = page.get_by_label(re.compile(re.escape(f"{LATIN[0]} {LATIN[1]}")))
    expect(ticked).to_be_checked(timeout=WAIT)
    coordinator.shot("ready-to-nominate")
    page.get_by_role("button", name=_("Preview the nominations")).click()
    expect(page.get_by_label(f"{LATIN[0]} {LATIN[1]}")).to_be_checked(timeout=WAIT)
    coordinator.shot("nomination-preview")
    page.get_by_role("button", name=_("Nominate the ticked students")).click()
    shown(page.locator(".alert-success"))
    coordinator.shot("nominated")

    # The partner of the receiving university verifies it and downloads the list.
    partner = open_tab("partner")
    ppage = partner.page
    log_in(partner, PARTNER)
    go(partner, _("Nominations"))
    partner.shot("nominations")
    ppage.get_by_role("link", name=f"{LATIN[0]} {LATIN[1]}").click()
    omobility_id = ppage.locator("code").first.inner_text()
    ppage.get_by_label(_("Verify: we expect this student")).check()
    partner.shot("answering")
    ppage.get_by_role("button", name=_("Send the answer")).click()
    shown(ppage.get_by_text(_("Your answer is recorded.")))
    partner.shot("verified")

    go(partner, _("Nominations"))
    with ppage.expect_download() as xlsx:
        ppage.get_by_role("link", name="XLSX").click()
    xlsx.value.save_as(tmp_path / "nominations.xlsx")
    book = load_workbook(tmp_path / "nominations.xlsx", read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    [row] = rows[1:]
    assert omobility_id in row and email in row
    assert f"{LATIN[0]} {LATIN[1]}" in row and f"{NATIVE[0]} {NATIVE[1]}" in row

    with ppage.expect_download() as xml:
        ppage.get_by_role("link", name="EWP XML").click()
    xml.value.save_as(tmp_path / "nominations.xml")
    document = (tmp_path / "nominations.xml").read_bytes()
    ewp.validate(document, "get")
    ns = {"m": ewp.GET_NS}
    [mobility] = etree.fromstring(document).findall(".//m:student-mobility", ns)
    assert mobility.findtext("m:omobility-id", namespaces=ns) == omobility_id
    names = [e.text for e in mobility.findall("m:student/m:given-names", ns)]
    assert names == [LATIN[0], NATIVE[0]]
    assert mobility.findtext("m:sending-hei/m:hei-id", namespaces=ns) == "vku.edu.kz"
    assert mobility.findtext("m:receiving-hei/m:hei-id", namespaces=ns) == "knu.kg"

    for tab in tabs:
        tab.page.context.close()
    with app.app_context():
        application = db.session.scalar(sa.select(Application))
        assert application.state == State.CONFIRMED
        assert application.score is not None
        nomination = db.session.scalar(sa.select(Nomination))
        assert (nomination.omobility_id, nomination.answer) == (omobility_id, "verified")
    problems = [problem for tab in tabs for problem in tab.problems]
    assert not problems, "\n".join(problems)
    print(f"journey {lang}-{device}: {time.monotonic() - started:.1f} s")
