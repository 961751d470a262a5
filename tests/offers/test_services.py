"""Issuing, superseding, revoking, answering and expiring offer letters."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.applications.models import Application, ApplicationEvent
from portal.applications.states import State
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.mail import OutgoingMail
from portal.offers import services
from portal.offers.models import Offer, Response
from portal.storage import get_storage


def _user(email: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _issue(offers, locale: str = "kk", **kwargs) -> Offer:
    application = db.session.get(Application, offers.accepted[locale])
    offer = services.issue_offer(application, actor=_user(offers.coordinator), **kwargs)
    db.session.commit()
    return offer


def test_issue_stores_the_pdf_with_its_hash_and_only_a_hash_of_the_code(app, ctx, offers):
    offer = _issue(offers)
    application = db.session.get(Application, offers.accepted["kk"])
    assert application.state == State.OFFERED
    assert offer.status == "valid" and offer.version == 1 and offer.language == "kk"
    assert offer.reference == f"KOP-{utcnow().year}-{application.id:06d}"
    data = get_storage().load(offer.storage_key)
    assert data.startswith(b"%PDF-") and offer.size == len(data)
    assert offer.sha256 == hashlib.sha256(data).hexdigest()
    # The code is printed on the letter (in its URL) but only its hash is stored.
    assert len(offer.code_hash) == 64
    assert offer.printed["reference"] == offer.reference
    # The student hears about it in their language.
    mail = db.session.scalars(sa.select(OutgoingMail)).all()
    assert any("aigerim@example.kz" == m.recipient for m in mail)


def test_a_code_carries_at_least_128_random_bits():
    codes = {services.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 26 and code.isalnum() and code == code.lower()
        # 26 base32 characters = 130 bits, of which the first 128 come from the random bytes.
        assert len(code) * 5 >= 128


def test_reissue_supersedes_and_keeps_the_deadline(app, ctx, offers):
    first = _issue(offers, "en")
    second = _issue(offers, "en")
    db.session.refresh(first)
    assert first.status == "superseded" and first.superseded_at is not None
    assert second.status == "valid" and second.version == 2
    assert second.reference == first.reference + "-2"
    assert second.response_deadline == first.response_deadline
    assert get_storage().load(first.storage_key)  # the earlier letter is kept as it was
    subjects = [m.subject for m in db.session.scalars(sa.select(OutgoingMail))]
    assert any("new version" in s for s in subjects)


def test_revoke_returns_the_applicant_to_accepted_and_needs_a_reason(app, ctx, offers):
    offer = _issue(offers)
    coordinator = _user(offers.coordinator)
    with pytest.raises(services.OfferError):
        services.revoke_offer(offer, actor=coordinator, reason="  ")
    services.revoke_offer(offer, actor=coordinator, reason="Wrong dates printed")
    db.session.commit()
    assert offer.status == "revoked" and offer.revoke_reason == "Wrong dates printed"
    assert offer.application.state == State.ACCEPTED
    event = offer.application.events[-1]
    assert (event.from_state, event.to_state, event.reason) == (
        "offered",
        "accepted",
        "Wrong dates printed",
    )
    again = _issue(offers)
    assert again.version == 2 and again.status == "valid"


def test_the_answer_records_the_exact_version_and_time(app, ctx, offers):
    first = _issue(offers)
    second = _issue(offers)
    application = second.application
    student = application.student
    with pytest.raises(services.OfferError, match="newer version"):
        services.respond(application, first.id, Response.CONFIRMED, student=student)
    services.respond(application, second.id, Response.CONFIRMED, student=student)
    db.session.commit()
    assert application.state == State.CONFIRMED
    assert second.response == "confirmed" and second.responded_at is not None
    assert first.response is None
    with pytest.raises(services.OfferError):
        services.respond(application, second.id, Response.DECLINED, student=student)


def test_declining_frees_the_seat_for_the_waiting_list(app, ctx, offers):
    offer = _issue(offers)
    application = offer.application
    services.respond(application, offer.id, Response.DECLINED, student=application.student)
    db.session.commit()
    assert application.state == State.DECLINED
    assert db.session.get(Application, offers.waitlisted_id).state == State.ACCEPTED


def test_offers_expire_after_the_deadline_and_promote(app, ctx, offers):
    offer = _issue(offers)
    application = offer.application
    later = offer.response_deadline + timedelta(seconds=1)
    assert services.expire_due(now=offer.response_deadline - timedelta(seconds=1)) == 0
    with pytest.raises(services.OfferError, match="passed"):
        services.respond(
            application, offer.id, Response.CONFIRMED, student=application.student, now=later
        )
    db.session.commit()
    assert application.state == State.EXPIRED and offer.response == "expired"
    assert db.session.get(Application, offers.waitlisted_id).state == State.ACCEPTED
    assert services.expire_due(now=later) == 0


def test_expire_offers_command(app, offers):
    with app.app_context():
        offer = _issue(offers, "ru")
        offer.response_deadline = utcnow() - timedelta(minutes=1)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["portal", "expire-offers"])
    assert result.exit_code == 0, result.output
    assert "Expired 1 offer" in result.output
    with app.app_context():
        application = db.session.get(Application, offers.accepted["ru"])
        assert application.state == State.EXPIRED
        events = db.session.scalars(
            sa.select(ApplicationEvent.actor_role).where(
                ApplicationEvent.application_id == application.id,
                ApplicationEvent.to_state == "expired",
            )
        ).all()
        assert events == ["system"]


def test_withdrawing_revokes_the_standing_letter(app, ctx, offers):
    from portal.applications.services import withdraw_application

    offer = _issue(offers)
    application = offer.application
    withdraw_application(application, actor=application.student, reason=None)
    db.session.commit()
    assert offer.status == "revoked" and application.state == State.WITHDRAWN


def test_only_accepted_applicants_get_letters(app, ctx, offers):
    waiting = db.session.get(Application, offers.waitlisted_id)
    with pytest.raises(services.OfferError):
        services.issue_offer(waiting, actor=_user(offers.coordinator))


def test_deadline_must_be_ahead_and_not_too_far(app, ctx, offers):
    application = db.session.get(Application, offers.accepted["kk"])
    coordinator = _user(offers.coordinator)
    with pytest.raises(services.OfferError):
        services.issue_offer(application, actor=coordinator, deadline=utcnow() - timedelta(days=1))
    with pytest.raises(services.OfferError):
        services.issue_offer(
            application, actor=coordinator, deadline=utcnow() + timedelta(days=400)
        )
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Offer.id))) == 0


def test_one_valid_letter_per_application_is_enforced_by_the_database(app, ctx, offers):
    offer = _issue(offers)
    clone = Offer(
        application_id=offer.application_id,
        version=offer.version + 1,
        reference=offer.reference + "-x",
        language="kk",
        storage_key="x.pdf",
        size=1,
        sha256="0" * 64,
        code_hash="1" * 64,
        response_deadline=offer.response_deadline,
        printed={},
    )
    db.session.add(clone)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
