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


# The staff home (portal/homes.py): the user, then per role one grouped query per list family
# and one for the programmes' titles; an administrator adds the programmes with no coordinator.
HOME_QUERIES = {
    "coordinator": 5,  # user, applications, nominations, own reviews, programmes
    "admin": 6,  # the same, and the programmes without a coordinator
    "reviewer": 3,  # user, reviews, programmes
    "partner": 3,  # user, nominations to answer, programmes
}


def test_staff_home_query_count_does_not_grow_with_programmes_or_applications(app):
    from datetime import timedelta

    from portal.applications.services import snapshot_profile
    from portal.auth.models import Role, User
    from portal.institutions.models import Institution
    from portal.nominations import services as nominations
    from portal.programs.models import ProgramStaff
    from portal.reviews.models import Review
    from tests.applications.test_staff_home import _offer
    from tests.conftest import Browser

    with app.app_context():
        host = factories.institution(schac="host.kg", country="KG")
        home = factories.institution(schac="home.kz")
        staff = {
            "coordinator": factories.user(Role.COORDINATOR, email="count-coord@example.kz"),
            "admin": factories.user(Role.ADMIN, email="count-admin@example.kz"),
            "reviewer": factories.user(Role.REVIEWER, email="count-rev@example.kz"),
            "partner": factories.user(
                Role.PARTNER, email="count-partner@host.kg", institution=host
            ),
        }
        students = []
        for n in range(4):
            student = factories.user(email=f"count-student{n}@example.kz")
            factories.complete_profile(student, home_institution=home)
            students.append(student.id)
        ids = {role: user.id for role, user in staff.items()}
        emails = {role: user.email for role, user in staff.items()}
        host_id = host.id
    browsers = {}
    for role, email in emails.items():
        browsers[role] = Browser(app.test_client())
        browsers[role].login(email, factories.PASSWORD)

    def grow(programmes: int) -> None:
        """Add programmes with an application in every waiting state, a review, a nomination."""
        with app.app_context():
            coordinator = db.session.get(User, ids["coordinator"])
            for _ in range(programmes):
                program = factories.program(db.session.get(Institution, host_id))
                for role in ("coordinator", "reviewer"):
                    db.session.add(ProgramStaff(program=program, user_id=ids[role], role=role))
                made = []
                for student_id, state in zip(
                    students, ("submitted", "under_review", "offered", "confirmed"), strict=True
                ):
                    application = Application(
                        student_id=student_id,
                        program=program,
                        state=state,
                        submitted_at=utcnow(),
                    )
                    db.session.add(application)
                    db.session.flush()
                    application.profile_snapshot = snapshot_profile(application.student.profile)
                    made.append(application)
                db.session.add(Review(application=made[1], reviewer_id=ids["reviewer"]))
                db.session.commit()
                _offer(made[2], timedelta(days=2))
                nominations.nominate(made[3], actor=coordinator)
                db.session.commit()

    def measure() -> dict[str, int]:
        counts = {}
        for role, browser in browsers.items():
            with counted(app) as statements:
                response = browser.get("/home")
                assert response.status_code == 200, role
            counts[role] = len(statements)
        return counts

    grow(1)
    one = measure()
    grow(4)
    five = measure()
    assert one == five == HOME_QUERIES


def test_bulk_preview_query_count_does_not_grow_with_the_selection(app):
    from portal.auth.models import Role
    from portal.institutions.models import Institution
    from portal.programs.models import ProgramQuota, ProgramStaff
    from tests.conftest import Browser

    with app.app_context():
        host = factories.institution(schac="bulk.kz", country="KZ")
        homes = [factories.institution(schac=f"home{n}.kz") for n in range(2)]
        program = factories.program(host, seats=3)
        program.quotas.append(ProgramQuota(institution=homes[0], seats=1))
        coordinator = factories.user(Role.COORDINATOR, email="bulk-coord@example.kz")
        db.session.add(ProgramStaff(program=program, user=coordinator, role="coordinator"))
        db.session.commit()
        program_id, home_ids = program.id, [h.id for h in homes]
    browser = Browser(app.test_client())
    browser.login("bulk-coord@example.kz", factories.PASSWORD)
    ids: list[int] = []

    def preview(more: int) -> int:
        with app.app_context():
            for _ in range(more):
                n = len(ids)
                student = factories.user(email=f"bulk{n}@example.kz")
                home = db.session.get(Institution, home_ids[n % 2])
                factories.complete_profile(student, home_institution=home)
                application = Application(
                    student=student, program_id=program_id, answers={},
                    state="submitted", submitted_at=utcnow(),
                )  # fmt: skip
                db.session.add(application)
                db.session.commit()
                ids.append(application.id)
        browser.get(f"/staff/programs/{program_id}/queue")
        with counted(app) as statements:
            response = browser.post(
                f"/staff/programs/{program_id}/bulk",
                {"target": "accepted", "ids": [str(i) for i in ids]},
            )
            assert response.status_code == 200
        return len(statements)

    assert preview(2) == preview(8)


# Every page a student passes through on the way to a submitted application, and what it runs:
# the user (Flask-Login) first, then the page's own reads. A step page reads the application with
# its programme, host, questions (and documents where it lists them) in one joined query.
STUDENT_PAGE_QUERIES = {
    "/": 3,  # open programmes with their hosts, user, profile (the nudge to complete it)
    "/programs": 3,  # user, count, page (the filter choices are cached: portal/readcache.py)
    "/programs/altai": 5,  # programme and host, user, application, profile (languages, home)
    "profile": 3,  # user, application, profile with its languages and home university
    "motivation": 2,  # user, application
    "questions": 2,
    "documents": 2,
    "review": 3,  # user, application with its documents, profile
    # The application's own page: user, application with programme, host, questions and
    # documents, its timeline, its letters (the standing one among them), its nomination.
    "": 5,
}


def test_student_pages_run_a_pinned_number_of_queries(app, browser, setup):
    from tests.applications.test_journey import start, upload
    from tests.documents.corpus import make_pdf

    browser.login(setup.student_email, factories.PASSWORD)
    app_id = start(browser)
    upload(browser, app_id, "passport", make_pdf(), "passport.pdf")
    browser.get("/programs")  # the first view fills the cache of the filter choices
    counts = {}
    for page in STUDENT_PAGE_QUERIES:
        url = page if page.startswith("/") else f"/applications/{app_id}/{page}".rstrip("/")
        with counted(app) as statements:
            assert browser.get(url).status_code == 200, url
        counts[page] = len([s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))])
    assert counts == STUDENT_PAGE_QUERIES
