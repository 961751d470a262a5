"""Locale and time zone selection, and formatting helpers for templates."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import unquote
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import get_timezone_location
from babel.support import NullTranslations
from flask import Flask, current_app, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import (
    Domain,
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    format_time,
    get_locale,
    get_translations,
    gettext,
)
from flask_login import current_user

LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша", "ky": "Кыргызча"}

# BCP 47 tags for the <html lang> attribute and EWP's xml:lang of native-script names (by the
# codes of portal.identity.NAME_ALPHABETS: another Cyrillic or the Latin alphabet, language
# undetermined).
SCRIPT_TAGS = {
    "kk": "kk-Cyrl",
    "ru": "ru-Cyrl",
    "ky": "ky-Cyrl",
    "cyrl": "und-Cyrl",
    "latn": "und-Latn",
}


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


def browser_timezone() -> str | None:
    """Return the time zone the viewer's browser reported (a cookie our script sets), or None."""
    if has_request_context():
        zone = unquote(request.cookies.get("tz", ""))
        if zone in _ZONES:
            return zone
    return None


def select_timezone() -> str:
    """Pick the viewer's time zone: the browser's, else the configured default (UTC)."""
    return browser_timezone() or current_app.config["BABEL_DEFAULT_TIMEZONE"]


def _babel_state() -> object | None:
    """Return Flask-Babel's state of the app context (its chosen locale), or None before any.

    Read straight from the context: Flask-Babel's own getters go through three proxy lookups
    each, and a page asks for the locale some fifty times.
    """
    ctx = _cv_app.get(None)
    return None if ctx is None else ctx.g.__dict__.get("_flask_babel")


def _locale():
    """Return the request's locale (or the one force_locale set), as get_locale() does."""
    locale = getattr(_babel_state(), "babel_locale", None)
    return locale if locale is not None else get_locale()


def current_locale() -> str:
    """Return the language code of the request's locale."""
    locale = _locale()
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


def number(value: int | float | Decimal | None, places: int | None = None) -> str:
    """Write a number the way the page's language does: its decimal sign and digit groups.

    Without places, trailing zeros go (3.40 -> "3,4" in Russian) and at most two decimals stay;
    with places, exactly that many decimals are written.
    """
    if value is None:
        return "—"
    if places is None:
        return format_decimal(value, "#,##0.##")
    return format_decimal(value, "#,##0" + ("." + "0" * places if places else ""))


def percent(value: int | float | Decimal | None) -> str:
    """Write a whole percentage given on 0–100 the way the page's language does ("45 %" in ru)."""
    if value is None:
        return "—"
    return format_percent(Decimal(str(value)) / 100)


