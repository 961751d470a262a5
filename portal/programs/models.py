"""Programmes in the catalogue, their seats, rules, documents and questions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from portal.db import TimestampMixin, utcnow
from portal.extensions import db
from portal.i18n import pick

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.institutions.models import Institution


class ProgramKind(StrEnum):
    """The kinds of mobility the portal runs."""

    SUMMER_SCHOOL = "summer_school"
    EXCHANGE_SEMESTER = "exchange_semester"
    DOUBLE_DEGREE = "double_degree"
    RESEARCH_INTERNSHIP = "research_internship"


KIND_LABELS = {
    ProgramKind.SUMMER_SCHOOL: _l("Summer school"),
    ProgramKind.EXCHANGE_SEMESTER: _l("Exchange semester"),
    ProgramKind.DOUBLE_DEGREE: _l("Double degree"),
    ProgramKind.RESEARCH_INTERNSHIP: _l("Research internship"),
}

DOCUMENT_KINDS = {
    "passport": _l("Passport (photo page)"),
    "transcript": _l("Transcript of records"),
    "cv": _l("Curriculum vitae"),
    "motivation_letter": _l("Motivation letter"),
    "language_certificate": _l("Language certificate"),
    "recommendation": _l("Letter of recommendation"),
    "portfolio": _l("Portfolio or research proposal"),
}

program_partners = sa.Table(
    "program_partners",
    db.metadata,
    sa.Column("program_id", sa.ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "institution_id",
        sa.ForeignKey("institutions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class Program(TimestampMixin, db.Model):
    """A summer school, exchange semester, double degree or research internship."""

    __tablename__ = "programs"
    __table_args__ = (
        sa.CheckConstraint(
            "kind IN ('summer_school', 'exchange_semester', 'double_degree',"
            " 'research_internship')",
            name="kind",
        ),
        sa.CheckConstraint("seats >= 0", name="seats_not_negative"),
        sa.CheckConstraint("closes_at > opens_at", name="window_order"),
        sa.CheckConstraint("ends_on >= starts_on", name="dates_order"),
        sa.CheckConstraint("promotion_mode IN ('automatic', 'confirm')", name="promotion_mode"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(30), index=True)
    host_institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    titles: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON)
    descriptions: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON, default=dict)
    language: so.Mapped[str] = so.mapped_column(sa.String(3), index=True)
    isced_code: so.Mapped[str | None] = so.mapped_column(sa.String(4), index=True)
    starts_on: so.Mapped[date]
    ends_on: so.Mapped[date]
    place: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON, default=dict)
    fee_amount: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(10, 2), default=0)
    fee_currency: so.Mapped[str] = so.mapped_column(sa.String(3), default="KZT")
    funding: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON, default=dict)
    seats: so.Mapped[int]
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64))
    opens_at: so.Mapped[datetime]
    closes_at: so.Mapped[datetime]
    eligible_levels: so.Mapped[list[int]] = so.mapped_column(sa.JSON, default=list)
    min_gpa: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(4, 1))
    required_language: so.Mapped[str | None] = so.mapped_column(sa.String(3))
    required_cefr: so.Mapped[str | None] = so.mapped_column(sa.String(6))
    # Empty means every citizenship is welcome.
    citizenships: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    required_documents: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    # Lower-cased titles, descriptions, places and host names in every language, for search.
    search_text: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    published: so.Mapped[bool] = so.mapped_column(default=True)
    # When a seat frees: promote the best waitlisted applicant at once, or ask a coordinator.
    promotion_mode: so.Mapped[str] = so.mapped_column(sa.String(10), default="automatic")
    reviewers_see_scores: so.Mapped[bool] = so.mapped_column(default=False)
    # Offer letters: days the student has to answer, and English beside their language.
    offer_response_days: so.Mapped[int] = so.mapped_column(default=14, server_default="14")
    letter_bilingual: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # Bumped by every seat decision before seats are counted: the write makes concurrent
    # decisions on one programme queue up (a row lock on PostgreSQL, the write lock on SQLite).
    decision_seq: so.Mapped[int] = so.mapped_column(default=0)

    host: so.Mapped[Institution] = so.relationship()
    partners: so.Mapped[list[Institution]] = so.relationship(secondary=program_partners)
    questions: so.Mapped[list[ProgramQuestion]] = so.relationship(
        back_populates="program",
        cascade="all, delete-orphan",
        order_by="ProgramQuestion.position",
    )
    staff: so.Mapped[list[ProgramStaff]] = so.relationship(
        back_populates="program", cascade="all, delete-orphan"
    )
    quotas: so.Mapped[list[ProgramQuota]] = so.relationship(
        back_populates="program", cascade="all, delete-orphan"
    )
    criteria: so.Mapped[list[RubricCriterion]] = so.relationship(
        back_populates="program",
        cascade="all, delete-orphan",
        order_by="RubricCriterion.position",
    )

    def title(self, locale: str | None = None) -> str:
        """Return the title in the locale, falling back to English."""
        return pick(self.titles, locale)

    def description(self, locale: str | None = None) -> str:
        """Return the description in the locale, falling back to English."""
        return pick(self.descriptions, locale)

    def place_name(self, locale: str | None = None) -> str:
        """Return the place in the locale, falling back to English."""
        return pick(self.place, locale)

    def funding_text(self, locale: str | None = None) -> str:
        """Return the funding note in the locale, falling back to English."""
        return pick(self.funding, locale)

    @property
    def zone(self) -> ZoneInfo:
        """Return the programme's time zone."""
        return ZoneInfo(self.timezone)

    def window_state(self, now: datetime | None = None) -> str:
        """Say whether the application window is "upcoming", "open" or "closed"."""
        now = now or utcnow()
        if now < self.opens_at:
            return "upcoming"
        if now >= self.closes_at:
            return "closed"
        return "open"

    def refresh_search_text(self) -> None:
        """Rebuild the lower-cased text the catalogue's search looks in."""
        parts: list[str] = [self.slug]
        for mapping in (self.titles, self.descriptions, self.place):
            parts.extend((mapping or {}).values())
        if self.host is not None:
            parts.extend(self.host.names.values())
            parts.extend((self.host.city or {}).values())
        self.search_text = " ".join(parts).casefold()


