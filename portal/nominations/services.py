"""Nominate confirmed students to the receiving university; record its answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import gettext as _

from portal.applications.models import Application
from portal.applications.states import Actor, State, transition
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.i18n import SCRIPT_TAGS
from portal.identity import snapshot_name_alphabet
from portal.institutions.models import Institution
from portal.nominations.models import (
    Answer,
    MobilityStatus,
    Nomination,
    NominationAnswerChange,
)
from portal.programs.models import Program

# Profile levels that are not CEFR levels, in EWP's terms ("NS": native speaker).
_CEFR = {"native": "NS"}


class NominationError(Exception):
    """A nomination or an answer that cannot be made, with a message for the person."""


class CommentRequired(NominationError):
    """An answer that needs a reason (a rejection, a change) came without one."""


def academic_year_of(day: date) -> str:
    """Return the EWP academic year id of a day (northern hemisphere: it starts in August)."""
    start = day.year if day.month >= 8 else day.year - 1
    return f"{start}/{start + 1}"


def academic_term_of(program: Program) -> str | None:
    """Return the EWP term id of a semester-long exchange, or None for a non-standard period."""
    if program.kind != "exchange_semester":
        return None
    year = academic_year_of(program.starts_on)
    return f"{year}-1/2" if program.starts_on.month >= 8 else f"{year}-2/2"


def activity_of(program: Program, eqf: int | None) -> tuple[str, str]:
    """Return the EWP activity type and attributes for a programme."""
    kind = "student-traineeships" if program.kind == "research_internship" else "student-studies"
    if program.kind in ("exchange_semester", "double_degree"):
        return kind, "long-term"
    return kind, "short-term-doctoral" if eqf == 8 else "short-term-blended"


def _script_tag(lang: str | None) -> str | None:
    if not lang:
        return None
    return lang if "-" in lang else SCRIPT_TAGS.get(lang, lang)


def student_part(application: Application, sending: Institution) -> dict[str, Any]:
    """Freeze the student as nominated, from the profile submitted with the application."""
    snap = application.profile_snapshot or {}
    return {
        "given_latin": snap.get("latin_given_names") or "",
        "family_latin": snap.get("latin_family_name") or "",
        "given_native": snap.get("native_given_names") or "",
        "family_native": snap.get("native_family_name") or "",
        "native_lang": _script_tag(snapshot_name_alphabet(snap)),
        "birth_date": snap.get("birth_date"),
        "citizenship": snap.get("citizenship"),
        "gender": snap.get("gender"),
        "email": application.student.email,
        # The European Student Identifier form, scoped to the sending university.
        "global_id": (
            f"urn:schac:personalUniqueCode:int:esi:{sending.schac}:kopir-{application.student_id}"
        ),
    }


def _sending(application: Application) -> Institution | None:
    snap = application.profile_snapshot or {}
    home = snap.get("home_institution_id")
    return db.session.get(Institution, home) if home else None


def refusal(application: Application) -> str | None:
    """Say why the student cannot be nominated now, or None if they can."""
    if application.state != State.CONFIRMED:
        return _("Only students who accepted their offer can be nominated.")
    if db.session.scalar(
        sa.select(Nomination.id).where(Nomination.application_id == application.id)
    ):
        return _("This student is already nominated.")
    sending = _sending(application)
    if sending is None:
        return _("The student's home university is not in the portal, so it has no SCHAC code.")
    if sending.id == application.program.host_institution_id:
        return _("The student already studies at the host university.")
    return None


def draft(application: Application, *, actor: User | None = None) -> Nomination:
    """Return the nomination as it would be sent, not stored: the preview shows exactly this."""
    sending = _sending(application)
    if sending is None:
        raise NominationError(refusal(application) or "")
    snap = application.profile_snapshot or {}
    program = application.program
    eqf = snap.get("study_level")
    activity, attributes = activity_of(program, eqf)
    now = utcnow()
    return Nomination(
        omobility_id=str(uuid.uuid4()),
        application_id=application.id,
        program_id=program.id,
        program=program,
        sending_hei_id=sending.id,
        sending_hei=sending,
        receiving_hei_id=program.host_institution_id,
        receiving_hei=program.host,
        academic_year=academic_year_of(program.starts_on),
        academic_term=academic_term_of(program),
        student=student_part(application, sending),
        activity_type=activity,
        activity_attributes=attributes,
        eqf_level=eqf,
        isced_code=snap.get("isced_code"),
        language_skills=[
            {"language": s["language"], "cefr": _CEFR.get(s["level"], s["level"])}
            for s in snap.get("languages", [])
        ],
        planned_arrival=program.starts_on,
        planned_departure=program.ends_on,
        status=MobilityStatus.NOMINATION.value,
        answer=Answer.PENDING.value,
        created_by_id=actor.id if actor is not None else None,
        created_at=now,
        modified_at=now,
    )


def nominate(application: Application, *, actor: User) -> Nomination:
    """Nominate one student who accepted their offer to the programme's host."""
    reason = refusal(application)
    if reason:
        raise NominationError(reason)
    nomination = draft(application, actor=actor)
    db.session.add(nomination)
    db.session.flush()
    return nomination


@dataclass
class Preview:
    """One ticked student as the coordinator confirms them: what the host will get, or why not."""

    application: Application
    nomination: Nomination | None
    refusal: str | None


