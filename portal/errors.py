"""Error pages in the user's language, as HTML or JSON by what the client accepts."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError
from werkzeug.wrappers import Response

from portal.extensions import db, login_manager

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


def _unreachable(error: BaseException | None) -> bool:
    """Tell whether an exception means the database cannot be reached (down, restarting)."""
    if isinstance(error, OperationalError):
        return True
    # psycopg reports a connection the server has closed as an InterfaceError at times.
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


# What the page layout reads of the current user; all of it must be in memory already.
_USER_FIELDS = frozenset({"active", "role", "email", "verified_at", "locale"})


def _database_unavailable(error: BaseException) -> Response | tuple:
    """Answer 503 in the user's language without asking the database for anything more."""
    log.error("Database unavailable: %s", error)
    user = g.get("_login_user")
    state = sa.inspect(user, raiseerr=False) if user is not None else None
    if state is not None and state.session is not None:
        if _USER_FIELDS.isdisjoint(state.unloaded):
            # Detached before the rollback, which would expire it: the page layout then reads
            # the account's name, role and language from memory instead of from the database.
            db.session.expunge(user)
        else:
            user = None
    if user is None:
        # The account could not be read: show the page as to a visitor, in the language the
        # session or the browser asks for, rather than try the database again and fail.
        login_manager._update_request_context_with_user()
    try:
        db.session.rollback()
    except DBAPIError:  # the connection is gone; there is nothing left to undo
        pass
    return _render(503, *_messages(503))


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
        response = make_response(_render(error.code, title, message))
        # What werkzeug computed for this error (Allow on a 405, WWW-Authenticate on a 401,
        # Retry-After) belongs on our page too; only the content type is ours.
        for name, value in error.get_headers():
            if name.lower() != "content-type" and name not in response.headers:
                response.headers[name] = value
        return response

    @app.errorhandler(OperationalError)
    def database_down(error: OperationalError):
        return _database_unavailable(error)

    @app.errorhandler(StaleDataError)
    def changed_elsewhere(error: StaleDataError):
        db.session.rollback()
        return _render(409, *_messages(409))

    @app.errorhandler(InternalServerError)
    def internal(error: InternalServerError):
        original = error.original_exception
        if _unreachable(original):  # e.g. the commit after the view lost its connection
            return _database_unavailable(original)
        try:
            db.session.rollback()
        except DBAPIError:
            pass
        if isinstance(original, StaleDataError | IntegrityError):
            return _render(409, *_messages(409))
        return _render(500, *_messages(500))
