"""Offer letters in a real browser: a coordinator watches the batch, students answer, anyone checks.

The batch runs as it does in production: in a thread of the live server, rendering in worker
processes, while the page polls its progress. Students of all four languages, on a phone and on
a desktop, download their letter, open the verification link printed in it, and accept.
"""

from __future__ import annotations

import re
import subprocess

import pytest
import sqlalchemy as sa

from portal.applications.models import Application
from portal.extensions import db
from portal.offers.models import Offer
from tests.browser.conftest import translator
from tests.browser.test_student_journey import DEVICES, Page
from tests.offers.conftest import STUDENTS, build_offers

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
LOCALES = {"kk": "kk-KZ", "ru": "ru-RU", "ky": "ky-KG", "en": "en-GB"}


def _login(tab: Page, _, email: str) -> None:
    tab.goto("/account/login")
    tab.page.get_by_label(_("E-mail")).fill(email)
    tab.page.get_by_label(_("Password"), exact=True).fill(PASSWORD)
    tab.page.get_by_role("button", name=_("Log in")).last.click()


@pytest.mark.parametrize("lang", ["en", "kk"])
def test_coordinator_issues_the_letters_and_watches_progress(
    app, live_server, chromium, screenshots, lang
):
    setup = build_offers(app)
    with app.app_context():
        from portal.auth.models import User

        db.session.scalar(sa.select(User).where(User.email == setup.coordinator)).locale = lang
        db.session.commit()
    _ = translator(lang)
    context = chromium.new_context(locale=LOCALES[lang], **DEVICES["desktop"])
    tab = Page(context, live_server, screenshots, f"offers-coordinator-{lang}", False)
    _login(tab, _, setup.coordinator)
    tab.goto(f"/staff/programs/{setup.program_id}/offers")
    tab.shot("offers-list")
    tab.page.get_by_role("button", name=_("Issue their letters")).click()
    tab.page.wait_for_url(re.compile(r"/staff/jobs/\d+$"))
    tab.shot("job-running")
    # The page follows the job by itself and shows the result when it is done.
    tab.page.locator(".alert-success").wait_for(timeout=60_000)
    assert tab.page.locator("progress").get_attribute("value") == "100"
    tab.shot("job-done")
    tab.page.get_by_role("link", name=_("Back to the programme's letters")).click()
    tab.shot("offers-issued")
    assert tab.page.get_by_text(_("Every accepted applicant has a letter.")).is_visible()
    context.close()
    assert not tab.problems, tab.problems
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Offer.id))) == 4


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("lang", ["kk", "ru", "ky", "en"])
def test_student_downloads_checks_and_accepts(
    app, live_server, chromium, screenshots, tmp_path, lang, device
):
    from portal import jobs

    setup = build_offers(app)
    with app.app_context():
        app.config["LETTER_WORKERS"] = 1
        job = jobs.create("issue_offers", program_id=setup.program_id, created_by_id=None)
        db.session.commit()
        jobs.run(job.id)
        app.config["LETTER_WORKERS"] = None
    email = next(row[0] for row in STUDENTS if row[1] == lang)
    application_id = setup.accepted[lang]
    _ = translator(lang)
    context = chromium.new_context(
        locale=LOCALES[lang], timezone_id="Asia/Bishkek", accept_downloads=True, **DEVICES[device]
    )
    tab = Page(context, live_server, screenshots, f"offers-{lang}-{device}", device == "phone")
    page = tab.page
    _login(tab, _, email)
    tab.goto(f"/applications/{application_id}")
    tab.shot("offer")
    with page.expect_download() as download:
        page.get_by_role("link", name=_("Download the letter (PDF)")).click()
    letter = tmp_path / "letter.pdf"
    download.value.save_as(letter)
    text = subprocess.run(
        ["pdftotext", str(letter), "-"], capture_output=True, text=True, check=True
    ).stdout
    code = re.search(r"/verify/([a-z0-9]{26})", text).group(1)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "60",
            "-png",
            "-singlefile",
            str(letter),
            str(screenshots / f"offers-{lang}-{device}-letter"),
        ],
        check=True,
    )

    tab.goto(f"/verify/{code}")
    tab.shot("verify")
    assert page.locator(".verify-status.alert-success").is_visible()

    tab.goto("/verify")
    page.get_by_label(_("Or upload the PDF you received")).set_input_files(str(letter))
    page.get_by_role("button", name=_("Check")).click()
    tab.shot("verify-file")
    assert page.get_by_text(
        _("The file you uploaded is identical, byte for byte, to the letter we issued.")
    ).is_visible()

    tab.goto(f"/applications/{application_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=_("Accept the offer")).click()
    tab.shot("accepted")
    assert page.get_by_text(_("You accepted the offer. Welcome!")).is_visible()
    context.close()
    assert not tab.problems, tab.problems
    with app.app_context():
        assert db.session.get(Application, application_id).state == "confirmed"
