"""Whether a student may apply to a programme, with a reason for every rule."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _

from portal.i18n import current_locale, number
from portal.profiles.models import StudentProfile
from portal.programs.models import Program
from portal.reference import EQF_LEVELS, cefr_at_least, country_name, language_name


@dataclass(frozen=True)
class Check:
    """One rule of the programme and whether the student meets it."""

    rule: str
    ok: bool
    message: str


def check_eligibility(program: Program, profile: StudentProfile | None) -> list[Check]:
    """Return every eligibility rule of the programme with the student's verdict."""
    locale = current_locale()
    checks: list[Check] = []
    if program.eligible_levels:
        levels = ", ".join(str(EQF_LEVELS[level]) for level in sorted(program.eligible_levels))
        level = profile.study_level if profile else None
        if level is None:
            checks.append(
                Check(
                    "level",
                    False,
                    _(
                        "Study level: open to %(levels)s; your profile "
                        "does not say your level yet.",
                        levels=levels,
                    ),
                )
            )
        else:
            ok = level in program.eligible_levels
            checks.append(
                Check(
                    "level",
                    ok,
                    _(
                        "Study level: open to %(levels)s; you are %(yours)s.",
                        levels=levels,
                        yours=EQF_LEVELS[level],
                    ),
                )
            )
    if program.min_gpa is not None:
        gpa = profile.gpa_normalized if profile else None
        minimum = Decimal(program.min_gpa)
        shown_min = number(minimum)
        if gpa is None:
            checks.append(
                Check(
                    "gpa",
                    False,
                    _(
                        "Grades: at least %(min)s of 100 required; your profile has no GPA yet.",
                        min=shown_min,
                    ),
                )
            )
        else:
            checks.append(
                Check(
                    "gpa",
                    gpa >= minimum,
                    _(
                        "Grades: at least %(min)s of 100 required; yours is %(yours)s of 100.",
                        min=shown_min,
                        yours=number(gpa),
                    ),
                )
            )
    if program.required_language and program.required_cefr:
        language = language_name(program.required_language, locale)
        level = profile.language_level(program.required_language) if profile else None
        ok = level is not None and cefr_at_least(level, program.required_cefr)
        if level is None:
            message = _(
                "Language: %(language)s at level %(min)s or higher; your profile does not list it.",
                language=language,
                min=program.required_cefr,
            )
        else:
            shown = _("native") if level == "native" else level
            message = _(
                "Language: %(language)s at level %(min)s or higher; yours is %(yours)s.",
                language=language,
                min=program.required_cefr,
                yours=shown,
            )
        checks.append(Check("language", ok, message))
    if program.citizenships:
        names = ", ".join(country_name(code, locale) for code in program.citizenships)
        citizenship = profile.citizenship if profile else None
        checks.append(
            Check(
                "citizenship",
                citizenship in program.citizenships,
                _("Citizenship: open to citizens of %(countries)s.", countries=names),
            )
        )
    return checks


def is_eligible(program: Program, profile: StudentProfile | None) -> bool:
    """Tell whether the student meets every rule."""
    return all(check.ok for check in check_eligibility(program, profile))
