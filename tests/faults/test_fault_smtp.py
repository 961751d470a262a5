"""The SMTP server is down, or fails in the middle of a message: mail waits in the database.

The server is a real aiosmtpd one on a local port: stopped, its port refuses connections; a
handler answering 451 to DATA, or closing the connection before answering, is what a busy or
crashing relay does. Delivery is then retried by `flask --app wsgi portal send-mail`, run as cron
runs it: a separate process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.applications.models import Application
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.mail import OutgoingMail
from portal.programs.models import ProgramStaff
from tests import factories
from tests.applications.test_journey import fill_everything, start
from tests.conftest import Browser
from tests.core.test_mail import Collector, SmtpServer

ROOT = Path(__file__).resolve().parents[2]


class FlakyCollector(Collector):
    """Refuse (451) or drop the first messages after their DATA arrived, then accept."""

    def __init__(self, failures: int, how: str) -> None:
        super().__init__()
        self.failures = failures
        self.how = how
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.failures:
            self.refused += 1
            if self.how == "drop":
                # The relay dies after reading the message and before saying it took it.
                server.transport.close()
                return "421 closing"
            return "451 4.3.0 Temporary local problem, try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def relay(app, monkeypatch):
    """Point the portal at a real local SMTP server (started by the test) and return it."""
    server = SmtpServer()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    yield server
    server.stop()


SEND_MAIL = [sys.executable, "-m", "flask", "--app", "wsgi", "portal", "send-mail"]


def _command_env(database_url: str, port: int) -> dict[str, str]:
    """Return the environment of a portal command on the test database and relay."""
    return {
        **os.environ,
        "KOPIR_DATABASE_URL": database_url,
        "KOPIR_SECRET_KEY": "fault-tests",
        "KOPIR_MAIL_SERVER": "127.0.0.1",
        "KOPIR_MAIL_PORT": str(port),
        "KOPIR_LOG_LEVEL": "WARNING",
    }


def send_mail_command(app, database_url: str, port: int) -> str:
    """Run `flask --app wsgi portal send-mail` in a process of its own, as cron does."""
    with app.app_context():
        db.session.remove()  # let go of SQLite's file while the other process writes it
    result = subprocess.run(
        SEND_MAIL,
        cwd=ROOT,
        env=_command_env(database_url, port),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def send_mail_here(app) -> str:
    """Run the same command inside the test process (quicker: no interpreter to start)."""
    result = app.test_cli_runner().invoke(args=["portal", "send-mail"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def _rows(app) -> list[OutgoingMail]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutgoingMail).order_by(OutgoingMail.id)).all()
        db.session.expunge_all()
        return list(rows)


def _time_passes(app) -> None:
    """Make every waiting message due, as the back-off would after a few minutes."""
    with app.app_context():
        db.session.execute(
            sa.update(OutgoingMail).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


def _coordinator_of(app, program_id: int) -> str:
    with app.app_context():
        coordinator = factories.user(Role.COORDINATOR, email="coord@vku.edu.kz")
        db.session.add(ProgramStaff(program_id=program_id, user=coordinator, role="coordinator"))
        db.session.commit()
        return coordinator.email


def test_mail_queued_while_smtp_is_down_is_sent_once_when_it_is_back(
    app, database_url, browser, other_browser, applicant, relay
):
    # Mail of four kinds, each in its own request, while nothing listens on the SMTP port.
    browser.get("/account/register")
    response = browser.post(
        "/account/register",
        {"email": "down@example.ru", "password": "Novosibirsk-26", "confirm": "Novosibirsk-26"},
    )
    assert response.status_code == 302  # the student is not bothered by our mail trouble
    student = Browser(app.test_client())
    student.login(applicant.student_email, factories.PASSWORD)
    app_id = start(student)
    fill_everything(student, app_id)
    assert student.post(f"/applications/{app_id}/submit").status_code == 302
    other_browser.login(_coordinator_of(app, applicant.program_id), factories.PASSWORD)
    with app.app_context():
        version = db.session.get(Application, app_id).version
    response = other_browser.post(
        f"/staff/applications/{app_id}/decide", {"target": "accepted", "version": str(version)}
    )
    assert response.status_code == 302
    anonymous = Browser(app.test_client())
    anonymous.get("/account/forgot")
    assert anonymous.post("/account/forgot", {"email": applicant.student_email}).status_code < 400
    rows = _rows(app)
    assert [r.recipient for r in rows] == ["down@example.ru"] + [applicant.student_email] * 3
    for row in rows:  # each kept, tried once, with why, and not retried before its time
        assert row.sent_at is None and row.attempts == 1, (row.subject, row.attempts)
        assert "ConnectionRefusedError" in row.last_error
        assert row.next_attempt_at > utcnow()
    with app.app_context():
        accepted = db.session.get(Application, app_id)
        assert accepted.state == "accepted"  # the decision stands whatever the mail does

    relay.start()
    assert send_mail_here(app) == "sent 0, failed 0"  # not due yet: the back-off holds
    _time_passes(app)
    assert send_mail_command(app, database_url, relay.port) == "sent 4, failed 0"
    assert send_mail_here(app) == "sent 0, failed 0"
    delivered = sorted(recipients[0] for _, recipients, _ in relay.handler.messages)
    assert delivered == sorted(r.recipient for r in rows)
    subjects = {
        message_from_bytes(content, policy=default)["Subject"]
        for _, _, content in relay.handler.messages
    }
    assert len(subjects) == 4  # four different messages, none twice
    for row in _rows(app):
        assert row.sent_at is not None and row.attempts == 2 and row.last_error is None


def test_two_senders_at_once_deliver_each_message_once(app, database_url, relay):
    from portal.mail import queue_rendered, send_pending

    recipients = sorted(f"s{n}@example.kg" for n in range(8))
    with app.test_request_context("/"):
        for recipient in recipients:
            queue_rendered(recipient, "Welcome", "Body")
        db.session.commit()
        assert send_pending() == (0, 8)  # nothing listens yet
    relay.start()
    _time_passes(app)
    with app.app_context():
        db.session.remove()
    # Two cron runs that overlap: each message is claimed by one of them only.
    env = _command_env(database_url, relay.port)
    runs = [
        subprocess.Popen(SEND_MAIL, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    sent = [int(output.split()[1].rstrip(",")) for output in outputs]
    assert sum(sent) == 8, outputs
    assert sorted(m[1][0] for m in relay.handler.messages) == recipients


@pytest.mark.parametrize("how", ["451", "drop"])
def test_a_relay_failing_mid_message_keeps_it_queued(app, browser, relay, how):
    relay.handler = FlakyCollector(failures=1, how=how)
    relay.start()
    browser.get("/account/register")
    response = browser.post(
        "/account/register",
        {"email": "mid@example.kz", "password": "Oskemen-2026!", "confirm": "Oskemen-2026!"},
    )
    assert response.status_code == 302
    [row] = _rows(app)
    assert relay.handler.refused == 1 and relay.handler.messages == []
    assert row.sent_at is None and row.attempts == 1
    expected = "SMTPDataError" if how == "451" else "SMTPServerDisconnected"
    assert expected in row.last_error, row.last_error
    _time_passes(app)
    assert send_mail_here(app) == "sent 1, failed 0"
    assert send_mail_here(app) == "sent 0, failed 0"
    assert [m[1] for m in relay.handler.messages] == [["mid@example.kz"]]
    [row] = _rows(app)
    assert row.sent_at is not None and row.attempts == 2


def test_a_message_that_keeps_failing_stops_after_the_last_attempt(app, relay, monkeypatch):
    from portal.mail import queue_rendered, send_pending

    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    with app.test_request_context("/"):
        queue_rendered("never@example.kz", "Subject", "Body")
        db.session.commit()
        for _ in range(5):
            send_pending()
            db.session.execute(
                sa.update(OutgoingMail).values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
            db.session.commit()
        row = db.session.scalar(sa.select(OutgoingMail))
        # Kept with its history for the operator, never tried past the limit.
        assert row.attempts == 3 and row.sent_at is None and row.last_error
