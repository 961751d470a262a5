"""Nominations: a confirmed student sent to the receiving university (EWP student-mobility)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from portal.db import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.api.models import ApiToken
    from portal.applications.models import Application
    from portal.auth.models import User
    from portal.institutions.models import Institution
    from portal.programs.models import Program


class MobilityStatus(StrEnum):
    """The EWP status of a mobility."""

    NOMINATION = "nomination"
    LIVE = "live"
    CANCELLED = "cancelled"


class Answer(StrEnum):
    """What the receiving university said about a nomination (EWP Incoming Mobilities)."""

    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


# The answers the receiving university may give, after the one it gave (services.answer):
#   pending  -> verified | rejected  the first answer; a rejection says why.
#   verified -> rejected             a change of mind, with its reason, until the mobility starts;
#                                    it does everything a rejection does (the student's application
#                                    is cancelled, the letter revoked, the seat offered to the
#                                    waiting list).
#   rejected -> nothing              a rejection already did all that, and a cancelled application
#                                    is final (DESIGN "States"): the student was told, and the seat
#                                    may be someone else's. Verifying it afterwards would have to
#                                    bring the application back silently, so it is refused.
ANSWER_MOVES: dict[Answer, frozenset[Answer]] = {
    Answer.PENDING: frozenset({Answer.VERIFIED, Answer.REJECTED}),
    Answer.VERIFIED: frozenset({Answer.REJECTED}),
    Answer.REJECTED: frozenset(),
}

STATUS_LABELS = {
    MobilityStatus.NOMINATION: _l("Nominated"),
    MobilityStatus.LIVE: _l("Live"),
    MobilityStatus.CANCELLED: _l("Cancelled"),
}
ANSWER_LABELS = {
    Answer.PENDING: _l("Awaiting an answer"),
    Answer.VERIFIED: _l("Verified"),
    Answer.REJECTED: _l("Rejected"),
}


class Nomination(db.Model):
    """One student's mobility as the sending side announces it; the student part is frozen."""

    __tablename__ = "nominations"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('nomination', 'live', 'cancelled')", name="nomination_status"
        ),
        sa.CheckConstraint(
            "answer IN ('pending', 'verified', 'rejected')", name="nomination_answer"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # A UUID made once; never reused for another student, never changed.
    omobility_id: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    application_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("applications.id", ondelete="CASCADE"), unique=True
    )
    program_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    sending_hei_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institutions.id"), index=True
    )
    receiving_hei_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institutions.id"), index=True
    )
    academic_year: so.Mapped[str] = so.mapped_column(sa.String(9), index=True)
    # "summer" for a mobility outside any standard term, else an EWP term id like 2026/2027-1/2.
    academic_term: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    # given/family names (Latin and native with their xml:lang), birth date, citizenship,
    # gender, e-mail, global id: as they were when the student was nominated.
    student: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    activity_type: so.Mapped[str] = so.mapped_column(sa.String(30))
    activity_attributes: so.Mapped[str] = so.mapped_column(sa.String(30))
    eqf_level: so.Mapped[int | None]
    isced_code: so.Mapped[str | None] = so.mapped_column(sa.String(4))
    language_skills: so.Mapped[list[dict[str, str]]] = so.mapped_column(sa.JSON, default=list)
    planned_arrival: so.Mapped[date | None]
    planned_departure: so.Mapped[date | None]
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default=MobilityStatus.NOMINATION)
    answer: so.Mapped[str] = so.mapped_column(sa.String(10), default=Answer.PENDING, index=True)
    answer_comment: so.Mapped[str | None] = so.mapped_column(sa.Text)
    answered_at: so.Mapped[datetime | None]
    answered_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    modified_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)

    application: so.Mapped[Application] = so.relationship()
    program: so.Mapped[Program] = so.relationship()
    sending_hei: so.Mapped[Institution] = so.relationship(foreign_keys=[sending_hei_id])
    receiving_hei: so.Mapped[Institution] = so.relationship(foreign_keys=[receiving_hei_id])
    answered_by: so.Mapped[User | None] = so.relationship(foreign_keys=[answered_by_id])

    @property
    def latin_name(self) -> str:
        """Return the student's name as in the passport."""
        return f"{self.student.get('given_latin', '')} {self.student.get('family_latin', '')}"

    @property
    def birth_day(self) -> date | None:
        """Return the student's date of birth as a date, to format for the reader."""
        value = self.student.get("birth_date")
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            return None

    @property
    def mobility_starts_on(self) -> date:
        """Return the day the mobility starts: the planned arrival the partner answered about.

        The nomination's own date, not the programme's: it is the date sent to the partner (EWP
        planned-arrival-date) and frozen with the nomination, while the programme's dates may be
        edited later. The programme's start stands in only where no arrival was planned.
        """
        return self.planned_arrival or self.program.starts_on

    def answer_changeable(self, now: datetime | None = None) -> bool:
        """Tell whether a given answer may still change: before the day the mobility starts.

        The day is counted in the programme's time zone, where the student arrives.
        """
        today = (now or utcnow()).astimezone(self.program.zone).date()
        return today < self.mobility_starts_on

    def open_answers(self, now: datetime | None = None) -> frozenset[Answer]:
        """Return the answers the receiving university may give now."""
        moves = ANSWER_MOVES[Answer(self.answer)]
        if self.answer != Answer.PENDING and not self.answer_changeable(now):
            return frozenset()
        return moves

    @property
    def native_name(self) -> str:
        """Return the student's name in their alphabet, if any."""
        return " ".join(
            p for p in (self.student.get("given_native"), self.student.get("family_native")) if p
        )


class NominationAnswerChange(db.Model):
    """One answer of the receiving university, first or changed: who, when, from, to and why."""

    __tablename__ = "nomination_answer_changes"
    __table_args__ = (
        sa.CheckConstraint(
            "from_answer IN ('pending', 'verified', 'rejected')", name="from_answer"
        ),
        sa.CheckConstraint("to_answer IN ('verified', 'rejected')", name="to_answer"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    nomination_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    from_answer: so.Mapped[str] = so.mapped_column(sa.String(10))
    to_answer: so.Mapped[str] = so.mapped_column(sa.String(10))
    # The comment of a first answer, the reason of a change.
    reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    # A person in the portal, or a partner system through one of its API tokens.
    changed_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    api_token_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("api_tokens.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    changed_by: so.Mapped[User | None] = so.relationship()
    api_token: so.Mapped[ApiToken | None] = so.relationship()

    @property
    def is_change(self) -> bool:
        """Tell whether this replaced an answer already given."""
        return self.from_answer != Answer.PENDING
