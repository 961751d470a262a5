"""What a student does with an application: start, save steps, submit, withdraw."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal.applications.models import Application
from portal.applications.queries import application_for
from portal.applications.states import Actor, State, transition
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.profiles.models import StudentProfile
from portal.programs.eligibility import check_eligibility
from portal.programs.models import DOCUMENT_KINDS, Program

MOTIVATION_MIN = 200
MOTIVATION_MAX = 5000

PROFILE_FIELD_LABELS = {
    "native_given_names": _l("Given names in your alphabet"),
    "native_family_name": _l("Family name in your alphabet"),
    "latin_given_names": _l("Given names as in your passport (Latin)"),
    "latin_family_name": _l("Family name as in your passport (Latin)"),
    "birth_date": _l("Date of birth"),
    "gender": _l("Gender"),
    "citizenship": _l("Citizenship"),
    "national_id": _l("National identification number"),
    "passport_number": _l("Passport number"),
    "phone": _l("Mobile phone"),
    "home_institution": _l("Home university"),
    "faculty": _l("Faculty or school"),
    "study_level": _l("Study level"),
    "isced_code": _l("Field of study (ISCED-F 2013)"),
    "year_of_study": _l("Year of study"),
    "gpa": _l("Grade point average"),
    "gpa_scale": _l("Grading scale"),
}


def profile_gaps(profile: StudentProfile | None) -> list[str]:
    """Name, in the user's language and the profile form's order, what applying still lacks."""
    missing = set(profile.missing_fields()) if profile else set(PROFILE_FIELD_LABELS)
    return [str(label) for name, label in PROFILE_FIELD_LABELS.items() if name in missing]


class ApplicationError(Exception):
    """Something the student asked for that cannot be done, with a message for them."""


@dataclass
class Readiness:
    """What stands between a draft and its submission."""

    profile_missing: list[str] = field(default_factory=list)
    motivation_ok: bool = False
    questions_missing: list[int] = field(default_factory=list)
    documents_missing: list[str] = field(default_factory=list)
    eligible: bool = False
    window: str = "open"
    verified: bool = False

    @property
    def complete(self) -> bool:
        """Tell whether every part of the application is filled in."""
        return (
            not self.profile_missing
            and self.motivation_ok
            and not self.questions_missing
            and not self.documents_missing
        )

    @property
    def can_submit(self) -> bool:
        """Tell whether the server would accept a submission now."""
        return self.complete and self.eligible and self.window == "open" and self.verified

    def problems(self) -> list[str]:
        """Return every obstacle, in words for the student."""
        found: list[str] = []
        if self.profile_missing:
            names = ", ".join(str(PROFILE_FIELD_LABELS[n]) for n in self.profile_missing)
            found.append(_("Your profile is missing: %(fields)s.", fields=names))
        if not self.motivation_ok:
            found.append(
                _("Your motivation needs at least %(min)d characters.", min=MOTIVATION_MIN)
            )
        if self.questions_missing:
            found.append(
                _(
                    "%(count)d of the programme's questions are not answered.",
                    count=len(self.questions_missing),
                )
            )
        if self.documents_missing:
            names = ", ".join(str(DOCUMENT_KINDS.get(k, k)) for k in self.documents_missing)
            found.append(_("Documents still missing: %(kinds)s.", kinds=names))
        if not self.eligible:
            found.append(_("You do not meet every eligibility rule of this programme."))
        if self.window == "upcoming":
            found.append(_("Applications are not open yet."))
        elif self.window == "closed":
            found.append(_("The application deadline has passed."))
        if not self.verified:
            found.append(_("Please confirm your e-mail address first."))
        return found


def start_application(student: User, program: Program) -> Application:
    """Return the student's draft for the programme, creating it when there is none."""
    existing = application_for(student, program)
    if existing is not None:
        return existing
    if program.window_state() == "closed":
        raise ApplicationError(_("The application deadline has passed."))
    application = Application(student=student, program=program, state=State.DRAFT, answers={})
    try:
        # A savepoint, so that losing a race to a second tab keeps the rest of the request.
        with db.session.begin_nested():
            db.session.add(application)
    except IntegrityError:
        existing = application_for(student, program)
        if existing is None:
            raise
        return existing
    return application


def _require_draft(application: Application) -> None:
    if application.state != State.DRAFT:
        raise ApplicationError(_("This application was submitted and can no longer be changed."))


def save_motivation(application: Application, text: str) -> None:
    """Store the motivation of a draft."""
    _require_draft(application)
    application.motivation = text


def save_answers(application: Application, answers: dict[str, Any]) -> None:
    """Store the answers to the programme's questions of a draft."""
    _require_draft(application)
    application.answers = {**(application.answers or {}), **answers}


def readiness(application: Application, now: datetime | None = None) -> Readiness:
    """Work out what is still missing before the application can be submitted."""
    program = application.program
    profile = application.student.profile
    answers = application.answers or {}
    present = {d.kind for d in application.current_documents()}
    return Readiness(
        profile_missing=profile.missing_fields() if profile else list(PROFILE_FIELD_LABELS),
        motivation_ok=len((application.motivation or "").strip()) >= MOTIVATION_MIN,
        questions_missing=[
            q.id
            for q in program.questions
            if q.required and not str(answers.get(str(q.id), "")).strip()
        ],
        documents_missing=[k for k in program.required_documents if k not in present],
        eligible=all(c.ok for c in check_eligibility(program, profile)),
        window=program.window_state(now),
        verified=application.student.is_verified,
    )


def snapshot_profile(profile: StudentProfile) -> dict[str, Any]:
    """Freeze the profile as it is, for staff to judge what was submitted."""
    data: dict[str, Any] = {}
    for column in StudentProfile.__table__.columns:
        value = getattr(profile, column.key)
        data[column.key] = (
            value.isoformat()
            if hasattr(value, "isoformat")
            else (str(value) if value is not None and not isinstance(value, int | str) else value)
        )
    data["home_institution_name"] = profile.home_institution_name("en")
    # The alphabet as worked out, not as stored: "automatic" would tell letters and EWP nothing.
    # "name_alphabet" marks the snapshots that record it (see identity.snapshot_name_alphabet).
    data["native_name_lang"] = data["name_alphabet"] = profile.native_name_alphabet
    data["languages"] = [{"language": s.language, "level": s.level} for s in profile.languages]
    return data


def submit_application(
    application: Application, *, actor: User, now: datetime | None = None
) -> None:
    """Submit a complete, eligible draft before the deadline (checked here, on the server)."""
    _require_draft(application)
    now = now or utcnow()
    ready = readiness(application, now)
    if not ready.can_submit:
        raise ApplicationError(" ".join(ready.problems()))
    profile = application.student.profile
    if profile is None:  # readiness refuses this already; say so to the type checker too
        raise ApplicationError(_("Please complete your profile first."))
    application.profile_snapshot = snapshot_profile(profile)
    transition(application, State.SUBMITTED, actor=Actor(role="student", user=actor))


def withdraw_application(application: Application, *, actor: User, reason: str | None) -> None:
    """Withdraw a submitted application at the student's request."""
    from portal.applications.states import WITHDRAWABLE_STATES

    if application.state not in WITHDRAWABLE_STATES:
        raise ApplicationError(_("This application cannot be withdrawn in its current state."))
    transition(application, State.WITHDRAWN, actor=Actor(role="student", user=actor), reason=reason)
