"""The partner API as a partner system meets it: methods, empty values, answers, limits, expiry."""

from __future__ import annotations

import os
import re
import socket
from datetime import timedelta

import lxml.html
import pytest
import sqlalchemy as sa

from portal.api.models import ApiToken
from portal.db import utcnow
from portal.extensions import db, limiter
from portal.nominations import ewp
from portal.nominations.models import Nomination
from tests.api.test_api import _nominate, _token_for
from tests.conftest import Browser
from tests.nominations.conftest import add_document, build_world


@pytest.fixture
def setup(app):
    world = build_world(app)
    ids = _nominate(app, world)
    auth = {"Authorization": f"Bearer {_token_for(app, world.partner_host)}"}
    return world, ids, auth


def _rows(app) -> list[ApiToken]:
    with app.app_context():
        rows = db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)).all()
        db.session.expunge_all()
        return list(rows)


# ----- 405 with Allow ---------------------------------------------------------------------------


def test_every_api_and_ewp_route_answers_a_wrong_method_with_allow(app, setup):
    world, ids, auth = setup
    with app.app_context():
        document_id = add_document(world.confirmed["aigerim@example.kz"])
    values = {"omobility_id": ids["aigerim@example.kz"], "document_id": document_id}
    allowed: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/ewp/")):
            allowed.setdefault(rule.rule, set()).update(rule.methods)
    assert len(allowed) >= 8
    client = app.test_client()
    for rule, methods in sorted(allowed.items()):
        url = re.sub(r"<(?:int:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)
        for wrong in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - methods):
            for headers in (auth, {}):  # the router answers before any token is looked at
                response = client.open(url, method=wrong, headers=headers)
                assert response.status_code == 405, (wrong, url)
                allow = {m.strip() for m in response.headers.get("Allow", "").split(",")}
                assert allow == methods, (wrong, url, response.headers.get("Allow"))
                if url.startswith("/ewp/"):
                    ewp.validate(response.data, "error")
                else:
                    assert response.get_json()["error"] == "method_not_allowed"


# ----- empty parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/nominations?modified_since=",
        "/api/v1/nominations?academic_year=",
        "/api/v1/nominations?status=",
        "/api/v1/nominations?page=",
        "/api/v1/nominations?per_page=",
    ],
)
def test_an_empty_api_parameter_is_refused_not_ignored(app, setup, url):
    _world, _ids, auth = setup
    response = app.test_client().get(url, headers=auth)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert url.split("?")[1].rstrip("=") in response.get_json()["message"]


@pytest.mark.parametrize(
    "query",
    [
        "index?sending_hei_id=vku.edu.kz&modified_since=",
        "index?sending_hei_id=vku.edu.kz&receiving_academic_year_id=",
        "index?sending_hei_id=vku.edu.kz&receiving_hei_id=",
        "index?sending_hei_id=&sending_hei_id=vku.edu.kz",
        "get?sending_hei_id=vku.edu.kz&omobility_id=",
    ],
)
def test_an_empty_ewp_parameter_is_refused_not_ignored(app, setup, query):
    _world, ids, auth = setup
    client = app.test_client()
    if query.startswith("get"):
        query += "&omobility_id=" + ids["aigerim@example.kz"]
    response = client.get(f"/ewp/omobilities/{query}", headers=auth)
    assert response.status_code == 400, query
    ewp.validate(response.data, "error")
    assert b"must not be empty" in response.data


# ----- a rejection without a comment ------------------------------------------------------------


@pytest.mark.parametrize("comment", [None, "", "   \u200b "])
def test_a_rejection_without_a_comment_is_an_input_error(app, setup, comment):
    _world, ids, auth = setup
    body = {"answer": "rejected"} if comment is None else {"answer": "rejected", "comment": comment}
    url = f"/api/v1/nominations/{ids['daniyar@example.kz']}/answer"
    response = app.test_client().post(url, json=body, headers=auth)
    assert response.status_code == 422
    assert response.get_json()["error"] == "comment_required"
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(Nomination.answer).where(
                    Nomination.omobility_id == ids["daniyar@example.kz"]
                )
            )
            == "pending"
        )
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    responses = document["paths"]["/nominations/{omobility_id}/answer"]["post"]["responses"]
    assert "422" in responses


# ----- one request budget per token -------------------------------------------------------------


def _redis_running() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def keep_limiter():
    # The extension object is shared by every app of the process: put the session app's back.
    saved = (limiter._storage, limiter._limiter, limiter.enabled)
    yield
    limiter._storage, limiter._limiter, limiter.enabled = saved


