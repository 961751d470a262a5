"""Mail is queued in the database, sent after commit through real SMTP, and retried, never lost."""

from __future__ import annotations

import re
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


# Long titles and names in every language, so that every subject is folded over several lines.
LONG_TITLES = {
    "en": "International Summer School in Geoecology, Glaciology and Sustainable Development "
    "of the Mountain Regions of the Altai",
    "ru": "Международная летняя школа по геоэкологии, гляциологии и устойчивому развитию "
    "горных районов Алтая",
    "kk": "Алтайдың таулы аймақтарының геоэкологиясы, гляциологиясы және тұрақты дамуы "
    "бойынша халықаралық жазғы мектеп",
    "ky": "Алтайдын тоолуу аймактарынын геоэкологиясы, гляциологиясы жана туруктуу өнүгүүсү "
    "боюнча эл аралык жайкы мектеп",
}
LONG_NAMES = {
    "en": ("Айгерім-Сәуле Нұрсұлтанқызы", "Сейітқалиева-Әбдірахманова"),
    "ru": ("Анна-Мария Константиновна", "Римская-Корсакова"),
    "kk": ("Айгерім-Сәуле Нұрсұлтанқызы", "Сейітқалиева-Әбдірахманова"),
    "ky": ("Бегимай Нурсултановна", "Үсөнбаева-Жээнбекова"),
}
SENDER = "Көпір — Шығыс Қазақстан университетінің халықаралық бөлімі"
BASE = "http://127.0.0.1:8123"


def _queue_every_kind(locale: str) -> None:
    """Queue one message of every kind the portal sends, through the code that sends it."""
    from portal.applications.models import Application, ApplicationEvent
    from portal.applications.notifications import notify_student
    from portal.applications.states import State
    from portal.auth.services import register_student, request_password_reset, send_verification
    from portal.db import utcnow
    from portal.offers.models import Offer
    from portal.offers.notifications import queue_letter_mail
    from portal.programs.models import MailTemplate
    from tests import factories

    student = factories.user(email=f"student-{locale}@example.kz", locale=locale)
    given, family = LONG_NAMES[locale]
    factories.complete_profile(student, native_given_names=given, native_family_name=family)
    program = factories.program(titles=dict(LONG_TITLES))
    application = Application(
        student=student, program=program, state=State.SUBMITTED, submitted_at=utcnow()
    )
    db.session.add(application)
    # The programme's own wording of one decision, with a subject built in code from it.
    db.session.add(
        MailTemplate(
            program_id=program.id,
            state=State.WAITLISTED,
            locale=locale,
            subject="{native_name}: «{programme}» — {state}",
            body="{native_name}, {state}: {link}",
        )
    )
    db.session.flush()
    send_verification(student)
    register_student(student.email, "Another-password-2026", locale)  # already_registered
    request_password_reset(student.email)
    for state in State:
        if state != State.DRAFT:
            notify_student(application, ApplicationEvent(to_state=state.value))
    queue_letter_mail(application, Offer(reference="KOP-2026-000042-2"), reissued=True)
    db.session.commit()


def _links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


def _check_delivered(raws: list[bytes]) -> None:
    from email import message_from_bytes
    from email.policy import default

    rows = {row.id: row for row in db.session.scalars(sa.select(OutgoingMail))}
    from portal.applications.states import State

    # Three account messages, one per state an application can move to, one about a letter.
    assert len(raws) == len(rows) == 3 + (len(State) - 1) + 1
    kinds = set()
    for raw in raws:
        message = message_from_bytes(raw, policy=default)
        row = rows[int(re.search(r"kopir-(\d+)@", message["Message-ID"]).group(1))]
        assert str(message["Subject"]) == row.subject
        assert [a.display_name for a in message["From"].addresses] == [SENDER]
        assert [a.addr_spec for a in message["To"].addresses] == [row.recipient]
        text = message.get_body(("plain",)).get_content()
        assert text.splitlines() == row.body_text.splitlines()
        assert _links(text) == _links(row.body_text) and _links(text)
        assert all(link.startswith(BASE + "/") for link in _links(text))
        if row.body_html:
            assert _links(message.get_body(("html",)).get_content()) == _links(row.body_html)
        kinds.add(row.subject)
    assert len(kinds) == len(raws)


