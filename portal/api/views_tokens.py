"""Partners make, see and revoke their institution's API tokens; they are warned before one ends."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from portal.access import load_or_404, role_required
from portal.api import queries
from portal.api.models import DEFAULT_LIFETIME_DAYS, EXPIRY_WARNING, LIFETIME_DAYS, ApiToken
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.forms import KopirForm, NoMarkup, clean_line

bp = Blueprint("tokens", __name__, url_prefix="/partner/tokens")


class TokenForm(KopirForm):
    """Name a new token after the system that will use it."""

    name = StringField(
        _l("What will use the token?"),
        validators=[DataRequired(), Length(max=80), NoMarkup()],
        filters=[clean_line],
    )
    lifetime = SelectField(
        _l("Valid for"),
        coerce=int,
        default=DEFAULT_LIFETIME_DAYS,
        description=_l("When it ends, make a new token and put it in place of the old one."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Offer the lifetimes in the user's language."""
        super().__init__(*args, **kwargs)
        self.lifetime.choices = [
            (days, ngettext("%(num)d day", "%(num)d days", days)) for days in LIFETIME_DAYS
        ]


class RevokeTokenForm(KopirForm):
    """Revoke a token: only a CSRF token."""


def _own(token: ApiToken) -> bool:
    return token.institution_id == current_user.institution_id


def _page(form: TokenForm, new_token: str | None = None, status: int = 200):
    tokens = queries.tokens_of(current_user.institution_id)
    return (
        render_template(
            "api/tokens.html",
            form=form,
            tokens=tokens,
            new_token=new_token,
            revoke_form=RevokeTokenForm(),
        ),
        status,
    )


@bp.get("")
@role_required(Role.PARTNER)
def index():
    """List the institution's tokens, with the form that makes one."""
    if current_user.institution_id is None:
        abort(404)
    return _page(TokenForm())


@bp.post("")
@role_required(Role.PARTNER)
def create():
    """Make a token and show it once."""
    if current_user.institution_id is None:
        abort(404)
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    _row, token = ApiToken.issue(
        current_user.institution_id, form.name.data, current_user.id, form.lifetime.data
    )
    db.session.flush()
    body, status = _page(TokenForm(formdata=None), new_token=token)
    # The token is on this page only: no cache may keep it.
    return body, status, {"Cache-Control": "no-store"}


@bp.post("/<int:token_id>/revoke")
@role_required(Role.PARTNER)
def revoke(token_id: int) -> Response:
    """Revoke a token at once."""
    token = load_or_404(ApiToken, token_id, _own)
    if not RevokeTokenForm().validate_on_submit():
        abort(400)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    flash(_("The token is revoked."), "info")
    return redirect(url_for("tokens.index"))


@bp.app_context_processor
def _token_warnings() -> dict[str, Any]:
    def api_tokens_ending_soon() -> list[ApiToken]:
        """Return the partner's working tokens that end within the warning period."""
        if (
            not current_user.is_authenticated
            or current_user.role != Role.PARTNER
            or current_user.institution_id is None
        ):
            return []
        return list(queries.ending_soon(current_user.institution_id))

    return {
        "api_tokens_ending_soon": api_tokens_ending_soon,
        "api_token_warning_days": EXPIRY_WARNING.days,
    }
