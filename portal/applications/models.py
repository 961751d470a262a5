"""Applications and their state events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.applications.states import State
from portal.db import TimestampMixin, utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.documents.models import Document
    from portal.programs.models import Program
    from portal.reviews.models import Review

_STATES = ", ".join(f"'{s.value}'" for s in State)


class Application(TimestampMixin, db.Model):
    """A student's application to one programme."""

    __tablename__ = "applications"
    __table_args__ = (
        sa.UniqueConstraint("student_id", "program_id"),
        sa.CheckConstraint(f"state IN ({_STATES})", name="state"),
        sa.CheckConstraint(
            "(state = 'draft') OR (submitted_at IS NOT NULL)", name="submitted_has_time"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    student_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    program_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programs.id", ondelete="RESTRICT"), index=True
    )
    state: so.Mapped[str] = so.mapped_column(sa.String(20), default=State.DRAFT, index=True)
    version: so.Mapped[int] = so.mapped_column(default=1)
    motivation: so.Mapped[str | None] = so.mapped_column(sa.Text)
    answers: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    # The profile as it was when the student submitted: staff judge what was sent.
    profile_snapshot: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    submitted_at: so.Mapped[datetime | None]
    # Weighted mean of the submitted reviews on 0–100, recomputed whenever a review is saved.
    score: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(5, 2), index=True)

    student: so.Mapped[User] = so.relationship()
    program: so.Mapped[Program] = so.relationship()
    events: so.Mapped[list[ApplicationEvent]] = so.relationship(
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="ApplicationEvent.id",
    )
    reviews: so.Mapped[list[Review]] = so.relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="Review.id"
    )
    documents: so.Mapped[list[Document]] = so.relationship(
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="Document.id",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_draft(self) -> bool:
        """Tell whether the student may still change the application."""
        return self.state == State.DRAFT

    def current_documents(self) -> list[Document]:
        """Return the documents not replaced by a newer upload."""
        return [d for d in self.documents if d.superseded_at is None]


class ApplicationEvent(db.Model):
    """One state change: who, from, to, why (to the student), a staff note and when."""

    __tablename__ = "application_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    application_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    actor_role: so.Mapped[str] = so.mapped_column(sa.String(20))
    from_state: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    to_state: so.Mapped[str] = so.mapped_column(sa.String(20))
    # What the student reads in their timeline and e-mail.
    reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    # What staff noted for each other: never shown to the student.
    note: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    application: so.Mapped[Application] = so.relationship(back_populates="events")
    actor: so.Mapped[User | None] = so.relationship()
