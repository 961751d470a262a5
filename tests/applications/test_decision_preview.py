"""Decision previews say what applying does, seat by seat; the note to staff stays with staff."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import sqlalchemy as sa

from portal.applications.models import Application, ApplicationEvent
from portal.extensions import db
from portal.mail import OutgoingMail
from tests import factories
from tests.applications.decision_world import make_programme, state_of
from tests.conftest import Browser
from tests.security.form_discovery import forms_on, post_as_served

MESSAGE = "Your motivation letter convinced the committee."
NOTE = "Committee split 3 to 2; ask Dr Seitkali before the offer (NOTE-7F3A)."


def _accept_directly(app, *application_ids):
    """Put applications in a seat-taking state, as earlier decisions would have."""
    with app.app_context():
        for application_id in application_ids:
            db.session.get(Application, application_id).state = "accepted"
        db.session.commit()


def _coordinator(app) -> Browser:
    browser = Browser(app.test_client())
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    return browser


def _bulk_preview(app, browser, program_id, ids, target="accepted"):
    """Select applications in the queue and ask for the preview, as the queue page does."""
    url = f"/staff/programs/{program_id}/bulk"
    response = browser.post(url, {"target": target, "ids": [str(i) for i in ids]})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return html, [f for f in forms_on(app, html, url) if f.action == url]


def _rows(html: str) -> list[str]:
    """Return the preview's "what will happen" column, row by row (applications by id here)."""
    page = lxml.html.fromstring(html)
    return [
        " ".join(tr.xpath("td")[-1].text_content().split())
        for tr in page.xpath("//table[@id='bulk-plan']/tbody/tr")
    ]


def test_with_no_seat_free_the_preview_says_nobody_is_accepted_and_offers_nothing(app):
    program_id, ids = make_programme(app, seats=1)
    _accept_directly(app, ids["aru"])
    browser = _coordinator(app)
    html, forms = _bulk_preview(app, browser, program_id, [ids["ivan"], ids["aibek"]])
    rows = _rows(html)
    assert len(rows) == 2
    for row in rows:
        assert row.startswith("Not changed, stays Submitted:") and "No seat is left" in row
    assert "0 of the 2 selected applications will change." in html
    assert not forms  # nothing to apply
    # A confirmation forged without the preview's plan still changes nothing.
    forged = browser.post(
        f"/staff/programs/{program_id}/bulk",
        {"target": "accepted", "ids": [str(ids["ivan"])], "confirm": "y", "plan": "x" * 40},
    )
    assert forged.status_code == 409
    assert "Something changed since the preview" in forged.get_data(as_text=True)
    assert state_of(app, ids["ivan"]) == state_of(app, ids["aibek"]) == "submitted"


def test_one_seat_for_two_selected_accepts_the_first_and_applies_exactly_that(app):
    program_id, ids = make_programme(app, seats=2)
    _accept_directly(app, ids["aru"])
    browser = _coordinator(app)
    html, [form] = _bulk_preview(app, browser, program_id, [ids["aibek"], ids["ivan"]])
    # Equal (no) scores: the earlier application first, as applying takes them.
    ivan, aibek = _rows(html)
    assert ivan == "Accepted — seat 2 of 2"
    assert aibek.startswith("Not changed, stays Submitted:")
    assert "1 of the 2 selected applications will change." in html
    response = post_as_served(browser, form, reason=MESSAGE, note=NOTE)
    assert response.status_code == 302
    assert state_of(app, ids["ivan"]) == "accepted"
    assert state_of(app, ids["aibek"]) == "submitted"
    text = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 decisions saved" in text
    assert "1 of the selected applications stayed as they were, as the preview showed." in text
    with app.app_context():
        event = db.session.scalar(
            sa.select(ApplicationEvent).where(ApplicationEvent.to_state == "accepted")
        )
        assert (event.reason, event.note) == (MESSAGE, NOTE)


