"""Nominate confirmed students to the receiving university; record its answer."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.applications.models import Application
from portal.applications.states import Actor, State, transition
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.i18n import SCRIPT_TAGS
from portal.institutions.models import Institution
from portal.nominations.models import Answer, MobilityStatus, Nomination
from portal.programs.models import Program

# Profile levels that are not CEFR levels, in EWP's terms ("NS": native speaker).
_CEFR = {"native": "NS"}


class NominationError(Exception):
    """A nomination or an answer that cannot be made, with a message for the person."""


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
        "native_lang": _script_tag(snap.get("native_name_lang")),
        "birth_date": snap.get("birth_date"),
        "citizenship": snap.get("citizenship"),
        "gender": snap.get("gender"),
        "email": application.student.email,
        # The European Student Identifier form, scoped to the sending university.
        "global_id": (
            f"urn:schac:personalUniqueCode:int:esi:{sending.schac}:kopir-{application.student_id}"
        ),
    }


def nominate(application: Application, *, actor: User) -> Nomination:
    """Nominate one student who accepted their offer to the programme's host."""
    if application.state != State.CONFIRMED:
        raise NominationError(_("Only students who accepted their offer can be nominated."))
    if db.session.scalar(
        sa.select(Nomination.id).where(Nomination.application_id == application.id)
    ):
        raise NominationError(_("This student is already nominated."))
    snap = application.profile_snapshot or {}
    sending = (
        db.session.get(Institution, snap["home_institution_id"])
        if snap.get("home_institution_id")
        else None
    )
    if sending is None:
        raise NominationError(
            _("The student's home university is not in the portal, so it has no SCHAC code.")
        )
    program = application.program
    if sending.id == program.host_institution_id:
        raise NominationError(_("The student already studies at the host university."))
    eqf = snap.get("study_level")
    activity, attributes = activity_of(program, eqf)
    now = utcnow()
    nomination = Nomination(
        omobility_id=str(uuid.uuid4()),
        application_id=application.id,
        program_id=program.id,
        sending_hei_id=sending.id,
        receiving_hei_id=program.host_institution_id,
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
        created_by_id=actor.id,
        created_at=now,
        modified_at=now,
    )
    db.session.add(nomination)
    db.session.flush()
    return nomination


def nominate_many(
    applications: list[Application], *, actor: User
) -> tuple[list[Nomination], list[tuple[Application, str]]]:
    """Nominate several students; return those nominated and those refused with why."""
    done: list[Nomination] = []
    refused: list[tuple[Application, str]] = []
    for application in applications:
        try:
            # nominate() checks everything before it writes, so a refusal leaves nothing behind.
            done.append(nominate(application, actor=actor))
        except NominationError as exc:
            refused.append((application, str(exc)))
    return done, refused


def answer(
    nomination: Nomination,
    verdict: Answer,
    comment: str | None,
    *,
    institution_id: int | None,
    user_id: int | None = None,
) -> None:
    """Record the receiving university's answer; a rejection frees the student's seat.

    The answer comes from a partner in the portal (user_id) or from a partner system through
    the API (its token's institution); either way it must speak for the receiving university.
    """
    comment = (comment or "").strip() or None
    if institution_id != nomination.receiving_hei_id:
        raise NominationError(_("Only the receiving university answers a nomination."))
    if nomination.answer != Answer.PENDING:
        raise NominationError(_("This nomination is already answered."))
    if verdict not in (Answer.VERIFIED, Answer.REJECTED):
        raise NominationError(_("Choose to verify or to reject the nomination."))
    if verdict == Answer.REJECTED and not comment:
        raise NominationError(_("Say why the nomination is rejected."))
    now = utcnow()
    status = MobilityStatus.LIVE if verdict == Answer.VERIFIED else MobilityStatus.CANCELLED
    # Only a nomination still pending is answered, whatever another answer did meanwhile.
    answered = db.session.execute(
        sa.update(Nomination)
        .where(Nomination.id == nomination.id, Nomination.answer == Answer.PENDING.value)
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
        raise NominationError(_("This nomination is already answered."))
    if verdict == Answer.VERIFIED:
        return
    transition(
        nomination.application,
        State.CANCELLED,
        actor=Actor.system(),
        reason=_("Nomination rejected by the receiving university: %(comment)s", comment=comment),
    )
