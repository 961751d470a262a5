"""One commit per request, in one place; queued mail leaves after the commit."""

from __future__ import annotations

from flask import Flask, Response, current_app, g

from portal.extensions import db


def init_app(app: Flask) -> None:
    """Commit each successful request once and roll back everything else."""

    @app.after_request
    def commit(response: Response) -> Response:
        if response.status_code < 400:
            db.session.commit()
            g.pop("stored_files", None)
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            if g.pop("mail_queued", False):
                from portal.mail import send_after_commit

                send_after_commit(app)
            if g.get("jobs_queued"):
                from portal.jobs import launch_queued

                launch_queued(app)
        else:
            db.session.rollback()
            _discard_stored_files()
        return response

    @app.teardown_request
    def rollback(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()
            _discard_stored_files()

    @app.after_request
    def harden(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        return response


def _discard_stored_files() -> None:
    """Delete files stored during a request whose transaction did not commit."""
    keys = g.pop("stored_files", None)
    if keys:
        from portal.storage import get_storage

        storage = get_storage()
        for key in keys:
            storage.delete(key)
