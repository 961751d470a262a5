"""The receiving university changes its answer: verified -> rejected with a reason, until the
mobility starts; a rejection stays; every answer is in the history that both sides see."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.applications.models import Application, ApplicationEvent
from portal.applications.states import State
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.nominations import services
from portal.nominations.models import Answer, Nomination, NominationAnswerChange
from portal.offers.models import Offer
from tests.conftest import Browser
from tests.nominations.conftest import fields_of, form_of

AIGERIM = "aigerim@example.kz"


def _as(app, email: str) -> Browser:
    browser = Browser(app.test_client())
    browser.login(email)
    return browser


@pytest.fixture
def nominated(app, world):
    """Nominate the three students; give Aigerim a standing (accepted) letter; return ids."""
    with app.app_context():
        coordinator = db.session.scalar(sa.select(User).where(User.email == world.coordinator))
        ids = {}
        for email, application_id in world.confirmed.items():
            application = db.session.get(Application, application_id)
            ids[email] = services.nominate(application, actor=coordinator).id
        db.session.add(
            Offer(
                application_id=world.confirmed[AIGERIM],
                version=1,
                reference="KOP-2026-000001",
                language="en",
                storage_key="letter.pdf",
                size=1,
                sha256="0" * 64,
                code_hash="1" * 64,
                response_deadline=utcnow() + timedelta(days=7),
                printed={},
                response="confirmed",
                responded_at=utcnow(),
            )
        )
        db.session.commit()
    return ids


def _answer_page(browser: Browser, nomination_id: int):
    url = f"/partner/nominations/{nomination_id}"
    page = browser.get(url)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _post_answer(browser: Browser, nomination_id: int, **changes):
    """Fill the answer form the detail page shows, and send it as the browser would."""
    action = f"/partner/nominations/{nomination_id}/answer"
    form = form_of(_answer_page(browser, nomination_id), action)
    response = browser.post(action, fields_of(form, **changes))
    assert response.status_code == 302
    return browser.get(response.headers["Location"]).get_data(as_text=True)


def test_a_verification_is_withdrawn_with_a_reason_and_does_what_a_rejection_does(
    app, world, nominated
):
    host = _as(app, world.partner_host)
    nomination_id = nominated[AIGERIM]
    _post_answer(host, nomination_id, verdict="verified", comment="Welcome")
    page = _answer_page(host, nomination_id)
    assert "Change your answer" in page
    # The change form says what a rejection does and until when it can be made.
    with app.app_context():
        starts = db.session.get(Nomination, nomination_id).planned_arrival
    assert f"{starts:%B} {starts.day}, {starts.year}" in page
    assert "It cannot be undone." in page

    # The host's coordinator reads the same nomination: no form, and nothing false about
    # whether the answer can still change (it can, by the partner, until the arrival).
    coordinator = _as(app, world.coordinator).get(
        f"/partner/nominations/{nomination_id}?lang=en"
    ).get_data(as_text=True)
    assert "Change your answer" not in coordinator
    assert "can no longer be changed" not in coordinator
    assert "A rejection is final" not in coordinator

    # Without a reason nothing changes.
    shown = _post_answer(host, nomination_id, comment="")
    assert "Say why you change the answer." in shown
    with app.app_context():
        assert db.session.get(Nomination, nomination_id).answer == "verified"

    shown = _post_answer(host, nomination_id, comment="The lab closes for repairs")
    assert "Your answer is changed and recorded." in shown
    with app.app_context():
        nomination = db.session.get(Nomination, nomination_id)
        assert (nomination.answer, nomination.status) == ("rejected", "cancelled")
        assert nomination.answer_comment == "The lab closes for repairs"
        application = db.session.get(Application, world.confirmed[AIGERIM])
        assert application.state == State.CANCELLED
        event = db.session.scalar(
            sa.select(ApplicationEvent).where(
                ApplicationEvent.application_id == application.id,
                ApplicationEvent.to_state == State.CANCELLED.value,
            )
        )
        assert "The lab closes for repairs" in event.reason
        letter = db.session.scalar(sa.select(Offer).where(Offer.application_id == application.id))
        assert letter.status == "revoked"
        # The seat went to the waiting list.
        assert db.session.get(Application, world.waitlisted_id).state == State.ACCEPTED
        history = db.session.scalars(
            sa.select(NominationAnswerChange)
            .where(NominationAnswerChange.nomination_id == nomination_id)
            .order_by(NominationAnswerChange.id)
        ).all()
        partner_id = db.session.scalar(sa.select(User.id).where(User.email == world.partner_host))
        assert [(h.from_answer, h.to_answer, h.reason, h.changed_by_id) for h in history] == [
            ("pending", "verified", "Welcome", partner_id),
            ("verified", "rejected", "The lab closes for repairs", partner_id),
        ]
        assert history[1].created_at >= history[0].created_at
    # Everyone who sees the nomination sees its history: both partners and the coordinator.
    for email in (world.partner_host, world.partner_sender, world.coordinator):
        page = _as(app, email).get(f"/partner/nominations/{nomination_id}?lang=en")
        text = page.get_data(as_text=True)
        assert "Answers given" in text, email
        assert "changed from “Verified” to “Rejected”" in text, email
        assert "The lab closes for repairs" in text and "Welcome" in text, email
        assert world.partner_host in text, email
    coordinator_page = _as(app, world.coordinator).get(
        f"/staff/programs/{world.program_id}/nominations"
    )
    assert ">changed<" in coordinator_page.get_data(as_text=True)


def test_a_rejection_is_final(app, world, nominated):
    host = _as(app, world.partner_host)
    nomination_id = nominated["daniyar@example.kz"]
    _post_answer(host, nomination_id, verdict="rejected", comment="No room in the lab")
    page = _answer_page(host, nomination_id)
    # No form offers what would be refused; the page says why.
    assert f"/partner/nominations/{nomination_id}/answer" not in page
    assert "A rejection is final" in page
    # A forged form to verify it is refused with the reason, and changes nothing.
    forged = host.post(
        f"/partner/nominations/{nomination_id}/answer",
        {"csrf_token": host.last_token, "verdict": "verified", "comment": "Sorry, our mistake"},
    )
    assert forged.status_code == 302
    shown = host.get(forged.headers["Location"]).get_data(as_text=True)
    assert "A rejection cannot be changed" in shown
    with app.app_context():
        nomination = db.session.get(Nomination, nomination_id)
        assert (nomination.answer, nomination.status) == ("rejected", "cancelled")
        application = db.session.get(Application, nomination.application_id)
        assert application.state == State.CANCELLED
        assert db.session.scalar(
            sa.select(sa.func.count(NominationAnswerChange.id)).where(
                NominationAnswerChange.nomination_id == nomination_id
            )
        ) == 1


def _start_mobility_on(app, nomination_id: int, days_from_today: int, programme_days: int) -> None:
    with app.app_context():
        nomination = db.session.get(Nomination, nomination_id)
        today = utcnow().astimezone(nomination.program.zone).date()
        nomination.planned_arrival = today + timedelta(days=days_from_today)
        program = nomination.program
        program.starts_on = today + timedelta(days=programme_days)
        program.ends_on = program.starts_on + timedelta(days=20)
        db.session.commit()


def test_no_change_once_the_mobility_started(app, world, nominated):
    host = _as(app, world.partner_host)
    nomination_id = nominated[AIGERIM]
    _post_answer(host, nomination_id, verdict="verified")
    # The student's planned arrival is today (in the programme's zone); the programme itself
    # was moved to a later start after the nomination: the planned arrival decides.
    _start_mobility_on(app, nomination_id, days_from_today=0, programme_days=30)
    page = _answer_page(host, nomination_id)
    assert f"/partner/nominations/{nomination_id}/answer" not in page
    assert "the answer can no longer be changed" in page
    forged = host.post(
        f"/partner/nominations/{nomination_id}/answer",
        {
            "csrf_token": host.last_token,
            "verdict": "rejected",
            "comment": "Too late",
            "current": "verified",
        },
    )
    shown = host.get(forged.headers["Location"]).get_data(as_text=True)
    assert "the answer can no longer be changed" in shown
    with app.app_context():
        assert db.session.get(Nomination, nomination_id).answer == "verified"
        assert db.session.get(Application, world.confirmed[AIGERIM]).state == State.CONFIRMED
    # The day before the arrival, the change is still open.
    _start_mobility_on(app, nomination_id, days_from_today=1, programme_days=1)
    shown = _post_answer(host, nomination_id, comment="Visa refused")
    assert "Your answer is changed and recorded." in shown
    with app.app_context():
        assert db.session.get(Nomination, nomination_id).answer == "rejected"


def test_a_form_read_before_someone_else_answered_changes_nothing(app, world, nominated):
    nomination_id = nominated[AIGERIM]
    slow = _as(app, world.partner_host)
    action = f"/partner/nominations/{nomination_id}/answer"
    stale = fields_of(
        form_of(_answer_page(slow, nomination_id), action),
        verdict="rejected",
        comment="No room",
    )
    quick = _as(app, world.partner_host)
    _post_answer(quick, nomination_id, verdict="verified", comment="Welcome")
    response = slow.post(action, stale)
    shown = slow.get(response.headers["Location"]).get_data(as_text=True)
    assert "The answer changed while you were reading it." in shown
    with app.app_context():
        nomination = db.session.get(Nomination, nomination_id)
        assert (nomination.answer, nomination.answer_comment) == ("verified", "Welcome")


def test_a_partner_system_changes_an_answer_through_the_api(app, world, nominated):
    from portal.api.models import ApiToken
    from tests.api.test_api import _token_for

    auth = {"Authorization": f"Bearer {_token_for(app, world.partner_host)}"}
    client = app.test_client()
    with app.app_context():
        omobility = db.session.get(Nomination, nominated[AIGERIM]).omobility_id
    url = f"/api/v1/nominations/{omobility}/answer"
    first = client.post(url, json={"answer": "verified"}, headers=auth)
    assert first.status_code == 200 and first.get_json()["answer"] == "verified"
    # Refused without a reason: an input error the client must fix.
    no_reason = client.post(url, json={"answer": "rejected"}, headers=auth)
    assert no_reason.status_code == 422
    with app.app_context():
        assert db.session.get(Nomination, nominated[AIGERIM]).answer == "verified"
    changed = client.post(url, json={"answer": "rejected", "comment": "Quota cut"}, headers=auth)
    assert changed.status_code == 200 and changed.get_json()["answer"] == "rejected"
    back = client.post(url, json={"answer": "verified", "comment": "Back"}, headers=auth)
    assert back.status_code == 409
    assert "A rejection cannot be changed" in back.get_json()["message"]
    with app.app_context():
        history = db.session.scalars(
            sa.select(NominationAnswerChange).order_by(NominationAnswerChange.id)
        ).all()
        assert [(h.from_answer, h.to_answer, h.reason, h.changed_by_id) for h in history] == [
            ("pending", "verified", None, None),
            ("verified", "rejected", "Quota cut", None),
        ]
        # The history names the token that answered, for both answers.
        assert {h.api_token_id for h in history} == {
            db.session.scalar(sa.select(ApiToken.id))
        }
        assert db.session.get(Application, world.confirmed[AIGERIM]).state == State.CANCELLED


def test_the_history_names_the_partner_system(app, world, nominated):
    from portal.api.models import ApiToken
    from tests.api.test_api import _token_for

    _token_for(app, world.partner_host)
    nomination_id = nominated[AIGERIM]
    with app.app_context():
        token = db.session.scalar(sa.select(ApiToken))
        nomination = db.session.get(Nomination, nomination_id)
        services.answer(
            nomination,
            Answer.VERIFIED,
            None,
            institution_id=nomination.receiving_hei_id,
            api_token_id=token.id,
        )
        # Only the receiving university answers, changes included.
        with pytest.raises(services.NominationError):
            services.answer(
                nomination, Answer.REJECTED, "x", institution_id=nomination.sending_hei_id
            )
        db.session.commit()
        assert db.session.scalar(sa.select(NominationAnswerChange.api_token_id)) == token.id
    text = _as(app, world.coordinator).get(f"/partner/nominations/{nomination_id}?lang=en")
    assert "partner system, API token “MoveON sync”" in text.get_data(as_text=True)


def test_the_migration_records_answers_given_before_it(app, tmp_path):
    from flask_migrate import downgrade, upgrade

    from tests.conftest import _postgres_database, make_app
    from tests.nominations.conftest import build_world

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        databases = (url for url in [f"sqlite:///{tmp_path / 'answers.sqlite3'}"])
    else:
        databases = _postgres_database()
    fresh = make_app(next(databases), tmp_path)
    with fresh.app_context():
        upgrade()
    world = build_world(fresh)
    with fresh.app_context():
        coordinator = db.session.scalar(sa.select(User).where(User.email == world.coordinator))
        partner = db.session.scalar(sa.select(User).where(User.email == world.partner_host))
        given = {}
        for email, verdict, comment in (
            (AIGERIM, Answer.VERIFIED, None),
            ("daniyar@example.kz", Answer.REJECTED, "No room"),
            ("olga@example.ru", None, None),
        ):
            application = db.session.get(Application, world.confirmed[email])
            nomination = services.nominate(application, actor=coordinator)
            if verdict is not None:
                services.answer(
                    nomination,
                    verdict,
                    comment,
                    institution_id=nomination.receiving_hei_id,
                    user_id=partner.id,
                )
                given[nomination.id] = (verdict.value, comment)
        db.session.commit()
        answered_at = dict(
            db.session.execute(sa.select(Nomination.id, Nomination.answered_at)).all()
        )
        partner_id = partner.id
        # The migrations run on their own connection: hold no lock they would wait for.
        db.session.remove()
        # Back to before the history existed, and up again.
        downgrade(revision="0006")
        assert "nomination_answer_changes" not in db.inspect(db.engine).get_table_names()
        upgrade()
        rows = db.session.scalars(sa.select(NominationAnswerChange)).all()
        assert {
            r.nomination_id: (r.from_answer, r.to_answer, r.reason, r.changed_by_id, r.created_at)
            for r in rows
        } == {
            nid: ("pending", verdict, comment, partner_id, answered_at[nid])
            for nid, (verdict, comment) in given.items()
        }
        db.session.remove()
        db.engine.dispose()
    databases.close()
