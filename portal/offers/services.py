"""Issue, supersede, revoke and answer offer letters; expire those not answered in time."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context
from flask_babel import gettext as _

from portal.applications.models import Application
from portal.applications.states import (
    Actor,
    State,
    TransitionError,
    state_changed,
    transition,
)
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.offers.letters import LETTER_LANGUAGES, LetterFacts, forget_templates, letter_html
from portal.offers.models import LetterTemplate, Offer, OfferStatus, Response
from portal.offers.pdf import render_pdf
from portal.programs.models import Program
from portal.storage import get_storage

MAX_RESPONSE_DAYS = 90


class OfferError(Exception):
    """An offer action that cannot be done, with a message for the person who tried."""


def new_code() -> str:
    """Return a verification code: 128 random bits, in 26 lower-case base32 characters."""
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


def hash_code(code: str) -> str:
    """Return the stored form of a verification code."""
    return hashlib.sha256(code.strip().lower().encode()).hexdigest()


def current_offer(application: Application) -> Offer | None:
    """Return the standing (valid) letter of an application, if any."""
    return db.session.scalar(
        sa.select(Offer).where(
            Offer.application_id == application.id, Offer.status == OfferStatus.VALID.value
        )
    )


def offers_of(application: Application) -> list[Offer]:
    """Return every version of an application's letter, newest first."""
    return list(
        db.session.scalars(
            sa.select(Offer)
            .where(Offer.application_id == application.id)
            .order_by(Offer.version.desc())
        )
    )


def find_by_code(code: str) -> Offer | None:
    """Return the letter a verification code belongs to."""
    if not code or len(code) > 64:
        return None
    return db.session.scalar(sa.select(Offer).where(Offer.code_hash == hash_code(code)))


def find_by_pdf(data: bytes) -> Offer | None:
    """Return the letter whose stored PDF has exactly these bytes."""
    digest = hashlib.sha256(data).hexdigest()
    return db.session.scalar(sa.select(Offer).where(Offer.sha256 == digest))


def letter_language(application: Application) -> str:
    """Return the language a student's letter is written in: theirs, where we have it."""
    locale = application.student.locale
    return locale if locale in LETTER_LANGUAGES else "en"


def default_deadline(program: Program, today: date, days: int | None = None) -> datetime:
    """Return the end of the day, in the programme's time zone, N days from today."""
    days = program.offer_response_days if days is None else days
    last_day = today + timedelta(days=days)
    local = datetime.combine(last_day, time(23, 59), tzinfo=program.zone)
    return local.astimezone(utcnow().tzinfo)


def _today_in(program: Program, now: datetime) -> date:
    return now.astimezone(program.zone).date()


@dataclass
class LetterDraft:
    """A letter ready to render: its HTML and everything the Offer row will keep."""

    application_id: int
    facts: LetterFacts
    code_hash: str
    html: str
    printed: dict[str, Any]


def _reference(application: Application, version: int, first: str | None, now: datetime) -> str:
    base = first or f"KOP-{now.year}-{application.id:06d}"
    return base if version == 1 else f"{base}-{version}"


def prepare(
    application: Application,
    *,
    verify_prefix: str,
    language: str | None = None,
    bilingual: bool | None = None,
    deadline: datetime | None = None,
    now: datetime | None = None,
    preview: bool = False,
) -> LetterDraft:
    """Build a letter for an accepted application, or a new version of an offered one."""
    now = now or utcnow()
    program = application.program
    if not preview and application.state not in (State.ACCEPTED, State.OFFERED):
        raise OfferError(_("Only accepted applicants can be sent an offer letter."))
    if not application.profile_snapshot:
        raise OfferError(_("The student has no profile to address the letter to."))
    # An accepted applicant has no standing letter (issuing moves them on, revoking moves them
    # back), so only an offered one needs looking up.
    previous = current_offer(application) if application.state == State.OFFERED else None
    if not preview and application.state == State.OFFERED and previous is None:
        raise OfferError(_("This offer has no standing letter to replace."))
    if previous is not None and previous.response is not None:
        raise OfferError(_("The student has already answered this offer."))
    earlier = (
        []
        if preview
        else db.session.execute(
            sa.select(Offer.version, Offer.reference)
            .where(Offer.application_id == application.id)
            .order_by(Offer.version)
        ).all()
    )
    version = (earlier[-1].version if earlier else 0) + 1
    if deadline is None:
        deadline = (
            previous.response_deadline
            if previous is not None
            else default_deadline(program, _today_in(program, now))
        )
    if deadline <= now:
        raise OfferError(_("The date to answer by must be in the future."))
    if deadline > now + timedelta(days=MAX_RESPONSE_DAYS + 1):
        raise OfferError(
            _("Give the student at most %(days)d days to answer.", days=MAX_RESPONSE_DAYS)
        )
    code = new_code()
    facts = LetterFacts(
        reference="KOP-0000-000000"
        if preview
        else _reference(application, version, earlier[0].reference if earlier else None, now),
        version=version,
        code=code,
        verify_url=f"{verify_prefix.rstrip('/')}/{code}",
        issued_on=_today_in(program, now),
        deadline=deadline,
        language=language or letter_language(application),
        bilingual=program.letter_bilingual if bilingual is None else bilingual,
    )
    html, printed = letter_html(application, facts, preview=preview)
    return LetterDraft(application.id, facts, hash_code(code), html, printed)


