"""Layered configuration: defaults, then instance/config.py, then the environment, then tests."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask


class Defaults:
    """Settings every deployment starts from."""

    LOG_LEVEL = "INFO"
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False
    WTF_I18N_ENABLED = False  # portal.forms translates WTForms' messages with our catalogue
    WTF_CSRF_TIME_LIMIT = None  # a student filling a long form overnight must not lose it
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("en", "ru", "kk", "ky")
    UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    UPLOAD_MAX_PIXELS = 40_000_000
    # An oversize body is read and dropped up to this size, so the browser gets our page and not
    # a reset connection; beyond it the connection is closed.
    DRAIN_MAX_BYTES = 256 * 1024 * 1024
    # A request may carry one file plus form fields; anything larger is refused before it is read.
    MAX_FORM_MEMORY_SIZE = 1024 * 1024
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "Kopir <no-reply@kopir.localhost>"
    MAIL_MAX_ATTEMPTS = 8
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_LOGIN = "10 per minute;50 per hour"
    # Failed logins per typed address (whether or not it has an account): the first few are
    # answered at once, later ones more slowly, and past the maximum the address is refused
    # until the window (seconds) has passed since the first failure.
    LOGIN_FREE_FAILURES = 3
    LOGIN_SLOWDOWN_MAX = 2.0
    LOGIN_FAILURES_MAX = 10
    LOGIN_FAILURES_WINDOW = 15 * 60
    # Generous: a whole dormitory may register from one address the night before a deadline.
    RATELIMIT_REGISTER = "30 per hour"
    # The public letter check: enough for a visa office, too few to guess codes.
    RATELIMIT_VERIFY = "30 per minute;300 per hour"
    # Requests per API token (or per address, for requests without one).
    RATELIMIT_API = "300 per minute"
    # Processes that render letters in a batch; empty means one per core.
    LETTER_WORKERS: int | None = None
    # Run background jobs inline, after the request's commit (tests), instead of in a thread.
    JOBS_SYNC = False
    # How many reverse proxies stand in front (X-Forwarded-For/-Proto are trusted that deep).
    PROXY_COUNT = 0
    EMAIL_TOKEN_MAX_AGE = 3 * 24 * 3600
    RESET_TOKEN_MAX_AGE = 2 * 3600
    SESSION_COOKIE_HTTPONLY = True
    # Sent with every answer over HTTPS; 0 leaves the header out.
    HSTS_MAX_AGE = 365 * 24 * 3600
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Static files are named by their content's digest and cached for a year under that name
    # (portal/assets.py); their plain names, for links from elsewhere, for this many seconds.
    STATIC_MAX_AGE = 600
    # Text answers go out in Brotli or gzip (portal/compression.py); PDF, XLSX, ZIP and images
    # are compressed already and go out as they are.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/xml",
        "text/xml",
        "image/svg+xml",
        "text/csv",
        "text/plain",
    ]
    # Streams are compressed chunk by chunk in portal/compression.py, so they keep streaming.
    COMPRESS_STREAMS = False
    SERVER_NAME: str | None = None
    PREFERRED_URL_SCHEME = "http"
    PAGE_SIZE = 20


# Environment variables that override settings, with the type each one is parsed as.
ENV_SETTINGS: dict[str, type] = {
    "SECRET_KEY": str,
    "SQLALCHEMY_DATABASE_URI": str,
    "LOG_LEVEL": str,
    "UPLOAD_MAX_BYTES": int,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USE_TLS": bool,
    "MAIL_USE_SSL": bool,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_DEFAULT_SENDER": str,
    "RATELIMIT_STORAGE_URI": str,
    "PREFERRED_URL_SCHEME": str,
    "BASE_URL": str,
    "SESSION_COOKIE_SECURE": bool,
    "PROXY_COUNT": int,
    "TRUSTED_HOSTS": list,
    "RATELIMIT_REGISTER": str,
    "RATELIMIT_VERIFY": str,
    "RATELIMIT_API": str,
    "LETTER_WORKERS": int,
    "LOGIN_FAILURES_MAX": int,
    "LOGIN_FAILURES_WINDOW": int,
    "HSTS_MAX_AGE": int,
    "STATIC_MAX_AGE": int,
}


def _parse(value: str, kind: type) -> Any:
    """Turn an environment string into the setting's type."""
    if kind is bool:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if kind is list:
        return [item.strip() for item in value.split(",") if item.strip()]
    return kind(value)


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Apply the configuration layers in order; later layers win."""
    app.config.from_object(Defaults)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'kopir.sqlite3'}"
    app.config["STORAGE_DIR"] = str(instance / "uploads")
    app.config["OUTBOX_DIR"] = str(instance / "outbox")
    app.config.from_pyfile("config.py", silent=True)
    for name, kind in ENV_SETTINGS.items():
        for key in (f"KOPIR_{name}", name):
            if key in os.environ:
                app.config[name] = _parse(os.environ[key], kind)
                break
    for key in ("KOPIR_DATABASE_URL", "DATABASE_URL"):
        if key in os.environ:
            app.config["SQLALCHEMY_DATABASE_URI"] = os.environ[key]
            break
    if overrides:
        app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        if not (app.debug or app.testing):
            raise RuntimeError(
                "SECRET_KEY is not set: put it in instance/config.py or the environment."
            )
        # Development only: a key per process, so nothing signed survives a restart by accident.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config.get("SESSION_COOKIE_SECURE", False))
    if app.config.get("TRUSTED_HOSTS") is None and not app.testing:
        # Links in e-mail are built on BASE_URL, or on the request's host when it is unset: never
        # let a forged Host header into a reset link.
        base = app.config.get("BASE_URL")
        app.config["TRUSTED_HOSTS"] = (
            [urlsplit(base).hostname or ""] if base else ["127.0.0.1", "localhost"]
        )
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        # Room for one document plus the form around it; a larger body is refused unread.
        app.config["MAX_CONTENT_LENGTH"] = app.config["UPLOAD_MAX_BYTES"] + 512 * 1024
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://") or uri.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri.split("://", 1)[1]
