"""Hardening from a review of the partner side: EWP errors, old documents, odd input, races."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from portal.applications.models import Application
from portal.auth.models import User
from portal.extensions import db
from portal.nominations import ewp, services
from portal.nominations.models import Answer, Nomination
from tests.api.test_api import _nominate, _token_for
from tests.conftest import Browser
from tests.nominations.conftest import add_document, build_world


@pytest.fixture
def setup(app):
    world = build_world(app)
    ids = _nominate(app, world)
    auth = {"Authorization": f"Bearer {_token_for(app, world.partner_host)}"}
    return world, ids, auth


def test_ewp_errors_are_valid_error_responses(app, setup):
    _world, _ids, auth = setup
    client = app.test_client()
    for url in (
        "/ewp/omobilities/get?omobility_id=x",  # ApiError
        "/ewp/omobilities/get?sending_hei_id=nowhere.example&omobility_id=x",  # unknown HEI
        "/ewp/omobilities/nothing-here",  # the router's 404
    ):
        response = client.get(url, headers=auth)
        assert response.status_code in (400, 404), url
        assert response.mimetype == "application/xml"
        ewp.validate(response.data, "error")
    unauthorized = client.get("/ewp/omobilities/index?sending_hei_id=vku.edu.kz")
    assert unauthorized.status_code == 401
    ewp.validate(unauthorized.data, "error")


def test_api_errors_carry_stable_codes(app, setup):
    _world, _ids, auth = setup
    client = app.test_client()
    assert client.get("/api/v1/nothing-here", headers=auth).get_json()["error"] == "not_found"
    assert client.delete("/api/v1/nominations", headers=auth).get_json()["error"] == (
        "method_not_allowed"
    )


def test_partners_never_get_replaced_documents(app, setup):
    from portal.db import utcnow
    from portal.documents.models import Document

    world, _ids, _auth = setup
    with app.app_context():
        old = add_document(world.confirmed["olga@example.ru"])
        db.session.get(Document, old).superseded_at = utcnow()
        db.session.commit()
        current = add_document(world.confirmed["olga@example.ru"])
    host = Browser(app.test_client())
    host.login(world.partner_host)
    assert host.get(f"/documents/{old}").status_code == 404
    assert host.get(f"/documents/{current}").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "modified_since=0001-01-01T00:00:00%2B01:00",
        "modified_since=9999-12-31T23:59:59-01:00",
        "page=%C2%B2",
        "per_page=%C2%B2",
        "page=" + "9" * 5000,
        "academic_year=2026-2027",
    ],
)
def test_odd_numbers_and_dates_get_400_not_500(app, setup, query):
    _world, _ids, auth = setup
    response = app.test_client().get(f"/api/v1/nominations?{query}", headers=auth)
    assert response.status_code == 400


def test_an_unencoded_plus_in_an_offset_is_understood(app, setup):
    _world, _ids, auth = setup
    client = app.test_client()
    response = client.get(
        "/api/v1/nominations?modified_since=2020-01-01T00:00:00+05:00", headers=auth
    )
    assert response.status_code == 200 and response.get_json()["total"] == 3


def test_ewp_index_parameters(app, setup):
    _world, ids, auth = setup
    client = app.test_client()
    with app.app_context():
        year = db.session.scalar(sa.select(Nomination.academic_year))
    base = "/ewp/omobilities/index?sending_hei_id=vku.edu.kz"
    one = client.get(f"{base}&receiving_academic_year_id={year}", headers=auth)
    assert ids["aigerim@example.kz"].encode() in one.data
    # An empty value beside a real one is malformed input, not a value to drop.
    both = client.get(
        f"{base}&receiving_academic_year_id=&receiving_academic_year_id={year}", headers=auth
    )
    assert both.status_code == 400
    ewp.validate(both.data, "error")
    naive = client.get(f"{base}&modified_since=2020-01-01T00:00:00", headers=auth)
    assert naive.status_code == 200 and ids["aigerim@example.kz"].encode() in naive.data
    assert (
        client.get(
            "/ewp/omobilities/index?sending_hei_id=nowhere.example", headers=auth
        ).status_code
        == 400
    )


def test_comments_through_the_api_are_cleaned(app, setup):
    _world, ids, auth = setup
    response = app.test_client().post(
        f"/api/v1/nominations/{ids['daniyar@example.kz']}/answer",
        json={"answer": "rejected", "comment": "No\u0000 room\u202e here"},
        headers=auth,
    )
    assert response.status_code == 200
    assert response.get_json()["answer_comment"] == "No room here"


def test_api_download_names_follow_the_detected_type(app, setup):
    world, ids, auth = setup
    with app.app_context():
        document_id = add_document(world.confirmed["olga@example.ru"], name="scan.pdf.exe")
    response = app.test_client().get(
        f"/api/v1/nominations/{ids['olga@example.ru']}/documents/{document_id}", headers=auth
    )
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert ".exe" not in disposition.split("filename*=")[0]
    assert disposition.rstrip().endswith(".pdf")
    assert response.headers["Cache-Control"] == "private, no-store"


def test_made_up_tokens_share_the_address_limit(app, setup, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_API", "3 per minute")
    client = app.test_client()
    codes = [
        client.get(
            "/api/v1/nominations", headers={"Authorization": f"Bearer kop_{uuid.uuid4().hex}"}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]


def test_a_second_answer_loses_the_race(app, app_factory, setup):
    _world, ids, _auth = setup
    with app.app_context():
        first = db.session.scalar(
            sa.select(Nomination).where(Nomination.omobility_id == ids["daniyar@example.kz"])
        )
        knu = first.receiving_hei_id
        assert first.answer == "pending"  # read before the other answer commits
        other = app_factory()
        with other.app_context():
            same = db.session.get(Nomination, first.id)
            services.answer(same, Answer.VERIFIED, None, institution_id=knu)
            db.session.commit()
        with pytest.raises(services.NominationError):
            services.answer(first, Answer.REJECTED, "Too late", institution_id=knu)
        db.session.rollback()
        db.session.expire_all()
        assert db.session.get(Nomination, first.id).answer == "verified"
        assert db.session.get(Application, first.application_id).state == "confirmed"


def test_invalid_filters_show_nothing_rather_than_everything(app, setup):
    world, _ids, _auth = setup
    host = Browser(app.test_client())
    host.login(world.partner_host)
    assert host.get("/partner/nominations.csv?status=live&year=1999/2000").data.count(b"\n") == 1
    assert host.get("/partner/nominations?page=" + "9" * 30).status_code == 200


def test_no_nomination_from_the_host_to_itself(app, setup):
    from portal.applications.services import snapshot_profile
    from portal.applications.states import State
    from portal.db import utcnow
    from portal.institutions.models import Institution
    from tests import factories

    world, _ids, _auth = setup
    with app.app_context():
        knu = db.session.scalar(sa.select(Institution).where(Institution.schac == "knu.kg"))
        student = factories.user(email="local@example.kg")
        profile = factories.complete_profile(student, home_institution=knu)
        application = Application(
            student=student,
            program_id=world.program_id,
            state=State.CONFIRMED.value,
            submitted_at=utcnow(),
            profile_snapshot=snapshot_profile(profile),
        )
        db.session.add(application)
        db.session.commit()
        coordinator = db.session.scalar(sa.select(User).where(User.email == world.coordinator))
        with pytest.raises(services.NominationError):
            services.nominate(application, actor=coordinator)
