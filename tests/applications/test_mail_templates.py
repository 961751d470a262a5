"""Coordinators word decision e-mails per programme and language; their text is never code."""

from __future__ import annotations

import sqlalchemy as sa

from portal.applications.models import Application
from portal.extensions import db
from portal.mail import OutgoingMail
from portal.programs.models import MailTemplate
from tests import factories
from tests.applications.test_decisions import make_programme


def sent_to(app, email):
    with app.app_context():
        return db.session.execute(
            sa.select(OutgoingMail.subject, OutgoingMail.body_text).where(
                OutgoingMail.recipient == email
            )
        ).all()


def decide(app, browser, application_id, target):
    with app.app_context():
        version = db.session.get(Application, application_id).version
    return browser.post(
        f"/staff/applications/{application_id}/decide", {"target": target, "version": str(version)}
    )


def test_programme_wording_reaches_students_of_that_language_only(app, browser):
    program_id, ids = make_programme(app, seats=3)
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    url = f"/staff/programs/{program_id}/emails"
    assert browser.get(f"{url}?state=accepted&locale=kk").status_code == 200
    text = {
        "state": "accepted",
        "locale": "kk",
        "subject": "Құттықтаймыз, {name}!",
        "body": "{native_name}, сіз «{programme}» бағдарламасына қабылдандыңыз: {link}\n"
        "{name.__class__} {{ config }} {unknown}",
        "save": "1",
    }
    preview = browser.post(url, {**text, "save": "", "preview": "1"})
    assert preview.status_code == 200
    assert "Құттықтаймыз, ALIKHAN BOKEIKHANOV!" in preview.get_data(as_text=True)
    assert browser.post(url, text).status_code == 302
    decide(app, browser, ids["aru"], "accepted")
    decide(app, browser, ids["ivan"], "accepted")
    [*_, (subject, body)] = sent_to(app, "aru@example.org")
    assert subject == "Құттықтаймыз, ALIKHAN BOKEIKHANOV!"
    assert body.startswith("Әлихан Бөкейханов, сіз «Бағдарлама")
    assert "/applications/" in body
    assert "{name.__class__} {{ config }} {unknown}" in body  # placeholders only, never code
    [*_, (russian_subject, _)] = sent_to(app, "ivan@example.org")
    assert "ALIKHAN" not in russian_subject and "Құттықтаймыз" not in russian_subject


def test_clearing_the_wording_restores_the_standard_message(app, browser):
    program_id, _ = make_programme(app)
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    url = f"/staff/programs/{program_id}/emails"
    browser.post(
        url, {"state": "rejected", "locale": "en", "subject": "S", "body": "B", "save": "1"}
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailTemplate)) == 1
    browser.post(url, {"state": "rejected", "locale": "en", "subject": "", "body": "", "save": "1"})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MailTemplate)) == 0


def test_wording_form_refuses_half_filled_and_foreign_programmes(app, browser, other_browser):
    program_id, _ = make_programme(app)
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    url = f"/staff/programs/{program_id}/emails"
    half = browser.post(
        url,
        {"state": "accepted", "locale": "en", "subject": "Only a subject", "body": "", "save": "1"},
    )
    assert half.status_code == 422
    assert "both the subject and the text" in half.get_data(as_text=True)
    bad = browser.post(
        url, {"state": "draft", "locale": "xx", "subject": "a", "body": "b", "save": "1"}
    )
    assert bad.status_code == 422
    other_browser.login("other@vku.edu.kz", factories.PASSWORD)
    assert other_browser.get(url).status_code == 404


def test_standard_decision_mail_speaks_of_the_decision_and_escapes_titles(app, browser):
    program_id, ids = make_programme(app, seats=1)
    with app.app_context():
        from portal.programs.models import Program

        db.session.get(Program, program_id).titles = {"en": "Altai <b>school</b>"}
        db.session.commit()
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    decide(app, browser, ids["aru"], "accepted")
    decide(app, browser, ids["ivan"], "waitlisted")
    with app.app_context():
        text, html = db.session.execute(
            sa.select(OutgoingMail.body_text, OutgoingMail.body_html)
            .where(OutgoingMail.recipient == "aru@example.org")
            .order_by(OutgoingMail.id.desc())
            .limit(1)
        ).one()
        russian = db.session.scalar(
            sa.select(OutgoingMail.body_text)
            .where(OutgoingMail.recipient == "ivan@example.org")
            .order_by(OutgoingMail.id.desc())
            .limit(1)
        )
    assert "Қуанышты жаңалық" in text and "Altai <b>school</b>" in text
    assert "Altai &lt;b&gt;school&lt;/b&gt;" in html and "<b>school</b>" not in html
    assert "листе ожидания" in russian
