"""The profile form as served: national IDs, the alphabet of the native name, typed names of
things. Each test reads the rendered form and posts it back with a person's changes."""

from __future__ import annotations

from datetime import date, datetime

import lxml.html
import pytest
import sqlalchemy as sa

from portal.applications.models import Application
from portal.applications.services import snapshot_profile
from portal.auth.models import User
from portal.extensions import db
from portal.i18n import SCRIPT_TAGS
from portal.nominations.services import student_part
from portal.offers.letters import addressee
from portal.profiles.models import StudentProfile
from tests import factories
from tests.profiles.test_profile import iin_for

EMAIL = "aru@example.kz"


def rendered_form(html: str) -> dict[str, str]:
    """Return what a browser sends for the profile form as served, untouched."""
    page = lxml.html.fromstring(html)
    (form,) = page.xpath("//form[contains(@class, 'profile-form')]")
    values: dict[str, str] = {}
    for element in form.xpath(".//input | .//select | .//textarea"):
        name = element.get("name")
        if not name or element.get("type") in ("submit", "button"):
            continue
        if element.tag == "select":
            options = element.xpath(".//option")
            chosen = [o for o in options if o.get("selected") is not None] or options[:1]
            values[name] = chosen[0].get("value", chosen[0].text_content()) if chosen else ""
        elif element.tag == "textarea":
            values[name] = element.text_content()
        elif element.get("type") in ("checkbox", "radio"):
            if element.get("checked") is not None:
                values[name] = element.get("value", "on")
        else:
            values[name] = element.get("value", "")
    return values


def select_options(html: str, name: str) -> list[tuple[str, str, bool]]:
    """Return (value, label, selected) of each option of a select of the page."""
    page = lxml.html.fromstring(html)
    (select,) = page.xpath(f"//select[@name='{name}']")
    return [
        (o.get("value"), o.text_content().strip(), o.get("selected") is not None)
        for o in select.xpath(".//option")
    ]


def error_beside(html: str, field_id: str) -> str:
    """Return the message shown beside a field, or ""."""
    found = lxml.html.fromstring(html).xpath(f"//*[@id='{field_id}-error']")
    return " ".join(found[0].text_content().split()) if found else ""


@pytest.fixture
def home_id(app, browser) -> int:
    with app.app_context():
        factories.user(email=EMAIL, locale="en")
        home = factories.institution(schac="vku.edu.kz")
        home_id = home.id
    browser.login(EMAIL, factories.PASSWORD)
    return home_id


def person(home_id: int, **changes: str) -> dict[str, str]:
    """What a Kazakh student types into the empty form (the alphabet list left alone)."""
    data = {
        "native_given_names": "Әлихан",
        "native_family_name": "Бөкейханов",
        "latin_given_names": "ALIKHAN",
        "latin_family_name": "BOKEIKHANOV",
        "birth_date": "2003-05-17",
        "gender": "1",
        "citizenship": "KZ",
        "national_id": iin_for(date(2003, 5, 17), male=True),
        "passport_number": "N12345678",
        "phone": "+7 701 123 45 67",
        "home_institution": str(home_id),
        "faculty": "Жаратылыстану факультеті",
        "study_level": "6",
        "isced_code": "052",
        "year_of_study": "3",
        "gpa": "3.40",
        "gpa_scale": "kz4",
    }
    data.update(changes)
    return data


def post_as_served(browser, **typed: str):
    """Open the profile page, fill in the rendered form and send it."""
    page = browser.get("/profile/")
    assert page.status_code == 200
    data = rendered_form(page.get_data(as_text=True))
    data.update(typed)
    return browser.post("/profile/", data)


def stored(app) -> StudentProfile | None:
    with app.app_context():
        profile = db.session.scalar(sa.select(StudentProfile))
        if profile is not None:
            _ = profile.languages, profile.home_institution
            db.session.expunge_all()
        return profile


# --- National identifiers ----------------------------------------------------------------------