def test_quotas_keep_their_seats_in_the_preview_and_in_what_is_applied(app):
    program_id, ids = make_programme(app, seats=2, quotas={"knu.kg": 1})
    browser = _coordinator(app)
    with app.app_context():
        knu = db.session.get(Application, ids["aibek"]).student.profile.home_institution.name()
    all_three = [ids["aru"], ids["ivan"], ids["aibek"]]
    html, [form] = _bulk_preview(app, browser, program_id, all_three)
    aru, ivan, aibek = _rows(html)
    assert aru == "Accepted — seat 1 of 2"
    # The one general seat is gone: the Russian applicant cannot take Bishkek's reserved seat.
    assert ivan.startswith("Not changed, stays Submitted:")
    assert aibek == f"Accepted — seat 2 of 2 (reserved for {knu}: 1 of 1)"
    assert post_as_served(browser, form).status_code == 302
    assert [state_of(app, ids[k]) for k in ("aru", "ivan", "aibek")] == [
        "accepted",
        "submitted",
        "accepted",
    ]


def test_applying_a_preview_that_no_longer_holds_changes_nothing_and_shows_the_new_one(app):
    program_id, ids = make_programme(app, seats=2)
    browser = _coordinator(app)
    _html, [form] = _bulk_preview(app, browser, program_id, [ids["ivan"], ids["aibek"]])
    # Meanwhile another decision takes a seat.
    _accept_directly(app, ids["aru"])
    response = post_as_served(browser, form, reason=MESSAGE)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Something changed since the preview" in html
    assert state_of(app, ids["ivan"]) == state_of(app, ids["aibek"]) == "submitted"
    # The new preview is what applying now does, and it can be applied.
    assert _rows(html)[0] == "Accepted — seat 2 of 2"
    url = f"/staff/programs/{program_id}/bulk"
    [again] = [f for f in forms_on(app, html, url) if f.action == url]
    assert post_as_served(browser, again).status_code == 302
    assert state_of(app, ids["ivan"]) == "accepted"


def test_best_n_preview_shows_seats_and_refuses_a_plan_that_changed(app):
    program_id, ids = make_programme(app, seats=2)
    browser = _coordinator(app)
    url = f"/staff/programs/{program_id}/decide"
    html = browser.get(f"{url}?accept=3&waitlist=0").get_data(as_text=True)
    assert "seat 1 of 2" in html and "seat 2 of 2" in html and "seat 3" not in html
    [form] = [f for f in forms_on(app, html, url) if f.action == url and "plan" in f.key]
    _accept_directly(app, ids["aibek"])
    response = post_as_served(browser, form, confirm="y")
    assert response.status_code == 200
    assert "Something changed since the preview" in response.get_data(as_text=True)
    assert state_of(app, ids["aru"]) == state_of(app, ids["ivan"]) == "submitted"


def _decision_form(app, browser, application_id):
    url = f"/staff/applications/{application_id}"
    html = browser.get(url).get_data(as_text=True)
    [form] = [f for f in forms_on(app, html, url) if f.action.endswith("/decide")]
    return html, form


def test_the_decision_form_starts_on_an_empty_choice_that_is_refused(app):
    _program_id, ids = make_programme(app)
    browser = _coordinator(app)
    html, form = _decision_form(app, browser, ids["aru"])
    select = lxml.html.fromstring(html).xpath("//select[@name='target']")[0]
    first = select.xpath("option")[0]
    assert (first.get("value"), first.text_content()) == ("", "Choose a decision…")
    assert not select.xpath("option[@selected]")  # so the browser sends the empty choice
    assert "Message to the student (they will read this)" in html
    assert "Internal note (staff only)" in html
    response = post_as_served(browser, form, reason=MESSAGE, note=NOTE)
    assert response.status_code == 422
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert " ".join(page.get_element_by_id("target-error").text_content().split()) == (
        "Please choose a decision."
    )
    # What was typed is kept for the next try.
    assert MESSAGE in page.get_element_by_id("reason").text_content()
    assert NOTE in page.get_element_by_id("note").text_content()
    assert state_of(app, ids["aru"]) == "submitted"
    forged = browser.post(
        f"/staff/applications/{ids['aru']}/decide", {"target": "offered", "version": "1"}
    )
    assert forged.status_code == 422
    assert "Please choose a decision from the list." in forged.get_data(as_text=True)


