"""Offer letters through the pages: batch job, student answer, verification, access."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.applications.models import Application
from portal.applications.states import State
from portal.extensions import db
from portal.jobs import Job
from portal.offers.models import Offer
from portal.storage import get_storage
from tests import factories
from tests.applications.test_query_counts import counted
from tests.auth.test_accounts import outbox_messages
from tests.conftest import Browser


@pytest.fixture
def sync_jobs(app, monkeypatch):
    # Tasks run inline (TASKS_IMMEDIATE); one rendering process keeps the test small.
    monkeypatch.setitem(app.config, "LETTER_WORKERS", 1)


def _start_batch(browser: Browser, program_id: int):
    page = browser.get(f"/staff/programs/{program_id}/offers")
    assert page.status_code == 200
    return browser.post(
        f"/staff/programs/{program_id}/offers/issue", {"csrf_token": browser.last_token}
    )


def test_coordinator_issues_all_letters_in_one_job(app, browser, offers, sync_jobs):
    browser.login(offers.coordinator)
    response = _start_batch(browser, offers.program_id)
    assert response.status_code == 302
    job_url = response.headers["Location"]
    page = browser.get(job_url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "4 letters issued" in html
    assert 'max="100" value="100"' in html
    status = browser.get(job_url + ".json").get_json()
    assert status["state"] == "done" and status["done"] == 4 and status["percent"] == 100
    with app.app_context():
        states = db.session.scalars(
            sa.select(Application.state).where(Application.id.in_(offers.accepted.values()))
        ).all()
        assert set(states) == {State.OFFERED}
    listing = browser.get(f"/staff/programs/{offers.program_id}/offers").get_data(as_text=True)
    assert "Every accepted applicant has a letter." in listing
    assert listing.count("KOP-") == 4


def test_an_interrupted_job_run_again_issues_no_letter_twice(app, browser, offers, monkeypatch):
    from portal import jobs
    from portal.offers import pdf

    real = pdf.render_pdf
    calls = {"n": 0}

    def dies_on_the_third(html):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("the process was killed")
        return real(html)

    monkeypatch.setitem(app.config, "LETTER_WORKERS", 1)
    monkeypatch.setattr(pdf, "render_pdf", dies_on_the_third)
    with app.app_context():
        job = jobs.create("issue_offers", program_id=offers.program_id, created_by_id=None)
        db.session.commit()
        job_id = job.id
        with pytest.raises(SystemExit):
            jobs.run(job_id)
        db.session.remove()
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.state == "failed" and job.done == 2
        assert db.session.scalar(sa.select(sa.func.count(Offer.id))) == 2
    monkeypatch.setattr(pdf, "render_pdf", real)
    with app.app_context():
        again = jobs.create("issue_offers", program_id=offers.program_id, created_by_id=None)
        db.session.commit()
        again = jobs.run(again.id)
        assert again.state == "done" and again.total == 2 and again.done == 2
        versions = db.session.execute(
            sa.select(Offer.application_id, Offer.version)
        ).all()
        assert sorted(v for _, v in versions) == [1, 1, 1, 1]
        assert len({a for a, _ in versions}) == 4


def test_letters_render_in_worker_processes(app, offers, monkeypatch):
    from portal import jobs

    monkeypatch.setitem(app.config, "LETTER_WORKERS", 2)
    with app.app_context():
        job = jobs.create("issue_offers", program_id=offers.program_id, created_by_id=None)
        db.session.commit()
        job = jobs.run(job.id)
        assert job.state == "done" and job.done == 4, job.failures
        for offer in db.session.scalars(sa.select(Offer)):
            assert get_storage().load(offer.storage_key).startswith(b"%PDF-")


def test_issue_offers_command_shows_progress(app, offers):
    with app.app_context():
        slug = db.session.get(Application, offers.accepted["kk"]).program.slug
    runner = app.test_cli_runner()
    unaddressed = runner.invoke(args=["portal", "issue-offers", slug])
    assert unaddressed.exit_code != 0 and "BASE_URL" in unaddressed.output
    base = ["--base-url", "https://kopir.example.edu"]
    result = runner.invoke(args=["portal", "issue-offers", slug, "--workers", "1", *base])
    assert result.exit_code == 0, result.output
    assert "Letters" in result.output and "Issued 4, failed 0" in result.output
    # The e-mails that announce the letters link to the same address as the QR codes.
    mails = [m.get_body(("plain",)).get_content() for m in outbox_messages(app)]
    letters = [m for m in mails if "https://kopir.example.edu/applications/" in m]
    assert len(letters) == 4, [m[-300:] for m in mails]
    assert app.config.get("BASE_URL") is None
    with app.app_context():
        printed = {o.printed["reference"] for o in db.session.scalars(sa.select(Offer))}
        assert len(printed) == 4
    again = runner.invoke(args=["portal", "issue-offers", slug, *base])
    assert "Issued 0, failed 0" in again.output
    missing = runner.invoke(args=["portal", "issue-offers", "no-such-thing", *base])
    assert missing.exit_code != 0 and "no programme" in missing.output


def test_a_second_start_while_running_joins_the_running_job(app, browser, offers):
    from portal import jobs

    with app.app_context():
        running = jobs.create("issue_offers", program_id=offers.program_id, created_by_id=None)
        running.state = "running"
        db.session.commit()
        running_id = running.id
    browser.login(offers.coordinator)
    response = _start_batch(browser, offers.program_id)
    assert response.headers["Location"].endswith(f"/staff/jobs/{running_id}")


def _issue_all(app, offers):
    from portal import jobs

    with app.app_context():
        app.config["LETTER_WORKERS"] = 1
        job = jobs.create("issue_offers", program_id=offers.program_id, created_by_id=None)
        db.session.commit()
        jobs.run(job.id)
        app.config["LETTER_WORKERS"] = None
        return {
            o.application.student.locale: (o.id, o.application_id)
            for o in db.session.scalars(sa.select(Offer))
        }


def test_student_downloads_and_accepts(app, browser, offers):
    issued = _issue_all(app, offers)
    offer_id, application_id = issued["kk"]
    browser.login("aigerim@example.kz")
    page = browser.get(f"/applications/{application_id}?lang=kk").get_data(as_text=True)
    assert f"/letters/{offer_id}.pdf" in page
    pdf = browser.get(f"/applications/{application_id}/letters/{offer_id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert pdf.data.startswith(b"%PDF-")
    response = browser.post(
        f"/applications/{application_id}/offer",
        {"csrf_token": browser.last_token, "offer_id": str(offer_id), "accept": "1"},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Application, application_id).state == State.CONFIRMED
        offer = db.session.get(Offer, offer_id)
        assert offer.response == "confirmed" and offer.responded_at is not None


def test_an_answer_without_a_token_is_refused(app, browser, offers):
    issued = _issue_all(app, offers)
    offer_id, application_id = issued["kk"]
    browser.login("aigerim@example.kz")
    response = browser.client.post(
        f"/applications/{application_id}/offer", data={"offer_id": offer_id, "accept": "1"}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Application, application_id).state == State.OFFERED


def test_an_offer_past_its_deadline_expires_on_the_worker_not_on_a_page_view(
    app, browser, offers
):
    from datetime import timedelta

    from portal.db import utcnow
    from portal.tasks import get_queue

    issued = _issue_all(app, offers)
    offer_id, application_id = issued["ru"]
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        offer.response_deadline = utcnow() - timedelta(seconds=5)
        db.session.commit()
    browser.login("ivan@example.ru")
    page = browser.get(f"/applications/{application_id}").get_data(as_text=True)
    assert f'action="/applications/{application_id}/offer"' not in page
    assert "Срок ответа на это предложение истёк." in page  # the student reads Russian
    # Looking changes nothing: a GET never writes.
    browser.get("/applications/")
    with app.app_context():
        assert db.session.get(Application, application_id).state == State.OFFERED
    # The worker's periodic work (inline here) expires it and gives the seat to the waitlist.
    with app.app_context():
        get_queue(app).tick()
    with app.app_context():
        assert db.session.get(Application, application_id).state == State.EXPIRED
        assert db.session.get(Application, offers.waitlisted_id).state == State.ACCEPTED


def test_nobody_else_reaches_a_letter_or_a_job(app, browser, offers):
    issued = _issue_all(app, offers)
    offer_id, application_id = issued["kk"]
    _, other_application = issued["ru"]
    with app.app_context():
        job_id = db.session.scalar(sa.select(Job.id))
    # Another student.
    browser.login("ivan@example.ru")
    assert browser.get(f"/applications/{application_id}/letters/{offer_id}.pdf").status_code == 404
    assert (
        browser.get(f"/applications/{other_application}/letters/{offer_id}.pdf").status_code
        == 404
    )
    response = browser.post(
        f"/applications/{application_id}/offer", {"offer_id": str(offer_id), "accept": "1"}
    )
    assert response.status_code == 404
    # A reviewer of the programme, and a coordinator of another programme.
    for email in (offers.reviewer, offers.other_coordinator):
        other = Browser(app.test_client())
        other.login(email)
        letter = f"/applications/{application_id}/letters/{offer_id}.pdf"
        assert other.get(letter).status_code == 404
        for url in (
            f"/staff/programs/{offers.program_id}/offers",
            f"/staff/programs/{offers.program_id}/letter",
            f"/staff/jobs/{job_id}",
            f"/staff/jobs/{job_id}.json",
        ):
            assert other.get(url).status_code in (403, 404), (email, url)
        assert other.post(f"/staff/offers/{offer_id}/revoke", {"reason": "x"}).status_code in (
            403,
            404,
        )
    with app.app_context():
        assert db.session.get(Offer, offer_id).status == "valid"


def _code_of(app, offer_id: int, tmp_path) -> str:
    import subprocess

    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        data = get_storage().load(offer.storage_key)
    path = tmp_path / "letter.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return re.search(r"/verify/([a-z0-9]{26})", text).group(1)


def test_verify_page_tells_valid_superseded_and_unknown(app, browser, offers, tmp_path):
    from portal.auth.models import User
    from portal.offers import services

    issued = _issue_all(app, offers)
    offer_id, application_id = issued["kk"]
    code = _code_of(app, offer_id, tmp_path)
    page = browser.get(f"/verify/{code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Valid." in html
    assert "AIGERIM SEITKALIYEVA" in html and "Сейітқалиева" in html
    # Only what the letter shows: no e-mail, no national id, no answer.
    assert "aigerim@example.kz" not in html and "030517300000" not in html
    # People type what they see: capitals and spaces do not matter.
    spaced = " ".join(code[i : i + 4] for i in range(0, 26, 4)).upper()
    browser.get("/verify")
    response = browser.post("/verify", {"csrf_token": browser.last_token, "code": spaced})
    assert response.status_code == 302 and response.headers["Location"].endswith(code)
    with app.app_context():
        application = db.session.get(Application, application_id)
        coordinator = db.session.scalar(sa.select(User).where(User.email == offers.coordinator))
        services.issue_offer(application, actor=coordinator)
        db.session.commit()
    html = browser.get(f"/verify/{code}").get_data(as_text=True)
    assert "Superseded." in html
    assert browser.get("/verify/" + "a" * 26).status_code == 404
    assert browser.get("/verify/%3Cscript%3E").status_code == 404


def test_verify_compares_an_uploaded_pdf_byte_for_byte(app, browser, offers):
    import io

    issued = _issue_all(app, offers)
    offer_id, _ = issued["ky"]
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        original = get_storage().load(offer.storage_key)
        reference = offer.reference

    def upload(data: bytes, name: str = "letter.pdf"):
        browser.get("/verify")
        return browser.post(
            "/verify",
            {"csrf_token": browser.last_token, "letter": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )

    same = upload(original)
    assert same.status_code == 200
    html = same.get_data(as_text=True)
    assert "identical, byte for byte" in html and reference in html
    altered = bytearray(original)
    altered[len(altered) // 2] ^= 1  # one bit in the middle
    for forged in (bytes(altered), original + b"\n", original[:-1]):
        refused = upload(forged)
        assert refused.status_code == 422
        assert "not a letter issued by Kopir" in refused.get_data(as_text=True)
    assert upload(b"").status_code == 422
    assert upload(b"%PDF-1.7\n" + b"0" * 300_000).status_code == 422
    no_token = browser.client.post(
        "/verify",
        data={"letter": (io.BytesIO(original), "l.pdf")},
        content_type="multipart/form-data",
    )
    assert no_token.status_code == 400


def test_letter_settings_save_and_preview(app, browser, offers):
    browser.login(offers.coordinator)
    url = f"/staff/programs/{offers.program_id}/letter?locale=kk"
    page = browser.get(url)
    assert page.status_code == 200
    form = {
        "csrf_token": browser.last_token,
        "locale": "kk",
        "response_days": "10",
        "bilingual": "y",
        "body": "Құрметті {student_name}!\n<b>{programme}</b> бағдарламасына қабылдандыңыз.",
        "conditions": "Паспорт қажет.",
        "signatory_name": "Айгүл Серікқызы",
        "signatory_title": "Халықаралық бөлім басшысы",
    }
    preview = browser.post(url, {**form, "preview": "1"})
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    assert preview.data.startswith(b"%PDF-")
    with app.app_context():
        from portal.offers.models import LetterTemplate
        from portal.programs.models import Program

        # A preview keeps nothing.
        assert db.session.scalar(sa.select(sa.func.count(LetterTemplate.id))) == 0
        assert db.session.get(Program, offers.program_id).offer_response_days == 14
    saved = browser.post(url, {**form, "save": "1"})
    assert saved.status_code == 302
    with app.app_context():
        program = db.session.get(Program, offers.program_id)
        assert program.offer_response_days == 10 and program.letter_bilingual
    bad = browser.post(url, {**form, "response_days": "0", "save": "1"})
    assert bad.status_code == 422


def test_offers_list_query_count_does_not_grow_with_rows(app, browser, offers):
    from portal.db import utcnow

    _issue_all(app, offers)
    browser.login(offers.coordinator)
    url = f"/staff/programs/{offers.program_id}/offers"
    browser.get(url)
    with counted(app) as few:
        assert browser.get(url).status_code == 200
    with app.app_context():
        from portal.programs.models import Program

        program = db.session.get(Program, offers.program_id)
        for n in range(6):
            student = factories.user(email=f"more{n}@example.kz", locale="kk")
            factories.complete_profile(student)
            db.session.add(
                Application(
                    student=student,
                    program=program,
                    state=State.ACCEPTED.value,
                    submitted_at=utcnow(),
                )
            )
        db.session.commit()
    with counted(app) as many:
        assert browser.get(url).status_code == 200
    assert len(many) == len(few), (len(few), len(many))