def _wrong_check(first11: str) -> str:
    """Append a last digit that is not the IIN's check digit (weights 1..11, else 3..11,1,2)."""
    digits = [int(c) for c in first11]
    check = sum(d * w for d, w in zip(digits, range(1, 12), strict=True)) % 11
    if check == 10:
        weights = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
        check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
    return first11 + str((check + 1) % 10)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # 31 February 2003 and a wrong check digit: the date is what the person can check.
        (
            {"national_id": _wrong_check("03023150123")},
            "The first six digits of an IIN are the date of birth (YYMMDD)",
        ),
        # Century digit 7 and a wrong check digit.
        (
            {"national_id": _wrong_check("03051770123")},
            "The 7th digit of an IIN (century of birth and sex) must be 1 to 6",
        ),
        # A valid date of the wrong century (3: the 1900s) and a wrong check digit.
        ({"national_id": "030517300001"}, "date of birth differs from the one above"),
        (
            {
                "citizenship": "KG",
                "national_id": "33102200312345",
                "phone": "+996 555 123 456",
                "native_name_lang": "ky",
            },
            "The first digit of a PIN (sex) must be 1 or 2",
        ),
        (
            {
                "citizenship": "KG",
                "national_id": "23102200312345",
                "phone": "+996 555 123 456",
                "native_name_lang": "ky",
            },
            "Digits 2 to 9 of a PIN are the date of birth (DDMMYYYY)",
        ),
        (
            {
                "citizenship": "RU",
                "national_id": "000-000-000 00",
                "phone": "+7 916 123-45-67",
                "native_given_names": "Иван",
                "native_family_name": "Петров",
            },
            "No one is ever given this number",
        ),
    ],
)
def test_national_id_messages_say_what_to_check(app, browser, home_id, changes, message):
    response = post_as_served(browser, **person(home_id, **changes))
    assert response.status_code == 422
    assert message in error_beside(response.get_data(as_text=True), "national_id")
    assert stored(app) is None


def test_the_same_iin_on_a_second_account_is_not_refused(app, browser, other_browser, home_id):
    iin = iin_for(date(2003, 5, 17), male=True)
    assert post_as_served(browser, **person(home_id, national_id=iin)).status_code == 302
    with app.app_context():
        factories.user(email="twin@example.kz", locale="en")
    other_browser.login("twin@example.kz", factories.PASSWORD)
    spaced = f"{iin[:6]} {iin[6:]}"
    assert post_as_served(other_browser, **person(home_id, national_id=spaced)).status_code == 302
    with app.app_context():
        ids = db.session.scalars(sa.select(StudentProfile.national_id)).all()
    assert ids == [iin, iin]


# --- The alphabet of the native name -----------------------------------------------------------


def test_every_alphabet_has_one_label():
    from portal.identity import NAME_ALPHABETS
    from portal.profiles.forms import NAME_ALPHABET_LABELS

    assert tuple(NAME_ALPHABET_LABELS) == NAME_ALPHABETS


def test_the_alphabet_list_offers_every_alphabet_and_starts_automatic(app, browser, home_id):
    html = browser.get("/profile/").get_data(as_text=True)
    options = select_options(html, "native_name_lang")
    assert [(value, label) for value, label, _selected in options] == [
        ("", "Automatic, from my citizenship"),
        ("kk", "Kazakh Cyrillic"),
        ("ru", "Russian Cyrillic"),
        ("ky", "Kyrgyz Cyrillic"),
        ("cyrl", "Another Cyrillic alphabet"),
        ("latn", "Latin alphabet"),
    ]
    assert [value for value, _label, selected in options if selected] in ([""], [])
    assert rendered_form(html)["native_name_lang"] == ""
    # The list has a visible label.
    page = lxml.html.fromstring(html)
    assert page.xpath("//label[@for='native_name_lang']")[0].text_content().strip()


