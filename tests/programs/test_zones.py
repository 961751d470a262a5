"""Time zones as people read them, deadlines before the browser has told its zone, headings."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from types import SimpleNamespace

import lxml.html
import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.programs.models import Program, ProgramStaff
from tests import factories

# 23:59 in Almaty (UTC+5), 01:59 the next day in Novosibirsk (UTC+7).
CLOSES = datetime(2027, 3, 31, 18, 59, tzinfo=UTC)
OPENS = datetime(2026, 1, 10, 4, tzinfo=UTC)


@pytest.fixture
def world(app):
    with app.app_context():
        kz = factories.institution(schac="vku.edu.kz", country="KZ", timezone="Asia/Almaty")
        ru = factories.institution(schac="nsu.ru", country="RU", timezone="Asia/Novosibirsk")
        coordinator = factories.user(Role.COORDINATOR, institution=kz, locale="ru")
        altai = factories.program(kz, slug="altai", opens_at=OPENS, closes_at=CLOSES)
        factories.program(ru, slug="nsu", opens_at=OPENS, closes_at=CLOSES)
        india = factories.program(
            kz, slug="india", timezone="Asia/Calcutta", opens_at=OPENS, closes_at=CLOSES
        )
        for program in (altai, india):
            program.staff.append(ProgramStaff(user=coordinator, role="coordinator"))
        db.session.commit()
        return SimpleNamespace(coordinator=coordinator.email, altai=altai.id, india=india.id)


def main_text(html: str) -> str:
    """Return the text a person reads in the page's main part."""
    main = lxml.html.fromstring(html).find(".//main")
    # Only ASCII white space folds: Babel's no-break spaces are part of what is checked.
    return re.sub(r"[ \t\r\n]+", " ", main.text_content())


def test_first_view_shows_the_programmes_deadline_in_its_own_zone_never_utc(browser, world):
    # No tz cookie yet: the browser's script has not run.
    page = main_text(browser.get("/programs/altai?lang=ru").get_data(as_text=True))
    assert "31 мар. 2027\u202fг., 23:59 (Алматы, UTC+5)" in page
    assert "Ваше время" not in page and "Your time" not in page
    assert "UTC)" not in page and "UTC+0" not in page


def test_first_view_of_the_catalogue_names_each_programmes_zone(browser, world):
    page = main_text(browser.get("/programs?lang=en").get_data(as_text=True))
    assert "Mar 31, 2027, 11:59\u202fPM (Almaty, UTC+5)" in page
    assert "Apr 1, 2027, 1:59\u202fAM (Novosibirsk, UTC+7)" in page
    assert "6:59\u202fPM" not in page  # the deadline in UTC
    # Nor does the footer claim a zone the page does not use.
    assert "Times are shown in" not in browser.get("/programs?lang=en").get_data(as_text=True)


def test_once_the_zone_is_known_the_catalogue_shows_the_viewers_time(browser, world):
    browser.client.set_cookie("tz", "Asia/Bishkek", domain="kopir.test")
    text = browser.get("/programs?lang=en").get_data(as_text=True)
    page = main_text(text)
    assert page.count("Apr 1, 2027, 12:59\u202fAM") == 3  # all three programmes
    assert "(Almaty" not in page
    assert "Times are shown in Bishkek (UTC+6)." in text


def test_programme_form_names_zones_by_city_and_offset(browser, world):
    browser.login(world.coordinator, factories.PASSWORD)
    html = browser.get("/staff/programs/new").get_data(as_text=True)
    [select] = lxml.html.fromstring(html).xpath("//select[@name='timezone']")
    options = [(o.get("value"), o.text_content()) for o in select.iter("option")]
    assert options[0] == ("Asia/Almaty", "Алматы (UTC+5)")
    assert ("Asia/Bishkek", "Бишкек (UTC+6)") in options
    assert ("Europe/Moscow", "Москва (UTC+3)") in options
    assert ("UTC", "UTC") in options
    assert not [value for value, label in options if value == label and "/" in value]
    # One entry per zone: an old alias (Asia/Calcutta) would repeat "Калькутта (UTC+5:30)".
    labels = [label for _value, label in options]
    assert len(labels) == len(set(labels))
    assert "Asia/Kolkata" in dict(options) and "Asia/Calcutta" not in dict(options)


def test_a_programme_saved_with_an_old_alias_keeps_it_when_posted_as_served(app, browser, world):
    browser.login(world.coordinator, factories.PASSWORD)
    url = f"/staff/programs/{world.india}/edit"
    doc = lxml.html.fromstring(browser.get(url).get_data(as_text=True))
    [form] = [f for f in doc.forms if "timezone" in f.fields]
    assert form.fields["timezone"] == "Asia/Calcutta"
    response = browser.post(url, _multi(form.form_values()))
    assert response.status_code == 302, main_text(response.get_data(as_text=True))[:2000]
    with app.app_context():
        assert db.session.get(Program, world.india).timezone == "Asia/Calcutta"


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Group a form's (name, value) pairs as the test client posts repeated names."""
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def test_staff_programme_list_names_the_zone(browser, world):
    browser.login(world.coordinator, factories.PASSWORD)
    page = main_text(browser.get("/staff/programs").get_data(as_text=True))
    assert "(Алматы, UTC+5)" in page and "Asia/Almaty" not in page
    assert "(Калькутта, UTC+5:30)" in page


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "March 31, 2027, 23:59 (Almaty, UTC+5)"),
        ("ru", "31 марта 2027\u202fг., 23:59 (Алматы, UTC+5)"),
        ("kk", "2027\u202fж. 31 наурыз, 23:59 (Алматы, UTC+5)"),
        ("ky", "2027-ж., 31-март, 23:59 (Алматы, UTC+5)"),
    ],
)
def test_offer_letter_deadline_names_the_city_and_offset(app, world, lang, expected):
    from portal.offers.letters import _deadline_text

    with app.test_request_context("/"):
        program = db.session.get(Program, world.altai)
        assert _deadline_text(CLOSES, program, lang) == expected


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.levels: list[int] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self.levels.append(int(tag[1]))


def heading_levels(html: str) -> list[int]:
    parser = _Headings()
    parser.feed(html)
    return parser.levels


@pytest.mark.parametrize(
    "path", ["/programs", "/programs?q=nothing-matches", "/programs/altai", "/"]
)
def test_headings_never_skip_a_level(app, browser, world, path):
    with app.app_context():
        factories.user(email="new@example.kz")
    browser.login("new@example.kz", factories.PASSWORD)
    levels = heading_levels(browser.get(path).get_data(as_text=True))
    assert levels[0] == 1 and levels.count(1) == 1, levels
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, (path, levels)


def test_programme_page_numbers_follow_the_language(app, browser, world):
    with app.app_context():
        program = db.session.scalar(sa.select(Program).where(Program.slug == "altai"))
        program.seats = 1200
        db.session.commit()
    page = main_text(browser.get("/programs/altai?lang=ru").get_data(as_text=True))
    assert "1\u00a0200" in page
