"""The home page, and each staff member's home: what waits for them."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from portal.access import role_required
from portal.auth.models import STAFF_ROLES
from portal.homes import home_for
from portal.programs.models import KIND_LABELS
from portal.programs.queries import open_programs

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str:
    """Show what the portal is and the programmes open now."""
    return render_template("index.html", programs=open_programs(limit=6), kind_labels=KIND_LABELS)


@bp.get("/home")
@role_required(*STAFF_ROLES)
def home() -> str:
    """Show a staff member what waits for them, with links to each list."""
    return render_template("home.html", home=home_for(current_user))
