"""Assigning reviewers and recording their scores; the application's score is derived here."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.applications.models import Application
from portal.applications.states import Actor, State, transition
from portal.auth.models import Role, User
from portal.db import utcnow
from portal.extensions import db
from portal.programs.models import Program, ProgramStaff
from portal.reviews.models import Review, ReviewScore


class ReviewError(Exception):
    """A review action that cannot be done, with a message for the user."""


def reviewers_of(program: Program) -> list[User]:
    """Return the reviewers named on the programme."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(ProgramStaff, ProgramStaff.user_id == User.id)
            .where(ProgramStaff.program_id == program.id, ProgramStaff.role == "reviewer")
            .order_by(User.email)
        )
    )


def _same_home(reviewer: User, application: Application) -> bool:
    profile = application.student.profile
    home = profile.home_institution_id if profile else None
    return home is not None and reviewer.institution_id == home


def _open_review(application: Application, actor: User) -> None:
    """Move a submitted application under review when its first reviewer is assigned."""
    if application.state == State.SUBMITTED:
        transition(application, State.UNDER_REVIEW, actor=Actor(role=actor.role, user=actor))


def assign(application: Application, reviewer: User, *, actor: User) -> Review:
    """Assign a reviewer named on the programme, never one from the applicant's university."""
    if application.state not in (State.SUBMITTED, State.UNDER_REVIEW):
        raise ReviewError(_("Only submitted applications can be reviewed."))
    if reviewer.role != Role.REVIEWER or reviewer not in reviewers_of(application.program):
        raise ReviewError(_("This person is not a reviewer of the programme."))
    if _same_home(reviewer, application):
        raise ReviewError(_("A reviewer may not review a student of their own university."))
    existing = next((r for r in application.reviews if r.reviewer_id == reviewer.id), None)
    if existing is not None:
        return existing
    review = Review(application=application, reviewer=reviewer, assigned_by_id=actor.id)
    db.session.add(review)
    _open_review(application, actor)
    return review


def auto_assign(program: Program, *, per_application: int, actor: User) -> int:
    """Give each submitted application reviewers up to the number, the least busy first.

    Balanced: every choice goes to the eligible reviewer with the fewest assignments on the
    programme so far; reviewers from the applicant's university are never chosen.
    """
    reviewers = reviewers_of(program)
    load = dict.fromkeys((r.id for r in reviewers), 0)
    for reviewer_id, count in db.session.execute(
        sa.select(Review.reviewer_id, sa.func.count())
        .join(Application, Application.id == Review.application_id)
        .where(Application.program_id == program.id)
        .group_by(Review.reviewer_id)
    ):
        if reviewer_id in load:
            load[reviewer_id] = count
    made = 0
    applications = db.session.scalars(
        sa.select(Application)
        .where(
            Application.program_id == program.id,
            Application.state.in_([State.SUBMITTED.value, State.UNDER_REVIEW.value]),
        )
        .order_by(Application.submitted_at, Application.id)
    ).all()
    for application in applications:
        have = {r.reviewer_id for r in application.reviews}
        candidates = sorted(
            (r for r in reviewers if r.id not in have and not _same_home(r, application)),
            key=lambda r: (load[r.id], r.id),
        )
        for reviewer in candidates[: max(0, per_application - len(have))]:
            assign(application, reviewer, actor=actor)
            load[reviewer.id] += 1
            made += 1
    return made


def weighted_score(review: Review) -> Decimal | None:
    """Return a submitted review's weighted score on 0–100."""
    if review.submitted_at is None or not review.scores:
        return None
    total_weight = sum(Decimal(s.criterion.weight) for s in review.scores)
    if not total_weight:
        return None
    value = sum(
        Decimal(s.criterion.weight) * Decimal(s.score) / Decimal(s.criterion.max_score)
        for s in review.scores
    )
    return (value / total_weight * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def refresh_score(application: Application) -> None:
    """Recompute the application's score: the mean of its submitted reviews' scores."""
    scores = [s for s in (weighted_score(r) for r in application.reviews) if s is not None]
    application.score = (
        (sum(scores) / len(scores)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if scores
        else None
    )


def submit_review(review: Review, scores: dict[int, int], comment: str | None) -> None:
    """Record a reviewer's score on every criterion and update the application's score."""
    criteria = review.application.program.criteria
    if not criteria:
        raise ReviewError(_("This programme has no review rubric yet."))
    for criterion in criteria:
        value = scores.get(criterion.id)
        if value is None or not 0 <= value <= criterion.max_score:
            raise ReviewError(_("Give every criterion a score between 0 and its maximum."))
    review.scores.clear()
    db.session.flush()
    for criterion in criteria:
        review.scores.append(ReviewScore(criterion=criterion, score=scores[criterion.id]))
    review.comment = comment
    review.submitted_at = utcnow()
    refresh_score(review.application)