def _split_budget(app, email: str) -> list[int]:
    auth = {"Authorization": f"Bearer {_token_for(app, email)}"}
    client = app.test_client()
    urls = ["/api/v1/nominations", "/ewp/omobilities/index?sending_hei_id=vku.edu.kz"] * 3
    return [client.get(url, headers=auth).status_code for url in urls]


def test_one_budget_per_token_across_the_api_and_ewp_in_memory(app, setup, monkeypatch):
    world, _ids, _auth = setup
    monkeypatch.setitem(app.config, "RATELIMIT_API", "4 per minute")
    assert _split_budget(app, world.partner_host) == [200, 200, 200, 200, 429, 429]


@pytest.mark.skipif(
    not _redis_running(),
    reason="no Redis server at 127.0.0.1:6379 "
    "(this machine kind and CI start one; `apt-get install redis-server` elsewhere)",
)
def test_one_budget_per_token_across_the_api_and_ewp_in_redis(app, app_factory, keep_limiter):
    import redis

    # A database of its own per test process; tests/auth/test_rate_limit_redis.py takes 8-15.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = 1 + int(worker[2:] or 0) % 7
    store = redis.Redis(host="127.0.0.1", port=6379, db=number)
    store.flushdb()
    redis_app = app_factory(
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:6379/{number}", RATELIMIT_API="4 per minute"
    )
    world = build_world(redis_app)
    _nominate(redis_app, world)
    try:
        assert _split_budget(redis_app, world.partner_host) == [200, 200, 200, 200, 429, 429]
        keys = [key.decode() for key in store.keys("*")]
        assert [key for key in keys if "partner-api" in key], keys
    finally:
        store.flushdb()


# ----- tokens that expire -----------------------------------------------------------------------


def _tokens_page(browser: Browser) -> lxml.html.FormElement:
    page = browser.get("/partner/tokens")
    assert page.status_code == 200
    html = lxml.html.fromstring(page.get_data(as_text=True))
    return next(f for f in html.forms if f.action.endswith("/partner/tokens"))


def _post_as_served(browser: Browser, form: lxml.html.FormElement, **changes: str):
    values = dict(form.form_values())
    values.update(changes)
    return browser.post("/partner/tokens", values)


def test_the_partner_chooses_how_long_a_token_lives(app, setup):
    world, _ids, _auth = setup
    browser = Browser(app.test_client())
    browser.login(world.partner_host)
    form = _tokens_page(browser)
    options = form.xpath(".//select[@name='lifetime']/option")
    assert [o.get("value") for o in options] == ["30", "90", "180", "365"]
    assert form.inputs["lifetime"].value == "90"  # the default, as served
    before = utcnow()
    assert _post_as_served(browser, form, name="Default").status_code == 200
    made = _post_as_served(browser, _tokens_page(browser), name="Short", lifetime="30")
    assert made.status_code == 200 and 'id="new-token"' in made.get_data(as_text=True)
    rows = {row.name: row for row in _rows(app)}
    for name, days in (("Default", 90), ("Short", 30)):
        lifetime = rows[name].expires_at - before
        assert timedelta(days=days) <= lifetime < timedelta(days=days, minutes=1), name
    page = browser.get("/partner/tokens").get_data(as_text=True)
    assert "Ends" in page


@pytest.mark.parametrize("lifetime", ["0", "7", "3650", "never", ""])
def test_a_lifetime_not_offered_is_refused(app, setup, lifetime):
    world, _ids, _auth = setup
    browser = Browser(app.test_client())
    browser.login(world.partner_host)
    before = len(_rows(app))
    response = _post_as_served(browser, _tokens_page(browser), name="Forever", lifetime=lifetime)
    assert response.status_code == 422
    assert 'id="new-token"' not in response.get_data(as_text=True)
    assert "is-invalid" in response.get_data(as_text=True)
    assert len(_rows(app)) == before


def _age(app, **changes) -> None:
    with app.app_context():
        db.session.execute(sa.update(ApiToken).values(**changes))
        db.session.commit()


def test_an_expired_token_is_refused_with_a_clear_code(app, setup):
    _world, _ids, auth = setup
    client = app.test_client()
    assert client.get("/api/v1/nominations", headers=auth).status_code == 200
    _age(app, expires_at=utcnow() - timedelta(seconds=1))
    response = client.get("/api/v1/nominations", headers=auth)
    assert response.status_code == 401
    assert response.get_json()["error"] == "token_expired"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    ewp_answer = client.get("/ewp/omobilities/index?sending_hei_id=vku.edu.kz", headers=auth)
    assert ewp_answer.status_code == 401
    ewp.validate(ewp_answer.data, "error")
    assert b"expired" in ewp_answer.data


