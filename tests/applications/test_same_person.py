"""What staff see of identity data: one person with two accounts, one university typed two ways."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import lxml.html
import pytest

from portal.applications.models import Application
from portal.applications.overview import overview
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.programs.models import Program, ProgramStaff
from tests import factories

# "КазНУ" typed with a Latin K and a, as stored before such words were refused.
KAZNU_LOOKALIKE = "Ka\u0437\u041d\u0423"


@dataclass
class World:
    program_id: int
    other_program_id: int
    applications: dict[str, int]


def _student(email: str, **profile: object) -> User:
    student = factories.user(email=email)
    factories.complete_profile(student, **profile)
    return student


def _apply(student: User, program: Program) -> int:
    application = Application(
        student=student, program=program, state="submitted", submitted_at=utcnow()
    )
    db.session.add(application)
    db.session.commit()
    return application.id


@pytest.fixture
def world(app) -> World:
    """Programme "alpha" (coord-a) and "beta" (coord-b); applicants, some sharing an ID."""
    with app.app_context():
        host = factories.institution(schac="vku.edu.kz")
        alpha = factories.program(host, slug="alpha")
        beta = factories.program(host, slug="beta")
        coord_a = factories.user("coordinator", email="coord-a@example.kz")
        coord_b = factories.user("coordinator", email="coord-b@example.kz")
        reviewer = factories.user("reviewer", email="rev@example.kz")
        db.session.add_all(
            [
                ProgramStaff(program=alpha, user=coord_a, role="coordinator"),
                ProgramStaff(program=beta, user=coord_b, role="coordinator"),
                ProgramStaff(program=alpha, user=reviewer, role="reviewer"),
            ]
        )
        db.session.commit()
        people = {
            # One Russian with two accounts, the SNILS typed two ways.
            "ivan": _student(
                "ivan@example.ru", citizenship="RU", national_id="112-233-445 95",
                latin_given_names="IVAN", latin_family_name="PETROV",
            ),
            "ivan2": _student(
                "ivan.petrov@example.ru", citizenship="RU", national_id="11223344595",
                latin_given_names="IVAN", latin_family_name="PETROV",
            ),
            # The same digits under another country are another number.
            "other_country": _student(
                "uz@example.uz", citizenship="UZ", national_id="11223344595",
            ),
            "alone": _student("alone@example.kz", national_id="900525301239"),
            # No number given (the demo data stores ""): nothing to compare.
            "blank1": _student("blank1@example.kz", national_id=""),
            "blank2": _student("blank2@example.kz", national_id=None),
        }  # fmt: skip
        applications = {name: _apply(student, alpha) for name, student in people.items()}
        applications["ivan2_beta"] = _apply(people["ivan2"], beta)
        # A third account with Ivan's number that never applied anywhere.
        _student("ivan3@example.ru", citizenship="RU", national_id="112 233 445 95")
        return World(alpha.id, beta.id, applications)


def login(browser, email: str) -> None:
    assert browser.login(email, factories.PASSWORD).status_code == 302


def warning(html: str) -> lxml.html.HtmlElement | None:
    found = lxml.html.fromstring(html).xpath("//*[@id='same-identifier']")
    return found[0] if found else None


def test_coordinator_is_warned_of_another_account_with_the_same_identifier(browser, world):
    login(browser, "coord-a@example.kz")
    page = browser.get(f"/staff/applications/{world.applications['ivan']}")
    assert page.status_code == 200
    box = warning(page.get_data(as_text=True))
    assert box is not None
    text = " ".join(box.text_content().split())
    # The account that never applied is not counted, nor named: it is only a profile.
    assert "1 other account has the same national identification number" in text
    assert "ivan.petrov@example.ru" in text and "ivan3@example.ru" not in text
    assert "uz@example.uz" not in text
    links = [a.get("href") for a in box.xpath(".//a")]
    # Only the other account's application this coordinator may open; not beta's.
    assert links == [f"/staff/applications/{world.applications['ivan2']}"]
    assert browser.get(links[0]).status_code == 200


@pytest.mark.parametrize("name", ["alone", "other_country", "blank1", "blank2"])
def test_no_warning_without_another_account_holding_the_number(browser, world, name):
    login(browser, "coord-a@example.kz")
    page = browser.get(f"/staff/applications/{world.applications[name]}")
    assert page.status_code == 200
    assert warning(page.get_data(as_text=True)) is None


def test_the_other_programmes_coordinator_is_warned_too(browser, world):
    login(browser, "coord-b@example.kz")
    page = browser.get(f"/staff/applications/{world.applications['ivan2_beta']}")
    box = warning(page.get_data(as_text=True))
    assert box is not None
    text = " ".join(box.text_content().split())
    # Alpha is not this coordinator's: warned, but not told who the other applicant is.
    assert "An applicant to a programme you do not run." in text
    assert "ivan@example.ru" not in text and "PETROV" not in text
    assert box.xpath(".//a") == []


def test_reviewers_are_not_shown_the_warning(browser, world):
    with browser.client.application.app_context():
        from portal.reviews.models import Review

        reviewer = db.session.scalar(db.select(User).where(User.email == "rev@example.kz"))
        db.session.add(Review(application_id=world.applications["ivan"], reviewer=reviewer))
        db.session.commit()
    login(browser, "rev@example.kz")
    page = browser.get(f"/staff/applications/{world.applications['ivan']}")
    assert page.status_code == 200
    assert warning(page.get_data(as_text=True)) is None


def _marked_emails(html: str) -> set[str]:
    """Return the e-mails (from the row's link target) of the queue rows carrying the marker."""
    page = lxml.html.fromstring(html)
    marked = set()
    for row in page.xpath("//table[contains(@class, 'queue-table')]//tbody/tr"):
        if row.xpath(".//*[contains(@class, 'same-identifier')]"):
            marked.add(row.xpath(".//td[contains(@class, 'applicant')]//a")[0].get("href"))
    return marked


def test_queue_marks_the_rows_of_people_with_two_accounts(browser, world):
    login(browser, "coord-a@example.kz")
    page = browser.get(f"/staff/programs/{world.program_id}/queue")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Same national ID as another account" in html
    assert _marked_emails(html) == {
        f"/staff/applications/{world.applications['ivan']}",
        f"/staff/applications/{world.applications['ivan2']}",
    }
    # The cross-programme queue too.
    assert len(_marked_emails(browser.get("/staff/queue").get_data(as_text=True))) == 2
    # A profile with the same number that never applied marks nobody (nor a draft).
    with browser.client.application.app_context():
        twin = _student("alone-twin@example.kz", national_id="900525301239")
        db.session.add(Application(student=twin, program_id=world.program_id, state="draft"))
        db.session.commit()
    html = browser.get(
        f"/staff/programs/{world.program_id}/queue?q=alone@example.kz"
    ).get_data(as_text=True)
    alone = f"/staff/applications/{world.applications['alone']}"
    assert alone in html and alone not in _marked_emails(html)


# --- "Other university" typed two ways ----------------------------------------------------------


@pytest.fixture
def typed_universities(app, world) -> None:
    """Three applicants to alpha typed KazNU themselves: one with lookalike Latin letters."""
    with app.app_context():
        alpha = db.session.get(Program, world.program_id)
        for n, typed in enumerate(["КазНУ", KAZNU_LOOKALIKE, "казну"]):
            student = factories.user(email=f"kaznu{n}@example.kz")
            profile = factories.complete_profile(student, national_id=None)
            profile.home_institution = None
            profile.home_institution_other = typed
            db.session.commit()
            _apply(student, alpha)


def test_the_chart_counts_one_university_typed_with_lookalike_letters(
    app, world, typed_universities
):
    with app.app_context():
        by_home = dict(overview([world.program_id], "en").by_home)
    assert by_home["КазНУ"] == 3
    assert not any(
        "казну" in name.casefold() or name == KAZNU_LOOKALIKE for name in by_home if name != "КазНУ"
    )


def test_queue_and_export_show_one_spelling(browser, world, typed_universities):
    login(browser, "coord-a@example.kz")
    html = browser.get(f"/staff/programs/{world.program_id}/queue?q=kaznu").get_data(as_text=True)
    assert KAZNU_LOOKALIKE not in html
    response = browser.get(f"/staff/programs/{world.program_id}/queue.csv")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    homes = [row["Home institution"] for row in rows if row["E-mail"].startswith("kaznu")]
    assert sorted(homes) == ["КазНУ", "КазНУ", "казну"]
