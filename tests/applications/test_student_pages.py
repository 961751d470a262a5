"""What a student reads back: their answers, numbers and times in their language."""

from __future__ import annotations

import re
from decimal import Decimal

import lxml.html
import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.programs.models import Program, ProgramQuestion
from tests import factories
from tests.applications.test_journey import MOTIVATION, start, upload
from tests.documents.corpus import make_jpeg, make_pdf
from tests.questions import HOSTEL, MOUNTAIN, SLEEP, TENT

LANGS = ["en", "ru", "kk", "ky"]

FIELDWORK = {
    "en": "Your fieldwork so far",
    "ru": "Ваш полевой опыт",
    "kk": "Далалық тәжірибеңіз",
    "ky": "Талаа тажрыйбаңыз",
}


@pytest.fixture
def world(app, request):
    """A student writing in a language, with a profile; a programme asking three questions."""
    lang = getattr(request, "param", "en")
    with app.app_context():
        student = factories.user(email="aru@example.kz", locale=lang)
        factories.complete_profile(
            student, gpa=Decimal("3.45"), gpa_scale="kz4", gpa_normalized=Decimal("86.3")
        )
        host = factories.institution(schac="vku.edu.kz", timezone="Asia/Almaty")
        program = factories.program(
            host, slug="altai", min_gpa=60, required_language="en", required_cefr="B1"
        )
        program.questions = [
            ProgramQuestion(position=1, kind="short", prompts=MOUNTAIN, choices=[]),
            ProgramQuestion(
                position=2,
                kind="choice",
                prompts=SLEEP,
                choices=[
                    {"value": "tent", "labels": TENT},
                    {"value": "hostel", "labels": HOSTEL},
                ],
            ),
            ProgramQuestion(position=3, kind="long", prompts=FIELDWORK, choices=[], required=False),
        ]
        db.session.commit()
    return lang


def main_of(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(html).find(".//main")


def text_of(element: lxml.html.HtmlElement) -> str:
    # Only ASCII white space folds: Babel's no-break spaces are part of what is checked.
    return re.sub(r"[ \t\r\n]+", " ", element.text_content()).strip()


def answer_questions_as_served(browser, app_id: int) -> None:
    """Fill the questions form the page serves and post it back, as a browser would."""
    url = f"/applications/{app_id}/questions"
    page = lxml.html.fromstring(browser.get(url).get_data(as_text=True))
    [form] = [f for f in page.forms if any(re.fullmatch(r"q\d+", n) for n in f.fields)]
    names = [n for n in form.fields if re.fullmatch(r"q\d+", n)]
    [choice] = [n for n in names if isinstance(form.inputs[n], lxml.html.RadioGroup)]
    form.fields[names[0]] = "Белуха"
    form.inputs[choice].value = "tent"
    data = dict(form.form_values())
    data["next"] = "1"
    response = browser.post(url, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def submitted_application(browser) -> int:
    browser.login("aru@example.kz", factories.PASSWORD)
    app_id = start(browser)
    response = browser.post(
        f"/applications/{app_id}/motivation", {"motivation": MOTIVATION, "next": "1"}
    )
    assert response.status_code == 302
    answer_questions_as_served(browser, app_id)
    assert upload(browser, app_id, "passport", make_jpeg(), "passport.jpg").status_code == 302
    assert upload(browser, app_id, "transcript", make_pdf(), "transcript.pdf").status_code == 302
    response = browser.post(f"/applications/{app_id}/submit")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/applications/{app_id}")
    return app_id


@pytest.mark.parametrize("world", LANGS, indirect=True)
def test_submitted_application_shows_every_answer_in_the_students_language(app, browser, world):
    lang = world
    app_id = submitted_application(browser)
    main = main_of(browser.get(f"/applications/{app_id}").get_data(as_text=True))
    [answers] = main.xpath(".//dl[contains(@class, 'answers')]")
    pairs = list(
        zip(
            [text_of(dt) for dt in answers.findall("dt")],
            [text_of(dd) for dd in answers.findall("dd")],
            strict=True,
        )
    )
    # Prompts in the student's language; the choice by its label, never its stored key "tent".
    assert pairs[:2] == [(MOUNTAIN[lang], "Белуха"), (SLEEP[lang], TENT[lang])]
    assert pairs[2][0] == FIELDWORK[lang]
    # The unanswered optional question says so, rather than leaving a blank.
    assert pairs[2][1] and answers.findall("dd")[2].xpath(".//span")


def test_answers_to_a_choice_removed_later_still_show(app, browser, world):
    app_id = submitted_application(browser)
    with app.app_context():
        program = db.session.scalar(sa.select(Program).where(Program.slug == "altai"))
        program.questions[1].choices = [{"value": "hostel", "labels": HOSTEL}]
        db.session.commit()
    main = main_of(browser.get(f"/applications/{app_id}").get_data(as_text=True))
    [answers] = main.xpath(".//dl[contains(@class, 'answers')]")
    assert [text_of(dd) for dd in answers.findall("dd")][:2] == ["Белуха", "tent"]


@pytest.mark.parametrize(
    ("world", "gpa"),
    [
        ("en", "3.45 (86.3 of 100)"),
        ("ru", "3,45 (86,3 из 100)"),
        ("kk", "3,45 (100-ден 86,3)"),
        ("ky", "3,45 (100-дөн 86,3)"),
    ],
    indirect=["world"],
)
def test_numbers_on_the_students_pages_use_one_decimal_sign(app, browser, world, gpa):
    lang = world
    browser.login("aru@example.kz", factories.PASSWORD)
    app_id = start(browser)
    main = main_of(browser.get(f"/applications/{app_id}/profile").get_data(as_text=True))
    shown = dict(
        zip(
            [text_of(dt) for dt in main.findall(".//dl/dt")],
            [text_of(dd) for dd in main.findall(".//dl/dd")],
            strict=True,
        )
    )
    assert gpa in shown.values(), shown
    if lang != "en":
        # The eligibility verdict and the profile figures agree: no "86.3" beside "86,3".
        for path in (f"/applications/{app_id}/profile", "/programs/altai", "/applications/"):
            page = text_of(main_of(browser.get(path).get_data(as_text=True)))
            assert not re.search(r"\d\.\d", page), (path, page)
            assert "86,3" in page or path == "/applications/"


def test_deadlines_and_timeline_show_the_programmes_zone_until_the_browser_tells(
    app, browser, world
):
    browser.login("aru@example.kz", factories.PASSWORD)
    app_id = start(browser)
    for path in ("/applications/", f"/applications/{app_id}"):
        page = text_of(main_of(browser.get(path).get_data(as_text=True)))
        # The deadline, and when the draft was started, each name the zone they are in.
        assert page.count("(Almaty, UTC+5)") >= (2 if path == "/applications/" else 1), page
    browser.client.set_cookie("tz", "Asia/Bishkek", domain="kopir.test")
    page = text_of(main_of(browser.get("/applications/").get_data(as_text=True)))
    assert "(Almaty" not in page
