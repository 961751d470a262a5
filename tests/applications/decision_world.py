"""A programme with seats, quotas, staff and three applicants, for the decision tests."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from portal.applications.models import Application
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.mail import OutgoingMail
from portal.programs.models import ProgramQuota, ProgramStaff, RubricCriterion
from tests import factories


def make_programme(app, seats=2, quotas=None, promotion_mode="automatic"):
    """A programme with a coordinator, two reviewers and applicants from KZ, RU and KG."""
    with app.app_context():
        kz = factories.institution(schac="vku.edu.kz", country="KZ")
        ru = factories.institution(schac="nsu.ru", country="RU", timezone="Asia/Novosibirsk")
        kg = factories.institution(schac="knu.kg", country="KG", timezone="Asia/Bishkek")
        program = factories.program(kz, seats=seats, promotion_mode=promotion_mode)
        for position, (name, weight) in enumerate([("Motivation", 2), ("Grades", 1)], start=1):
            program.criteria.append(
                RubricCriterion(
                    position=position, names={"en": name}, weight=Decimal(weight), max_score=10
                )
            )
        coordinator = factories.user(Role.COORDINATOR, email="coord@vku.edu.kz", institution=kz)
        other_coordinator = factories.user(Role.COORDINATOR, email="other@vku.edu.kz")
        reviewer_kz = factories.user(Role.REVIEWER, email="rev@vku.edu.kz", institution=kz)
        reviewer_kg = factories.user(Role.REVIEWER, email="rev@knu.kg", institution=kg)
        db.session.add_all(
            [
                ProgramStaff(program=program, user=coordinator, role="coordinator"),
                ProgramStaff(program=program, user=reviewer_kz, role="reviewer"),
                ProgramStaff(program=program, user=reviewer_kg, role="reviewer"),
            ]
        )
        for schac, count in (quotas or {}).items():
            home = {"vku.edu.kz": kz, "nsu.ru": ru, "knu.kg": kg}[schac]
            program.quotas.append(ProgramQuota(institution=home, seats=count))
        ids = {}
        for key, home, citizenship, locale in (
            ("aru", kz, "KZ", "kk"),
            ("ivan", ru, "RU", "ru"),
            ("aibek", kg, "KG", "ky"),
        ):
            student = factories.user(email=f"{key}@example.org", locale=locale)
            factories.complete_profile(student, home_institution=home, citizenship=citizenship)
            application = Application(
                student=student,
                program=program,
                answers={},
                state="submitted",
                submitted_at=utcnow(),
                motivation="Because.",
            )
            db.session.add(application)
            db.session.commit()
            ids[key] = application.id
        db.session.commit()
        _ = other_coordinator
        return program.id, ids


def state_of(app, application_id):
    with app.app_context():
        return db.session.get(Application, application_id).state


def mails_to(app, email):
    with app.app_context():
        return db.session.scalars(
            sa.select(OutgoingMail.subject).where(OutgoingMail.recipient == email)
        ).all()