@pytest.mark.parametrize(
    ("citizenship", "native", "phone", "national_id", "alphabet", "tag"),
    [
        ("RU", ("Иван", "Петров"), "+7 916 123-45-67", "112-233-445 95", "ru", "ru-Cyrl"),
        ("KG", ("Айбек", "Үсөнов"), "+996 555 123 456", "21705200312345", "ky", "ky-Cyrl"),
        ("KZ", ("Әлихан", "Бөкейханов"), "+7 701 123 45 67", None, "kk", "kk-Cyrl"),
    ],
)
def test_the_alphabet_follows_the_citizenship_into_the_snapshot_and_ewp(
    app, browser, home_id, citizenship, native, phone, national_id, alphabet, tag
):
    changes = {
        "citizenship": citizenship,
        "native_given_names": native[0],
        "native_family_name": native[1],
        "phone": phone,
    }
    if national_id:
        changes["national_id"] = national_id
    response = post_as_served(browser, **person(home_id, **changes))
    assert response.status_code == 302, error_beside(
        response.get_data(as_text=True), "native_given_names"
    )
    with app.app_context():
        profile = db.session.scalar(sa.select(StudentProfile))
        assert profile.native_name_lang is None  # automatic: decided when read
        assert profile.native_name_alphabet == alphabet
        snapshot = snapshot_profile(profile)
        assert snapshot["native_name_lang"] == alphabet
        program = factories.program()
        application = Application(
            student=profile.user, program=program, state="draft", profile_snapshot=snapshot
        )
        db.session.add(application)
        db.session.flush()
        assert student_part(application, profile.home_institution)["native_lang"] == tag
        assert addressee(application, "en").native_lang == tag == SCRIPT_TAGS[alphabet]
        db.session.rollback()
    # The page shows the choice left to the citizenship.
    html = browser.get("/profile/").get_data(as_text=True)
    assert rendered_form(html)["native_name_lang"] == ""


def test_a_chosen_alphabet_is_stored_and_shown(app, browser, home_id):
    changes = person(
        home_id,
        citizenship="RU",
        phone="+7 916 123-45-67",
        national_id="112-233-445 95",
        native_name_lang="kk",
        native_given_names="Әлия",
        native_family_name="Серикова",
    )
    assert post_as_served(browser, **changes).status_code == 302
    assert stored(app).native_name_lang == "kk"
    assert stored(app).native_name_alphabet == "kk"
    assert (
        rendered_form(browser.get("/profile/").get_data(as_text=True))["native_name_lang"] == "kk"
    )


def test_kazakh_chosen_by_a_russian_citizen_stays_kazakh(app, browser, home_id):
    with app.app_context():
        student = db.session.scalar(sa.select(User).where(User.email == EMAIL))
        factories.complete_profile(
            student,
            native_given_names="Иван",
            native_family_name="Петров",
            native_name_lang="kk",
            citizenship="RU",
            national_id="112-233-445 95",
            phone="+79161234567",
        )
        profile = db.session.scalar(sa.select(StudentProfile))
        assert profile.native_name_alphabet == "kk"
        assert snapshot_profile(profile)["name_alphabet"] == "kk"
    html = browser.get("/profile/").get_data(as_text=True)
    assert rendered_form(html)["native_name_lang"] == "kk"
    # Saved again untouched, the choice is kept.
    response = browser.post("/profile/", rendered_form(html))
    assert response.status_code == 302, error_beside(
        response.get_data(as_text=True), "native_name_lang"
    )
    assert stored(app).native_name_lang == "kk"


