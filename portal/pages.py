"""The home page."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal.programs.models import KIND_LABELS
from portal.programs.queries import open_programs

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str:
    """Show what the portal is and the programmes open now."""
    return render_template("index.html", programs=open_programs(limit=6), kind_labels=KIND_LABELS)
