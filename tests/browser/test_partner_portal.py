"""A partner from Bishkek, in a browser: lists nominations, downloads XLSX and EWP XML, answers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from portal.applications.models import Application
from portal.auth.models import User
from portal.extensions import db
from portal.nominations import ewp, services
from portal.nominations.models import Nomination
from tests.browser.conftest import translator
from tests.browser.test_offers import LOCALES, _login
from tests.browser.test_student_journey import DEVICES, Page
from tests.nominations.conftest import build_world

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("lang", ["ky", "ru", "kk", "en"])
def test_partner_downloads_and_answers(
    app, live_server, chromium, screenshots, tmp_path, lang, device
):
    world = build_world(app)
    with app.app_context():
        coordinator = db.session.scalar(sa.select(User).where(User.email == world.coordinator))
        for application_id in world.confirmed.values():
            services.nominate(db.session.get(Application, application_id), actor=coordinator)
        db.session.scalar(sa.select(User).where(User.email == world.partner_host)).locale = lang
        db.session.commit()
        ids = {n.student["email"]: n.id for n in db.session.scalars(sa.select(Nomination))}
    _ = translator(lang)
    context = chromium.new_context(
        locale=LOCALES[lang], accept_downloads=True, **DEVICES[device]
    )
    tab = Page(context, live_server, screenshots, f"partner-{lang}-{device}", device == "phone")
    page = tab.page
    _login(tab, _, world.partner_host)
    tab.goto("/partner/nominations")
    tab.shot("list")
    with page.expect_download() as xlsx:
        page.get_by_role("link", name="XLSX").click()
    xlsx.value.save_as(tmp_path / "n.xlsx")
    book = load_workbook(tmp_path / "n.xlsx", read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    assert len(rows) == 4
    with page.expect_download() as xml:
        page.get_by_role("link", name="EWP XML").click()
    xml.value.save_as(tmp_path / "n.xml")
    ewp.validate((tmp_path / "n.xml").read_bytes(), "get")

    tab.goto(f"/partner/nominations/{ids['aigerim@example.kz']}")
    tab.shot("nominee")
    page.get_by_label(_("Verify: we expect this student")).check()
    page.get_by_role("button", name=_("Send the answer")).click()
    tab.shot("verified")
    assert page.get_by_text(_("Your answer is recorded.")).is_visible()

    tab.goto(f"/partner/nominations/{ids['daniyar@example.kz']}")
    page.get_by_label(_("Reject the nomination")).check()
    comment = page.get_by_label(_("Comment (required to reject; the student reads it)"))
    comment.fill("Лабораторияда орун жок")
    page.get_by_role("button", name=_("Send the answer")).click()
    tab.shot("rejected")
    context.close()
    assert not tab.problems, tab.problems
    with app.app_context():
        answers = {
            n.student["email"]: n.answer for n in db.session.scalars(sa.select(Nomination))
        }
        assert answers["aigerim@example.kz"] == "verified"
        assert answers["daniyar@example.kz"] == "rejected"
