"""Mail is queued in the database, sent after commit through real SMTP, and retried, never lost."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from portal.extensions import db
from portal.mail import OutgoingMail


class Collector:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """A real SMTP server on a fixed local port that can go down and come back."""

    def __init__(self) -> None:
        self.handler = Collector()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(app):
    server = SmtpServer()
    server.start()
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    try:
        yield server.handler, server
    finally:
        server.stop()
        app.config.update(saved)


def test_registration_mail_is_delivered_through_smtp(app, browser, smtp):
    handler, _ = smtp
    browser.get("/account/register")
    browser.post(
        "/account/register",
        {"email": "bakyt@example.kg", "password": "Issyk-Kul-2026", "confirm": "Issyk-Kul-2026"},
    )
    [(sender, recipients, content)] = handler.messages
    assert recipients == ["bakyt@example.kg"]
    assert "no-reply@kopir.localhost" in sender
    assert b"/account/verify/" in content
    with app.app_context():
        row = db.session.scalar(sa.select(OutgoingMail))
        assert row.sent_at is not None and row.attempts == 1 and row.last_error is None


def test_mail_is_in_the_students_language(app, browser, smtp):
    handler, _ = smtp
    browser.get("/account/register?lang=kk")
    browser.post(
        "/account/register",
        {"email": "aru@example.kz", "password": "Oskemen-2026!", "confirm": "Oskemen-2026!"},
    )
    [(_, _, content)] = handler.messages
    from email import message_from_bytes
    from email.policy import default

    message = message_from_bytes(content, policy=default)
    assert message["Subject"] != "Confirm your e-mail address"
    assert any(ch in message["Subject"] for ch in "әғқңөұүһі")


def test_send_mail_cli_reports_counts(app):
    result = app.test_cli_runner().invoke(args=["portal", "send-mail"])
    assert result.exit_code == 0 and "sent 0, failed 0" in result.output


def test_links_made_outside_a_request_use_base_url(app, monkeypatch):
    from portal.mail import external_url

    monkeypatch.setitem(app.config, "BASE_URL", "https://kopir.example.edu/portal/")
    with app.app_context():
        assert (
            external_url("offers.verify", code="abc")
            == "https://kopir.example.edu/portal/verify/abc"
        )
        assert external_url("offers.verify_form") == "https://kopir.example.edu/portal/verify"
