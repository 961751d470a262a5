"""Layered configuration: defaults, then instance/config.py, then the environment, then tests."""

from __future__ import annotations

import os
import secrets
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
    # A student filling a long form overnight must not lose it.
    WTF_CSRF_TIME_LIMIT: int | None = None
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
    # Failed logins per client address (successful ones count against nobody): a university's
    # students behind one NAT address, mistyping on deadline night, stay far below it; a
    # guessing run over many accounts is slowed after the free ones and stopped at it.
    RATELIMIT_LOGIN = "300 per hour"
    LOGIN_CLIENT_FREE_FAILURES = 100
    # Failed logins per typed address (whether or not it has an account): the first few are
    # answered at once, later ones more slowly, and past the maximum the address is refused
    # until the window (seconds) has passed since the first failure.
    LOGIN_FREE_FAILURES = 3
    LOGIN_SLOWDOWN_MAX = 2.0
    LOGIN_FAILURES_MAX = 10
    LOGIN_FAILURES_WINDOW = 15 * 60
    # Accepted registration forms per client address. Generous: a cohort of 200 may register
    # from one address in one evening, even in one hour; a script's mail to strangers is capped.
    RATELIMIT_REGISTER = "300 per hour;1000 per day"
    # The public letter check: enough for a visa office, too few to guess codes.
    RATELIMIT_VERIFY = "30 per minute;300 per hour"
    # Requests per API token (or per address, for requests without one).
    RATELIMIT_API = "300 per minute"
    # Processes that render letters in a batch; empty means one per core.
    LETTER_WORKERS: int | None = None
    # Run each task inline when it is queued (tests), instead of on the worker.
    TASKS_IMMEDIATE = False
    # Where the task queue keeps its tasks: sqlite:///path (default, under instance/) or
    # redis://host:port/db.
    TASK_QUEUE_URL: str | None = None
    # A running job whose heartbeat is older than this is taken to have lost its worker and is
    # run again.
    JOB_STALE_SECONDS = 120
    # How often the worker runs its periodic work (offer expiry, due mail, stalled jobs).
    TASK_PERIODIC_SECONDS = 60
    # How many reverse proxies stand in front (X-Forwarded-For/-Proto are trusted that deep).
    PROXY_COUNT = 0
    # Addresses (or networks, CIDR) that may read /metrics; everyone else gets a 404.
    METRICS_ALLOWED = ["127.0.0.1", "::1"]
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


# Settings the environment may give that have no default above (Flask's own, or filled in by
# load_config from the instance folder), with their types.
ENV_EXTRA: dict[str, Any] = {
    "SECRET_KEY": str,
    "SQLALCHEMY_DATABASE_URI": str,
    "BASE_URL": str,
    "SESSION_COOKIE_SECURE": bool,
    "TRUSTED_HOSTS": list[str] | None,
    "STORAGE_DIR": str,
    "OUTBOX_DIR": str,
}
# The variables that give a setting, most important first, where they are not just its name:
# hosting platforms hand the database over as DATABASE_URL.
ENV_NAMES: dict[str, tuple[str, ...]] = {
    "SQLALCHEMY_DATABASE_URI": ("DATABASE_URL", "SQLALCHEMY_DATABASE_URI"),
}
# Settings in Defaults that the environment does not change, and why: they are facts of the code,
# not choices of a deployment, or a stray variable would weaken what they guard. (instance/config.py
# can still change them, deliberately, in Python.)
NOT_FROM_ENV: dict[str, str] = {
    "SQLALCHEMY_ENGINE_OPTIONS": "a dict of driver options: it needs Python, in instance/config.py",
    "WTF_I18N_ENABLED": "portal.forms translates WTForms' messages; theirs would replace ours",
    "LANGUAGES": "the languages the portal ships translations, letters and e-mail for",
    "TASKS_IMMEDIATE": "a switch for tests: a deployment runs its tasks on the worker",
    "COMPRESS_ALGORITHM": "portal/compression.py and portal/assets.py encode for exactly these",
    "COMPRESS_MIMETYPES": "the types worth compressing are a fact of the formats, not of a site",
    "COMPRESS_STREAMS": "must stay off: portal/compression.py compresses streams chunk by chunk "
    "so exports keep streaming; Flask-Compress would hold a whole export back",
    "SESSION_COOKIE_HTTPONLY": "no deployment needs scripts to read the session cookie",
    "REMEMBER_COOKIE_HTTPONLY": "no deployment needs scripts to read the remember-me cookie",
}
ENV_PREFIX = "KOPIR_"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class ConfigError(ValueError):
    """An environment variable holds a value its setting cannot take."""


