"""Read-only queries over applications."""

from __future__ import annotations

import functools

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.applications.models import Application
from portal.applications.states import State
from portal.auth.models import User
from portal.extensions import db
from portal.programs.models import Program


@functools.cache  # loader options are immutable: made once, not on every step page
def step_page_loads(*, documents: bool = False) -> tuple[so.interfaces.LoaderOption, ...]:
    """Return loader options that read a page of the student's application in one round trip.

    Every step shows the programme's title, host and deadline and counts its questions; the
    documents page and the review also list the documents (a handful of rows each: joined).
    """
    program = so.joinedload(Application.program)
    options = [program.joinedload(Program.host), program.joinedload(Program.questions)]
    if documents:
        options.append(so.joinedload(Application.documents))
    return tuple(options)


def application_for(user: User, program: Program) -> Application | None:
    """Return the student's application to the programme, if any."""
    return db.session.scalar(
        sa.select(Application).where(
            Application.student_id == user.id, Application.program_id == program.id
        )
    )


def student_applications(user: User) -> list[Application]:
    """Return the student's applications with programme, host and events, newest first.

    Loads everything the dashboard shows in a fixed number of queries, whatever the count.
    """
    return list(
        db.session.scalars(
            sa.select(Application)
            .where(Application.student_id == user.id)
            .options(
                so.joinedload(Application.program).joinedload(Program.host),
                so.selectinload(Application.events),
            )
            .order_by(Application.created_at.desc(), Application.id.desc())
        ).unique()
    )


def submitted_applications_of(student_ids: list[int]) -> list[Application]:
    """Return the students' applications past the draft, with their programmes, oldest first."""
    if not student_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Application)
            .where(Application.student_id.in_(student_ids), Application.state != State.DRAFT)
            .options(so.joinedload(Application.program))
            .order_by(Application.id)
        )
    )


def selected_applications(program: Program, ids: list[int]) -> list[Application]:
    """Return the programme's applications past the draft among the ids, best score first.

    With the applicant and their profile loaded: a decision's preview reads both for every row
    (seat quotas go by home university), and must not ask once per row.
    """
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Application)
            .where(
                Application.program_id == program.id,
                Application.id.in_(ids),
                Application.state != State.DRAFT.value,
            )
            .options(so.joinedload(Application.student).joinedload(User.profile))
            .order_by(Application.score.desc().nulls_last(), Application.id)
        )
    )