def finish(draft: LetterDraft, pdf: bytes, *, actor: User | None, now: datetime | None = None):
    """Store a rendered letter, supersede the version before it and move the application on.

    Returns the new Offer and the storage key written, so a caller that rolls back can delete
    the file (a request does that by itself through g.stored_files).
    """
    now = now or utcnow()
    application = db.session.get(Application, draft.application_id)
    if application is None or application.state not in (State.ACCEPTED, State.OFFERED):
        raise OfferError(_("Only accepted applicants can be sent an offer letter."))
    previous = current_offer(application) if application.state == State.OFFERED else None
    if application.state == State.OFFERED and previous is None:
        raise OfferError(_("This offer has no standing letter to replace."))
    if previous is not None:
        if previous.version >= draft.facts.version:
            raise OfferError(_("Another letter was issued for this application meanwhile."))
        if previous.response is not None:
            raise OfferError(_("The student has already answered this offer."))
    storage = get_storage()
    key = storage.new_key(".pdf")
    storage.save(key, pdf)
    try:
        offer = _record(application, previous, draft, pdf, key, actor, now)
    except BaseException:
        storage.delete(key)
        raise
    if has_request_context():
        # The request deletes the file if its transaction does not commit.
        g.setdefault("stored_files", []).append(key)
    return offer, key


def _record(
    application: Application,
    previous: Offer | None,
    draft: LetterDraft,
    pdf: bytes,
    key: str,
    actor: User | None,
    now: datetime,
) -> Offer:
    # Writing the application row makes its version check catch an answer, a withdrawal or a
    # revocation committed by someone else since it was read: then this letter is not issued.
    application.updated_at = now
    if previous is not None:
        # Only a letter still standing and unanswered is superseded, whatever happened since.
        superseded = db.session.execute(
            sa.update(Offer)
            .where(
                Offer.id == previous.id,
                Offer.status == OfferStatus.VALID.value,
                Offer.response.is_(None),
            )
            .values(status=OfferStatus.SUPERSEDED.value, superseded_at=now)
            .execution_options(synchronize_session="fetch")
        )
        if superseded.rowcount != 1:
            raise OfferError(_("The student has already answered this offer."))
    offer = Offer(
        application_id=application.id,
        version=draft.facts.version,
        reference=draft.facts.reference,
        language=draft.facts.language,
        bilingual=draft.facts.bilingual,
        storage_key=key,
        size=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        code_hash=draft.code_hash,
        response_deadline=draft.facts.deadline,
        printed=draft.printed,
        issued_at=now,
        issued_by_id=actor.id if actor is not None else None,
    )
    db.session.add(offer)
    db.session.flush()
    if application.state == State.ACCEPTED:
        transition(application, State.OFFERED, actor=_actor(actor))
    else:
        _notify_reissue(application, offer)
    return offer


def _actor(user: User | None) -> Actor:
    return Actor(role=user.role, user=user) if user is not None else Actor.system()


def _notify_reissue(application: Application, offer: Offer) -> None:
    from portal.offers.notifications import queue_letter_mail

    queue_letter_mail(application, offer, reissued=True)


def verify_prefix() -> str:
    """Return the absolute address of the verification page, without a code."""
    from portal.mail import external_url

    return external_url("offers.verify_form")


def issue_offer(
    application: Application,
    *,
    actor: User,
    language: str | None = None,
    bilingual: bool | None = None,
    deadline: datetime | None = None,
) -> Offer:
    """Issue (or re-issue) one application's letter now, in this process."""
    draft = prepare(
        application,
        verify_prefix=verify_prefix(),
        language=language,
        bilingual=bilingual,
        deadline=deadline,
    )
    offer, _key = finish(draft, render_pdf(draft.html), actor=actor)
    return offer


def preview_letter(
    program: Program, application: Application, language: str, bilingual: bool
) -> bytes:
    """Render a letter for a sample applicant without keeping anything."""
    draft = prepare(
        application,
        verify_prefix=verify_prefix(),
        language=language,
        bilingual=bilingual,
        deadline=default_deadline(program, _today_in(program, utcnow())),
        preview=True,
    )
    return render_pdf(draft.html)