def test_answers_say_when_the_token_ends(app, setup):
    _world, ids, auth = setup
    client = app.test_client()
    (row,) = _rows(app)
    expected = row.expires_at.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    for url in (
        "/api/v1/nominations",
        f"/api/v1/nominations/{ids['aigerim@example.kz']}",
        "/api/v1/nominations/unknown",  # an error answer too
        "/ewp/omobilities/index?sending_hei_id=vku.edu.kz",
    ):
        response = client.get(url, headers=auth)
        assert response.headers.get("X-Kopir-Token-Expires") == expected, url


def test_the_last_use_is_recorded_for_the_api_and_for_ewp(app, setup):
    _world, _ids, auth = setup
    client = app.test_client()
    for url in ("/api/v1/nominations", "/ewp/omobilities/index?sending_hei_id=vku.edu.kz"):
        _age(app, last_used_at=None)
        assert client.get(url, headers=auth).status_code == 200
        (row,) = _rows(app)
        assert row.last_used_at is not None and utcnow() - row.last_used_at < timedelta(
            minutes=1
        ), url
    browser = Browser(app.test_client())
    browser.login(setup[0].partner_host)
    page = lxml.html.fromstring(browser.get("/partner/tokens").get_data(as_text=True))
    cells = [c.text_content().strip() for c in page.xpath("//tbody/tr[1]/td")]
    assert "—" not in cells[4]  # the "Last used" column


def test_partners_are_warned_before_a_token_ends(app, setup):
    world, ids, _auth = setup
    host = Browser(app.test_client())
    host.login(world.partner_host)
    with app.app_context():
        nomination_id = db.session.scalar(
            sa.select(Nomination.id).where(Nomination.omobility_id == ids["aigerim@example.kz"])
        )
    pages = ("/partner/tokens", "/partner/nominations", f"/partner/nominations/{nomination_id}")
    for url in pages:  # 90 days left: no warning
        assert 'id="token-expiry-warning"' not in host.get(url).get_data(as_text=True), url
    _age(app, expires_at=utcnow() + timedelta(days=13, hours=12))
    for url in pages:
        html = host.get(url).get_data(as_text=True)
        assert 'id="token-expiry-warning"' in html, url
        assert "MoveON sync" in html, url
    assert "in 13 days" in host.get("/partner/tokens").get_data(as_text=True)
    # Another university's partner is not told about this token.
    other = Browser(app.test_client())
    other.login(world.partner_other)
    assert 'id="token-expiry-warning"' not in other.get("/partner/nominations").get_data(
        as_text=True
    )
    # Once it has ended, or was revoked, it is no longer "ending soon".
    _age(app, expires_at=utcnow() - timedelta(minutes=1))
    html = host.get("/partner/tokens").get_data(as_text=True)
    assert 'id="token-expiry-warning"' not in html and "Expired" in html


def test_the_migration_gives_existing_tokens_ninety_days_from_the_upgrade(app, tmp_path):
    from flask_migrate import upgrade

    from tests.conftest import _postgres_database, make_app

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        databases = (url for url in [f"sqlite:///{tmp_path / 'before-expiry.sqlite3'}"])
    else:
        databases = _postgres_database()
    fresh = make_app(next(databases), tmp_path)
    long_ago = utcnow() - timedelta(days=800)  # older than any lifetime a new token may have
    with fresh.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO institutions (id, schac, names, country, city, timezone, "
                    "created_at, updated_at) VALUES (1, 'knu.kg', '{}', 'KG', '{}', "
                    "'Asia/Bishkek', :t, :t)"
                ).bindparams(sa.bindparam("t", long_ago, type_=sa.DateTime(timezone=True)))
            )
            conn.execute(
                sa.text(
                    "INSERT INTO api_tokens (institution_id, name, token_hash, hint, created_at) "
                    "VALUES (1, 'Old sync', :hash, 'kop_abcd', :t)"
                ).bindparams(
                    sa.bindparam("hash", "0" * 64),
                    sa.bindparam("t", long_ago, type_=sa.DateTime(timezone=True)),
                )
            )
        before = utcnow()
        upgrade()
        row = db.session.scalar(sa.select(ApiToken))
        assert row.name == "Old sync" and row.active
        assert timedelta(days=90) <= row.expires_at - before < timedelta(days=90, minutes=5)
        db.session.remove()
        db.engine.dispose()
    databases.close()
