"""Account operations: register, verify, reset, create staff. They never commit."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.auth.models import Role, User, new_session_key
from portal.auth.passwords import hash_password, needs_rehash, verify_password
from portal.db import utcnow
from portal.extensions import db
from portal.mail import external_url, queue_mail

VERIFY_SALT = "kopir.verify-email"
RESET_SALT = "kopir.reset-password"


class TokenError(Exception):
    """A link that is malformed, tampered with, expired or already used."""

    def __init__(self, expired: bool = False) -> None:
        """Remember whether the link was only too old."""
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _password_fingerprint(user: User) -> str:
    # Binding reset links to the current hash makes each link single-use.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


# Checked when no account matches, so that a wrong address costs as much time as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def password_matches(user: User | None, password: str) -> bool:
    """Check a password in the same time whether or not the account exists.

    A match on a hash made with older parameters (Werkzeug's scrypt) is hashed again with
    today's, without touching the session key: the account's other sessions go on.
    """
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return False
    if not user.check_password(password):
        return False
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


def find_user(email: str) -> User | None:
    """Return the account with this (already normalised) e-mail."""
    return db.session.scalar(sa.select(User).where(User.email == email.lower()))


def send_verification(user: User) -> None:
    """Queue the e-mail with the user's verification link."""
    token = _serializer(VERIFY_SALT).dumps({"u": user.id, "e": user.email})
    queue_mail(
        user.email,
        "verify_email",
        user.locale,
        user=user,
        link=external_url("auth.verify", token=token),
        hours=current_app.config["EMAIL_TOKEN_MAX_AGE"] // 3600,
    )


def register_student(email: str, password: str, locale: str) -> User | None:
    """Create a student account and send its verification; None when the e-mail is taken.

    A taken address gets a note instead of a second account, so the page the visitor sees is
    the same either way and tells nothing about who has an account.
    """
    existing = find_user(email)
    if existing is not None:
        hash_password(password)  # the same work as a new account: timing tells nothing
        queue_mail(
            existing.email,
            "already_registered",
            existing.locale or locale,
            user=existing,
            login=external_url("auth.login"),
            reset=external_url("auth.forgot"),
        )
        return None
    user = User(email=email, role=Role.STUDENT, locale=locale)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    send_verification(user)
    return user


def verify_email(token: str) -> User:
    """Mark the address of the token's user as verified."""
    max_age = current_app.config["EMAIL_TOKEN_MAX_AGE"]
    try:
        data = _serializer(VERIFY_SALT).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError(expired=True) from exc
    except BadSignature as exc:
        raise TokenError() from exc
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or user.email != data.get("e"):
        raise TokenError()
    if user.verified_at is None:
        user.verified_at = utcnow()
    return user


def resend_verification(email: str) -> None:
    """Send the link again to an unverified account; silently nothing otherwise."""
    user = find_user(email)
    if user is not None and user.verified_at is None and user.active:
        send_verification(user)


def request_password_reset(email: str) -> None:
    """Send a reset link to an active account; silently nothing otherwise."""
    user = find_user(email)
    if user is None or not user.active:
        return
    token = _serializer(RESET_SALT).dumps({"u": user.id, "h": _password_fingerprint(user)})
    queue_mail(
        user.email,
        "reset_password",
        user.locale,
        user=user,
        link=external_url("auth.reset", token=token),
        hours=current_app.config["RESET_TOKEN_MAX_AGE"] // 3600,
    )


def user_for_reset(token: str) -> User:
    """Return the user a reset link belongs to, if it is valid and unused."""
    max_age = current_app.config["RESET_TOKEN_MAX_AGE"]
    try:
        data = _serializer(RESET_SALT).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError(expired=True) from exc
    except BadSignature as exc:
        raise TokenError() from exc
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("h") != _password_fingerprint(user):
        raise TokenError()
    return user


def reset_password(user: User, password: str) -> None:
    """Set a new password; the e-mail link proved the address, so it counts as verified."""
    user.set_password(password)
    if user.verified_at is None:
        user.verified_at = utcnow()


def end_sessions(user: User) -> None:
    """End every session of the account, on every device."""
    user.session_key = new_session_key()


def change_password(user: User, password: str) -> None:
    """Set a new password; the new session key ends every session of the account."""
    user.set_password(password)


def create_user(
    email: str,
    role: str,
    *,
    password: str | None = None,
    institution_id: int | None = None,
    locale: str | None = None,
) -> tuple[User, str]:
    """Create a verified staff (or student) account; return it and its initial password."""
    if role not in set(Role):
        raise ValueError(f"unknown role {role!r}")
    if find_user(email) is not None:
        raise ValueError(f"an account for {email} exists")
    password = password or secrets.token_urlsafe(12)
    user = User(
        email=email.lower(),
        role=role,
        institution_id=institution_id,
        locale=locale,
        verified_at=utcnow(),
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user, password