def test_the_migration_clears_the_old_kazakh_default_and_keeps_real_choices(app, tmp_path):
    from flask_migrate import downgrade, upgrade

    from tests.conftest import _postgres_database, make_app

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        databases = (url for url in [f"sqlite:///{tmp_path / 'old.sqlite3'}"])
    else:
        databases = _postgres_database()
    fresh = make_app(next(databases), tmp_path)
    people = {
        # (citizenship, native name, stored) -> what stays stored after the migration
        "ivan@example.ru": ("RU", ("Иван", "Петров"), "kk", None),  # the old default
        "aibek@example.kg": ("KG", ("Айбек", "Үсөнов"), "kk", None),  # ң ө ү are Kyrgyz too
        "aliya@example.ru": ("RU", ("Әлия", "Серикова"), "kk", "kk"),  # Kazakh letters: meant
        "dana@example.kz": ("KZ", ("Дана", "Ким"), "kk", "kk"),
        "olga@example.ru": ("RU", ("Ольга", "Ким"), "ru", "ru"),
    }
    with fresh.app_context():
        upgrade(revision="0008")
        for n, (email, (country, (given, family), lang, _kept)) in enumerate(people.items(), 1):
            db.session.execute(
                sa.text(
                    "INSERT INTO users (id, email, password_hash, role, locale, active, "
                    "session_key, created_at, updated_at) "
                    "VALUES (:id, :email, 'x', 'student', 'en', true, :key, :now, :now)"
                ),
                {"id": n, "email": email, "key": f"key-{n}", "now": datetime(2026, 1, 1)},
            )
            db.session.execute(
                sa.text(
                    "INSERT INTO student_profiles (user_id, native_given_names, "
                    "native_family_name, native_name_lang, citizenship, created_at, updated_at) "
                    "VALUES (:id, :given, :family, :lang, :country, :now, :now)"
                ),
                {
                    "id": n, "given": given, "family": family, "lang": lang,
                    "country": country, "now": datetime(2026, 1, 1),
                },
            )
        db.session.commit()
        db.session.remove()
        upgrade()
        kept = dict(
            db.session.execute(
                sa.text(
                    "SELECT u.email, p.native_name_lang FROM student_profiles p "
                    "JOIN users u ON u.id = p.user_id"
                )
            ).all()
        )
        assert kept == {email: person[3] for email, person in people.items()}
        db.session.remove()
        downgrade(revision="0008")
        db.session.remove()
        db.engine.dispose()
    databases.close()


def test_an_old_snapshot_saying_kazakh_for_a_kyrgyz_name_gives_kyrgyz(app):
    with app.app_context():
        student = factories.user()
        home = factories.institution(schac="knu.kg", country="KG")
        application = Application(
            student=student,
            program=factories.program(),
            state="draft",
            profile_snapshot={
                "native_given_names": "Айбек",
                "native_family_name": "Үсөнов",
                "native_name_lang": "kk",
                "citizenship": "KG",
            },
        )
        db.session.add(application)
        db.session.flush()
        assert student_part(application, home)["native_lang"] == "ky-Cyrl"
        assert addressee(application, "en").native_lang == "ky-Cyrl"
        db.session.rollback()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        # Latin letters under the Kazakh alphabet, which a Kazakh citizen gets automatically.
        (
            {"native_given_names": "Alikhan"},
            "native_given_names",
            "Latin letters (A, l, i, k, h, a, n) are not in this name's alphabet, "
            "“Kazakh Cyrillic”",
        ),
        # ...and when chosen.
        (
            {"native_family_name": "Bokeikhanov", "native_name_lang": "kk"},
            "native_family_name",
            "“Latin alphabet” as its alphabet if it has no Cyrillic spelling",
        ),
        # Kazakh letters in a name said to be Russian: the message names the letters and the
        # alphabet that has them.
        (
            {"native_name_lang": "ru"},
            "native_given_names",
            "The letters Ә are not in this name's alphabet, “Russian Cyrillic”. If your name is "
            "written with them, choose “Kazakh Cyrillic” as its alphabet.",
        ),
        (
            {"native_name_lang": "ky", "native_given_names": "Серік"},
            "native_given_names",
            "The letters і are not in this name's alphabet, “Kyrgyz Cyrillic”",
        ),
        # Both fields suggest the same alphabet: the citizenship's, which has every letter.
        (
            {"native_name_lang": "latn"},
            "native_family_name",
            "The letters Б, ө, к, е, й, х, а, н are not in this name's alphabet, “Latin "
            "alphabet”. If your name is written with them, choose “Kazakh Cyrillic”",
        ),
        (
            {
                "native_name_lang": "latn",
                "citizenship": "RU",
                "phone": "+7 916 123-45-67",
                "national_id": "112-233-445 95",
                "native_given_names": "Иван",
                "native_family_name": "Петров",
            },
            "native_given_names",
            "choose “Russian Cyrillic” as its alphabet",
        ),
        # Elsewhere, the smallest alphabet with every letter of the name.
        (
            {
                "native_name_lang": "ru",
                "citizenship": "UZ",
                "phone": "+998 90 123 45 67",
                "national_id": "AB1234567",
                "native_given_names": "Айбек",
                "native_family_name": "Үсөнов",
            },
            "native_family_name",
            "choose “Kyrgyz Cyrillic” as its alphabet",
        ),
        (
            {"native_name_lang": "kk", "native_given_names": "Αλέξης"},
            "native_given_names",
            "Please retype them",
        ),
    ],
)
def test_the_native_name_must_use_its_alphabet(app, browser, home_id, changes, field, message):
    response = post_as_served(browser, **person(home_id, **changes))
    assert response.status_code == 422
    assert message in error_beside(response.get_data(as_text=True), field)
    assert stored(app) is None