class ProgramQuestion(db.Model):
    """An extra question a programme asks its applicants."""

    __tablename__ = "program_questions"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('short', 'long', 'choice')", name="kind"),
        sa.UniqueConstraint("program_id", "position"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    program_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int]
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    prompts: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON)
    # For choice questions: a list of {"value": ..., "labels": {lang: text}}.
    choices: so.Mapped[list[dict]] = so.mapped_column(sa.JSON, default=list)
    required: so.Mapped[bool] = so.mapped_column(default=True)
    max_length: so.Mapped[int] = so.mapped_column(default=2000)

    program: so.Mapped[Program] = so.relationship(back_populates="questions")

    def prompt(self, locale: str | None = None) -> str:
        """Return the question in the locale, falling back to English."""
        return pick(self.prompts, locale)

    def choice_pairs(self, locale: str | None = None) -> list[tuple[str, str]]:
        """Return the (value, label) pairs of a choice question."""
        return [(c["value"], pick(c["labels"], locale)) for c in self.choices]

    def answer_text(self, answer: object, locale: str | None = None) -> str:
        """Return an answer as people read it: a choice by its label, anything else as typed."""
        text = "" if answer is None else str(answer)
        if self.kind == "choice" and text:
            # A choice removed after the student answered keeps its stored value.
            return dict(self.choice_pairs(locale)).get(text, text)
        return text


class ProgramStaff(db.Model):
    """A coordinator or reviewer named on a programme."""

    __tablename__ = "program_staff"
    __table_args__ = (sa.CheckConstraint("role IN ('coordinator', 'reviewer')", name="role"),)

    program_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: so.Mapped[str] = so.mapped_column(sa.String(20))

    program: so.Mapped[Program] = so.relationship(back_populates="staff")
    user: so.Mapped[User] = so.relationship()


class ProgramQuota(db.Model):
    """Seats of a programme reserved for the students of one partner institution."""

    __tablename__ = "program_quotas"
    __table_args__ = (sa.CheckConstraint("seats >= 0", name="seats_not_negative"),)

    program_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True
    )
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True
    )
    seats: so.Mapped[int]

    program: so.Mapped[Program] = so.relationship(back_populates="quotas")
    institution: so.Mapped[Institution] = so.relationship()


class RubricCriterion(db.Model):
    """One criterion of a programme's review rubric, with its weight and maximum score."""

    __tablename__ = "rubric_criteria"
    __table_args__ = (
        sa.UniqueConstraint("program_id", "position"),
        sa.CheckConstraint("weight > 0", name="weight_positive"),
        sa.CheckConstraint("max_score > 0", name="max_score_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    program_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int]
    names: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON)
    weight: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(5, 2), default=1)
    max_score: so.Mapped[int] = so.mapped_column(default=10)

    program: so.Mapped[Program] = so.relationship(back_populates="criteria")

    def name(self, locale: str | None = None) -> str:
        """Return the criterion's name in the locale, falling back to English."""
        return pick(self.names, locale)


class ProgramEvent(db.Model):
    """Something a coordinator did to a programme: the audit log beside the state events."""

    __tablename__ = "program_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    program_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    details: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    actor: so.Mapped[User | None] = so.relationship()


class MailTemplate(db.Model):
    """A programme's own wording of a decision e-mail, in one language."""

    __tablename__ = "mail_templates"
    __table_args__ = (sa.UniqueConstraint("program_id", "state", "locale"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    program_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    state: so.Mapped[str] = so.mapped_column(sa.String(20))
    locale: so.Mapped[str] = so.mapped_column(sa.String(5))
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)
