"""Locale and time zone selection, and formatting helpers for templates."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import unquote
from zoneinfo import ZoneInfo, available_timezones

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import (
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    format_time,
    get_locale,
    gettext,
)
from flask_login import current_user

LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша", "ky": "Кыргызча"}

# BCP 47 tags for the <html lang> attribute and EWP's xml:lang of native-script names.
SCRIPT_TAGS = {"kk": "kk-Cyrl", "ru": "ru-Cyrl", "ky": "ky-Cyrl"}


def supported() -> tuple[str, ...]:
    """Return the locales the portal is translated into."""
    return tuple(current_app.config["LANGUAGES"])


def select_locale() -> str:
    """Pick the locale: the user's setting, then ?lang=, then the session, then the browser."""
    languages = supported()
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user.is_authenticated and current_user.locale in languages:
        if "_user_id" in session and session.get("lang") != current_user.locale:
            # Kept in the session cookie too, so that a page made when the account cannot be
            # read (the database is down) still speaks the account's language.
            session["lang"] = current_user.locale
        return current_user.locale
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
        return asked
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or languages[0]


_ZONES = frozenset(available_timezones())


def select_timezone() -> str:
    """Pick the viewer's time zone: the browser's (a cookie our script sets), else UTC."""
    if has_request_context():
        zone = unquote(request.cookies.get("tz", ""))
        if zone in _ZONES:
            return zone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def current_locale() -> str:
    """Return the language code of the request's locale."""
    locale = get_locale()
    return locale.language if locale else "en"


def pick(mapping: dict[str, str] | None, locale: str | None = None) -> str:
    """Return the text for the locale from a {lang: text} mapping, falling back to English."""
    if not mapping:
        return ""
    locale = locale or current_locale()
    return mapping.get(locale) or mapping.get("en") or next(iter(mapping.values()), "")


def _wall_clock(local: datetime) -> str:
    """Format a date and time to the minute, the way the user's locale writes them."""
    return (
        f"{format_date(local, 'medium', rebase=False)}, {format_time(local, 'short', rebase=False)}"
    )


def when(value: datetime) -> str:
    """Format an aware datetime in the viewer's time zone, to the minute."""
    return _wall_clock(value.astimezone(ZoneInfo(select_timezone())))


def in_zone(value: datetime, zone: str) -> str:
    """Format an aware datetime as wall-clock time in a time zone, with the zone's name."""
    local = value.astimezone(ZoneInfo(zone))
    return f"{_wall_clock(local)} ({zone}, UTC{local:%z})"


def filesize(size: int) -> str:
    """Write a file size in KB or MB, the way the user's language writes numbers and units."""
    if size >= 1024 * 1024:
        return gettext("%(size)s MB", size=format_decimal(round(size / 1024 / 1024, 1)))
    return gettext("%(size)s KB", size=format_decimal(round(size / 1024, 1)))


def init_app(app: Flask) -> None:
    """Give templates the helpers they need to speak the user's language."""
    from portal.reference import country_name, isced_name, language_name

    def language_label(code: str) -> str:
        try:
            return language_name(code, current_locale())
        except KeyError:
            return code

    def country_label(code: str) -> str:
        try:
            return country_name(code, current_locale())
        except KeyError:
            return code

    def isced_label(code: str) -> str:
        try:
            return isced_name(code)
        except KeyError:
            return ""

    @app.context_processor
    def inject() -> dict[str, object]:
        return {
            "LANGUAGE_NAMES": LANGUAGE_NAMES,
            "current_locale": current_locale,
            "viewer_timezone": select_timezone,
            "language_label": language_label,
            "country_label": country_label,
            "isced_label": isced_label,
            "money": format_currency,
        }

    from portal.mail import external_url

    app.jinja_env.globals["external_url"] = external_url
    app.jinja_env.globals["filesize"] = filesize

    app.jinja_env.filters["in_zone"] = in_zone
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["date"] = lambda value, fmt="medium": (
        format_date(value, fmt) if isinstance(value, date) else ""
    )
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": (
        format_datetime(value, fmt) if isinstance(value, datetime) else ""
    )
