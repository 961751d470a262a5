"""A student registers, fills the profile, applies with two documents and submits, in a browser.

Runs in all four languages on a phone-sized and a desktop-sized screen; every page is
screenshotted to test-artifacts/screenshots/ and checked for console errors, failed requests and
horizontal scrolling on the phone.
"""

from __future__ import annotations

import re
from datetime import date
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.applications.models import Application
from portal.extensions import db
from tests import factories
from tests.browser.conftest import translator
from tests.documents.corpus import make_jpeg, make_pdf
from tests.profiles.test_profile import iin_for

pytestmark = pytest.mark.browser

DEVICES = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
MOTIVATION = (
    "Мен Алтай мұздықтарын зерттеймін және оларды Тянь-Шань мұздықтарымен салыстырғым келеді. "
) * 4


class Page:
    """One browser tab that records problems and screenshots each step."""

    def __init__(self, context, base: str, folder: Path, prefix: str, phone: bool) -> None:
        self.page = context.new_page()
        self.base = base
        self.folder = folder
        self.prefix = prefix
        self.phone = phone
        self.problems: list[str] = []
        self.step = 0
        self.page.on(
            "console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}")
        )
        # A load cut short by the next navigation (ERR_ABORTED) is the browser's choice, not ours.
        self.page.on(
            "requestfailed",
            lambda r: (
                "ERR_ABORTED" not in (r.failure or "")
                and self.problems.append(f"request failed: {r.url} {r.failure}")
            ),
        )
        self.page.on(
            "response", lambda r: r.status >= 400 and self.problems.append(f"{r.status}: {r.url}")
        )

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(
            path=str(self.folder / f"{self.prefix}-{self.step:02d}-{name}.png"), full_page=True
        )
        if self.phone:
            overflow = self.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                self.problems.append(f"horizontal scroll of {overflow}px on {name}")