def preview(applications: list[Application]) -> list[Preview]:
    """Show what nominating each student would send, without storing anything."""
    shown = []
    for application in applications:
        reason = refusal(application)
        shown.append(Preview(application, None if reason else draft(application), reason))
    return shown


class StaleSelection(NominationError):
    """Students who changed since the coordinator's preview: nothing was nominated."""

    def __init__(self, changed: list[tuple[Application | None, str]]) -> None:
        """Keep the students who changed, each with what changed."""
        super().__init__(_("Some students changed since the preview: nobody was nominated."))
        self.changed = changed


def nominate_confirmed(
    program: Program, confirmed: dict[int, int], *, actor: User
) -> list[Nomination]:
    """Nominate exactly the students confirmed on the preview, or none of them.

    confirmed maps each application id to the version the preview showed. If any of them
    changed since (another state, nominated meanwhile, a new version of the application, or
    no longer the programme's), StaleSelection names them and nothing is written.
    """
    found = {
        a.id: a
        for a in db.session.scalars(
            sa.select(Application).where(
                Application.id.in_(list(confirmed)), Application.program_id == program.id
            )
        )
    }
    changed: list[tuple[Application | None, str]] = []
    for application_id, version in confirmed.items():
        application = found.get(application_id)
        if application is None:
            changed.append((None, _("This student is not waiting to be nominated.")))
            continue
        reason = refusal(application)
        if reason:
            changed.append((application, reason))
        elif application.version != version:
            changed.append((application, _("The application changed after the preview.")))
    if changed:
        raise StaleSelection(changed)
    return [nominate(found[application_id], actor=actor) for application_id in confirmed]


def answer(
    nomination: Nomination,
    verdict: Answer,
    comment: str | None,
    *,
    institution_id: int | None,
    user_id: int | None = None,
    api_token_id: int | None = None,
    expected: str | None = None,
    now: datetime | None = None,
) -> NominationAnswerChange:
    """Record the receiving university's answer, or its change; a rejection frees the seat.

    The answer comes from a partner in the portal (user_id) or from a partner system through
    the API (its token's institution, and api_token_id); either way it must speak for the
    receiving university. Which answer may follow which is models.ANSWER_MOVES: a first answer
    at any time; verified -> rejected with a reason until the mobility starts, with every
    consequence of a rejection; a rejection never changes. expected is the answer the person
    saw when deciding (the portal's form sends it): if it is no longer the answer, nothing
    changes. Every answer is recorded in the nomination's history, which is returned.
    """
    comment = (comment or "").strip() or None
    if institution_id != nomination.receiving_hei_id:
        raise NominationError(_("Only the receiving university answers a nomination."))
    if verdict not in (Answer.VERIFIED, Answer.REJECTED):
        raise NominationError(_("Choose to verify or to reject the nomination."))
    source = Answer(nomination.answer)
    if expected is not None and expected != source:
        raise NominationError(
            _("The answer changed while you were reading it. Read it again, then decide.")
        )
    if source == verdict:
        raise NominationError(
            _("This nomination is already verified.")
            if verdict == Answer.VERIFIED
            else _("This nomination is already rejected.")
        )
    if source == Answer.REJECTED:
        raise NominationError(
            _(
                "A rejection cannot be changed: it has already cancelled the student's "
                "application, revoked their offer letter and offered their seat to the waiting "
                "list."
            )
        )
    now = now or utcnow()
    changing = source != Answer.PENDING
    if changing and not nomination.answer_changeable(now):
        raise NominationError(
            _(
                "The mobility started on %(day)s: the answer can no longer be changed.",
                day=format_date(nomination.mobility_starts_on, "long"),
            )
        )
    if changing and not comment:
        raise CommentRequired(_("Say why you change the answer."))
    if verdict == Answer.REJECTED and not comment:
        raise CommentRequired(_("Say why the nomination is rejected."))
    status = MobilityStatus.LIVE if verdict == Answer.VERIFIED else MobilityStatus.CANCELLED
    # Only the answer the decision was made on is replaced, whatever another answer did
    # meanwhile (two partners, or the portal and a partner system, at once).
    answered = db.session.execute(
        sa.update(Nomination)
        .where(Nomination.id == nomination.id, Nomination.answer == source.value)
        .values(
            answer=verdict.value,
            answer_comment=comment,
            answered_at=now,
            answered_by_id=user_id,
            modified_at=now,
            status=status.value,
        )
        .execution_options(synchronize_session="fetch")
    )
    if answered.rowcount != 1:
        raise NominationError(
            _("This nomination is already answered.")
            if not changing
            else _("The answer changed while you were reading it. Read it again, then decide.")
        )
    record = NominationAnswerChange(
        nomination_id=nomination.id,
        from_answer=source.value,
        to_answer=verdict.value,
        reason=comment,
        changed_by_id=user_id,
        api_token_id=api_token_id,
        created_at=now,
    )
    db.session.add(record)
    if verdict == Answer.VERIFIED:
        return record
    transition(
        nomination.application,
        State.CANCELLED,
        actor=Actor.system(),
        reason=(
            _(
                "The receiving university withdrew its verification of the nomination: "
                "%(comment)s",
                comment=comment,
            )
            if changing
            else _(
                "Nomination rejected by the receiving university: %(comment)s", comment=comment
            )
        ),
    )
    return record
