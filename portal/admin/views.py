"""The operator's pages: staff accounts."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.access import role_required
from portal.auth import services
from portal.auth.forms import StaffUserForm
from portal.auth.models import ROLE_LABELS, Role, User
from portal.extensions import db
from portal.i18n import current_locale
from portal.institutions.models import Institution

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def users() -> str | Response:
    """List accounts and create staff accounts."""
    locale = current_locale()
    form = StaffUserForm()
    institutions = db.session.scalars(sa.select(Institution).order_by(Institution.schac)).all()
    form.institution.choices = [(0, "—")] + [(i.id, i.name(locale)) for i in institutions]
    created = None
    status = 200
    if form.validate_on_submit():
        if services.find_user(form.email.data) is not None:
            form.email.errors.append(_("An account with this e-mail already exists."))
            status = 422
        else:
            user, password = services.create_user(
                form.email.data,
                form.role.data,
                password=form.password.data or None,
                institution_id=form.institution.data or None,
            )
            created = (user, password)
            form = StaffUserForm(formdata=None)
            form.institution.choices = [(0, "—")] + [(i.id, i.name(locale)) for i in institutions]
    elif form.is_submitted():
        status = 422
    accounts = db.session.scalars(
        sa.select(User).options(sa.orm.joinedload(User.institution)).order_by(User.role, User.email)
    ).all()
    return render_template(
        "admin/users.html", form=form, accounts=accounts, created=created, role_labels=ROLE_LABELS
    ), status