@pytest.fixture
def programme(app):
    with app.app_context():
        host = factories.institution(
            schac="vku.edu.kz",
            names={
                "en": "Sarsen Amanzholov East Kazakhstan University",
                "ru": "Восточно-Казахстанский университет им. С. Аманжолова",
                "kk": "С. Аманжолов атындағы Шығыс Қазақстан университеті",
                "ky": "С. Аманжолов атындагы Чыгыш Казакстан университети",
            },
        )
        program = factories.program(
            host,
            slug="altai",
            titles={
                "en": "Altai Summer School",
                "ru": "Алтайская школа",
                "kk": "Алтай жазғы мектебі",
                "ky": "Алтай жайкы мектеби",
            },
            required_language="en",
            required_cefr="B1",
        )
        return program.slug


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("lang", ["kk", "ru", "ky", "en"])
def test_student_applies_in_a_browser(
    app, live_server, chromium, screenshots, programme, tmp_path, lang, device
):
    _ = translator(lang)
    context = chromium.new_context(
        locale={"kk": "kk-KZ", "ru": "ru-RU", "ky": "ky-KG", "en": "en-GB"}[lang],
        timezone_id="Asia/Bishkek",
        **DEVICES[device],
    )
    tab = Page(context, live_server, screenshots, f"{lang}-{device}", device == "phone")
    page = tab.page
    email = f"student-{lang}-{device}@example.kz"
    password = "Altai-summer-2026"

    tab.goto(f"/?lang={lang}")
    tab.shot("home")
    tab.goto("/programs")
    tab.shot("catalogue")
    page.get_by_role("link", name=re.compile("Алтай|Altai")).first.click()
    tab.shot("programme")

    tab.goto("/account/register")
    page.get_by_label(_("E-mail")).fill(email)
    page.get_by_label(_("Password"), exact=True).fill(password)
    page.get_by_label(_("Repeat the password")).fill(password)
    tab.shot("register")
    page.get_by_role("button", name=_("Register")).last.click()
    tab.shot("check-mail")

    outbox = Path(app.config["OUTBOX_DIR"])
    mails = [message_from_bytes(p.read_bytes(), policy=default) for p in outbox.glob("*.eml")]
    [mail] = [m for m in mails if m["To"] == email]
    body = mail.get_body(("plain",)).get_content()
    verify = re.search(r"https?://[^/\s]+(/account/verify/\S+)", body).group(1)
    tab.goto(verify)
    page.get_by_label(_("E-mail")).fill(email)
    page.get_by_label(_("Password"), exact=True).fill(password)
    page.get_by_role("button", name=_("Log in")).last.click()

    tab.goto("/profile/")
    page.get_by_label(_("Given names in your alphabet")).fill("Әлихан")
    page.get_by_label(_("Family name in your alphabet")).fill("Бөкейханов")
    page.get_by_label(_("Given names as in your passport (Latin)")).fill("ALIKHAN")
    page.get_by_label(_("Family name as in your passport (Latin)")).fill("BOKEIKHANOV")
    page.get_by_label(_("Date of birth")).fill("2003-05-17")
    page.get_by_label(_("Gender")).select_option("1")
    page.get_by_label(_("Citizenship")).select_option("KZ")
    page.get_by_label(_("National identification number")).fill(iin_for(date(2003, 5, 17), True))
    page.get_by_label(_("Passport number")).fill("N12345678")
    page.get_by_label(_("Mobile phone")).fill("8 701 123 45 67")
    page.get_by_label(_("Home university")).select_option(index=1)
    page.get_by_label(_("Faculty or school")).fill("Жаратылыстану факультеті")
    page.get_by_label(_("Study level")).select_option("6")
    page.get_by_label(_("Field of study (ISCED-F 2013)")).select_option("052")
    page.get_by_label(_("Year of study")).fill("3")
    page.get_by_label(_("Grade point average")).fill("3.40")
    page.get_by_label(_("Grading scale")).select_option("kz4")
    page.locator("#languages-0-language").select_option("en")
    page.locator("#languages-0-level").select_option("B2")
    page.locator("#languages-1-language").select_option("kk")
    page.locator("#languages-1-level").select_option("native")
    tab.shot("profile-filled")
    page.get_by_role("button", name=_("Save my profile")).click()
    tab.shot("profile-saved")
    assert page.locator(".alert-success").count() == 1, page.content()[:2000]

    tab.goto("/programs/altai")
    page.get_by_role("button", name=_("Start an application")).click()
    tab.shot("step-profile")
    page.get_by_role("link", name=_("Continue")).click()
    page.get_by_label(_("Your motivation")).fill(MOTIVATION)
    tab.shot("step-motivation")
    page.get_by_role("button", name=_("Save and continue")).click()
    passport = tmp_path / "паспорт.jpg"
    passport.write_bytes(make_jpeg())
    transcript = tmp_path / "transcript.pdf"
    transcript.write_bytes(make_pdf())
    for kind, path in (("passport", passport), ("transcript", transcript)):
        page.get_by_label(_("Document"), exact=True).select_option(kind)
        page.get_by_label(_("File (PDF, JPEG or PNG)")).set_input_files(str(path))
        with page.expect_navigation():
            page.get_by_role("button", name=_("Upload")).click()
        assert page.locator(".alert-success").count() == 1
    tab.shot("step-documents")
    page.get_by_role("link", name=_("Continue")).click()
    tab.shot("step-review")
    page.get_by_role("button", name=_("Submit the application")).click()
    tab.shot("submitted")
    tab.goto("/applications/")
    tab.shot("dashboard")
    context.close()

    with app.app_context():
        application = db.session.scalar(
            sa.select(Application)
            .join(Application.student)
            .where(sa.text("users.email = :e"))
            .params(e=email)
        )
        assert application is not None and application.state == "submitted"
        assert len(application.current_documents()) == 2
    assert tab.problems == []
