"""Error pages in the user's language, as HTML or JSON by what the client accepts."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError
from werkzeug.wrappers import Response

from portal.extensions import db

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    # The API speaks JSON to every client, whatever it says it accepts.
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


# What API clients match on: a stable code, whatever the language of the message.
API_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}


def _render(code: int, title: str, message: str):
    if request.path.startswith("/ewp/"):
        from portal.nominations.ewp import error_response

        return Response(error_response(message), code, mimetype="application/xml")
    if request.path.startswith("/api/"):
        return jsonify({"error": API_CODES.get(code, "error"), "message": message}), code
    if _wants_json():
        return jsonify({"error": title, "message": message}), code
    return render_template("errors/error.html", code=code, title=title, message=message), code


def _messages(code: int) -> tuple[str, str]:
    table = {
        400: (_("Bad request"), _("The request could not be understood. Please try again.")),
        403: (_("Forbidden"), _("You do not have access to this page.")),
        404: (_("Page not found"), _("There is nothing here, or you cannot see it.")),
        405: (_("Method not allowed"), _("This address does not accept that kind of request.")),
        409: (
            _("Changed in the meantime"),
            _(
                "Someone (perhaps you, in another tab) changed this at the same moment. Nothing "
                "of yours was overwritten; please reload the page and try again."
            ),
        ),
        413: (
            _("File too large"),
            _(
                "The file you sent is larger than the portal accepts. Nothing was saved; "
                "please go back and choose a smaller file."
            ),
        ),
        429: (
            _("Too many attempts"),
            _("You tried this too many times. Please wait a minute and try again."),
        ),
        503: (
            _("Temporarily unavailable"),
            _(
                "The portal cannot reach its database right now. Everything you saved before "
                "is safe; please try again in a moment."
            ),
        ),
    }
    return table.get(
        code,
        (_("Something went wrong"), _("An unexpected error occurred. It has been logged.")),
    )


def _drain_request_body() -> None:
    """Read and drop what is left of a refused upload, so the client sees the answer."""
    from flask import current_app

    environ = request.environ
    remaining = min(request.content_length or 0, current_app.config["DRAIN_MAX_BYTES"])
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    try:
        while remaining > 0:
            chunk = stream.read(min(remaining, 1024 * 1024))
            if not chunk:
                break
            remaining -= len(chunk)
    except OSError:  # the client gave up; nothing to answer
        pass


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if isinstance(error, SecurityError):
            # An untrusted Host: no URL can be built for it, so answer without the page layout.
            return Response("Bad request: unknown host.\n", 400, mimetype="text/plain")
        if error.code == 400 and getattr(error, "description", "").startswith("The CSRF"):
            return _render(
                400,
                _("Your session expired"),
                _(
                    "The form was open too long or came from another site. Please reload the "
                    "page and send it again."
                ),
            )
        if error.code == 413:
            _drain_request_body()
        title, message = _messages(error.code)
        response = _render(error.code, title, message)
        return response

    @app.errorhandler(OperationalError)
    def database_down(error: OperationalError):
        db.session.rollback()
        log.error("Database unavailable: %s", error)
        return _render(503, *_messages(503))

    @app.errorhandler(StaleDataError)
    def changed_elsewhere(error: StaleDataError):
        db.session.rollback()
        return _render(409, *_messages(409))

    @app.errorhandler(InternalServerError)
    def internal(error: InternalServerError):
        original = error.original_exception
        try:
            db.session.rollback()
        except DBAPIError:
            pass
        if isinstance(original, OperationalError):
            return _render(503, *_messages(503))
        if isinstance(original, StaleDataError | IntegrityError):
            return _render(409, *_messages(409))
        return _render(500, *_messages(500))
