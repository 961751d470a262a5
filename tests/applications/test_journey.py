"""A student applies with documents, submits, follows the timeline, and withdraws."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.applications.models import Application, ApplicationEvent
from portal.db import utcnow
from portal.documents.models import Document
from portal.extensions import db
from portal.programs.models import Program
from tests import factories
from tests.documents.corpus import make_html_as_pdf, make_jpeg, make_pdf

MOTIVATION = "I study glaciers of the Altai and want to compare them with those of Tien Shan. " * 4


def start(browser, slug="altai") -> int:
    browser.get(f"/programs/{slug}")
    response = browser.post(f"/programs/{slug}/apply")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    match = re.search(r"/applications/(\d+)/", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def upload(browser, app_id: int, kind: str, data: bytes, name: str):
    browser.get(f"/applications/{app_id}/documents")
    return browser.post(
        f"/applications/{app_id}/documents",
        {"kind": kind, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def fill_everything(browser, app_id: int) -> None:
    assert browser.get(f"/applications/{app_id}/profile").status_code == 200
    response = browser.post(
        f"/applications/{app_id}/motivation", {"motivation": MOTIVATION, "next": "1"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/applications/{app_id}/questions")
    with browser.client.application.app_context():
        question_id = (
            db.session.scalar(sa.select(Program).where(Program.slug == "altai")).questions[0].id
        )
    response = browser.post(
        f"/applications/{app_id}/questions", {f"q{question_id}": "Belukha", "next": "1"}
    )
    assert response.status_code == 302
    assert upload(browser, app_id, "passport", make_jpeg(), "паспорт.jpg").status_code == 302
    assert upload(browser, app_id, "transcript", make_pdf(), "transcript.pdf").status_code == 302


def test_full_journey(app, browser, setup):
    browser.login(setup.student_email, factories.PASSWORD)
    app_id = start(browser)
    fill_everything(browser, app_id)
    review = browser.get(f"/applications/{app_id}/review").get_data(as_text=True)
    assert "Everything is in place" in review
    response = browser.post(f"/applications/{app_id}/submit")
    assert response.status_code == 302
    detail = browser.get(f"/applications/{app_id}").get_data(as_text=True)
    assert "Submitted" in detail and "Draft started" in detail
    with app.app_context():
        application = db.session.get(Application, app_id)
        assert application.state == "submitted" and application.submitted_at is not None
        assert application.profile_snapshot["latin_family_name"] == "BOKEIKHANOV"
        [event] = application.events
        assert (event.from_state, event.to_state, event.actor_role) == (
            "draft",
            "submitted",
            "student",
        )
    dashboard = browser.get("/applications/").get_data(as_text=True)
    assert "Submitted" in dashboard and "Programme" in dashboard
    # After submit the application is read-only.
    browser.post(f"/applications/{app_id}/motivation", {"motivation": "changed " * 40})
    upload(browser, app_id, "cv", make_pdf(), "cv.pdf")
    with app.app_context():
        application = db.session.get(Application, app_id)
        assert application.motivation == MOTIVATION.strip()
        assert {d.kind for d in application.documents} == {"passport", "transcript"}
    # The student withdraws.
    response = browser.post(f"/applications/{app_id}/withdraw", {"reason": "Found another school"})
    assert response.status_code == 302
    with app.app_context():
        application = db.session.get(Application, app_id)
        assert application.state == "withdrawn"
        assert application.events[-1].reason == "Found another school"
    detail = browser.get(f"/applications/{app_id}").get_data(as_text=True)
    assert "Withdrawn" in detail and "Found another school" in detail


def test_draft_is_saved_at_each_step(app, browser, setup):
    browser.login(setup.student_email, factories.PASSWORD)
    app_id = start(browser)
    browser.post(f"/applications/{app_id}/motivation", {"motivation": "Short for now", "save": "1"})
    with app.app_context():
        assert db.session.get(Application, app_id).motivation == "Short for now"
    review = browser.get(f"/applications/{app_id}/review").get_data(as_text=True)
    assert "at least 200 characters" in review
    assert "Documents still missing" in review
    response = browser.post(f"/applications/{app_id}/submit")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Application, app_id).state == "draft"


def test_applying_twice_resumes_the_same_application(app, browser, setup):
    browser.login(setup.student_email, factories.PASSWORD)
    first = start(browser)
    second = start(browser)
    assert first == second
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Application)) == 1


def test_database_refuses_a_second_application_to_the_same_programme(app, setup):
    with app.app_context():
        student = db.session.scalar(
            sa.text("SELECT id FROM users WHERE email = :e"), {"e": setup.student_email}
        )
        db.session.add(Application(student_id=student, program_id=setup.program_id, answers={}))
        db.session.commit()
        db.session.add(Application(student_id=student, program_id=setup.program_id, answers={}))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_closed_programme_cannot_be_applied_to(app, browser, setup):
    browser.login(setup.student_email, factories.PASSWORD)
    page = browser.get(f"/programs/{setup.closed_slug}").get_data(as_text=True)
    assert "Applications are closed." in page
    response = browser.post(f"/programs/{setup.closed_slug}/apply")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/programs/{setup.closed_slug}")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Application)) == 0


def test_submit_after_the_deadline_in_the_programmes_time_zone_is_refused(app, browser, setup):
    browser.login(setup.student_email, factories.PASSWORD)
    app_id = start(browser)
    fill_everything(browser, app_id)
    # 23:59 in Almaty (UTC+5) has passed a minute ago, while in Moscow it is still 21:00.
    with app.app_context():
        program = db.session.get(Program, setup.program_id)
        program.timezone = "Asia/Almaty"
        program.closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = browser.post(f"/applications/{app_id}/submit")
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "The application deadline has passed." in page
    with app.app_context():
        assert db.session.get(Application, app_id).state == "draft"


def test_ineligible_student_sees_why_and_cannot_submit(app, browser, setup):
    with app.app_context():
        program = db.session.get(Program, setup.program_id)
        program.min_gpa = 90
        program.required_cefr = "C1"
        db.session.commit()
    browser.login(setup.student_email, factories.PASSWORD)
    page = browser.get(f"/programs/{setup.program_slug}").get_data(as_text=True)
    assert "at least 90 of 100 required; yours is 85 of 100" in page
    assert "yours is B2" in page
    app_id = start(browser)
    fill_everything(browser, app_id)
    browser.post(f"/applications/{app_id}/submit")
    with app.app_context():
        assert db.session.get(Application, app_id).state == "draft"


def test_unverified_student_cannot_submit(app, browser, setup):
    with app.app_context():
        db.session.execute(sa.text("UPDATE users SET verified_at = NULL"))
        db.session.commit()
    browser.login(setup.student_email, factories.PASSWORD)
    app_id = start(browser)
    fill_everything(browser, app_id)
    review = browser.get(f"/applications/{app_id}/review").get_data(as_text=True)
    assert "Please confirm your e-mail address first." in review


def test_another_students_application_and_documents_answer_404(app, browser, other_browser, setup):
    browser.login(setup.student_email, factories.PASSWORD)
    app_id = start(browser)
    fill_everything(browser, app_id)
    with app.app_context():
        doc_id = db.session.scalar(sa.select(Document.id))
        factories.user(email="intruder@example.ru")
    other_browser.login("intruder@example.ru", factories.PASSWORD)
    for url in (
        f"/applications/{app_id}",
        f"/applications/{app_id}/profile",
        f"/applications/{app_id}/motivation",
        f"/applications/{app_id}/review",
        f"/applications/{app_id}/documents",
        f"/documents/{doc_id}",
    ):
        assert other_browser.get(url).status_code == 404, url
    for url in (
        f"/applications/{app_id}/submit",
        f"/applications/{app_id}/withdraw",
        f"/documents/{doc_id}/remove",
        f"/applications/{app_id}/motivation",
    ):
        assert other_browser.post(url, {"motivation": "x"}).status_code == 404, url
    assert browser.get(f"/documents/{doc_id}").status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/applications/", "/applications/1", "/profile/", "/applications/1/documents", "/documents/1"],
)
def test_anonymous_users_are_sent_to_log_in(browser, url):
    response = browser.get(url)
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]


def test_document_download_is_an_attachment_with_nosniff(app, browser, setup):
    browser.login(setup.student_email, factories.PASSWORD)
    app_id = start(browser)
    upload(browser, app_id, "passport", make_jpeg(), "../../etc/паспорт\u202egpj.exe")
    with app.app_context():
        doc = db.session.scalar(sa.select(Document))
    response = browser.get(f"/documents/{doc.id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert ".." not in disposition and "/" not in disposition.split("filename*")[0]
    assert "\u202e" not in disposition and disposition.endswith(".jpg")
    assert "filename*=UTF-8''" in disposition


def test_hostile_upload_is_refused_beside_the_field_and_nothing_is_stored(app, browser, setup):
    browser.login(setup.student_email, factories.PASSWORD)
    app_id = start(browser)
    response = upload(browser, app_id, "transcript", make_html_as_pdf(), "transcript.pdf")
    assert response.status_code == 422
    assert "Only PDF, JPEG and PNG files are accepted" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0


def test_replacing_a_document_keeps_one_current(app, browser, setup):
    browser.login(setup.student_email, factories.PASSWORD)
    app_id = start(browser)
    upload(browser, app_id, "transcript", make_pdf(), "old.pdf")
    upload(browser, app_id, "transcript", make_pdf(2), "new.pdf")
    with app.app_context():
        application = db.session.get(Application, app_id)
        assert [d.original_name for d in application.current_documents()] == ["new.pdf"]
        assert len(application.documents) == 2


def test_events_are_the_timeline(app, browser, setup):
    browser.login(setup.student_email, factories.PASSWORD)
    app_id = start(browser)
    fill_everything(browser, app_id)
    browser.post(f"/applications/{app_id}/submit")
    with app.app_context():
        states = list(db.session.scalars(sa.select(ApplicationEvent.to_state)))
    assert states == ["submitted"]