def _utc_offset(offset: timedelta | None) -> str:
    """Write an offset from UTC short: UTC+5, UTC+5:30, UTC−3 (a true minus, which never wraps)."""
    minutes = int((offset or timedelta()).total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    sign = "+" if minutes > 0 else "\u2212"
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


@functools.lru_cache(maxsize=4096)
def _city(zone: str, locale: str) -> str | None:
    """Return the city CLDR names a zone by in a language; None for zones that are only offsets."""
    if "/" not in zone or zone.startswith("Etc/"):
        return None
    try:
        return get_timezone_location(ZoneInfo(zone), locale=locale, return_city=True)
    except (LookupError, ValueError):
        # Babel names a zone CLDR lacks after its id; should it refuse one instead, do the same.
        return zone.rsplit("/", 1)[-1].replace("_", " ")


def zone_label(
    zone: str, at: datetime | None = None, locale: str | None = None, *, inline: bool = False
) -> str:
    """Name a time zone by its city in the user's language and its offset: "Алматы (UTC+5)".

    The offset is the one in force at the moment given (now by default), so a summer deadline
    in a zone with daylight saving time shows its summer offset. Inline gives "Алматы, UTC+5",
    to stand in brackets after a time.
    """
    moment = (at or datetime.now(UTC)).astimezone(ZoneInfo(zone))
    offset = _utc_offset(moment.utcoffset())
    city = _city(zone, locale or current_locale())
    if city is None:
        return offset
    return f"{city}, {offset}" if inline else f"{city} ({offset})"


def when(value: datetime, fallback: str | None = None) -> str:
    """Format an aware datetime in the viewer's time zone, to the minute.

    Until the browser has told its zone, a time that belongs to a programme shows in the
    programme's zone (the fallback), and any other in the default zone, named; never silently
    in UTC.
    """
    zone = browser_timezone()
    if zone is None:
        # Without the browser's zone every time is named: the programme's, else the default.
        return in_zone(value, fallback or current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return _formatted(value, zone, current_locale(), named=False)


def in_zone(value: datetime, zone: str) -> str:
    """Format an aware datetime as wall-clock time in a time zone, named by city and offset."""
    return _formatted(value, zone, current_locale(), named=True)


@functools.lru_cache(maxsize=2048)
def _formatted(value: datetime, zone: str, locale: str, *, named: bool) -> str:
    """Format a moment in a zone and language, once: every page of a deadline repeats it."""
    # The text depends only on the moment (an aware datetime hashes by it), zone and language.
    local = value.astimezone(ZoneInfo(zone))
    if not named:
        return _wall_clock(local)
    return f"{_wall_clock(local)} ({zone_label(zone, value, locale, inline=True)})"


def filesize(size: int) -> str:
    """Write a file size in KB or MB, the way the user's language writes numbers and units."""
    if size >= 1024 * 1024:
        return gettext("%(size)s MB", size=number(round(size / 1024 / 1024, 1)))
    return gettext("%(size)s KB", size=number(round(size / 1024, 1)))


def request_translations() -> NullTranslations:
    """Return the translations of the request's language (or of the one force_locale set).

    Flask-Babel finds them anew for every string, through three lookups of its request state
    and the locale's name spelled out: a page's sixty strings paid for that every time. Here
    they are kept per app and locale, as loaded by Flask-Babel.
    """
    state = _babel_state()
    cached = getattr(state, "kopir_translations", None)
    # force_locale puts another Locale object in place, so the cache follows it.
    if cached is not None and cached[0] is getattr(state, "babel_locale", None):
        return cached[1]
    locale = get_locale()
    if locale is None:  # outside an app context: Flask-Babel's empty catalogue
        return get_translations()
    loaded = current_app.extensions.setdefault("kopir_translations", {})
    key = (locale.language, locale.territory, locale.script, locale.variant)
    try:
        found = loaded[key]
    except KeyError:
        found = loaded[key] = get_translations()
    state = _babel_state()
    if state is not None:
        state.kopir_translations = (locale, found)
    return found


class RequestDomain(Domain):
    """Flask-Babel's message domain, taking the translations templates use for `_()` too."""

    def get_translations(self):
        """Return the request's translations, found once per request and locale."""
        state = _babel_state()
        cached = getattr(state, "kopir_translations", None)
        if cached is not None and cached[0] is getattr(state, "babel_locale", None):
            return cached[1]
        found = super().get_translations()
        state = _babel_state()
        if state is not None and getattr(state, "babel_locale", None) is not None:
            state.kopir_translations = (state.babel_locale, found)
        return found


def init_app(app: Flask) -> None:
    """Give templates the helpers they need to speak the user's language."""
    # Python's gettext/_l find their translations through the same per-request cache.
    babel = app.extensions["babel"].instance
    babel.__dict__["domain_instance"] = RequestDomain(
        domain=app.config.get("BABEL_DOMAIN", "messages")
    )
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
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
            # The zone unmarked times are shown in, as people read it ("Бишкек (UTC+6)");
            # compare zones with browser_timezone(), which is None until the browser has told.
            "viewer_timezone": lambda: zone_label(select_timezone()),
            "browser_timezone": browser_timezone,
            "zone_label": zone_label,
            "language_label": language_label,
            "country_label": country_label,
            "isced_label": isced_label,
            "money": format_currency,
        }

    from portal.mail import external_url

    app.jinja_env.globals["external_url"] = external_url
    app.jinja_env.globals["filesize"] = filesize

    app.jinja_env.filters["in_zone"] = in_zone
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["date"] = lambda value, fmt="medium": (
        format_date(value, fmt) if isinstance(value, date) else ""
    )
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": (
        format_datetime(value, fmt) if isinstance(value, datetime) else ""
    )
