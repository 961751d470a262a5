"""Read-only queries over applications."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.applications.models import Application
from portal.auth.models import User
from portal.extensions import db
from portal.programs.models import Program


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
