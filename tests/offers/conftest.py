"""A programme with a coordinator, accepted applicants in four languages, and a waiting list."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from portal.applications.models import Application
from portal.applications.services import snapshot_profile
from portal.applications.states import State
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.programs.models import ProgramStaff
from tests import factories

# (e-mail, locale, native given, native family, latin given, latin family, script)
STUDENTS = [
    ("aigerim@example.kz", "kk", "Әйгерім", "Сейітқалиева", "AIGERIM", "SEITKALIYEVA", "kk"),
    ("ivan@example.ru", "ru", "Иван", "Щукин", "IVAN", "SHCHUKIN", "ru"),
    ("nurzat@example.kg", "ky", "Нурзат", "Өмүрбекова", "NURZAT", "OMURBEKOVA", "ky"),
    ("sam@example.org", "en", "", "", "SAM", "TAYLOR", None),
]


@dataclass
class Offers:
    program_id: int
    coordinator: str
    other_coordinator: str
    reviewer: str
    accepted: dict[str, int] = field(default_factory=dict)
    waitlisted: str = "wait@example.kz"
    waitlisted_id: int = 0


def _applicant(program, email, locale, ng, nf, lg, lf, script, state):
    student = factories.user(email=email, locale=locale)
    profile = factories.complete_profile(
        student,
        native_given_names=ng or None,
        native_family_name=nf or None,
        native_name_lang=script,
        latin_given_names=lg,
        latin_family_name=lf,
    )
    application = Application(
        student=student,
        program=program,
        state=state,
        motivation="I want to study glaciers in the Altai. " * 8,
        submitted_at=utcnow(),
        profile_snapshot=snapshot_profile(profile),
    )
    db.session.add(application)
    db.session.commit()
    return application.id


@pytest.fixture
def offers(app) -> Offers:
    """Four accepted applicants (kk, ru, ky, en) and one waitlisted, on a full programme."""
    return build_offers(app)


def build_offers(app) -> Offers:
    """Make four accepted applicants (kk, ru, ky, en) and one waitlisted, on a full programme."""
    with app.app_context():
        host = factories.institution(
            schac="vku.edu.kz",
            names={
                "en": "Sarsen Amanzholov East Kazakhstan University",
                "kk": "С. Аманжолов атындағы Шығыс Қазақстан университеті",
                "ru": "Восточно-Казахстанский университет имени С. Аманжолова",
                "ky": "С. Аманжолов атындагы Чыгыш Казакстан университети",
            },
            city={"en": "Öskemen", "kk": "Өскемен", "ru": "Усть-Каменогорск", "ky": "Өскемен"},
        )
        program = factories.program(
            host,
            seats=4,
            titles={
                "en": "Altai Summer School in Geoecology",
                "kk": "Геоэкология бойынша Алтай жазғы мектебі",
                "ru": "Алтайская летняя школа по геоэкологии",
                "ky": "Геоэкология боюнча Алтай жайкы мектеби",
            },
            place={"en": "Öskemen and Katonkaragay", "kk": "Өскемен және Катонқарағай"},
        )
        coordinator = factories.user(Role.COORDINATOR, email="coord@vku.edu.kz", institution=host)
        other = factories.user(Role.COORDINATOR, email="other@vku.edu.kz", institution=host)
        reviewer = factories.user(Role.REVIEWER, email="rev@vku.edu.kz", institution=host)
        other_program = factories.program(host)
        db.session.add_all(
            [
                ProgramStaff(program=program, user=coordinator, role="coordinator"),
                ProgramStaff(program=program, user=reviewer, role="reviewer"),
                ProgramStaff(program=other_program, user=other, role="coordinator"),
            ]
        )
        db.session.commit()
        setup = Offers(program.id, coordinator.email, other.email, reviewer.email)
        for row in STUDENTS:
            setup.accepted[row[1]] = _applicant(program, *row, State.ACCEPTED.value)
        setup.waitlisted_id = _applicant(
            program, setup.waitlisted, "kk", "Данияр", "Оспанов", "DANIYAR", "OSPANOV", "kk",
            State.WAITLISTED.value,
        )
        return setup
