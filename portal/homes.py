"""What waits for each staff role on their home page, counted in a fixed number of queries.

Every count is the size of a list the page links to (the queue with its filters, the
nominations list, a programme's nominations, the reviewer's list), so the number a person
reads is the number of rows they find behind it. Each query groups by programme: the number
of queries stays the same whatever the number of programmes and applications.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from portal.access import managed_program_ids
from portal.applications.models import Application
from portal.applications.queue import (
    ANSWER_DUE_SOON_DAYS,
    answer_due_clause,
    nominated_clause,
)
from portal.applications.states import State
from portal.auth.models import Role, User
from portal.db import utcnow
from portal.extensions import db
from portal.nominations.models import Answer, Nomination
from portal.nominations.queries import RECENT_ANSWER_DAYS
from portal.programs.models import Program, ProgramStaff
from portal.reviews.models import Review

# What a coordinator (or an administrator) finds waiting, one counter per list.
COORDINATOR_COUNTS = (
    "to_assign",  # submitted: nobody reviews them yet
    "to_decide",  # under review: reviews come in, a decision is due
    "offers_open",  # offered: the student has not answered the letter
    "offers_due_soon",  # ... and the answer is due within ANSWER_DUE_SOON_DAYS
    "no_letter",  # accepted: no letter issued yet
    "to_nominate",  # confirmed, not nominated yet
    "awaiting_partner",  # nominations the partner has not answered
    "verified_recently",  # nominations the partner verified in the last RECENT_ANSWER_DAYS
    "rejected_recently",  # ... or rejected
)


@dataclass
class ProgrammeWork:
    """The counts of one programme; zero where nothing waits."""

    program: Program
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def waiting(self) -> bool:
        """Tell whether anything at all waits in this programme."""
        return any(self.counts.values())


@dataclass
class Home:
    """Everything a staff member's home page shows."""

    role: str
    programmes: list[ProgrammeWork]
    totals: Counter[str]
    unstaffed: list[Program] = field(default_factory=list)  # administrators only
    due_soon_days: int = ANSWER_DUE_SOON_DAYS
    recent_days: int = RECENT_ANSWER_DAYS


def _in_scope(column: Any, program_ids: sa.Select[tuple[int]] | None) -> list[Any]:
    return [] if program_ids is None else [column.in_(program_ids)]


def _count(condition: Any) -> Any:
    """SQL: how many rows of the group meet the condition (0 when none does)."""
    return sa.func.count(sa.case((condition, 1)))


def _application_counts(program_ids: sa.Select[tuple[int]] | None) -> dict[int, Counter[str]]:
    """Count the applications that wait on the coordinator, per programme, in one query."""
    soon = utcnow() + timedelta(days=ANSWER_DUE_SOON_DAYS)
    states = (State.SUBMITTED, State.UNDER_REVIEW, State.OFFERED, State.ACCEPTED, State.CONFIRMED)
    rows = db.session.execute(
        sa.select(
            Application.program_id,
            _count(Application.state == State.SUBMITTED),
            _count(Application.state == State.UNDER_REVIEW),
            _count(Application.state == State.OFFERED),
            _count(answer_due_clause(soon)),
            _count(Application.state == State.ACCEPTED),
            _count(sa.and_(Application.state == State.CONFIRMED, sa.not_(nominated_clause()))),
        )
        .where(Application.state.in_(states), *_in_scope(Application.program_id, program_ids))
        .group_by(Application.program_id)
    ).all()
    names = COORDINATOR_COUNTS[:6]
    return {row[0]: Counter(dict(zip(names, row[1:], strict=True))) for row in rows}


def _nomination_counts(program_ids: sa.Select[tuple[int]] | None) -> dict[int, Counter[str]]:
    """Count the nominations waiting on the partner and those it answered lately."""
    since = utcnow() - timedelta(days=RECENT_ANSWER_DAYS)
    rows = db.session.execute(
        sa.select(
            Nomination.program_id,
            _count(Nomination.answer == Answer.PENDING),
            _count(sa.and_(Nomination.answer == Answer.VERIFIED, Nomination.answered_at >= since)),
            _count(sa.and_(Nomination.answer == Answer.REJECTED, Nomination.answered_at >= since)),
        )
        .where(*_in_scope(Nomination.program_id, program_ids))
        .group_by(Nomination.program_id)
    ).all()
    names = COORDINATOR_COUNTS[6:]
    return {row[0]: Counter(dict(zip(names, row[1:], strict=True))) for row in rows}


def _reviews_to_do(user: User) -> dict[int, Counter[str]]:
    """Count the user's unscored reviews, per programme: the "to do" rows of their list."""
    rows = db.session.execute(
        sa.select(Application.program_id, sa.func.count())
        .select_from(Review)
        .join(Application, Application.id == Review.application_id)
        .where(
            Review.reviewer_id == user.id,
            Review.submitted_at.is_(None),
        )
        .group_by(Application.program_id)
    ).all()
    return {program_id: Counter(reviews_to_do=n) for program_id, n in rows}


def _answers_due(user: User) -> dict[int, Counter[str]]:
    """Count the nominations the partner's university receives and may answer (can_answer_*)."""
    if user.institution_id is None:
        return {}
    rows = db.session.execute(
        sa.select(Nomination.program_id, sa.func.count())
        .where(
            Nomination.receiving_hei_id == user.institution_id,
            Nomination.answer == Answer.PENDING,
        )
        .group_by(Nomination.program_id)
    ).all()
    return {program_id: Counter(to_answer=n) for program_id, n in rows}


def _merge(*parts: dict[int, Counter[str]]) -> list[ProgrammeWork]:
    """Join per-programme counters with their programmes (one query), by title."""
    counts: dict[int, Counter[str]] = {}
    for part in parts:
        for program_id, counter in part.items():
            counts.setdefault(program_id, Counter()).update(counter)
    counts = {pid: c for pid, c in counts.items() if any(c.values())}
    if not counts:
        return []
    programs = db.session.scalars(sa.select(Program).where(Program.id.in_(counts))).all()
    work = [ProgrammeWork(program, counts[program.id]) for program in programs]
    return sorted(work, key=lambda w: (w.program.title().casefold(), w.program.id))


def _totals(work: list[ProgrammeWork]) -> Counter[str]:
    totals: Counter[str] = Counter()
    for item in work:
        totals.update(item.counts)
    return totals


def _unstaffed() -> list[Program]:
    """Return the programmes no coordinator is named on (only an administrator can fix them)."""
    coordinated = sa.select(ProgramStaff.program_id).where(ProgramStaff.role == "coordinator")
    return list(
        db.session.scalars(
            sa.select(Program).where(Program.id.not_in(coordinated)).order_by(Program.id)
        )
    )


def home_for(user: User) -> Home:
    """Count what waits for the user, by role, in a fixed number of queries."""
    if user.role in (Role.COORDINATOR, Role.ADMIN):
        scope = managed_program_ids(user)
        work = _merge(_application_counts(scope), _nomination_counts(scope), _reviews_to_do(user))
        unstaffed = _unstaffed() if user.role == Role.ADMIN else []
        return Home(user.role, work, _totals(work), unstaffed)
    if user.role == Role.REVIEWER:
        work = _merge(_reviews_to_do(user))
    elif user.role == Role.PARTNER:
        work = _merge(_answers_due(user))
    else:
        work = []
    return Home(user.role, work, _totals(work))
