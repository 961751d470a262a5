"""What a review found: admins, races with the student, edited profiles, parallel batches."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from portal.applications.models import Application
from portal.applications.services import withdraw_application
from portal.applications.states import State
from portal.auth.models import Role, User
from portal.extensions import db
from portal.jobs import Job
from portal.offers import services
from portal.offers.models import Offer, Response
from portal.storage import get_storage
from tests import factories
from tests.conftest import Browser


def _coordinator(offers) -> User:
    return db.session.scalar(sa.select(User).where(User.email == offers.coordinator))


def test_an_admin_issues_and_revokes_like_a_coordinator(app, offers):
    with app.app_context():
        factories.user(Role.ADMIN, email="admin@kopir.kz")
    browser = Browser(app.test_client())
    browser.login("admin@kopir.kz")
    application_id = offers.accepted["ru"]
    browser.get(f"/staff/applications/{application_id}")
    issued = browser.post(
        f"/staff/applications/{application_id}/offer",
        {"csrf_token": browser.last_token, "language": "ru"},
    )
    assert issued.status_code == 302
    with app.app_context():
        offer = db.session.scalar(sa.select(Offer))
        assert offer is not None and offer.application.state == State.OFFERED
        offer_id = offer.id
    browser.get(f"/staff/applications/{application_id}")
    revoked = browser.post(
        f"/staff/offers/{offer_id}/revoke",
        {"csrf_token": browser.last_token, "reason": "Issued to the wrong programme"},
    )
    assert revoked.status_code == 302
    with app.app_context():
        assert db.session.get(Offer, offer_id).status == "revoked"
        assert db.session.get(Application, application_id).state == State.ACCEPTED


def _prepared_reissue(offers):
    """Issue v1, then prepare v2 (rendered, not yet stored) as a coordinator would."""
    application = db.session.get(Application, offers.accepted["kk"])
    first = services.issue_offer(application, actor=_coordinator(offers))
    db.session.commit()
    draft = services.prepare(application, verify_prefix="https://kopir.test/verify")
    pdf = services.render_pdf(draft.html)
    return first.id, draft, pdf


@pytest.mark.parametrize("student_does", ["accepts", "withdraws"])
def test_a_reissue_losing_a_race_with_the_student_issues_nothing(
    app, app_factory, offers, student_does
):
    with app.app_context():
        first_id, draft, pdf = _prepared_reissue(offers)
        before = set(get_storage().root.rglob("*.pdf"))
        # Meanwhile, in another process, the student answers or withdraws.
        other = app_factory()
        with other.app_context():
            application = db.session.get(Application, offers.accepted["kk"])
            if student_does == "accepts":
                services.respond(
                    application, first_id, Response.CONFIRMED, student=application.student
                )
            else:
                withdraw_application(application, actor=application.student, reason=None)
            db.session.commit()
        with pytest.raises((services.OfferError, StaleDataError)):
            services.finish(draft, pdf, actor=_coordinator(offers))
            db.session.commit()
        db.session.rollback()
        assert set(get_storage().root.rglob("*.pdf")) == before  # the new file is gone
        offers_now = db.session.scalars(sa.select(Offer).order_by(Offer.version)).all()
        assert [o.version for o in offers_now] == [1]
        first = offers_now[0]
        if student_does == "accepts":
            assert (first.status, first.response) == ("valid", "confirmed")
        else:
            assert first.status == "revoked"


def test_a_profile_edited_after_submission_never_reaches_the_letter(app, ctx, offers):
    application = db.session.get(Application, offers.accepted["en"])
    application.student.profile.latin_family_name = "SOMEBODY-ELSE"
    db.session.commit()
    offer = services.issue_offer(application, actor=_coordinator(offers))
    db.session.commit()
    assert offer.printed["student_latin"] == "SAM TAYLOR"


def test_an_application_without_a_submitted_profile_gets_no_letter(app, ctx, offers):
    application = db.session.get(Application, offers.accepted["en"])
    application.profile_snapshot = None
    db.session.commit()
    with pytest.raises(services.OfferError):
        services.issue_offer(application, actor=_coordinator(offers))


def test_the_database_allows_one_live_batch_per_programme(app, ctx, offers):
    db.session.add(Job(kind="issue_offers", program_id=offers.program_id, state="running"))
    db.session.commit()
    db.session.add(Job(kind="issue_offers", program_id=offers.program_id, state="queued"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
    # Finished jobs do not count.
    db.session.add(Job(kind="issue_offers", program_id=offers.program_id, state="done"))
    db.session.commit()


def test_concurrent_batches_share_one_pool():
    from concurrent.futures import ThreadPoolExecutor

    from portal.offers.batch import rendering_pool

    with ThreadPoolExecutor(4) as threads:
        pools = list(threads.map(lambda _: rendering_pool(2), range(8)))
    assert len({id(p) for p in pools}) == 1
    assert pools[0].submit(pow, 2, 10).result(timeout=60) == 1024


def test_an_overdue_offer_cannot_be_revived_by_a_new_letter(app, browser, offers):
    from datetime import timedelta

    from portal.db import utcnow

    with app.app_context():
        application = db.session.get(Application, offers.accepted["ky"])
        offer = services.issue_offer(application, actor=_coordinator(offers))
        offer.response_deadline = utcnow() - timedelta(minutes=1)
        db.session.commit()
        application_id = application.id
    browser.login(offers.coordinator)
    browser.get(f"/staff/programs/{offers.program_id}/offers")
    response = browser.post(
        f"/staff/applications/{application_id}/offer",
        {"csrf_token": browser.last_token, "language": "ky"},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Application, application_id).state == State.EXPIRED
        assert db.session.scalar(sa.select(sa.func.count(Offer.id))) == 1
