"""The health check."""

from __future__ import annotations

from portal.extensions import db


def test_healthz_reports_database_ok(browser):
    response = browser.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_database_is_unreachable(app, browser, monkeypatch):
    import sqlalchemy as sa

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", broken)
        response = browser.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and body["database"] == "unavailable"
    assert body["reason"] == "ConnectionRefusedError"


def test_security_headers_on_every_page(browser):
    response = browser.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
