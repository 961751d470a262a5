"""One commit per request, in one place; queued mail leaves after the commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, current_app, g, request

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
        max_age = current_app.config["HSTS_MAX_AGE"]
        if request.is_secure and max_age:
            # Only over HTTPS: browsers ignore it on plain HTTP, and it would pin a dev host.
            response.headers.setdefault(
                "Strict-Transport-Security", f"max-age={max_age}; includeSubDomains"
            )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
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


class SecureCookiesOverHttps:
    """Mark every cookie Secure on a request that reached us over HTTPS.

    Flask's session cookie and Flask-Login's remember cookie take their Secure flag from a
    fixed setting; behind HTTPS that flag must hold even when the setting was forgotten.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        """Add `Secure` to each Set-Cookie header of an HTTPS answer."""
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start_response(status: str, headers: list[tuple[str, str]], *args: Any):
            headers = [
                (name, f"{value}; Secure")
                if name.lower() == "set-cookie"
                and "secure" not in (part.strip().lower() for part in value.split(";"))
                else (name, value)
                for name, value in headers
            ]
            return start_response(status, headers, *args)

        return self.wsgi_app(environ, secure_start_response)
