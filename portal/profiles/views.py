"""The student's profile page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.access import role_required
from portal.applications.services import profile_gaps as missing_for_applying
from portal.auth.models import Role
from portal.auth.views import safe_next
from portal.extensions import db
from portal.i18n import current_locale
from portal.identity import suggest_latin_name
from portal.institutions.models import Institution
from portal.profiles.forms import ID_HINTS, ProfileForm
from portal.profiles.services import save_profile
from portal.reference import (
    country_choices,
    eqf_choices,
    gender_choices,
    gpa_choices,
    isced_grouped_choices,
    language_choices,
)

bp = Blueprint("profiles", __name__, url_prefix="/profile")


def build_form() -> ProfileForm:
    """Make the profile form with its choices in the user's language, filled from the profile."""
    locale = current_locale()
    profile = current_user.profile
    form = ProfileForm(obj=profile)
    form.gender.choices = [("", "—")] + [(str(k), v) for k, v in gender_choices()]
    form.citizenship.choices = [("", "—")] + country_choices(locale)
    form.study_level.choices = [("", "—")] + [(str(k), v) for k, v in eqf_choices()]
    form.isced_code.choices = [("", "—")] + [
        (code, label) for group in isced_grouped_choices().values() for code, label in group
    ]
    form.gpa_scale.choices = [("", "—")] + gpa_choices()
    institutions = db.session.scalars(sa.select(Institution)).all()
    form.home_institution.choices = (
        [(0, "—")]
        + sorted(((i.id, i.name(locale)) for i in institutions), key=lambda pair: pair[1])
        + [(-1, _("Other (type the name below)"))]
    )
    languages = [("", "—")] + language_choices(locale)
    for entry in form.languages.entries:
        entry.form.language.choices = languages
    if form.native_name_lang.data is None:
        # A stored "automatic" is NULL, which WTForms does not coerce: it is the empty choice.
        form.native_name_lang.data = ""
    if profile is not None and request.method == "GET":
        form.native_name_lang.data = profile.chosen_name_alphabet or ""
        form.gender.data = str(profile.gender) if profile.gender is not None else ""
        form.study_level.data = str(profile.study_level) if profile.study_level else ""
        if profile.home_institution_id:
            form.home_institution.data = profile.home_institution_id
        elif profile.home_institution_other:
            form.home_institution.data = -1
        for entry, skill in zip(form.languages.entries, profile.languages, strict=False):
            entry.form.language.data = skill.language
            entry.form.level.data = skill.level
    return form


@bp.route("/", methods=["GET", "POST"])
@role_required(Role.STUDENT)
def edit() -> str | Response:
    """Show and save the student's profile."""
    form = build_form()
    if request.method == "POST" and form.validate():
        save_profile(current_user, form)
        flash(_("Your profile is saved."), "success")
        # Back to the application the student came from, if any (same-site paths only).
        return redirect(safe_next(request.args.get("next"), fallback="profiles.edit"))
    if request.method == "POST":
        flash(_("Please correct the fields marked below; nothing was saved yet."), "danger")
    profile = current_user.profile
    suggestion = None
    if profile is not None and profile.native_name:
        suggestion = suggest_latin_name(profile.native_name, profile.native_name_alphabet)
    return render_template(
        "profiles/edit.html",
        form=form,
        suggestion=suggestion,
        id_hints=ID_HINTS,
    ), (422 if request.method == "POST" else 200)


@bp.app_template_global()
def profile_gaps() -> list[str]:
    """Name what the current student's profile lacks for applying ([] for anyone else)."""
    if not current_user.is_authenticated or current_user.role != Role.STUDENT:
        return []
    return missing_for_applying(current_user.profile)


@bp.get("/transliterate")
@role_required(Role.STUDENT)
def transliterate() -> Response:
    """Suggest a Latin spelling for a name in Cyrillic."""
    text = request.args.get("text", "")[:200]
    lang = request.args.get("lang", "ru")
    if lang not in ("ru", "kk", "ky"):
        lang = "ru"
    return jsonify({"latin": suggest_latin_name(text, lang)})
