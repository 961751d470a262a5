"""The public catalogue and the page of each programme."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from portal.applications.queries import application_for
from portal.extensions import db
from portal.i18n import current_locale
from portal.profiles.queries import load_profile
from portal.programs.eligibility import check_eligibility
from portal.programs.forms import CatalogueForm
from portal.programs.models import DOCUMENT_KINDS, KIND_LABELS
from portal.programs.queries import (
    CatalogueFilters,
    catalogue_query,
    host_countries,
    program_by_slug,
    program_languages,
)
from portal.reference import BROAD_FIELDS, country_name, language_name

bp = Blueprint("programs", __name__, url_prefix="/programs")


@bp.get("")
def catalogue() -> str:
    """List programmes, filtered and searched."""
    locale = current_locale()
    form = CatalogueForm(request.args)
    form.kind.choices = [("", "—")] + [(k.value, str(v)) for k, v in KIND_LABELS.items()]
    form.country.choices = [("", "—")] + [(c, country_name(c, locale)) for c in host_countries()]
    form.language.choices = [("", "—")] + sorted(
        ((code, language_name(code, locale)) for code in program_languages()),
        key=lambda pair: pair[1],
    )
    form.field.choices = [("", "—")] + [
        (code, f"{code} {name}") for code, name in BROAD_FIELDS.items()
    ]
    filters = CatalogueFilters()
    if form.validate():
        filters = CatalogueFilters(
            q=form.q.data or "",
            kind=form.kind.data,
            country=form.country.data,
            language=form.language.data,
            field=form.field.data,
            open_now=bool(form.open_now.data),
        )
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > 10_000:
        abort(404)
    pagination = db.paginate(
        catalogue_query(filters),
        page=page,
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    # Page links repeat the filters, and nothing else a visitor put in the address.
    page_args = {
        name: value
        for name in ("q", "kind", "country", "language", "field", "open_now")
        if (value := request.args.get(name))
    }
    return render_template(
        "programs/catalogue.html",
        form=form,
        pagination=pagination,
        kind_labels=KIND_LABELS,
        page_args=page_args,
    )


@bp.get("/<slug>")
def detail(slug: str) -> str:
    """Show one programme: what, where, when, for whom, and the deadline in two time zones."""
    program = program_by_slug(slug)
    if program is None:
        abort(404)
    application = None
    checks = None
    if current_user.is_authenticated and current_user.role == "student":
        application = application_for(current_user, program)
        checks = check_eligibility(program, load_profile(current_user._get_current_object()))
    return render_template(
        "programs/detail.html",
        program=program,
        application=application,
        checks=checks,
        kind_labels=KIND_LABELS,
        document_kinds=DOCUMENT_KINDS,
    )