def _boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError("expected one of 1, true, yes, on or 0, false, no, off")


def _whole(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError("expected a whole number") from None


def _number(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ValueError("expected a number") from None


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _reader(kind: Any) -> Callable[[str], Any] | None:
    """Return how a setting of this type is read from a string, or None if it cannot be."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (types.UnionType, typing.Union) and type(None) in args:
        rest = [arg for arg in args if arg is not type(None)]
        inner = _reader(rest[0]) if len(rest) == 1 else None
        if inner is None:
            return None
        # An empty variable is how a deployment says "none" (e.g. LETTER_WORKERS=).
        return lambda text: inner(text) if text.strip() else None
    if kind is bool:
        return _boolean
    if kind is int:
        return _whole
    if kind is float:
        return _number
    if kind is str:
        return str
    if kind is list or (typing.get_origin(kind) is list and args == (str,)):
        return _items
    return None


@dataclass(frozen=True)
class EnvSetting:
    """A setting the environment may give: its type and the variables it is read from."""

    name: str
    kind: Any
    variables: tuple[str, ...]
    read: Callable[[str], Any]


def _env_settings() -> dict[str, EnvSetting]:
    """Derive the settings the environment may give from Defaults and ENV_EXTRA."""
    hints = typing.get_type_hints(Defaults)
    kinds: dict[str, Any] = {}
    for name, default in vars(Defaults).items():
        if not name.isupper() or name in NOT_FROM_ENV:
            continue
        if name not in hints and default is None:
            raise TypeError(
                f"Defaults.{name} is None: annotate its type (`{name}: int | None = None`) so the "
                "environment can give it"
            )
        kinds[name] = hints.get(name, type(default))
    kinds.update(ENV_EXTRA)
    settings = {}
    for name, kind in kinds.items():
        read = _reader(kind)
        if read is None:
            raise TypeError(
                f"{name} ({kind}) cannot be read from an environment variable: give it a type of "
                "str, int, float, bool or list[str] (or X | None), or add it to NOT_FROM_ENV "
                "with the reason"
            )
        names = ENV_NAMES.get(name, (name,))
        # Prefixed wins: KOPIR_X is ours for sure, a bare X may belong to something else.
        variables = tuple(ENV_PREFIX + n for n in names) + names
        settings[name] = EnvSetting(name, kind, variables, read)
    return settings


# Every setting the environment may give. Derived, so that a new setting cannot be forgotten.
ENV_SETTINGS: dict[str, EnvSetting] = _env_settings()


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the settings the environment gives, parsed; name the variable of a bad value."""
    found: dict[str, Any] = {}
    for setting in ENV_SETTINGS.values():
        for variable in setting.variables:
            if variable in environ:
                raw = environ[variable]
                try:
                    found[setting.name] = setting.read(raw)
                except ValueError as exc:
                    raise ConfigError(f"environment variable {variable}={raw!r}: {exc}") from None
                break
    return found


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Apply the configuration layers in order; later layers win."""
    app.config.from_object(Defaults)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'kopir.sqlite3'}"
    app.config["STORAGE_DIR"] = str(instance / "uploads")
    app.config["OUTBOX_DIR"] = str(instance / "outbox")
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(from_environment(os.environ))
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