def revoke_offer(offer: Offer, *, actor: User, reason: str) -> None:
    """Revoke the standing letter of an offer not yet answered; the applicant stays accepted."""
    reason = (reason or "").strip()
    if not reason:
        raise OfferError(_("Say why the letter is revoked."))
    application = offer.application
    if not offer.is_valid or application.state != State.OFFERED or offer.response is not None:
        raise OfferError(_("Only the standing letter of an unanswered offer can be revoked."))
    offer.status = OfferStatus.REVOKED.value
    offer.revoked_at = utcnow()
    offer.revoked_by_id = actor.id
    offer.revoke_reason = reason
    db.session.flush()
    transition(application, State.ACCEPTED, actor=_actor(actor), reason=reason)


def respond(
    application: Application,
    offer_id: int,
    answer: Response,
    *,
    student: User,
    now: datetime | None = None,
) -> Offer:
    """Record the student's answer to the exact letter version they read."""
    now = now or utcnow()
    if answer not in (Response.CONFIRMED, Response.DECLINED):
        raise OfferError(_("Choose to accept or to decline the offer."))
    if expire_if_due(application, now=now):
        raise OfferError(_("The time to answer this offer has passed."))
    offer = current_offer(application)
    if offer is None or application.state != State.OFFERED:
        raise OfferError(_("There is no open offer to answer."))
    if offer.id != offer_id:
        raise OfferError(
            _("A newer version of your letter was issued. Please read it, then answer.")
        )
    offer.response = answer.value
    offer.responded_at = now
    db.session.flush()
    target = State.CONFIRMED if answer == Response.CONFIRMED else State.DECLINED
    transition(application, target, actor=Actor(role="student", user=student))
    return offer


def _expire(application: Application, offer: Offer, now: datetime) -> None:
    offer.response = Response.EXPIRED.value
    offer.responded_at = now
    db.session.flush()
    transition(application, State.EXPIRED, actor=Actor.system())


def expire_if_due(application: Application, *, now: datetime | None = None) -> bool:
    """Expire the application's offer if its deadline has passed unanswered; say whether it did."""
    if application.state != State.OFFERED:
        return False
    now = now or utcnow()
    offer = current_offer(application)
    if offer is None or offer.response is not None or offer.response_deadline > now:
        return False
    _expire(application, offer, now)
    return True


def expire_due(*, now: datetime | None = None) -> int:
    """Expire every offer whose deadline has passed unanswered; return how many."""
    now = now or utcnow()
    due = db.session.execute(
        sa.select(Application, Offer)
        .join(Offer, Offer.application_id == Application.id)
        .where(
            Application.state == State.OFFERED.value,
            Offer.status == OfferStatus.VALID.value,
            Offer.response.is_(None),
            Offer.response_deadline <= now,
        )
        .order_by(Offer.response_deadline, Offer.id)
    ).all()
    for application, offer in due:
        _expire(application, offer, now)
    return len(due)


def save_letter_settings(
    program: Program, *, response_days: int, bilingual: bool, texts: dict[str, dict[str, str]]
) -> None:
    """Keep a programme's letter settings and its wording per language."""
    program.offer_response_days = response_days
    program.letter_bilingual = bilingual
    existing = {
        t.locale: t
        for t in db.session.scalars(
            sa.select(LetterTemplate).where(LetterTemplate.program_id == program.id)
        )
    }
    for locale, fields in texts.items():
        template = existing.get(locale)
        if template is None:
            template = LetterTemplate(program_id=program.id, locale=locale)
            db.session.add(template)
        template.body = fields.get("body", "")
        template.conditions = fields.get("conditions", "")
        template.signatory_name = fields.get("signatory_name", "")
        template.signatory_title = fields.get("signatory_title", "")
    forget_templates()


def _on_state_changed(application: Application, event: Any, **_: Any) -> None:
    """Revoke the standing letter when its application is withdrawn or cancelled."""
    if event.to_state not in (State.WITHDRAWN, State.CANCELLED):
        return
    offer = current_offer(application)
    if offer is None:
        return
    offer.status = OfferStatus.REVOKED.value
    offer.revoked_at = utcnow()
    offer.revoked_by_id = event.actor_id
    offer.revoke_reason = event.reason or (
        "withdrawn by the student" if event.to_state == State.WITHDRAWN else "cancelled"
    )


def connect() -> None:
    """Listen for state changes that end a letter's validity."""
    state_changed.connect(_on_state_changed)


__all__ = [
    "LetterDraft",
    "OfferError",
    "TransitionError",
    "current_offer",
    "expire_due",
    "expire_if_due",
    "finish",
    "issue_offer",
    "offers_of",
    "prepare",
    "respond",
    "revoke_offer",
]
