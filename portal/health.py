"""The health check used by load balancers and monitoring."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Answer whether the portal and its database respond."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        reason = type(exc.orig or exc).__name__ if isinstance(exc, sa.exc.DBAPIError) else "error"
        return jsonify({"status": "error", "database": "unavailable", "reason": reason}), 503
    return jsonify({"status": "ok", "database": "ok"})
