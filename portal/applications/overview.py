"""The numbers behind a coordinator's dashboard: by state, country, university and week."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from portal.applications.decisions import Seats, count_seats
from portal.applications.models import Application
from portal.applications.states import State
from portal.extensions import db
from portal.institutions.models import Institution
from portal.profiles.models import StudentProfile
from portal.programs.models import Program


@dataclass
class Overview:
    """Counts for one programme (or several), ready for charts and tables."""

    by_state: list[tuple[str, int]]
    by_citizenship: list[tuple[str, int]]
    by_home: list[tuple[str, int]]
    by_week: list[tuple[date, int]]
    seats: list[tuple[Program, Seats]]


def _submitted(program_ids: sa.Select[tuple[int]] | list[int] | None) -> list[sa.ColumnElement]:
    clauses: list[sa.ColumnElement] = [Application.state != State.DRAFT.value]
    if program_ids is not None:
        clauses.append(Application.program_id.in_(program_ids))
    return clauses


def overview(program_ids: sa.Select[tuple[int]] | list[int] | None, locale: str) -> Overview:
    """Count the submitted applications of the programmes (None: all) four ways."""
    where = _submitted(program_ids)
    by_state = db.session.execute(
        sa.select(Application.state, sa.func.count()).where(*where).group_by(Application.state)
    ).all()
    by_citizenship = db.session.execute(
        sa.select(StudentProfile.citizenship, sa.func.count())
        .select_from(Application)
        .outerjoin(StudentProfile, StudentProfile.user_id == Application.student_id)
        .where(*where)
        .group_by(StudentProfile.citizenship)
    ).all()
    home_rows = db.session.execute(
        sa.select(Institution, StudentProfile.home_institution_other, sa.func.count())
        .select_from(Application)
        .outerjoin(StudentProfile, StudentProfile.user_id == Application.student_id)
        .outerjoin(Institution, Institution.id == StudentProfile.home_institution_id)
        .where(*where)
        .group_by(Institution.id, StudentProfile.home_institution_other)
    ).all()
    homes: Counter[str] = Counter()
    for institution, other, count in home_rows:
        homes[institution.name(locale) if institution else (other or "—")] += count
    weeks: Counter[date] = Counter()
    for (submitted,) in db.session.execute(
        sa.select(Application.submitted_at).where(*where, Application.submitted_at.is_not(None))
    ):
        day = submitted.date()
        weeks[day - timedelta(days=day.weekday())] += 1
    programs_query = sa.select(Program).order_by(Program.id)
    if program_ids is not None:
        programs_query = programs_query.where(Program.id.in_(program_ids))
    programs = db.session.scalars(programs_query).all()
    order = {state.value: i for i, state in enumerate(State)}
    return Overview(
        by_state=sorted(((s, n) for s, n in by_state), key=lambda row: order[row[0]]),
        by_citizenship=sorted(((c or "—", n) for c, n in by_citizenship), key=lambda r: -r[1]),
        by_home=homes.most_common(),
        by_week=sorted(weeks.items()),
        seats=[(program, count_seats(program)) for program in programs],
    )
