"""Saving a student's profile."""

from __future__ import annotations

from portal.auth.models import User
from portal.extensions import db
from portal.profiles.forms import ProfileForm
from portal.profiles.models import LanguageSkill, StudentProfile


def get_or_create_profile(user: User) -> StudentProfile:
    """Return the user's profile, making an empty one the first time."""
    if user.profile is None:
        user.profile = StudentProfile(user_id=user.id)
        db.session.add(user.profile)
    return user.profile


def save_profile(user: User, form: ProfileForm) -> StudentProfile:
    """Store a validated profile form; fields left empty are stored empty."""
    profile = get_or_create_profile(user)
    for name in (
        "native_given_names",
        "native_family_name",
        "native_name_lang",
        "latin_given_names",
        "latin_family_name",
        "birth_date",
        "citizenship",
        "national_id",
        "passport_number",
        "phone",
        "faculty",
        "isced_code",
        "year_of_study",
        "gpa",
        "gpa_scale",
    ):
        value = getattr(form, name).data
        setattr(profile, name, value if value not in ("",) else None)
    profile.gender = int(form.gender.data) if form.gender.data else None
    profile.study_level = int(form.study_level.data) if form.study_level.data else None
    if form.home_institution.data and form.home_institution.data > 0:
        profile.home_institution_id = form.home_institution.data
        profile.home_institution_other = None
    else:
        profile.home_institution_id = None
        profile.home_institution = None
        profile.home_institution_other = form.home_institution_other.data or None
    profile.gpa_normalized = form.normalized_gpa()
    wanted = {
        entry.language.data: entry.level.data
        for entry in form.languages.entries
        if entry.language.data and entry.level.data
    }
    for skill in list(profile.languages):
        if skill.language not in wanted:
            profile.languages.remove(skill)
        else:
            skill.level = wanted.pop(skill.language)
    for language, level in wanted.items():
        profile.languages.append(LanguageSkill(language=language, level=level))
    return profile
