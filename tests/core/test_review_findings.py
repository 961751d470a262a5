"""Regression tests for defects found in review: each pins a concrete attack or crash."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.applications.states import State, can_move
from portal.extensions import db
from tests import factories


def test_forged_host_header_never_reaches_a_reset_link(app_factory):
    production = app_factory(TESTING=False, BASE_URL="https://kopir.vku.edu.kz", SERVER_NAME=None)
    assert production.config["TRUSTED_HOSTS"] == ["kopir.vku.edu.kz"]
    client = production.test_client()
    assert client.get("/account/forgot", base_url="http://evil.example").status_code == 400
    assert client.get("/account/forgot", base_url="https://kopir.vku.edu.kz").status_code == 200


def test_without_base_url_only_local_hosts_are_trusted(app_factory):
    local = app_factory(TESTING=False, SERVER_NAME=None)
    client = local.test_client()
    assert client.get("/healthz", base_url="http://evil.example").status_code == 400
    assert client.get("/healthz", base_url="http://127.0.0.1:5000").status_code == 200


def test_remember_cookie_is_secure_when_the_session_cookie_is(app_factory):
    app = app_factory(SESSION_COOKIE_SECURE=True)
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_proxy_count_trusts_forwarded_address(app_factory):
    app = app_factory(PROXY_COUNT=1)
    seen = {}

    @app.get("/_ip")
    def ip():
        from flask import request

        seen["ip"] = request.remote_addr
        return "ok"

    app.test_client().get("/_ip", headers={"X-Forwarded-For": "10.1.2.3"})
    assert seen["ip"] == "10.1.2.3"


def test_unknown_address_costs_a_password_check(app, browser, monkeypatch):
    from portal.auth import services

    calls = []
    real = services.verify_password
    monkeypatch.setattr(services, "verify_password", lambda h, p: calls.append(h) or real(h, p))
    browser.login("nobody@example.kz", "whatever-password")
    assert calls == [services._DUMMY_HASH]


@pytest.mark.parametrize("query", ["endpoint=x", "_method=POST", "_external=1", "page=2&q=a"])
def test_catalogue_page_links_ignore_foreign_parameters(app, browser, query):
    with app.app_context():
        host = factories.institution()
        for _ in range(7):  # more than one page (page size 5 in tests)
            factories.program(host, titles={"en": "a programme"})
    response = browser.get(f"/programs?{query}")
    assert response.status_code == 200
    links = [part for part in response.get_data(as_text=True).split('"') if "page=" in part]
    assert links and not any("endpoint" in link or "_method" in link for link in links)


@pytest.mark.parametrize("target", ["/x%0Ab", "/x%0D%0ASet-Cookie:%20a=b", "/%7F"])
def test_next_with_control_characters_is_ignored(app, browser, target):
    with app.app_context():
        factories.user(email="s@example.kz")
    browser.get("/")
    response = browser.post(
        f"/account/login?next={target}", {"email": "s@example.kz", "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/")
    response = browser.post("/account/language", {"lang": "ru", "next": "/x\nb"})
    assert response.status_code == 302


def test_losing_the_race_for_a_new_application_returns_the_winner(app, ctx, monkeypatch):
    from portal.applications import services
    from portal.applications.models import Application

    student = factories.user()
    program = factories.program()
    winner = Application(student=student, program=program, answers={})
    db.session.add(winner)
    db.session.commit()
    calls = {"n": 0}
    real = services.application_for

    def racing(user, prog):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(user, prog)  # the other tab was faster

    monkeypatch.setattr(services, "application_for", racing)
    assert services.start_application(student, program).id == winner.id
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Application)) == 1


def test_concurrent_change_answers_409_not_500(app, browser, monkeypatch):
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    with app.app_context():
        factories.user(email="s@example.kz")
    browser.login("s@example.kz", factories.PASSWORD)

    def stale(self):
        raise StaleDataError("UPDATE statement on table 'applications' expected 1 row")

    monkeypatch.setattr(Session, "commit", stale)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = browser.post("/profile/", {"native_given_names": "Айгерім"})
    assert response.status_code == 409
    assert "reload the page" in response.get_data(as_text=True)


def test_deadline_date_is_the_programmes_own_whatever_the_viewer(app, browser):
    with app.app_context():
        factories.program(
            slug="msk",
            timezone="Europe/Moscow",
            opens_at=datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")),
            closes_at=datetime(2027, 3, 31, 23, 59, tzinfo=ZoneInfo("Europe/Moscow")),
        )
    browser.client.set_cookie("tz", "Asia/Almaty", domain="kopir.test")
    text = browser.get("/programs/msk").get_data(as_text=True)
    assert "Mar 31, 2027, 11:59\u202fPM (Moscow, UTC+3)" in text
    assert "Apr 1, 2027, 1:59\u202fAM (Almaty, UTC+5)" in text


def test_a_draft_cannot_be_cancelled():
    assert not can_move(State.DRAFT, State.CANCELLED, "admin")
    assert can_move(State.SUBMITTED, State.CANCELLED, "admin")