@pytest.mark.parametrize(
    "changes",
    [
        {
            "native_name_lang": "latn",
            "native_given_names": "Jürgen",
            "native_family_name": "Müller",
            "citizenship": "DE",
            "national_id": "T22000129",
            "phone": "+49 151 23456789",
        },
        # Elsewhere, left automatic, the name's own alphabet is taken.
        {
            "native_given_names": "Jürgen",
            "native_family_name": "Müller",
            "citizenship": "DE",
            "national_id": "T22000129",
            "phone": "+49 151 23456789",
        },
        {
            "native_name_lang": "cyrl",
            "native_given_names": "Євген",
            "native_family_name": "Ткач",
            "citizenship": "UA",
            "national_id": "AB123456",
            "phone": "+380 50 123 4567",
        },
        {"native_name_lang": "kk", "native_given_names": "Иван", "native_family_name": "Петров"},
    ],
)
def test_names_in_their_alphabet_are_accepted(app, browser, home_id, changes):
    response = post_as_served(browser, **person(home_id, **changes))
    html = response.get_data(as_text=True)
    assert response.status_code == 302, [
        error_beside(html, f) for f in ("native_given_names", "native_family_name", "national_id")
    ]


def test_one_message_at_a_time_for_a_name(app, browser, home_id):
    # A lookalike word is refused as such, not also for its alphabet.
    response = post_as_served(browser, **person(home_id, native_given_names="Аlihan"))
    message = error_beside(response.get_data(as_text=True), "native_given_names")
    assert "mix Latin and Cyrillic letters that look alike: Аlihan" in message
    assert "alphabet" not in message.replace("one alphabet", "")


# --- Typed names of things: one script per word ------------------------------------------------

KAZNU_LOOKALIKE = "Ka\u0437\u041d\u0423"  # "КазНУ" with a Latin K and a


@pytest.mark.parametrize("field", ["home_institution_other", "faculty"])
def test_lookalike_words_are_refused_in_names_people_group_by(app, browser, home_id, field):
    changes = {field: f"{KAZNU_LOOKALIKE} им. аль-Фараби"}
    if field == "home_institution_other":
        changes["home_institution"] = "-1"
    response = post_as_served(browser, **person(home_id, **changes))
    assert response.status_code == 422
    message = error_beside(response.get_data(as_text=True), field)
    assert f"mix Latin and Cyrillic letters that look alike: {KAZNU_LOOKALIKE}" in message
    assert stored(app) is None


def test_hyphenated_compounds_are_fine_in_names_of_things(app, browser, home_id):
    response = post_as_served(
        browser,
        **person(
            home_id,
            home_institution="-1",
            home_institution_other="КазНУ им. аль-Фараби",
            faculty="Факультет IT-технологий",
        ),
    )
    assert response.status_code == 302
    assert stored(app).home_institution_other == "КазНУ им. аль-Фараби"
    assert stored(app).faculty == "Факультет IT-технологий"
