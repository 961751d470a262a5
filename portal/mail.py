"""Outgoing e-mail: queued in the database inside the transaction, sent by the worker.

A message is a row until it is delivered. After a request commits, a task on the queue sends
the rows it queued (and any older ones that are due); a failure is recorded and retried with
back-off by the worker's periodic work, so nothing is lost when the SMTP server is down. Each
message is claimed before it is sent, so two workers never deliver it twice.
Without MAIL_SERVER, messages are written to instance/outbox/ as .eml files instead.
"""

from __future__ import annotations

import base64
import logging
import re
import smtplib
import ssl
from datetime import datetime, timedelta
from email.headerregistry import Address, AddressHeader, UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app, g, has_request_context, render_template, url_for
from flask_babel import force_locale
from werkzeug.routing import MapAdapter

from portal.db import utcnow
from portal.extensions import db

log = logging.getLogger(__name__)

_LINK = re.compile(r"https?://\S+")
_LINE_BREAKS = re.compile(r"\s*[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+\s*")
_CLAIM_SECONDS = 120
# RFC 2047: an encoded word is at most 75 characters, "=?utf-8?b?" and "?=" included.
_ENCODED_WORD_MAX = 75
_ENCODED_WORD_WRAPPER = len("=?utf-8?b??=")


def _encoded_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode("ascii") + "?="


def _payload_bytes(room: int) -> int:
    """Return how many UTF-8 bytes one base64 encoded word may carry in `room` characters."""
    return (min(room, _ENCODED_WORD_MAX) - _ENCODED_WORD_WRAPPER) // 4 * 3


def _encoded_words(text: str, first_room: int, room: int) -> list[str]:
    """Split text into encoded words of whole characters, spaces kept inside the words."""
    words: list[str] = []
    chunk = ""
    size = 0
    limit = _payload_bytes(first_room)
    for char in text:
        length = len(char.encode())
        if chunk and size + length > limit:
            words.append(_encoded_word(chunk))
            chunk, size, limit = "", 0, _payload_bytes(room)
        chunk += char
        size += length
    if chunk:
        words.append(_encoded_word(chunk))
    return words


class MailPolicy(EmailPolicy):
    """The modern e-mail policy, with non-ASCII headers encoded so that no space is lost.

    Python's own folding (3.11) can put the space between two words outside the encoded words
    it makes, where RFC 2047 says a reader drops it ("Алтай жазғы" arrives as "Алтайжазғы"),
    and its parser keeps the space between two encoded words of a display name. So text is
    encoded here: a subject as encoded words that carry their own spaces, split anywhere
    between characters (the fold between them means nothing), a display name as one encoded
    word, which every reader decodes the same way.
    """

    def fold(self, name: str, value: object) -> str:
        """Fold a header for a text message."""
        folded = self._encode(name, value)
        return folded if folded is not None else super().fold(name, value)

    def fold_binary(self, name: str, value: object) -> bytes:
        """Fold a header for a message sent as bytes."""
        folded = self._encode(name, value)
        if folded is None:
            return super().fold_binary(name, value)
        # Only an address itself can still be non-ASCII, and only with SMTPUTF8 (utf8=True).
        return folded.encode("utf-8" if self.utf8 else "ascii")

    def _encode(self, name: str, value: object) -> str | None:
        """Return the header encoded by hand, or None where the standard folding is right."""
        text = str(value)
        # ASCII that looks like an encoded word ("=?") would be decoded by the reader: encode it.
        if text.isascii() and not (isinstance(value, UnstructuredHeader) and "=?" in text):
            return None
        maxlen = self.max_line_length or 78
        if isinstance(value, UnstructuredHeader):
            words = _encoded_words(text, maxlen - len(name) - 2, maxlen - 1)
        elif isinstance(value, AddressHeader) and all(
            not group.display_name for group in value.groups
        ):
            words = [_address(address) for address in value.addresses]
            words = [word + "," for word in words[:-1]] + words[-1:]
        else:
            return None
        if any(not word.isascii() for word in words) and not self.utf8:
            return None  # a non-ASCII address needs SMTPUTF8; let the standard code say so
        return f"{name}: " + f"{self.linesep} ".join(words) + self.linesep


def _address(address: Address) -> str:
    if address.display_name.isascii():
        return str(address)
    return f"{_encoded_word(address.display_name)} <{address.addr_spec}>"


# smtplib flattens with CRLF itself; the outbox keeps the platform's line ends.
MAIL_POLICY = MailPolicy()


class OutgoingMail(db.Model):
    """A message waiting to be sent, or the record that it was."""

    __tablename__ = "outgoing_mail"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    recipient: so.Mapped[str] = so.mapped_column(sa.String(254))
    subject: so.Mapped[str] = so.mapped_column(sa.String(255))
    body_text: so.Mapped[str] = so.mapped_column(sa.Text)
    body_html: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    claimed_until: so.Mapped[datetime | None]
    sent_at: so.Mapped[datetime | None] = so.mapped_column(index=True)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text)


