"""`flask --app wsgi portal seed-demo` loads usable demo data and can run twice."""

from __future__ import annotations

import sqlalchemy as sa

from portal.auth.models import User
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.institutions.models import Institution
from portal.programs.models import Program


def test_seed_demo_is_idempotent_and_covers_what_the_demo_needs(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["portal", "seed-demo"])
    second = runner.invoke(args=["portal", "seed-demo"])
    assert first.exit_code == second.exit_code == 0, first.output
    assert "student@kopir.demo" in first.output and DEMO_PASSWORD in first.output
    with app.app_context():
        programs = db.session.scalars(sa.select(Program)).all()
        assert len(programs) >= 8
        assert {p.kind for p in programs} == {
            "summer_school",
            "exchange_semester",
            "double_degree",
            "research_internship",
        }
        states = [p.window_state() for p in programs]
        assert "open" in states and "closed" in states and "upcoming" in states
        countries = set(db.session.scalars(sa.select(Institution.country)))
        assert countries == {"KZ", "RU", "KG"}
        assert {u.role for u in db.session.scalars(sa.select(User))} == {
            "student",
            "reviewer",
            "coordinator",
            "partner",
            "admin",
        }
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 14
        from portal.applications.models import Application
        from portal.offers.models import Offer

        # Two students went the whole way to an accepted offer, with real letters, once.
        confirmed = db.session.scalars(
            sa.select(Application).where(Application.state == "confirmed")
        ).all()
        assert len(confirmed) == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Offer)) == 2
        assert {a.program.host.schac for a in confirmed} == {"knu.kg"}
        from portal.profiles.models import StudentProfile

        citizenships = db.session.scalars(
            sa.select(StudentProfile.citizenship)
            .join(Application, Application.student_id == StudentProfile.user_id)
            .where(Application.state == "submitted")
        ).all()
        assert sorted(set(citizenships)) == ["KG", "KZ", "RU"]
        assert all(p.criteria for p in programs)
        for program in programs:
            assert set(program.titles) == {"en", "ru", "kk", "ky"}


def test_demo_student_can_log_in(app, browser):
    app.test_cli_runner().invoke(args=["portal", "seed-demo"])
    response = browser.login("student@kopir.demo", DEMO_PASSWORD)
    assert response.status_code == 302
    assert browser.get("/programs").status_code == 200
