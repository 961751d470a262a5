"""Register, verify, log in and out, reset the password, choose the language."""

from __future__ import annotations

import functools
import math
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from portal.auth import services, throttle
from portal.auth.forms import (
    ChangePasswordForm,
    EmailOnlyForm,
    LanguageForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
)
from portal.auth.models import STAFF_ROLES, User
from portal.extensions import db, limiter, login_manager
from portal.i18n import current_locale

bp = Blueprint("auth", __name__, url_prefix="/account")


@functools.cache
def _user_by_session_key():
    """Return the query of every signed-in request, built once: its cache key is kept with it."""
    import sqlalchemy as sa

    from portal.auth.models import User

    return sa.select(User).where(User.session_key == sa.bindparam("session_key"))


@login_manager.user_loader
def load_user(session_key: str):
    """Find the user whose sessions carry this key."""
    return db.session.scalar(_user_by_session_key(), {"session_key": session_key})


def safe_next(target: str | None, fallback: str = "main.index") -> str:
    """Return the target when it stays on this site, else the fallback page."""
    if target and not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        target = target.replace("\\", "/")
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for(fallback)


def landing(user: User) -> str:
    """Return the endpoint a user lands on after logging in: staff see what waits for them."""
    return "main.home" if user.role in STAFF_ROLES else "main.index"


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/register", methods=["GET", "POST"])
def register() -> str | Response:
    """Create a student account."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        # Counted only once the form is accepted: a mistyped form costs a cohort nothing.
        refusal = throttle.take_registration()
        if refusal is not None:
            form.email.errors.append(
                _(
                    "Many accounts were created from your network just now, so registering "
                    "from it is paused. Please try again %(when)s.",
                    when=_in_how_long(refusal.retry_after),
                )
            )
            return _refused(render_template("auth/register.html", form=form), refusal)
        services.register_student(form.email.data, form.password.data, current_locale())
        return redirect(url_for("auth.check_mail"))
    return render_template("auth/register.html", form=form)


@bp.get("/check-mail")
def check_mail() -> str:
    """Tell the visitor to look for our e-mail, whatever happened to the address."""
    return render_template("auth/check_mail.html")


@bp.get("/verify/<token>")
def verify(token: str) -> str | Response:
    """Confirm an e-mail address from the link we sent."""
    try:
        services.verify_email(token)
    except services.TokenError as exc:
        message = (
            _("This link has expired. Ask for a new one below.")
            if exc.expired
            else _("This link is not valid. Ask for a new one below.")
        )
        return render_template("auth/token_problem.html", message=message, form=EmailOnlyForm())
    flash(_("Your e-mail address is confirmed."), "success")
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    return redirect(url_for("auth.login"))


@bp.route("/resend", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def resend() -> str | Response:
    """Send the verification link again."""
    form = EmailOnlyForm()
    if form.validate_on_submit():
        services.resend_verification(form.email.data)
        return redirect(url_for("auth.check_mail"))
    if current_user.is_authenticated and request.method == "GET":
        form.email.data = current_user.email
    return render_template("auth/resend.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Log in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), landing(current_user)))
    form = LoginForm()
    if form.validate_on_submit():
        # Only failures count, per account and per client address (portal/auth/throttle.py):
        # a whole university behind one address logs in, a guessing run does not.
        attempt = throttle.LoginAttempt(form.email.data)
        if attempt.refusal is not None:
            # Refused before the password is checked, so even the right one waits: guessing
            # gains nothing.
            return _too_many_failures(form, attempt.refusal)
        user = services.find_user(form.email.data)
        if services.password_matches(user, form.password.data) and user and user.active:
            attempt.succeeded()
            _start_fresh_session()
            login_user(user, remember=form.remember.data)
            user.mark_login()
            if not user.locale:
                user.locale = current_locale()
            return redirect(safe_next(request.args.get("next"), landing(user)))
        attempt.failed()
        form.password.errors.append(_("The e-mail or the password is wrong."))
    return render_template("auth/login.html", form=form)


def _start_fresh_session() -> None:
    """Drop everything in the session but the chosen language (defeats session fixation)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _too_many_failures(form: LoginForm, refusal: throttle.Refusal) -> Response:
    """Refuse a login, saying when to try again; alike for accounts that exist and do not."""
    when = _in_how_long(refusal.retry_after)
    if refusal.by_client:
        message = _(
            "Too many failed logins came from your network, so logging in from it is paused. "
            "Please try again %(when)s.",
            when=when,
        )
    else:
        message = _(
            "Too many failed attempts for this address. Please try again %(when)s, or reset "
            "the password with the link below.",
            when=when,
        )
    form.password.errors.append(message)
    return _refused(render_template("auth/login.html", form=form), refusal)


def _in_how_long(seconds: int) -> str:
    """Say "in 15 minutes" in the user's language, rounded up so that it is never too soon."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 120:
        # Babel names the largest unit that reaches the threshold: minutes up to two hours.
        return format_timedelta(
            timedelta(minutes=minutes), threshold=1 if minutes < 60 else 2, add_direction=True
        )
    return format_timedelta(
        timedelta(hours=math.ceil(minutes / 60)), threshold=2, add_direction=True
    )


def _refused(page: str, refusal: throttle.Refusal) -> Response:
    response = make_response(page, 429)
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"])
def password() -> str | Response | tuple[str, int]:
    """Change the password, which ends every session of the account, this one included."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        email = current_user.email
        if throttle.locked(email):
            form.current.errors.append(
                _("Too many wrong passwords. Log out and use the reset link instead.")
            )
            return render_template("auth/password.html", form=form), 429
        if not current_user.check_password(form.current.data):
            throttle.record_failure(email)
            form.current.errors.append(_("This is not your current password."))
        else:
            services.change_password(current_user, form.password.data)
            logout_user()
            _start_fresh_session()
            flash(
                _("Your password is changed and you are logged out everywhere. Please log in."),
                "success",
            )
            return redirect(url_for("auth.login"))
    return render_template("auth/password.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Log out and forget the session."""
    # The session lives in a signed cookie: a copy taken earlier would still be accepted
    # unless the key it names changes. So logging out ends the account's other sessions too.
    services.end_sessions(current_user)
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def forgot() -> str | Response:
    """Ask for a password reset link."""
    form = EmailOnlyForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        return redirect(url_for("auth.check_mail"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> str | Response:
    """Choose a new password from a reset link."""
    try:
        user = services.user_for_reset(token)
    except services.TokenError as exc:
        message = (
            _("This link has expired. Ask for a new one below.")
            if exc.expired
            else _("This link is not valid or was already used. Ask for a new one below.")
        )
        return render_template(
            "auth/token_problem.html",
            message=message,
            form=EmailOnlyForm(),
            action=url_for("auth.forgot"),
        )
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(user, form.password.data)
        # The refused login page points here: the new password must not meet the old lock.
        throttle.forget(user.email)
        logout_user()
        session.clear()
        flash(_("Your password is changed. Please log in."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)


@bp.post("/language")
def language() -> Response:
    """Switch the interface language and remember it."""
    form = LanguageForm()
    form.lang.choices = [(code, code) for code in current_app.config["LANGUAGES"]]
    if form.validate_on_submit():
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            current_user.locale = form.lang.data
    return redirect(safe_next(request.form.get("next")))
