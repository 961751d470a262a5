"""The health check."""

from __future__ import annotations

from portal.extensions import db


def test_healthz_reports_database_ok(browser):
    response = browser.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    # Tests run tasks inline: the queue says so instead of missing a worker.
    assert body["queue"]["inline"] is True and body["queue"]["worker_ok"] is True


def test_healthz_is_degraded_without_a_worker_but_still_answers(app_factory, tmp_path):
    web = app_factory(TASKS_IMMEDIATE=False, TASK_QUEUE_URL=f"sqlite:///{tmp_path / 'q.db'}")
    response = web.test_client().get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded" and body["database"] == "ok"
    assert body["queue"] == {
        "reachable": True,
        "pending": 0,
        "worker_last_seen": None,
        "worker_seconds_ago": None,
        "worker_ok": False,
    }


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
