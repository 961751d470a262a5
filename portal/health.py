"""The health check used by load balancers and monitoring."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Answer whether the portal, its database and its task queue respond.

    A database that does not answer makes it 503 (this web process cannot serve). A queue that
    does not answer, or no worker seen lately, is reported as "degraded" with 200: pages still
    work and what they queue waits in the database until the queue is back.
    """
    queue = _queue()
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        reason = type(exc.orig or exc).__name__ if isinstance(exc, sa.exc.DBAPIError) else "error"
        body = {"status": "error", "database": "unavailable", "reason": reason, "queue": queue}
        return jsonify(body), 503
    healthy = queue["reachable"] and queue["worker_ok"]
    return jsonify({"status": "ok" if healthy else "degraded", "database": "ok", "queue": queue})


def _queue() -> dict[str, object]:
    """Return what the queue says of itself: reachable, tasks waiting, the worker's last beat."""
    from portal.tasks import get_queue, queue_status

    if get_queue().huey.immediate:
        # Tasks run inside the request that queues them (tests): there is no worker to miss.
        return {
            "reachable": True,
            "pending": 0,
            "worker_last_seen": None,
            "worker_seconds_ago": None,
            "worker_ok": True,
            "inline": True,
        }
    status = queue_status()
    beat = status.get("worker_beat")
    age = (datetime.now(UTC) - beat).total_seconds() if isinstance(beat, datetime) else None
    # A worker beats at each round of its periodic work; three missed rounds mean it is gone.
    period = int(current_app.config.get("TASK_PERIODIC_SECONDS") or 60)
    return {
        "reachable": status["reachable"],
        "pending": status["pending"],
        "worker_last_seen": beat.isoformat() if isinstance(beat, datetime) else None,
        "worker_seconds_ago": round(age, 1) if age is not None else None,
        "worker_ok": age is not None and age < 3 * period + 5,
    }
