"""Coordinators decide within seats and quotas; reviewers score; freed seats are promoted."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.applications.decisions import Seats
from portal.applications.models import Application
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.programs.models import ProgramEvent, ProgramStaff, RubricCriterion
from portal.reviews.models import Review
from tests import factories
from tests.applications.decision_world import mails_to, make_programme, state_of
from tests.conftest import Browser
from tests.security.form_discovery import forms_on, post_as_served


def test_seats_respect_quotas():
    seats = Seats(total=4, quotas={1: 2})  # two seats reserved for partner 1, two general
    assert seats.general_pool == 2
    seats.take(None)
    seats.take(None)
    assert not seats.fits(None) and seats.fits(1)
    seats.take(1)
    seats.take(1)
    assert not seats.fits(1) and seats.left == 0


def test_review_then_accept_best_then_promote_after_withdrawal(app, browser, other_browser):
    program_id, ids = make_programme(app, seats=1)
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    assert browser.get(f"/staff/applications/{ids['ivan']}").status_code == 200
    # Automatic, balanced assignment never gives a student to a reviewer of their own university.
    response = browser.post(f"/staff/programs/{program_id}/auto-assign", {"per_application": "1"})
    assert response.status_code == 302
    with app.app_context():
        pairs = {
            (r.application_id, r.reviewer.email) for r in db.session.scalars(sa.select(Review))
        }
        assert len(pairs) == 3
        assert (ids["aru"], "rev@vku.edu.kz") not in pairs
        assert (ids["aibek"], "rev@knu.kg") not in pairs
        assert state_of(app, ids["aru"]) == "under_review"
        reviewer_of = {a: e for a, e in pairs}
        criteria = db.session.scalars(
            sa.select(RubricCriterion.id).order_by(RubricCriterion.position)
        ).all()
    # Each reviewer scores what they were given; the score is derived, not typed in.
    given = {"aru": (10, 4), "ivan": (6, 6), "aibek": (8, 2)}
    for key, (motivation, grades) in given.items():
        reviewer = Browser(app.test_client())
        reviewer.login(reviewer_of[ids[key]], factories.PASSWORD)
        response = reviewer.post(
            f"/staff/applications/{ids[key]}/review",
            {
                f"c{criteria[0]}": str(motivation),
                f"c{criteria[1]}": str(grades),
                "comment_text": "Solid.",
            },
        )
        assert response.status_code == 302
    with app.app_context():
        scores = {k: db.session.get(Application, ids[k]).score for k in ids}
    assert scores == {"aru": Decimal("80.00"), "ivan": Decimal("60.00"), "aibek": Decimal("60.00")}
    # Preview, then accept the best one and waitlist the next two, in one step.
    url = f"/staff/programs/{program_id}/decide"
    preview = browser.get(f"{url}?accept=3&waitlist=2")
    text = preview.get_data(as_text=True)
    assert "BOKEIKHANOV" in text and "Subject" in text
    assert "seat 1 of 1" in text
    [form] = [f for f in forms_on(app, text, url) if f.action == url and "plan" in f.key]
    response = post_as_served(browser, form, confirm="y")
    assert response.status_code == 302
    assert state_of(app, ids["aru"]) == "accepted"  # only one seat: the best
    assert state_of(app, ids["ivan"]) == "waitlisted"  # earlier submission wins the tie
    assert state_of(app, ids["aibek"]) == "waitlisted"
    assert len(mails_to(app, "aru@example.org")) == 2  # under review, then accepted
    # The accepted student withdraws: the first waitlisted is promoted and told.
    student = Browser(app.test_client())
    student.login("aru@example.org", factories.PASSWORD)
    student.post(f"/applications/{ids['aru']}/withdraw", {"reason": "Going elsewhere"})
    assert state_of(app, ids["aru"]) == "withdrawn"
    assert state_of(app, ids["ivan"]) == "accepted"
    assert state_of(app, ids["aibek"]) == "waitlisted"
    with app.app_context():
        [promotion] = db.session.scalars(
            sa.text(
                "SELECT actor_role FROM application_events WHERE application_id = :a "
                "AND to_state = 'accepted'"
            ),
            {"a": ids["ivan"]},
        ).all()
        assert promotion == "system"
    subjects = mails_to(app, "ivan@example.org")
    assert len(subjects) == 3  # under review, waitlisted, then accepted: in Russian
    assert all(any(ch in s for ch in "абвгдеклмнопрстуя") for s in subjects)


def test_confirm_mode_only_proposes_the_promotion(app, browser):
    _program_id, ids = make_programme(app, seats=1, promotion_mode="confirm")
    with app.app_context():
        db.session.get(Application, ids["aru"]).state = "accepted"
        db.session.get(Application, ids["ivan"]).state = "waitlisted"
        db.session.commit()
    student = Browser(app.test_client())
    student.login("aru@example.org", factories.PASSWORD)
    student.post(f"/applications/{ids['aru']}/withdraw", {})
    assert state_of(app, ids["ivan"]) == "waitlisted"
    with app.app_context():
        [event] = db.session.scalars(sa.select(ProgramEvent)).all()
        assert event.action == "promotion_proposed"
        assert event.details == {"application_id": ids["ivan"]}
    # The coordinator sees the proposal and confirms it in one click.
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    page = browser.get(f"/staff/programs/{_program_id}/decide").get_data(as_text=True)
    assert "Confirm the promotion" in page
    with app.app_context():
        version = db.session.get(Application, ids["ivan"]).version
    browser.post(
        f"/staff/applications/{ids['ivan']}/decide", {"target": "accepted", "version": str(version)}
    )
    assert state_of(app, ids["ivan"]) == "accepted"
    page = browser.get(f"/staff/programs/{_program_id}/decide").get_data(as_text=True)
    assert "Confirm the promotion" not in page


def test_quota_keeps_a_seat_for_the_partner(app, browser):
    _, ids = make_programme(app, seats=2, quotas={"knu.kg": 1})
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    for key in ("aru", "ivan"):
        page = browser.get(f"/staff/applications/{ids[key]}")
        assert page.status_code == 200
        with app.app_context():
            version = db.session.get(Application, ids[key]).version
        browser.post(
            f"/staff/applications/{ids[key]}/decide",
            {"target": "accepted", "version": str(version)},
        )
    assert state_of(app, ids["aru"]) == "accepted"
    assert state_of(app, ids["ivan"]) == "submitted"  # the second seat is Bishkek's
    with app.app_context():
        version = db.session.get(Application, ids["aibek"]).version
    browser.post(
        f"/staff/applications/{ids['aibek']}/decide",
        {"target": "accepted", "version": str(version)},
    )
    assert state_of(app, ids["aibek"]) == "accepted"


def test_a_stale_form_changes_nothing(app, browser):
    _, ids = make_programme(app)
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    with app.app_context():
        version = db.session.get(Application, ids["aru"]).version
    browser.post(
        f"/staff/applications/{ids['aru']}/decide",
        {"target": "waitlisted", "version": str(version)},
    )
    response = browser.post(
        f"/staff/applications/{ids['aru']}/decide", {"target": "rejected", "version": str(version)}
    )
    assert response.status_code == 302
    assert state_of(app, ids["aru"]) == "waitlisted"
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Someone else changed this application" in page


def test_staff_see_only_their_own(app, browser, other_browser):
    program_id, ids = make_programme(app)
    other_browser.login("other@vku.edu.kz", factories.PASSWORD)
    assert other_browser.get(f"/staff/applications/{ids['aru']}").status_code == 404
    assert other_browser.get(f"/staff/programs/{program_id}/decide").status_code == 404
    assert (
        other_browser.post(
            f"/staff/applications/{ids['aru']}/decide", {"target": "accepted"}
        ).status_code
        == 404
    )
    reviewer = Browser(app.test_client())
    reviewer.login("rev@knu.kg", factories.PASSWORD)
    assert reviewer.get(f"/staff/applications/{ids['aru']}").status_code == 404  # not assigned
    assert (
        reviewer.post(
            f"/staff/applications/{ids['aru']}/decide", {"target": "accepted"}
        ).status_code
        == 404
    )
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    with app.app_context():
        reviewer_id = db.session.scalar(sa.text("SELECT id FROM users WHERE email='rev@knu.kg'"))
    browser.post(f"/staff/applications/{ids['aru']}/assign", {"reviewer": str(reviewer_id)})
    assert reviewer.get(f"/staff/applications/{ids['aru']}").status_code == 200
    refused = browser.post(
        f"/staff/applications/{ids['aibek']}/assign", {"reviewer": str(reviewer_id)}
    )
    page = browser.get(refused.headers["Location"]).get_data(as_text=True)
    assert "own university" in page
    student = Browser(app.test_client())
    student.login("aru@example.org", factories.PASSWORD)
    assert student.get(f"/staff/applications/{ids['aru']}").status_code == 404


def test_reviewers_see_each_others_scores_only_when_the_programme_says(app, browser):
    program_id, ids = make_programme(app)
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    with app.app_context():
        ids_r = dict(
            db.session.execute(sa.text("SELECT email, id FROM users WHERE role = 'reviewer'")).all()
        )
    for email in ids_r:
        if email != "rev@knu.kg":
            continue
        browser.post(f"/staff/applications/{ids['ivan']}/assign", {"reviewer": str(ids_r[email])})
    browser.post(
        f"/staff/applications/{ids['ivan']}/assign", {"reviewer": str(ids_r["rev@vku.edu.kz"])}
    )
    first = Browser(app.test_client())
    first.login("rev@knu.kg", factories.PASSWORD)
    with app.app_context():
        criteria = db.session.scalars(sa.select(RubricCriterion.id)).all()
    first.post(
        f"/staff/applications/{ids['ivan']}/review",
        {f"c{criteria[0]}": "9", f"c{criteria[1]}": "9"},
    )
    second = Browser(app.test_client())
    second.login("rev@vku.edu.kz", factories.PASSWORD)
    page = second.get(f"/staff/applications/{ids['ivan']}").get_data(as_text=True)
    assert "<strong>rev@knu.kg</strong>" not in page
    with app.app_context():
        from portal.programs.models import Program

        db.session.get(Program, program_id).reviewers_see_scores = True
        db.session.commit()
    assert "<strong>rev@knu.kg</strong>" in second.get(
        f"/staff/applications/{ids['ivan']}"
    ).get_data(as_text=True)


@pytest.mark.parametrize("score", ["-1", "11", "abc", ""])
def test_out_of_range_scores_are_refused(app, browser, score):
    _, ids = make_programme(app)
    with app.app_context():
        reviewer = db.session.scalar(sa.text("SELECT id FROM users WHERE email='rev@knu.kg'"))
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    browser.post(f"/staff/applications/{ids['ivan']}/assign", {"reviewer": str(reviewer)})
    rev = Browser(app.test_client())
    rev.login("rev@knu.kg", factories.PASSWORD)
    with app.app_context():
        criteria = db.session.scalars(sa.select(RubricCriterion.id)).all()
    response = rev.post(
        f"/staff/applications/{ids['ivan']}/review",
        {f"c{criteria[0]}": score, f"c{criteria[1]}": "5"},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Application, ids["ivan"]).score is None


def test_two_coordinators_accepting_the_last_seat_at_once_get_one_seat(app):
    """Two parallel requests, each accepting a different applicant for the one seat left."""
    _, ids = make_programme(app, seats=1)
    with app.app_context():
        coordinator2 = factories.user(Role.COORDINATOR, email="coord2@vku.edu.kz")
        db.session.add(
            ProgramStaff(
                program_id=db.session.get(Application, ids["aru"]).program_id,
                user=coordinator2,
                role="coordinator",
            )
        )
        db.session.commit()
        versions = {k: db.session.get(Application, v).version for k, v in ids.items()}
    first, second = Browser(app.test_client()), Browser(app.test_client())
    first.login("coord@vku.edu.kz", factories.PASSWORD)
    second.login("coord2@vku.edu.kz", factories.PASSWORD)
    first.last_token = second.last_token = None  # the login renewed each session
    tokens = (first.token("/"), second.token("/"))
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def accept(browser_, token, key):
        barrier.wait()
        response = browser_.client.post(
            f"/staff/applications/{ids[key]}/decide",
            data={"target": "accepted", "version": str(versions[key]), "csrf_token": token},
        )
        results[key] = response.status_code

    threads = [
        threading.Thread(target=accept, args=(first, tokens[0], "ivan")),
        threading.Thread(target=accept, args=(second, tokens[1], "aibek")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {"ivan": 302, "aibek": 302}
    states = sorted([state_of(app, ids["ivan"]), state_of(app, ids["aibek"])])
    assert states == ["accepted", "submitted"]


def test_dashboard_shows_charts_and_numbers(app, browser):
    make_programme(app, seats=2, quotas={"knu.kg": 1})
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    response = browser.get("/staff/dashboard")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text.count('class="chart-svg"') == 4
    assert "Kazakhstan" in text and "Kyrgyzstan" in text and "Submitted" in text
    assert "1 of 1 free" in text
    other = Browser(app.test_client())
    other.login("other@vku.edu.kz", factories.PASSWORD)
    assert '<th scope="row">Kazakhstan</th>' in text
    assert '<th scope="row">Kazakhstan</th>' not in other.get("/staff/dashboard").get_data(
        as_text=True
    )


def test_bulk_decision_previews_then_applies_within_seats(app, browser):
    program_id, ids = make_programme(app, seats=2)
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    page = browser.get(f"/staff/programs/{program_id}/queue").get_data(as_text=True)
    assert 'name="ids"' in page
    chosen = {"target": "accepted", "ids": [str(ids[k]) for k in ("aru", "ivan", "aibek")]}
    preview = browser.post(f"/staff/programs/{program_id}/bulk", chosen)
    assert preview.status_code == 200
    assert "Subject" in preview.get_data(as_text=True)
    assert {state_of(app, i) for i in ids.values()} == {"submitted"}  # nothing changed yet
    # A confirmation that never saw a preview is shown the preview, and changes nothing.
    unseen = browser.post(f"/staff/programs/{program_id}/bulk", {**chosen, "confirm": "y"})
    assert unseen.status_code == 200 and "What will happen" in unseen.get_data(as_text=True)
    assert {state_of(app, i) for i in ids.values()} == {"submitted"}
    url = f"/staff/programs/{program_id}/bulk"
    [form] = [f for f in forms_on(app, preview.get_data(as_text=True), url) if f.action == url]
    applied = post_as_served(browser, form)
    assert applied.status_code == 302
    states = sorted(state_of(app, i) for i in ids.values())
    assert states == ["accepted", "accepted", "submitted"]  # two seats, the third stays
    text = browser.get(applied.headers["Location"]).get_data(as_text=True)
    assert "2 decisions saved" in text and "1 of the selected applications stayed" in text


def test_bulk_decision_ignores_other_programmes_applications(app, browser):
    program_id, _ = make_programme(app, seats=2)
    with app.app_context():
        stranger = factories.user(email="x@example.org")
        other = factories.program()
        foreign = Application(
            student=stranger, program=other, answers={}, state="submitted", submitted_at=utcnow()
        )
        db.session.add(foreign)
        db.session.commit()
        foreign_id = foreign.id
    browser.login("coord@vku.edu.kz", factories.PASSWORD)
    response = browser.post(
        f"/staff/programs/{program_id}/bulk",
        {"target": "rejected", "ids": [str(foreign_id)], "confirm": "y"},
    )
    assert response.status_code == 302
    assert state_of(app, foreign_id) == "submitted"
    for bad in ({"target": "nonsense", "ids": "1"}, {"target": "accepted", "ids": "x"}):
        assert browser.post(f"/staff/programs/{program_id}/bulk", bad).status_code == 400
