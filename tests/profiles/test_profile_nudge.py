"""A student whose profile lacks what applying needs is told what is missing, and where to go."""

from __future__ import annotations

import re

import lxml.html
import pytest

from portal.auth.models import Role
from tests import factories

ALL_MISSING = [
    "Given names in your alphabet",
    "Family name in your alphabet",
    "Given names as in your passport (Latin)",
    "Family name as in your passport (Latin)",
    "Date of birth",
    "Gender",
    "Citizenship",
    "National identification number",
    "Passport number",
    "Mobile phone",
    "Home university",
    "Faculty or school",
    "Study level",
    "Field of study (ISCED-F 2013)",
    "Year of study",
    "Grade point average",
    "Grading scale",
]


def nudge(html: str) -> lxml.html.HtmlElement | None:
    found = lxml.html.fromstring(html).xpath("//main//section[contains(@class, 'profile-nudge')]")
    return found[0] if found else None


def listed(section: lxml.html.HtmlElement) -> list[str]:
    text = re.sub(r"[ \t\r\n]+", " ", section.find(".//p").text_content())
    match = re.fullmatch(r"Your profile is missing: (.*)\.", text.strip())
    assert match, text
    return match.group(1).split(", ")


@pytest.fixture
def newcomer(app, browser):
    with app.app_context():
        factories.user(email="new@example.kz")
        home = factories.institution(schac="vku.edu.kz")
        home_id = home.id
    response = browser.login("new@example.kz", factories.PASSWORD)
    assert response.status_code == 302
    return home_id


def test_after_the_first_login_the_student_is_told_what_the_profile_lacks(browser, newcomer):
    # Where the login leads, and the student's own page.
    for path in ("/", "/applications/"):
        section = nudge(browser.get(path).get_data(as_text=True))
        assert section is not None, path
        assert section.find(".//h2") is not None
        assert listed(section) == ALL_MISSING
        [link] = section.xpath(".//a")
        assert link.get("href").endswith("/profile/")


def test_the_list_shrinks_as_the_profile_is_filled_through_its_form(browser, newcomer):
    page = lxml.html.fromstring(browser.get("/profile/").get_data(as_text=True))
    [form] = [f for f in page.forms if "passport_number" in f.fields]
    form.fields["latin_given_names"] = "ALIKHAN"
    form.fields["latin_family_name"] = "BOKEIKHANOV"
    form.fields["birth_date"] = "2003-05-17"
    form.fields["passport_number"] = "N12345678"
    form.fields["home_institution"] = str(newcomer)
    response = browser.post("/profile/", dict(form.form_values()))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    left = listed(nudge(browser.get("/applications/").get_data(as_text=True)))
    assert "Passport number" not in left and "Date of birth" not in left
    assert "Home university" not in left
    assert "Mobile phone" in left and "Grade point average" in left
    # The profile page itself names what is still needed, not just how many.
    profile = lxml.html.fromstring(browser.get("/profile/").get_data(as_text=True))
    [status] = profile.xpath("//main//div[@role='status']")
    assert "Mobile phone" in status.text_content()


def test_a_complete_profile_brings_no_nudge(app, browser):
    with app.app_context():
        student = factories.user(email="done@example.kz")
        factories.complete_profile(student)
    browser.login("done@example.kz", factories.PASSWORD)
    for path in ("/", "/applications/", "/profile/"):
        html = browser.get(path).get_data(as_text=True)
        assert nudge(html) is None, path
        assert "Your profile is missing" not in html


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.REVIEWER, Role.PARTNER, Role.ADMIN])
def test_staff_and_visitors_see_no_nudge(app, browser, role):
    assert nudge(browser.get("/").get_data(as_text=True)) is None
    with app.app_context():
        factories.user(role, email="staff@example.kz", institution=factories.institution())
    browser.login("staff@example.kz", factories.PASSWORD)
    assert nudge(browser.get("/").get_data(as_text=True)) is None


def test_a_gpa_out_of_range_is_explained_with_the_languages_numbers(app, browser):
    with app.app_context():
        factories.user(email="ru@example.kz", locale="ru")
    browser.login("ru@example.kz", factories.PASSWORD)
    response = browser.post("/profile/", {"gpa": "4.5", "gpa_scale": "kz4"})
    assert response.status_code == 422
    # 4.0 as Russian writes it: "4", not "4.0" beside the "3,4" the student sees elsewhere.
    assert re.search(r"значение должно быть от 0 до 4\.(?!\d)", response.get_data(as_text=True))