def external_url(endpoint: str, **values: object) -> str:
    """Return an absolute link, on BASE_URL when it is set (it is in production and in CLI jobs)."""
    base = current_app.config.get("BASE_URL")
    if has_request_context():
        if base:
            return base.rstrip("/") + url_for(endpoint, **values)
        return url_for(endpoint, _external=True, **values)
    # A command or a task on the worker has no request to take the host from: a task started
    # by a request carries that request's address (g.base_url, set by the task).
    base = base or g.get("base_url")
    if not base:
        if not current_app.extensions.get("kopir.base_url_warned"):
            # Once: a batch makes a link per message, and one warning says it all.
            current_app.extensions["kopir.base_url_warned"] = True
            log.warning("BASE_URL is not set: links in e-mail sent by commands point to localhost")
        base = "http://127.0.0.1:5000"
    return external_url_on(base, endpoint, **values)


def external_url_on(base: str, endpoint: str, **values: object) -> str:
    """Return an absolute link on a given base address (scheme, host and optional path)."""
    return _adapter(current_app._get_current_object(), base).build(  # type: ignore[attr-defined]
        endpoint, values, force_external=True
    )


_adapters: dict[tuple[int, str], MapAdapter] = {}


def _adapter(app: Flask, base: str) -> MapAdapter:
    """Return a URL builder bound to BASE_URL's scheme, host and path (made once per app)."""
    key = (id(app), base)
    adapter = _adapters.get(key)
    if adapter is None:
        parts = urlsplit(base)
        adapter = app.url_map.bind(
            parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme
        )
        _adapters[key] = adapter
    return adapter


def queue_mail(
    recipient: str, template: str, locale: str | None, **context: object
) -> OutgoingMail:
    """Render templates/emails/<template>.{txt,html} in the locale and queue the message."""
    with force_locale(locale or "en"):
        subject = render_template(f"emails/{template}.subject.txt", **context).strip()
        text = render_template(f"emails/{template}.txt", **context)
        html = render_template(f"emails/{template}.html", **context)
    return queue_rendered(recipient, subject, text, html)


def queue_rendered(
    recipient: str, subject: str, text: str, html: str | None = None
) -> OutgoingMail:
    """Queue a message already rendered."""
    message = OutgoingMail(
        recipient=recipient, subject=fit_subject(subject), body_text=text, body_html=html
    )
    db.session.add(message)
    g.mail_queued = True
    return message


def fit_subject(subject: str) -> str:
    """Return the subject on one line, cut at a word with an ellipsis if its column is too short."""
    # A header cannot hold a line break; a title or a coordinator's wording might.
    subject = _LINE_BREAKS.sub(" ", subject).strip()
    limit = OutgoingMail.__table__.c.subject.type.length
    if len(subject) <= limit:
        return subject
    cut = subject[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:—-") + "…"


def _build(message: OutgoingMail, sender: str) -> EmailMessage:
    email = EmailMessage(policy=MAIL_POLICY)
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=f"kopir-{message.id}", domain="kopir.localhost")
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


def _deliver(app: Flask, email: EmailMessage, message_id: int) -> None:
    config = app.config
    if not config.get("MAIL_SERVER"):
        outbox = Path(config["OUTBOX_DIR"])
        outbox.mkdir(parents=True, exist_ok=True)
        path = outbox / f"{utcnow():%Y%m%d-%H%M%S}-{message_id:06d}.eml"
        path.write_bytes(bytes(email))
        links = _LINK.findall(email.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        log.info(
            "Mail to %s written to %s: %s %s",
            email["To"],
            path,
            email["Subject"],
            " ".join(links),
        )
        return
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(email)


def _claim(message_id: int) -> bool:
    """Take a message for sending, so that two senders never deliver it twice."""
    now = utcnow()  # not the batch's start: a slow batch must not see its own claims expire
    result = db.session.execute(
        sa.update(OutgoingMail)
        .where(
            OutgoingMail.id == message_id,
            OutgoingMail.sent_at.is_(None),
            sa.or_(OutgoingMail.claimed_until.is_(None), OutgoingMail.claimed_until < now),
        )
        .values(claimed_until=now + timedelta(seconds=_CLAIM_SECONDS))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def send_pending(limit: int = 50) -> tuple[int, int]:
    """Send the messages that are due; return how many were sent and how many failed."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = utcnow()
    due = db.session.scalars(
        sa.select(OutgoingMail.id)
        .where(
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.next_attempt_at <= now,
            OutgoingMail.attempts < app.config["MAIL_MAX_ATTEMPTS"],
        )
        .order_by(OutgoingMail.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    for message_id in due:
        if not _claim(message_id):
            continue
        message = db.session.get(OutgoingMail, message_id)
        if message is None:  # deleted since it was listed
            continue
        message.attempts += 1
        try:
            _deliver(app, _build(message, app.config["MAIL_DEFAULT_SENDER"]), message.id)
        # ValueError: a header Python refuses to write; the message fails, the rest go on.
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            failed += 1
            # Back off 1, 2, 4 … minutes, at most an hour between tries.
            delay = min(60 * 2 ** (message.attempts - 1), 3600)
            message.next_attempt_at = utcnow() + timedelta(seconds=delay)
            message.claimed_until = None
            message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            log.warning("Mail %s to %s failed: %s", message.id, message.recipient, exc)
        else:
            sent += 1
            message.sent_at = utcnow()
            message.last_error = None
        db.session.commit()
    return sent, failed


def send_after_commit(app: Flask) -> None:
    """Put the sending of due mail on the task queue (inline in immediate mode)."""
    from portal.tasks import get_queue

    try:
        get_queue(app).send_mail()
    except Exception:  # the rows stay queued; the worker's periodic work sends them
        log.exception("Could not queue the sending of mail")