@pytest.mark.parametrize("locale", ["en", "ru", "kk", "ky"])
def test_every_subject_and_link_arrives_whole_through_smtp(app, smtp, monkeypatch, locale):
    from portal.mail import send_pending

    handler, _ = smtp
    monkeypatch.setitem(app.config, "BASE_URL", BASE)
    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER", f"{SENDER} <no-reply@kopir.localhost>")
    with app.app_context():
        _queue_every_kind(locale)
        subjects = list(db.session.scalars(sa.select(OutgoingMail.subject)))
        # The long title and name are in the subjects, so they are folded in the middle.
        assert sum(LONG_TITLES[locale] in s for s in subjects) == len(subjects) - 3
        assert any(" ".join(LONG_NAMES[locale]) in s for s in subjects)
        assert send_pending(limit=100) == (len(subjects), 0)
        _check_delivered([content for _, _, content in handler.messages])


def test_outbox_files_read_back_as_sent(app, monkeypatch, tmp_path):
    from portal.mail import send_pending

    monkeypatch.setitem(app.config, "BASE_URL", BASE)
    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER", f"{SENDER} <no-reply@kopir.localhost>")
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path))
    with app.app_context():
        _queue_every_kind("kk")
        send_pending(limit=100)
        _check_delivered([path.read_bytes() for path in sorted(tmp_path.glob("*.eml"))])


def test_subject_headers_are_plain_ascii_within_line_limits(app):
    from email.message import EmailMessage

    from portal.mail import MAIL_POLICY

    subject = "Өтінім: қабылданды — " + LONG_TITLES["kk"]
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = subject
    message["From"] = f"{SENDER} <no-reply@kopir.localhost>"
    head = message.as_bytes().split(b"\n\n")[0]
    assert head.isascii()
    subject_lines = [line for line in head.split(b"\n") if not line.startswith(b"From:")]
    assert all(len(line) <= 78 for line in subject_lines)


def test_subjects_too_long_or_broken_are_queued_and_sent(app, smtp):
    """A subject with line breaks, or longer than its column, still goes out on one line."""
    from email import message_from_bytes
    from email.policy import default

    from portal.mail import queue_rendered, send_pending

    handler, _ = smtp
    long = "Өтінім қабылданды: " + " ".join(["геоэкология"] * 40)
    with app.test_request_context("/"):
        queue_rendered("a@example.kz", "Ваша заявка:\r\n  принята\n", "Текст.")
        queue_rendered("b@example.kz", long, "Текст.")
        db.session.commit()
        assert send_pending() == (2, 0)
    subjects = [str(message_from_bytes(c, policy=default)["Subject"]) for *_, c in handler.messages]
    assert subjects[0] == "Ваша заявка: принята"
    assert len(subjects[1]) <= 255 and subjects[1].endswith("геоэкология…")
    assert long.startswith(subjects[1][:-1])


def test_a_command_without_base_url_warns_once_not_per_link(app, monkeypatch, caplog):
    import logging

    from portal import mail

    # Alembic's logging setup (the migrations) disables the loggers that existed before it.
    monkeypatch.setattr(mail.log, "disabled", False)
    monkeypatch.setitem(app.config, "BASE_URL", None)
    monkeypatch.delitem(app.extensions, "kopir.base_url_warned", raising=False)
    with app.app_context(), caplog.at_level(logging.WARNING, logger="portal.mail"):
        links = [mail.external_url("applications.detail", application_id=n) for n in range(5)]
    assert links[0] == "http://127.0.0.1:5000/applications/0"
    assert [r.getMessage() for r in caplog.records].count(
        "BASE_URL is not set: links in e-mail sent by commands point to localhost"
    ) == 1
