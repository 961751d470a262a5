"""The database goes away while a student submits: a clear page, an intact draft, a working retry.

On PostgreSQL the failure is real: the server ends the portal's connections in the middle of the
request (pg_terminate_backend, as when an administrator or a failover kills them), or refuses new
ones for a while (ALLOW_CONNECTIONS false, as during a restart). Only the throw-away database of
this test run is touched, never the cluster. SQLite has no server to lose, so there the commit
itself is made to fail; those variants run on both backends.
"""

from __future__ import annotations

import os

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.orm import Session

from portal.applications import services
from portal.applications.models import Application
from portal.documents.models import Document
from portal.extensions import db
from portal.mail import OutgoingMail
from portal.storage import LocalStorage
from tests import factories
from tests.applications.test_journey import fill_everything, start, upload
from tests.documents import corpus
from tests.faults.conftest import assert_no_orphans, says, stored_files

UNAVAILABLE = (
    "The portal cannot reach its database right now. Everything you saved before is safe; "
    "please try again in a moment."
)


def _conninfo(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Outage:
    """Make the test's own PostgreSQL database drop or refuse the portal's connections."""

    def __init__(self, database_url: str) -> None:
        self.name = sa.make_url(database_url).database
        # ALTER DATABASE runs from the server's maintenance database, not from the victim.
        self.admin = _conninfo(os.environ["TEST_DATABASE_URL"])
        self.refusing = False

    def kill(self) -> int:
        """End every open connection to the test database; return how many there were."""
        with psycopg.connect(self.admin, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.name,),
            ).fetchall()
        return len(rows)

    def refuse(self) -> None:
        """Refuse new connections to the test database and end the open ones."""
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(
                    sql.Identifier(self.name)
                )
            )
        self.refusing = True
        self.kill()

    def allow(self) -> None:
        """Accept connections again."""
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(
                    sql.Identifier(self.name)
                )
            )
        self.refusing = False


@pytest.fixture
def outage(database_url):
    """Control the test database's server side; PostgreSQL only."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server whose connections could be cut: needs PostgreSQL")
    control = Outage(database_url)
    yield control
    if control.refusing:  # never leave the database closed for the tests after this one
        control.allow()


@pytest.fixture
def draft(app, browser, applicant):
    """Log the student in and fill a complete draft; return its id."""
    browser.login(applicant.student_email, factories.PASSWORD)
    app_id = start(browser)
    fill_everything(browser, app_id)
    # The form's token, read now: pages cannot be read for one while the database is away.
    browser.get(f"/applications/{app_id}/review")
    return app_id


def _submit(browser, app_id: int):
    return browser.post(f"/applications/{app_id}/submit", {"csrf_token": browser.token()})


def _draft_is_intact(app, app_id: int) -> None:
    with app.app_context():
        application = db.session.get(Application, app_id)
        assert application.state == "draft" and application.submitted_at is None
        assert application.motivation and application.answers
        documents = application.current_documents()
        assert sorted(d.kind for d in documents) == ["passport", "transcript"]
        assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) == 0
    assert_no_orphans(app)


def _submit_succeeds(app, browser, app_id: int) -> None:
    response = _submit(browser, app_id)
    assert response.status_code == 302, response.status_code
    with app.app_context():
        assert db.session.get(Application, app_id).state == "submitted"
        assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) == 1


def _fails_after(monkeypatch, target, name: str, fault) -> dict[str, int]:
    """Run the fault right after target.name did its work, inside the request, before the commit."""
    real = getattr(target, name)
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        result = real(*args, **kwargs)
        calls["n"] += 1
        fault()
        return result

    monkeypatch.setattr(target, name, wrapper)
    return calls


@pytest.mark.postgres
def test_connections_killed_during_submit(
    app, browser, draft, outage, monkeypatch, production_errors
):
    killed = {"n": 0}

    def kill() -> None:
        killed["n"] = outage.kill()

    calls = _fails_after(monkeypatch, services, "submit_application", kill)
    response = _submit(browser, draft)
    assert calls["n"] == 1 and killed["n"] >= 1
    assert response.status_code == 503
    assert says(response, app, UNAVAILABLE) and says(response, app, "Temporarily unavailable")
    monkeypatch.undo()
    _draft_is_intact(app, draft)
    # The server ends the idle pooled connections too (a restart): the next request must not
    # fail on them.
    assert outage.kill() >= 1
    _submit_succeeds(app, browser, draft)


@pytest.mark.postgres
def test_connections_killed_during_upload_leave_no_file(
    app, browser, draft, outage, monkeypatch, production_errors
):
    before = stored_files(app)
    _fails_after(monkeypatch, LocalStorage, "save", outage.kill)
    response = upload(browser, draft, "cv", corpus.make_pdf(), "cv.pdf")
    assert response.status_code == 503 and says(response, app, UNAVAILABLE)
    monkeypatch.undo()
    assert stored_files(app) == before  # the file stored before the failed commit is gone
    _draft_is_intact(app, draft)
    assert upload(browser, draft, "cv", corpus.make_pdf(), "cv.pdf").status_code == 302
    assert_no_orphans(app)


@pytest.mark.postgres
def test_server_refusing_connections_then_back(
    app, browser, draft, outage, monkeypatch, production_errors
):
    _fails_after(monkeypatch, services, "submit_application", outage.refuse)
    response = _submit(browser, draft)
    assert response.status_code == 503 and says(response, app, UNAVAILABLE)
    monkeypatch.undo()
    assert outage.refusing
    # While the server refuses: reading and writing pages answer the same clear page, no 500.
    token = browser.token()
    for response in (
        browser.client.get("/applications/"),
        browser.client.get(f"/applications/{draft}"),
        browser.client.post(f"/applications/{draft}/submit", data={"csrf_token": token}),
    ):
        assert response.status_code == 503, (response.request.path, response.status_code)
        assert says(response, app, UNAVAILABLE), response.request.path
    api = browser.client.get("/applications/", headers={"Accept": "application/json"})
    assert api.status_code == 503 and api.get_json()["message"]
    outage.allow()
    # The first request after the outage already works: dead pooled connections are replaced.
    assert browser.get("/applications/").status_code == 200
    _draft_is_intact(app, draft)
    _submit_succeeds(app, browser, draft)


# SQLite cannot lose a server; there (and on PostgreSQL too) the commit is made to fail.


def test_failed_commit_during_submit_keeps_the_draft(
    app, browser, draft, monkeypatch, production_errors
):
    def database_down(self):
        raise sa.exc.OperationalError("COMMIT", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(Session, "commit", database_down)
    response = _submit(browser, draft)
    assert response.status_code == 503 and says(response, app, UNAVAILABLE)
    monkeypatch.undo()
    _draft_is_intact(app, draft)
    _submit_succeeds(app, browser, draft)


def test_failed_commit_removes_the_stored_file(
    app, browser, draft, monkeypatch, production_errors
):
    real_commit = Session.commit
    calls = {"n": 0}

    def failing_commit(self):
        if any(isinstance(o, Document) for o in self.new):
            calls["n"] += 1
            raise sa.exc.OperationalError("COMMIT", {}, ConnectionError("server closed"))
        return real_commit(self)

    before = stored_files(app)
    monkeypatch.setattr(Session, "commit", failing_commit)
    response = upload(browser, draft, "cv", corpus.make_pdf(), "cv.pdf")
    assert calls["n"] == 1
    assert response.status_code == 503 and says(response, app, UNAVAILABLE)
    monkeypatch.undo()
    assert stored_files(app) == before
    _draft_is_intact(app, draft)
