"""Factories for the models, bound to the app's session; each commits, as a request would."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from itertools import count
from zoneinfo import ZoneInfo

from portal.auth.models import Role, User
from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.profiles.models import LanguageSkill, StudentProfile
from portal.programs.models import Program, ProgramQuestion

PASSWORD = "correct horse battery"
_seq = count(1)


@cache
def password_hash() -> str:
    """Hash PASSWORD once per test process, with the portal's own function and parameters.

    A hash costs about 20 ms here, and the suite makes thousands of accounts; each still
    gets a real hash that logging in checks, only not a fresh salt of its own.
    """
    user = User()
    user.set_password(PASSWORD)
    return user.password_hash


def institution(**values: object) -> Institution:
    n = next(_seq)
    data = {
        "schac": f"uni{n}.edu.kz",
        "names": {"en": f"University {n}", "ru": f"Университет {n}", "kk": f"Университет {n}"},
        "country": "KZ",
        "city": {"en": "Öskemen", "kk": "Өскемен"},
        "timezone": "Asia/Almaty",
    }
    data.update(values)
    obj = Institution(**data)
    db.session.add(obj)
    db.session.commit()
    return obj


def user(role: str = Role.STUDENT, *, verified: bool = True, **values: object) -> User:
    n = next(_seq)
    data: dict[str, object] = {
        "email": f"user{n}@example.kz",
        "role": role,
        "locale": "en",
        "verified_at": utcnow() if verified else None,
    }
    data.update(values)
    obj = User(**data)
    obj.password_hash = password_hash()
    db.session.add(obj)
    db.session.commit()
    return obj


def complete_profile(student: User, **values: object) -> StudentProfile:
    home = values.pop("home_institution", None) or institution()
    data: dict[str, object] = {
        "native_given_names": "Әлихан",
        "native_family_name": "Бөкейханов",
        "native_name_lang": "kk",
        "latin_given_names": "ALIKHAN",
        "latin_family_name": "BOKEIKHANOV",
        "birth_date": date(2003, 5, 17),
        "gender": 1,
        "citizenship": "KZ",
        "national_id": "030517300000",
        "passport_number": "N12345678",
        "phone": "+77011234567",
        "home_institution": home,
        "faculty": "Faculty of Natural Sciences",
        "study_level": 6,
        "isced_code": "052",
        "year_of_study": 3,
        "gpa": Decimal("3.40"),
        "gpa_scale": "kz4",
        "gpa_normalized": Decimal("85.0"),
    }
    languages = values.pop("languages", [("en", "B2"), ("kk", "native"), ("ru", "C1")])
    data.update(values)
    profile = StudentProfile(user=student, **data)
    profile.languages = [LanguageSkill(language=lang, level=lvl) for lang, lvl in languages]
    db.session.add(profile)
    db.session.commit()
    return profile


def program(host: Institution | None = None, **values: object) -> Program:
    n = next(_seq)
    host = host or institution()
    today = utcnow().date()
    zone = values.get("timezone", host.timezone)
    data: dict[str, object] = {
        "slug": f"programme-{n}",
        "kind": "summer_school",
        "host": host,
        "titles": {"en": f"Programme {n}", "ru": f"Программа {n}", "kk": f"Бағдарлама {n}"},
        "descriptions": {"en": "A programme.", "ru": "Программа."},
        "language": "en",
        "isced_code": "052",
        "starts_on": today + timedelta(days=100),
        "ends_on": today + timedelta(days=120),
        "place": {"en": "Öskemen"},
        "seats": 10,
        "timezone": zone,
        "opens_at": utcnow() - timedelta(days=10),
        "closes_at": utcnow() + timedelta(days=10),
        "eligible_levels": [6, 7],
        "required_documents": ["passport", "transcript"],
    }
    data.update(values)
    questions = data.pop("questions", [])
    obj = Program(**data)
    for position, (kind, prompt) in enumerate(questions, start=1):
        obj.questions.append(
            ProgramQuestion(position=position, kind=kind, prompts={"en": prompt}, choices=[])
        )
    obj.refresh_search_text()
    db.session.add(obj)
    db.session.commit()
    return obj


def local_time(day: date, at: time, zone: str) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone))
