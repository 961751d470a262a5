"""List pages run a fixed number of SQL queries, whatever the number of rows."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from portal.applications.models import Application, ApplicationEvent
from portal.db import utcnow
from portal.extensions import db
from tests import factories


@contextmanager
def counted(app):
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_dashboard_query_count_does_not_grow_with_applications(app, browser):
    with app.app_context():
        student = factories.user(email="many@example.kz")
        factories.complete_profile(student)
        student_id = student.id
    browser.login("many@example.kz", factories.PASSWORD)

    def add_applications(n: int) -> int:
        with app.app_context():
            for _ in range(n):
                program = factories.program()
                application = Application(
                    student_id=student_id,
                    program=program,
                    answers={},
                    state="submitted",
                    submitted_at=utcnow(),
                )
                application.events.append(
                    ApplicationEvent(actor_role="student", from_state="draft", to_state="submitted")
                )
                db.session.add(application)
            db.session.commit()
        with counted(app) as statements:
            assert browser.get("/applications/").status_code == 200
        return len(statements)

    one = add_applications(1)
    ten = add_applications(9)
    assert one == ten
    assert ten <= 6
