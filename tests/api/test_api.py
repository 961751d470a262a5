"""The partner API: tokens, JSON v1, EWP XML endpoints, isolation, bad input, OpenAPI."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.api.models import ApiToken, hash_token
from portal.applications.models import Application
from portal.auth.models import User
from portal.extensions import db
from portal.nominations import ewp, services
from portal.nominations.models import Nomination
from tests.conftest import Browser
from tests.nominations.conftest import build_world


def _nominate(app, world) -> dict[str, str]:
    with app.app_context():
        coordinator = db.session.scalar(sa.select(User).where(User.email == world.coordinator))
        for application_id in world.confirmed.values():
            services.nominate(db.session.get(Application, application_id), actor=coordinator)
        db.session.commit()
        return {
            n.student["email"]: n.omobility_id for n in db.session.scalars(sa.select(Nomination))
        }


def _token_for(app, email: str) -> str:
    """Make a token through the partner portal, as a partner would, and read it off the page."""
    browser = Browser(app.test_client())
    browser.login(email)
    browser.get("/partner/tokens")
    page = browser.post(
        "/partner/tokens", {"csrf_token": browser.last_token, "name": "MoveON sync"}
    )
    assert page.status_code == 200
    return re.search(r'id="new-token">([^<]+)<', page.get_data(as_text=True)).group(1)


@pytest.fixture
def world(app):
    return build_world(app)


def test_a_token_is_shown_once_and_stored_hashed(app, world):
    token = _token_for(app, world.partner_host)
    assert token.startswith("kop_") and len(token) > 40
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken))
        assert row.token_hash == hash_token(token) and token not in (row.hint, row.name)
        assert row.institution.schac == "knu.kg"
    browser = Browser(app.test_client())
    browser.login(world.partner_host)
    assert token not in browser.get("/partner/tokens").get_data(as_text=True)


def test_the_api_lists_gets_and_answers(app, world):
    ids = _nominate(app, world)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {_token_for(app, world.partner_host)}"}
    listing = client.get("/api/v1/nominations?per_page=2", headers=auth)
    assert listing.status_code == 200
    body = listing.get_json()
    assert body["total"] == 3 and len(body["items"]) == 2
    one = client.get(f"/api/v1/nominations/{ids['aigerim@example.kz']}", headers=auth).get_json()
    assert one["student"]["given_names_native"] == "Әйгерім"
    assert one["receiving_hei_id"] == "knu.kg" and one["answer"] == "pending"
    assert (
        client.get(
            f"/api/v1/nominations/{ids['aigerim@example.kz']}/documents", headers=auth
        ).get_json()
        == []
    )
    from datetime import UTC, datetime

    since = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    answered = client.post(
        f"/api/v1/nominations/{ids['daniyar@example.kz']}/answer",
        json={"answer": "rejected", "comment": "No room in the lab"},
        headers=auth,
    )
    assert answered.status_code == 200 and answered.get_json()["answer"] == "rejected"
    again = client.post(
        f"/api/v1/nominations/{ids['daniyar@example.kz']}/answer",
        json={"answer": "verified"},
        headers=auth,
    )
    assert again.status_code == 409
    changed = client.get(f"/api/v1/nominations?modified_since={since}", headers=auth).get_json()
    assert [n["omobility_id"] for n in changed["items"]] == [ids["daniyar@example.kz"]]


def test_another_institution_never_reads_or_answers(app, world):
    ids = _nominate(app, world)
    client = app.test_client()
    nsu = {"Authorization": f"Bearer {_token_for(app, world.partner_other)}"}
    vku = {"Authorization": f"Bearer {_token_for(app, world.partner_sender)}"}
    assert client.get("/api/v1/nominations", headers=nsu).get_json()["total"] == 1
    assert client.get("/api/v1/nominations", headers=vku).get_json()["total"] == 2
    for url in (
        f"/api/v1/nominations/{ids['aigerim@example.kz']}",
        f"/api/v1/nominations/{ids['aigerim@example.kz']}/documents",
        f"/api/v1/nominations/{ids['aigerim@example.kz']}/documents/1",
    ):
        assert client.get(url, headers=nsu).status_code == 404, url
    assert (
        client.post(
            f"/api/v1/nominations/{ids['aigerim@example.kz']}/answer",
            json={"answer": "verified"},
            headers=nsu,
        ).status_code
        == 404
    )
    # The sending university sees its student but does not answer for the host.
    assert (
        client.post(
            f"/api/v1/nominations/{ids['aigerim@example.kz']}/answer",
            json={"answer": "verified"},
            headers=vku,
        ).status_code
        == 403
    )
    get = client.get(
        f"/ewp/omobilities/get?sending_hei_id=vku.edu.kz&omobility_id={ids['aigerim@example.kz']}",
        headers=nsu,
    )
    assert get.status_code == 200 and ids["aigerim@example.kz"].encode() not in get.data


@pytest.mark.parametrize(
    "query",
    [
        "modified_since=yesterday",
        "modified_since=2026-11-30T10:00:00",  # no offset
        "per_page=500",
        "per_page=0",
        "page=-1",
        "page=abc",
        "academic_year=2026",
        "status=maybe",
    ],
)
def test_bad_parameters_get_a_clear_400(app, world, query):
    client = app.test_client()
    auth = {"Authorization": f"Bearer {_token_for(app, world.partner_host)}"}
    response = client.get(f"/api/v1/nominations?{query}", headers=auth)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request" and response.get_json()["message"]


def test_missing_revoked_and_forged_tokens_get_401(app, world):
    client = app.test_client()
    assert client.get("/api/v1/nominations").status_code == 401
    assert (
        client.get("/api/v1/nominations", headers={"Authorization": "Bearer kop_x"}).status_code
        == 401
    )
    token = _token_for(app, world.partner_host)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/nominations", headers=auth).status_code == 200
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken))
        assert row.last_used_at is not None
        token_id = row.id
    browser = Browser(app.test_client())
    browser.login(world.partner_host)
    browser.get("/partner/tokens")
    assert (
        browser.post(
            f"/partner/tokens/{token_id}/revoke", {"csrf_token": browser.last_token}
        ).status_code
        == 302
    )
    assert client.get("/api/v1/nominations", headers=auth).status_code == 401
    assert (
        client.get("/ewp/omobilities/index?sending_hei_id=vku.edu.kz", headers=auth).status_code
        == 401
    )
    # Another partner cannot revoke someone else's token.
    other = Browser(app.test_client())
    other.login(world.partner_other)
    other.get("/partner/tokens")
    assert (
        other.post(
            f"/partner/tokens/{token_id}/revoke", {"csrf_token": other.last_token}
        ).status_code
        == 404
    )


def test_ewp_endpoints_answer_valid_documents(app, world):
    ids = _nominate(app, world)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {_token_for(app, world.partner_host)}"}
    index = client.get(
        "/ewp/omobilities/index?sending_hei_id=vku.edu.kz&receiving_hei_id=knu.kg"
        "&receiving_academic_year_id=" + _year(app, world),
        headers=auth,
    )
    assert index.status_code == 200
    ewp.validate(index.data, "index")
    assert ids["aigerim@example.kz"].encode() in index.data
    assert ids["olga@example.ru"].encode() not in index.data  # sent by nsu.ru
    get = client.get(
        "/ewp/omobilities/get?sending_hei_id=vku.edu.kz"
        f"&omobility_id={ids['aigerim@example.kz']}&omobility_id={ids['daniyar@example.kz']}"
        "&omobility_id=unknown",
        headers=auth,
    )
    assert get.status_code == 200
    ewp.validate(get.data, "get")
    assert get.data.count(b"<student-mobility") == 2
    for bad in (
        "/ewp/omobilities/get?omobility_id=x",
        "/ewp/omobilities/get?sending_hei_id=vku.edu.kz",
        "/ewp/omobilities/index",
        "/ewp/omobilities/index?sending_hei_id=vku.edu.kz&modified_since=nope",
        "/ewp/omobilities/get?sending_hei_id=vku.edu.kz&"
        + "&".join(f"omobility_id={i}" for i in range(101)),
    ):
        assert client.get(bad, headers=auth).status_code == 400, bad


def _year(app, world) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(Nomination.academic_year))


def test_api_errors_outside_the_views_are_json_too(app, world, monkeypatch):
    client = app.test_client()
    auth = {"Authorization": f"Bearer {_token_for(app, world.partner_host)}"}
    missing = client.get("/api/v1/nominations/x/documents/not-a-number", headers=auth)
    assert missing.status_code == 404 and missing.is_json
    monkeypatch.setitem(app.config, "RATELIMIT_API", "2 per minute")
    codes = [client.get("/api/v1/nominations", headers=auth).status_code for _ in range(4)]
    assert codes[-1] == 429
    limited = client.get("/api/v1/nominations", headers=auth)
    assert limited.is_json and limited.get_json()["error"]
