"""The formatting helpers every page uses for numbers and time zones, in all four languages."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale

from portal import i18n

NBSP = "\u00a0"
NNBSP = "\u202f"  # Babel's narrow no-break space, before "г." and after "2026" in kk
DEADLINE = datetime(2026, 5, 12, 18, 59, tzinfo=UTC)  # 23:59 in Almaty


@pytest.fixture
def page(app):
    """Run inside a request without a time zone cookie, as a browser's first visit."""
    with app.test_request_context("/"):
        yield


@pytest.mark.parametrize(
    ("lang", "gpa", "normalised", "big", "fixed"),
    [
        ("en", "3.45", "86.3", "1,234,567", "3.40"),
        ("ru", "3,45", "86,3", f"1{NBSP}234{NBSP}567", "3,40"),
        ("kk", "3,45", "86,3", f"1{NBSP}234{NBSP}567", "3,40"),
        ("ky", "3,45", "86,3", f"1{NBSP}234{NBSP}567", "3,40"),
    ],
)
def test_numbers_use_the_languages_decimal_sign_and_groups(page, lang, gpa, normalised, big, fixed):
    with force_locale(lang):
        assert i18n.number(Decimal("3.45")) == gpa
        assert i18n.number(Decimal("86.30")) == normalised
        assert i18n.number(Decimal("85.0")) == "85"  # no trailing ",0"
        assert i18n.number(1234567) == big
        assert i18n.number(Decimal("3.4"), places=2) == fixed
        assert i18n.number(Decimal("1234567.4"), places=0) == big
        assert i18n.number(2.0 / 3) == "0" + fixed[1] + "67"  # two decimals at most
        assert i18n.number(None) == "—"


@pytest.mark.parametrize(
    ("lang", "percent", "size"),
    [
        ("en", "45%", "146.5 KB"),
        ("ru", f"45{NBSP}%", "146,5 КБ"),
        ("kk", "45%", "146,5 КБ"),
        ("ky", "45%", "146,5 КБ"),
    ],
)
def test_percentages_and_sizes_follow_the_language(page, lang, percent, size):
    with force_locale(lang):
        assert i18n.percent(45) == percent
        assert i18n.filesize(150_000) == size


@pytest.mark.parametrize(
    ("lang", "almaty", "bishkek", "moscow", "kolkata"),
    [
        ("en", "Almaty (UTC+5)", "Bishkek (UTC+6)", "Moscow (UTC+3)", "Kolkata (UTC+5:30)"),
        ("ru", "Алматы (UTC+5)", "Бишкек (UTC+6)", "Москва (UTC+3)", "Калькутта (UTC+5:30)"),
        ("kk", "Алматы (UTC+5)", "Бішкек (UTC+6)", "Мәскеу (UTC+3)", "Калькутта (UTC+5:30)"),
        ("ky", "Алматы (UTC+5)", "Бишкек (UTC+6)", "Москва (UTC+3)", "Калькутта (UTC+5:30)"),
    ],
)
def test_zones_are_named_by_city_and_offset(page, lang, almaty, bishkek, moscow, kolkata):
    with force_locale(lang):
        assert i18n.zone_label("Asia/Almaty", DEADLINE) == almaty
        assert i18n.zone_label("Asia/Bishkek", DEADLINE) == bishkek
        assert i18n.zone_label("Europe/Moscow", DEADLINE) == moscow
        assert i18n.zone_label("Asia/Kolkata", DEADLINE) == kolkata
        # An old alias reads like the zone it stands for.
        assert i18n.zone_label("Asia/Calcutta", DEADLINE) == kolkata
        city = almaty.split(" (")[0]
        assert i18n.zone_label("Asia/Almaty", DEADLINE, inline=True) == f"{city}, UTC+5"


@pytest.mark.parametrize("lang", ["en", "ru", "kk", "ky"])
def test_zones_without_a_city_are_named_by_their_offset(page, lang):
    with force_locale(lang):
        assert i18n.zone_label("UTC") == "UTC"
        assert i18n.zone_label("Etc/UTC") == "UTC"
        # Etc/GMT+5 is five hours BEHIND UTC (POSIX signs); a true minus sign.
        assert i18n.zone_label("Etc/GMT+5") == "UTC\u22125"
        assert i18n.zone_label("Etc/GMT-14") == "UTC+14"


def test_the_offset_is_the_one_in_force_at_that_moment(page):
    with force_locale("ru"):
        summer = datetime(2026, 7, 1, 12, tzinfo=UTC)
        winter = datetime(2026, 1, 15, 12, tzinfo=UTC)
        assert i18n.zone_label("America/New_York", summer) == "Нью-Йорк (UTC\u22124)"
        assert i18n.zone_label("America/New_York", winter) == "Нью-Йорк (UTC\u22125)"
        assert i18n.zone_label("Asia/Kathmandu", winter) == "Катманду (UTC+5:45)"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "May 12, 2026, 11:59\u202fPM (Almaty, UTC+5)"),
        ("ru", f"12 мая 2026{NNBSP}г., 23:59 (Алматы, UTC+5)"),
        ("kk", f"2026{NNBSP}ж. 12 мам., 23:59 (Алматы, UTC+5)"),
        ("ky", "2026-ж., 12-май, 23:59 (Алматы, UTC+5)"),
    ],
)
def test_a_time_in_a_zone_names_the_zone(page, lang, expected):
    with force_locale(lang):
        assert i18n.in_zone(DEADLINE, "Asia/Almaty") == expected
        assert "Asia/" not in i18n.in_zone(DEADLINE, "Asia/Almaty")


def test_before_the_browser_tells_its_zone_a_programmes_time_shows_in_the_programmes_zone(page):
    with force_locale("ru"):
        assert i18n.browser_timezone() is None
        assert i18n.when(DEADLINE, "Asia/Almaty") == f"12 мая 2026{NNBSP}г., 23:59 (Алматы, UTC+5)"
        # With nothing to fall back on, the configured default (UTC) is used, and named.
        assert i18n.when(DEADLINE) == f"12 мая 2026{NNBSP}г., 18:59 (UTC)"


def test_once_the_browser_told_its_zone_times_show_in_it(app):
    with app.test_request_context("/", headers={"Cookie": "tz=Asia/Bishkek"}):
        with force_locale("ky"):
            assert i18n.browser_timezone() == "Asia/Bishkek"
            assert i18n.when(DEADLINE, "Asia/Almaty") == "2026-ж., 13-май, 00:59"
            assert i18n.when(DEADLINE) == "2026-ж., 13-май, 00:59"


@pytest.mark.parametrize("cookie", ["Mars/Olympus", "", "../../etc/passwd", "Asia%2FAlmaty"])
def test_a_bogus_zone_cookie_counts_as_unknown_or_is_decoded(app, cookie):
    with app.test_request_context("/", headers={"Cookie": f"tz={cookie}"}):
        expected = "Asia/Almaty" if cookie == "Asia%2FAlmaty" else None
        assert i18n.browser_timezone() == expected