def _student_pages(app, student: Browser, application_id: int) -> dict[str, bytes]:
    """Return every page the student can open about their account and application."""
    from tests.security.security_world import readable

    pages = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/static", "/bootstrap")):
            continue
        if set(rule.arguments) - {"application_id"}:
            continue
        url = rule.rule.replace("<int:application_id>", str(application_id))
        response = student.get(url)
        if response.status_code == 200:
            pages[url] = readable(response)
    return pages


def test_the_student_reads_the_message_and_never_the_note(app):
    program_id, ids = make_programme(app)
    browser = _coordinator(app)
    _html, form = _decision_form(app, browser, ids["aru"])
    response = post_as_served(browser, form, target="rejected", reason=MESSAGE, note=NOTE)
    assert response.status_code == 302
    assert state_of(app, ids["aru"]) == "rejected"
    with app.app_context():
        event = db.session.scalar(
            sa.select(ApplicationEvent).where(ApplicationEvent.to_state == "rejected")
        )
        assert (event.reason, event.note) == (MESSAGE, NOTE)
        mails = db.session.scalars(sa.select(OutgoingMail)).all()
        assert mails
        for mail in mails:
            assert NOTE not in f"{mail.subject}\n{mail.body_text}\n{mail.body_html or ''}"
    for eml in Path(app.config["OUTBOX_DIR"]).glob("*.eml"):
        assert b"NOTE-7F3A" not in eml.read_bytes()
    student = Browser(app.test_client())
    student.login("aru@example.org", factories.PASSWORD)
    pages = _student_pages(app, student, ids["aru"])
    assert f"/applications/{ids['aru']}" in pages
    assert MESSAGE.encode() in pages[f"/applications/{ids['aru']}"]  # the timeline
    leaks = [url for url, body in pages.items() if b"NOTE-7F3A" in body]
    assert not leaks, leaks
    # Staff read both, apart, in the application's history and the programme's log.
    staff_page = browser.get(f"/staff/applications/{ids['aru']}").get_data(as_text=True)
    assert MESSAGE in staff_page
    assert "Internal note (staff only):" in staff_page and NOTE in staff_page
    log = browser.get(f"/staff/programs/{program_id}/log").get_data(as_text=True)
    assert NOTE in log


def test_the_queues_decision_choice_starts_empty_and_is_refused_with_a_message(app):
    program_id, ids = make_programme(app, seats=2)
    browser = _coordinator(app)
    queue = browser.get(f"/staff/programs/{program_id}/queue?lang=en").get_data(as_text=True)
    page = lxml.html.fromstring(queue)
    [select] = page.xpath("//form[@id='bulk-form']//select[@name='target']")
    first = select.xpath("option")[0]
    assert first.get("value") == "" and not select.xpath("option[@selected]")
    # Posted as served (nothing chosen) with two rows ticked: nothing decided, a clear message.
    response = browser.post(
        f"/staff/programs/{program_id}/bulk",
        {"target": "", "ids": [str(ids["ivan"]), str(ids["aibek"])]},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Please choose a decision." in response.get_data(as_text=True)
    assert state_of(app, ids["ivan"]) == state_of(app, ids["aibek"]) == "submitted"


def test_a_cancellation_must_tell_the_student_why_a_reopening_may_say_it_to_staff(app):
    import pytest

    from portal.applications.states import Actor, State, TransitionError, transition

    _program_id, ids = make_programme(app, seats=2)
    with app.app_context():
        application = db.session.get(Application, ids["ivan"])
        admin = Actor(role="admin")
        # A staff note alone does not end someone's application: they must read why.
        with pytest.raises(TransitionError):
            transition(application, State.CANCELLED, actor=admin, note=NOTE)
        transition(application, State.REJECTED, actor=Actor(role="coordinator"))
        # Reopening is the office's own business: the note is reason enough.
        transition(application, State.UNDER_REVIEW, actor=Actor(role="coordinator"), note=NOTE)
        transition(application, State.CANCELLED, actor=admin, reason=MESSAGE)
        db.session.commit()
        assert application.state == "cancelled"
