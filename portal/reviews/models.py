"""Review assignments and the scores reviewers give."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.applications.models import Application
    from portal.auth.models import User
    from portal.programs.models import RubricCriterion


class Review(db.Model):
    """A reviewer assigned to an application, and their scores once they give them."""

    __tablename__ = "reviews"
    __table_args__ = (sa.UniqueConstraint("application_id", "reviewer_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    application_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    assigned_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    assigned_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    comment: so.Mapped[str | None] = so.mapped_column(sa.Text)
    submitted_at: so.Mapped[datetime | None]

    application: so.Mapped[Application] = so.relationship(back_populates="reviews")
    reviewer: so.Mapped[User] = so.relationship(foreign_keys=[reviewer_id])
    scores: so.Mapped[list[ReviewScore]] = so.relationship(
        back_populates="review", cascade="all, delete-orphan"
    )


class ReviewScore(db.Model):
    """The score a review gives on one rubric criterion."""

    __tablename__ = "review_scores"
    __table_args__ = (sa.CheckConstraint("score >= 0", name="score_not_negative"),)

    review_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("reviews.id", ondelete="CASCADE"), primary_key=True
    )
    criterion_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("rubric_criteria.id", ondelete="CASCADE"), primary_key=True
    )
    score: so.Mapped[int]
    comment: so.Mapped[str | None] = so.mapped_column(sa.Text)

    review: so.Mapped[Review] = so.relationship(back_populates="scores")
    criterion: so.Mapped[RubricCriterion] = so.relationship()
