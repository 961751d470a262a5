"""The student profile: names in two scripts, national ids, phone, studies, languages."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.profiles.models import StudentProfile
from tests import factories


def iin_for(birth: date, male: bool) -> str:
    """Build a valid Kazakh IIN for a birth date and sex."""
    century = {18: 1, 19: 3, 20: 5}[birth.year // 100] + (0 if male else 1)
    for serial in range(10000):
        first11 = f"{birth:%y%m%d}{century}{serial:04d}"
        digits = [int(c) for c in first11]
        check = sum(d * w for d, w in zip(digits, range(1, 12), strict=True)) % 11
        if check == 10:
            check = (
                sum(d * w for d, w in zip(digits, (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), strict=True))
                % 11
            )
        if check != 10:
            return first11 + str(check)
    raise AssertionError("no IIN found")


@pytest.fixture
def student(app, browser):
    with app.app_context():
        factories.user(email="aru@example.kz", locale="en")
        home = factories.institution(schac="vku.edu.kz")
        home_id = home.id
    browser.login("aru@example.kz", factories.PASSWORD)
    return home_id


def profile_data(home_id: int, **changes: str) -> dict[str, str]:
    data = {
        "native_given_names": "Әлихан",
        "native_family_name": "Бөкейханов",
        "native_name_lang": "kk",
        "latin_given_names": "ALIKHAN",
        "latin_family_name": "BOKEIKHANOV",
        "birth_date": "2003-05-17",
        "gender": "1",
        "citizenship": "KZ",
        "national_id": iin_for(date(2003, 5, 17), male=True),
        "passport_number": "n 1234 5678",
        "phone": "8 701 123 45 67",
        "home_institution": str(home_id),
        "home_institution_other": "",
        "faculty": "Жаратылыстану факультеті",
        "study_level": "6",
        "isced_code": "052",
        "year_of_study": "3",
        "gpa": "3.40",
        "gpa_scale": "kz4",
        "languages-0-language": "kk",
        "languages-0-level": "native",
        "languages-1-language": "en",
        "languages-1-level": "B2",
        "languages-2-language": "",
        "languages-2-level": "",
        "languages-3-language": "",
        "languages-3-level": "",
    }
    data.update(changes)
    return data


def saved_profile(app) -> StudentProfile | None:
    with app.app_context():
        profile = db.session.scalar(sa.select(StudentProfile))
        if profile is not None:
            _ = profile.languages
            db.session.expunge_all()
        return profile


def test_kazakh_student_fills_the_profile_in_kazakh(app, browser, student):
    page = browser.get("/profile/")
    assert page.status_code == 200
    response = browser.post("/profile/", profile_data(student))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    profile = saved_profile(app)
    assert profile.native_name == "Әлихан Бөкейханов"
    assert profile.phone == "+77011234567"
    assert profile.passport_number == "N12345678"
    assert str(profile.gpa_normalized) == "85.0"
    assert {(s.language, s.level) for s in profile.languages} == {("kk", "native"), ("en", "B2")}
    assert profile.missing_fields() == []
    # The saved page suggests the Latin spelling from the native name.
    assert "Alikhan Bokeikhanov" in browser.get("/profile/").get_data(as_text=True)


def test_profile_can_be_saved_incomplete(app, browser, student):
    response = browser.post(
        "/profile/", {"native_given_names": "Айгерім", "languages-0-language": ""}
    )
    assert response.status_code == 302
    assert saved_profile(app).native_given_names == "Айгерім"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # The right century (5: born in the 2000s, male) and date, a wrong last digit.
        ({"national_id": "030517500001"}, "check digit is wrong"),
        ({"national_id": "12345"}, "right format"),
        ({"national_id": iin_for(date(2003, 5, 18), male=True)}, "date of birth differs"),
        ({"national_id": iin_for(date(2003, 5, 17), male=False)}, "gender digit differs"),
        (
            {"citizenship": "RU", "national_id": "112-233-445 96", "phone": "+7 916 123-45-67"},
            "check digit is wrong",
        ),
        (
            {"citizenship": "KG", "national_id": "23102200312345", "phone": "+996 555 123 456"},
            "are not a possible date",
        ),
        ({"phone": "12345"}, "not a valid phone number"),
        ({"birth_date": "17.05.2003"}, "Not a valid date value"),
        ({"birth_date": "2099-01-01"}, "cannot be in the future"),
        ({"native_given_names": "Аlihan"}, "mix Latin and Cyrillic"),
        ({"native_family_name": "<script>alert(1)</script>"}, "not the characters"),
        ({"native_family_name": "王"}, "cannot print these characters of your name: 王"),
        ({"latin_given_names": "Әлихан"}, "Latin letters A–Z"),
        ({"latin_family_name": "O'Brien<b>"}, "Latin letters A–Z"),
        ({"gpa": "4.5"}, "between 0 and 4."),  # 4.0 written as the language writes it
        ({"gpa": "abc"}, "Not a valid decimal value"),
        ({"gpa_scale": ""}, "grading scale as well"),
        ({"home_institution": "-1"}, "type the name of your university"),
        ({"home_institution": "999999"}, "Not a valid choice"),
        ({"languages-1-language": "kk"}, "listed once"),
        ({"languages-1-language": "xx"}, "language from the list"),
        ({"passport_number": "№ 12"}, "5 to 20 Latin letters"),
        ({"year_of_study": "0"}, "between 1 and 10"),
    ],
)
def test_profile_refuses_bad_input_with_a_message_beside_the_field(
    app, browser, student, changes, message
):
    response = browser.post("/profile/", profile_data(student, **changes))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert message in text, text[text.find("invalid-feedback") - 200 :][:2000]
    assert saved_profile(app) is None


def test_russian_and_kyrgyz_identifiers_are_accepted(app, browser, student):
    response = browser.post(
        "/profile/",
        profile_data(
            student,
            citizenship="RU",
            national_id="112-233-445 95",
            phone="+7 916 123-45-67",
            native_name_lang="ru",
            native_given_names="Иван",
            native_family_name="Петров",
            latin_given_names="IVAN",
            latin_family_name="PETROV",
        ),
    )
    assert response.status_code == 302
    assert saved_profile(app).national_id == "112-233-445 95"
    assert saved_profile(app).phone == "+79161234567"
    response = browser.post(
        "/profile/",
        profile_data(
            student,
            citizenship="KG",
            national_id="21705200312345",
            phone="0555 123 456",
            native_name_lang="ky",
            native_given_names="Айбек",
            native_family_name="Үсөнов",
            latin_given_names="AIBEK",
            latin_family_name="USONOV",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    assert saved_profile(app).phone == "+996555123456"


def test_other_university_by_name(app, browser, student):
    response = browser.post(
        "/profile/",
        profile_data(
            student, home_institution="-1", home_institution_other="Tomsk State University"
        ),
    )
    assert response.status_code == 302
    profile = saved_profile(app)
    assert profile.home_institution_id is None
    assert profile.home_institution_other == "Tomsk State University"


def test_transliteration_endpoint_suggests_icao_spelling(browser, student):
    response = browser.get("/profile/transliterate?lang=kk&text=Әлихан Бөкейханов")
    assert response.get_json() == {"latin": "Alikhan Bokeikhanov"}
    response = browser.get("/profile/transliterate?lang=ru&text=Щукин Юрий")
    assert response.get_json() == {"latin": "Shchukin Iurii"}


def test_staff_have_no_student_profile_page(app, browser):
    with app.app_context():
        factories.user("coordinator", email="c@example.kz")
    browser.login("c@example.kz", factories.PASSWORD)
    assert browser.get("/profile/").status_code == 404


def test_saving_returns_to_the_application_but_never_off_site(app, browser, student):
    response = browser.post("/profile/?next=/applications/7/profile", profile_data(student))
    assert response.headers["Location"].endswith("/applications/7/profile")
    response = browser.post("/profile/?next=//evil.example/x", profile_data(student))
    assert response.headers["Location"].endswith("/profile/")
