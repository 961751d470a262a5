"""What fuzzing the forms found, each pinned by a focused test (see test_fuzz_forms.py)."""

from __future__ import annotations

from decimal import Decimal

import lxml.html
import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from portal.api.models import ApiToken
from portal.applications.models import Application, ApplicationEvent
from portal.applications.services import snapshot_profile
from portal.applications.states import State
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.forms import clean_line, clean_text
from portal.programs.models import ProgramStaff, RubricCriterion
from portal.reviews.models import Review
from tests import factories
from tests.conftest import Browser
from tests.security.form_discovery import forms_on, post_as_served

HUGE_NUMBER = "9" * 400


@pytest.fixture
def staff(app):
    """A programme with a rubric, its coordinator and reviewer, and a submitted application."""
    with app.app_context():
        host = factories.institution(schac="vku.edu.kz")
        program = factories.program(host)
        program.criteria.append(
            RubricCriterion(position=1, names={"en": "Motivation"}, weight=Decimal(1), max_score=10)
        )
        coordinator = factories.user(Role.COORDINATOR, email="coord@vku.edu.kz", institution=host)
        reviewer = factories.user(Role.REVIEWER, email="rev@vku.edu.kz", institution=host)
        db.session.add_all(
            [
                ProgramStaff(program=program, user=coordinator, role="coordinator"),
                ProgramStaff(program=program, user=reviewer, role="reviewer"),
            ]
        )
        student = factories.user(email="aru@example.kz")
        profile = factories.complete_profile(student)
        application = Application(
            student=student,
            program=program,
            state=State.SUBMITTED.value,
            motivation="x" * 300,
            submitted_at=utcnow(),
            profile_snapshot=snapshot_profile(profile),
        )
        db.session.add(application)
        db.session.flush()
        db.session.add(Review(application=application, reviewer=reviewer))
        db.session.commit()
        return {
            "program_id": program.id,
            "application_id": application.id,
            "criterion_id": program.criteria[0].id,
        }


def _as(app, email: str) -> Browser:
    browser = Browser(app.test_client())
    browser.login(email, factories.PASSWORD)
    return browser


def test_single_line_text_keeps_no_line_break_tab_or_bidi_control():
    assert clean_line(" Mobility\tOnline\r\nsync \u202eexe ") == "Mobility Online sync exe"
    assert clean_line(None) is None
    # Multi-line text keeps its line breaks, one LF each, as the textarea counted them.
    assert clean_text("one\r\ntwo\n\tthree\x00") == "one\ntwo\n\tthree"


def test_a_token_name_with_line_breaks_is_stored_on_one_line(app, staff):
    with app.app_context():
        host = db.session.scalar(sa.select(ProgramStaff)).program.host
        factories.user(Role.PARTNER, email="partner@vku.edu.kz", institution=host)
    browser = _as(app, "partner@vku.edu.kz")
    response = browser.post("/partner/tokens", {"name": "tab\there\nnew line"})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken.name)) == "tab here new line"


@pytest.mark.parametrize(
    ("who", "url", "data"),
    [
        ("rev@vku.edu.kz", "/staff/applications/{application_id}/review", {"c{criterion_id}": 0}),
        ("coord@vku.edu.kz", "/staff/programs/{program_id}/auto-assign", {"per_application": 0}),
        ("coord@vku.edu.kz", "/staff/programs/{program_id}/decide", {"accept": 0, "waitlist": 1}),
        ("coord@vku.edu.kz", "/staff/programs/{program_id}/letter", {"response_days": 0}),
    ],
)
def test_a_400_digit_number_is_refused_not_a_500(app, staff, who, url, data):
    browser = _as(app, who)
    fields = {
        name.format(**staff): HUGE_NUMBER if value == 0 else value for name, value in data.items()
    }
    response = browser.post(url.format(**staff), fields)
    assert response.status_code in (200, 302, 422)


def test_a_400_digit_number_in_the_decide_preview_is_refused_not_a_500(app, staff):
    browser = _as(app, "coord@vku.edu.kz")
    response = browser.get(
        f"/staff/programs/{staff['program_id']}/decide",
        query_string={"accept": HUGE_NUMBER, "waitlist": "0"},
    )
    assert response.status_code == 200


def test_a_programme_whose_last_day_is_not_a_date_is_refused_beside_the_field(app, staff):
    browser = _as(app, "coord@vku.edu.kz")
    url = f"/staff/programs/{staff['program_id']}/edit"
    page = lxml.html.fromstring(browser.get(url).get_data(as_text=True))
    form = next(f for f in page.forms if "ends_on" in f.fields)
    values = MultiDict(form.form_values())  # as the browser sends it, ticked boxes and all
    values["ends_on"] = "2025-02-31"
    response = browser.client.post(url, data=values)
    assert response.status_code == 422
    assert "Not a valid date value." in response.get_data(as_text=True)


@pytest.mark.parametrize("ids", [[HUGE_NUMBER], ["1", "-1"], ["1e3"], ["٣"]])
def test_bulk_decisions_refuse_ids_no_page_wrote(app, staff, ids):
    browser = _as(app, "coord@vku.edu.kz")
    response = browser.post(
        f"/staff/programs/{staff['program_id']}/bulk", {"target": "accepted", "ids": ids}
    )
    assert response.status_code == 400


def _bulk_preview_form(app, browser, program_id, application_id):
    """Ask for the bulk preview of a rejection and return its form, as served."""
    url = f"/staff/programs/{program_id}/bulk"
    preview = browser.post(url, {"target": "rejected", "ids": [str(application_id)]})
    [form] = [f for f in forms_on(app, preview.get_data(as_text=True), url) if f.action == url]
    return form


def test_a_bulk_reason_is_cleaned_like_every_other_reason(app, staff):
    browser = _as(app, "coord@vku.edu.kz")
    form = _bulk_preview_form(app, browser, staff["program_id"], staff["application_id"])
    response = post_as_served(
        browser, form, reason=" No\x00 seats\u202e left\r\nsorry ", note="\u202eforged\x00"
    )
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(
            sa.select(ApplicationEvent).where(ApplicationEvent.to_state == "rejected")
        )
        assert event.reason == "No seats left\nsorry"
        assert event.note == "forged"


def test_a_bulk_reason_too_long_is_refused_with_a_message_not_cut(app, staff):
    browser = _as(app, "coord@vku.edu.kz")
    form = _bulk_preview_form(app, browser, staff["program_id"], staff["application_id"])
    response = post_as_served(browser, form, reason="x" * 2001)
    assert response.status_code == 422  # the preview again, the message beside the field
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert "cannot be longer than 2000 characters" in page.get_element_by_id(
        "reason-error"
    ).text_content()
    with app.app_context():
        assert db.session.get(Application, staff["application_id"]).state == "submitted"


def test_letter_wording_the_typeface_cannot_print_is_refused_beside_the_field(app, staff):
    from portal.offers.models import LetterTemplate
    from portal.offers.typeface import letter_font_characters

    if letter_font_characters() is None:
        pytest.skip("the letter's typeface is not installed here")
    browser = _as(app, "coord@vku.edu.kz")
    response = browser.post(
        f"/staff/programs/{staff['program_id']}/letter",
        {"locale": "en", "response_days": "14", "body": "Welcome 🎓 ᥜ", "save": "Save"},
    )
    assert response.status_code == 422
    assert "cannot print these characters: ᥜ 🎓" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LetterTemplate)) == 0
