"""The review queue: filters, search, sorting, paging, access, query count, exports."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy import event

from portal.applications.models import Application
from portal.applications.queue import QueueFilters, queue_query
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.programs.eligibility import is_eligible
from portal.programs.models import Program, ProgramStaff
from portal.reviews.models import Review
from tests import factories

HYPERLINK = '=HYPERLINK("http://x")'


@dataclass
class Queue:
    program_id: int
    other_program_id: int
    home1: int
    home2: int
    reviewer_id: int


def _apply(student: User, program: Program, state: str = "submitted", **values) -> Application:
    data = {"submitted_at": utcnow()} if state != "draft" else {}
    data.update(values)
    application = Application(student=student, program=program, state=state, **data)
    db.session.add(application)
    db.session.commit()
    return application


def _student(email: str, **profile) -> User:
    student = factories.user(email=email)
    factories.complete_profile(student, **profile)
    return student


@pytest.fixture
def queue(app) -> Queue:
    """Programme "alpha" (coordinated by coord-a) with three submitted applications and a draft,
    programme "beta" (coord-b) with one; a reviewer with one done and one pending review."""
    with app.app_context():
        host = factories.institution(schac="vku.edu.kz")
        home1 = factories.institution(schac="enu.kz")
        home2 = factories.institution(schac="nsu.ru", country="RU")
        alpha = factories.program(
            host,
            slug="alpha",
            eligible_levels=[6, 7],
            min_gpa=60,
            required_language="en",
            required_cefr="B1",
            citizenships=["KZ", "KG"],
        )
        beta = factories.program(host, slug="beta")
        coord_a = factories.user("coordinator", email="coord-a@example.kz")
        coord_b = factories.user("coordinator", email="coord-b@example.kz")
        reviewer = factories.user("reviewer", email="rev@example.kz")
        factories.user("admin", email="admin@example.kz")
        db.session.add_all(
            [
                ProgramStaff(program=alpha, user=coord_a, role="coordinator"),
                ProgramStaff(program=beta, user=coord_b, role="coordinator"),
                ProgramStaff(program=alpha, user=reviewer, role="reviewer"),
            ]
        )
        now = utcnow()
        alikhan = _student("alikhan@example.kz", home_institution=home1)
        petr = _student(
            "petr@example.kz",
            native_given_names="Пётр",
            native_family_name="Иванов",
            native_name_lang="ru",
            latin_given_names="PETR",
            latin_family_name="IVANOV",
            citizenship="RU",
            national_id="11223344595",
            home_institution=home2,
        )
        bakyt = _student(
            "bakyt@example.kz",
            native_given_names="Бакыт",
            native_family_name="Асанов",
            native_name_lang="ky",
            latin_given_names="BAKYT",
            latin_family_name="ASANOV",
            citizenship="KG",
            national_id="21505200300123",
            gpa_normalized=Decimal("50.0"),
            home_institution=home1,
        )
        drafty = _student(
            "drafty@example.kz", latin_given_names="DRAFTY", latin_family_name="DRAFTSON"
        )
        betty = _student("betty@example.kz", latin_given_names="BETTY", latin_family_name="BETAEVA")
        first = _apply(alikhan, alpha, score=Decimal("90"), submitted_at=now - timedelta(hours=1))
        second = _apply(
            petr,
            alpha,
            state="under_review",
            score=Decimal("70.5"),
            submitted_at=now - timedelta(hours=3),
        )
        _apply(bakyt, alpha, state="accepted", submitted_at=now - timedelta(hours=2))
        _apply(drafty, alpha, state="draft")
        _apply(betty, beta, score=Decimal("99"))
        db.session.add_all(
            [
                Review(application=first, reviewer=reviewer),
                Review(application=second, reviewer=reviewer, submitted_at=now),
            ]
        )
        db.session.commit()
        return Queue(alpha.id, beta.id, home1.id, home2.id, reviewer.id)


LATIN = re.compile(r'<div class="small text-body-secondary" lang="en">([^<]+)</div>')


def latin_names(response) -> list[str]:
    assert response.status_code == 200
    return LATIN.findall(response.get_data(as_text=True))


def login(browser, email: str) -> None:
    response = browser.login(email, factories.PASSWORD)
    assert response.status_code == 302


ALIKHAN, PETR, BAKYT = "ALIKHAN BOKEIKHANOV", "PETR IVANOV", "BAKYT ASANOV"


def test_programme_queue_lists_submitted_applications_best_score_first(browser, queue):
    login(browser, "coord-a@example.kz")
    response = browser.get(f"/staff/programs/{queue.program_id}/queue")
    assert latin_names(response) == [ALIKHAN, PETR, BAKYT]
    text = response.get_data(as_text=True)
    assert "DRAFTSON" not in text and "BETAEVA" not in text
    assert "<caption" in text and '<th scope="col">' in text and "table-responsive" in text
    assert 'role="search"' in text
    assert 'href="/staff/applications/' in text
    assert "0 of 1" in text and "1 of 1" in text  # reviews done of assigned
    assert "Бөкейханов" in text and "Under review" in text


# Each case needs the same data, built once (accounts are slow to make: password hashing).
FILTER_CASES = [
    ("state=under_review", [PETR]),
    ("state=submitted&state=accepted", [ALIKHAN, BAKYT]),
    ("state=draft", [ALIKHAN, PETR, BAKYT]),  # not a choice: ignored, drafts stay out
    ("citizenship=RU", [PETR]),
    ("citizenship=KG", [BAKYT]),
    ("home={home1}", [ALIKHAN, BAKYT]),
    ("home={home2}", [PETR]),
    ("eligible=yes", [ALIKHAN]),
    ("eligible=no", [PETR, BAKYT]),
    ("score_min=80", [ALIKHAN]),
    ("score_max=80", [PETR]),
    ("score_min=70&score_max=71", [PETR]),
    ("reviewer={reviewer}", [ALIKHAN, PETR]),
    ("q=Бөкейханов", [ALIKHAN]),
    ("q=бөкейханов", [ALIKHAN]),
    ("q=БӨКЕЙХАНОВ", [ALIKHAN]),
    ("q=Әлихан+Бөкейханов", [ALIKHAN]),
    ("q=иванов", [PETR]),
    ("q=bokeikhanov", [ALIKHAN]),
    ("q=Asanov", [BAKYT]),
    ("q=petr@example", [PETR]),
    ("q=030517300000", [ALIKHAN]),
    ("q=2150520", [BAKYT]),
    ("q=%25", []),
    ("q=_", []),
    ("q=nobody", []),
    ("sort=name", [BAKYT, ALIKHAN, PETR]),
    ("sort=submitted", [PETR, BAKYT, ALIKHAN]),
    ("sort=submitted_desc", [ALIKHAN, BAKYT, PETR]),
    ("sort=evil", [ALIKHAN, PETR, BAKYT]),
    ("eligible=no&sort=name", [BAKYT, PETR]),
]


def test_queue_filters_search_and_sorts(browser, queue):
    login(browser, "coord-a@example.kz")
    for query, expected in FILTER_CASES:
        query = query.format(home1=queue.home1, home2=queue.home2, reviewer=queue.reviewer_id)
        url = f"/staff/programs/{queue.program_id}/queue?{query}"
        assert latin_names(browser.get(url)) == expected, query
        # The cross-programme queue accepts the same filters.
        assert latin_names(browser.get(f"/staff/queue?{query}")) == expected, query


def test_cross_programme_queue_shows_only_the_coordinators_programmes(browser, queue):
    login(browser, "coord-b@example.kz")
    response = browser.get("/staff/queue")
    assert latin_names(response) == ["BETTY BETAEVA"]
    for suffix in ("", ".csv", ".xlsx"):
        assert browser.get(f"/staff/programs/{queue.program_id}/queue{suffix}").status_code == 404
    text = browser.get("/staff/queue.csv").get_data(as_text=True)
    assert "BETAEVA" in text and "BOKEIKHANOV" not in text and "IVANOV" not in text
    book = load_workbook(io.BytesIO(browser.get("/staff/queue.xlsx").data), read_only=True)
    values = [c for row in book.active.iter_rows(values_only=True) for c in row]
    assert "BETTY BETAEVA" in values and "PETR IVANOV" not in values


def test_admin_sees_every_programme_and_the_programme_column(browser, queue):
    login(browser, "admin@example.kz")
    response = browser.get("/staff/queue")
    assert latin_names(response) == ["BETTY BETAEVA", ALIKHAN, PETR, BAKYT]
    assert "Programme" in response.get_data(as_text=True)
    assert browser.get(f"/staff/programs/{queue.other_program_id}/queue").status_code == 200


@pytest.mark.parametrize("email", ["alikhan@example.kz", "rev@example.kz"])
def test_students_and_reviewers_get_404(browser, queue, email):
    login(browser, email)
    for url in (
        "/staff/queue",
        "/staff/queue.csv",
        "/staff/queue.xlsx",
        f"/staff/programs/{queue.program_id}/queue",
        f"/staff/programs/{queue.program_id}/queue.csv",
        f"/staff/programs/{queue.program_id}/queue.xlsx",
    ):
        assert browser.get(url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_log_in(browser, queue):
    for url in ("/staff/queue", "/staff/queue.csv", f"/staff/programs/{queue.program_id}/queue"):
        response = browser.get(url)
        assert response.status_code == 302
        assert "/account/login" in response.headers["Location"]


def test_unknown_programme_is_404(browser, queue):
    login(browser, "admin@example.kz")
    assert browser.get("/staff/programs/999999/queue").status_code == 404
    assert browser.get("/staff/programs/999999/queue.csv").status_code == 404


_emails = count(1)


def _many(app, n: int, program_id: int | None = None) -> int:
    with app.app_context():
        program = db.session.get(Program, program_id) if program_id else factories.program()
        for i in range(n):
            student = _student(f"many{next(_emails)}@example.kz", latin_family_name=f"MANY{i:02d}")
            _apply(student, program, score=Decimal(i))
        return program.id


def test_pagination_carries_only_the_filters(app, browser, queue):
    program_id = _many(app, 12)
    login(browser, "admin@example.kz")
    url = f"/staff/programs/{program_id}/queue?q=many&sort=name&evil=1&lang=kk"
    response = browser.get(url)
    assert latin_names(response) == [f"ALIKHAN MANY{i:02d}" for i in range(5)]
    text = response.get_data(as_text=True).replace("&amp;", "&")
    links = re.findall(r'href="([^"]*queue[^"]*page=\d[^"]*)"', text)
    assert links and all("q=many" in link and "sort=name" in link for link in links)
    assert not any("evil" in link or "lang" in link for link in links)
    downloads = re.findall(r'href="([^"]*queue\.(?:csv|xlsx)[^"]*)"', text)
    assert len(downloads) == 2 and all("q=many" in d and "evil" not in d for d in downloads)
    page3 = browser.get(f"/staff/programs/{program_id}/queue?q=many&sort=name&page=3")
    assert latin_names(page3) == ["ALIKHAN MANY10", "ALIKHAN MANY11"]
    assert latin_names(browser.get(f"/staff/programs/{program_id}/queue?page=9")) == []


def _count_queries(app, client_browser, url: str) -> int:
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client_browser.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


QUEUE_PAGE_QUERIES = 8  # user, 3 filter choices, count, page, reviews, language skills
PROGRAMME_PAGE_QUERIES = QUEUE_PAGE_QUERIES + 2  # the programme and the coordinator check


def test_query_count_does_not_grow_with_rows_or_page_size(app, app_factory, browser):
    from tests.conftest import Browser

    with app.app_context():
        coordinator = factories.user("coordinator", email="counter@example.kz")
        program = factories.program()
        reviewer = factories.user("reviewer")
        db.session.add(ProgramStaff(program=program, user=coordinator, role="coordinator"))
        db.session.commit()
        program_id, reviewer_id = program.id, reviewer.id
    login(browser, "counter@example.kz")

    def add(n: int) -> None:
        _many(app, n, program_id)
        with app.app_context():
            for application in db.session.scalars(
                sa.select(Application).where(Application.program_id == program_id)
            ):
                if not application.reviews:
                    db.session.add(Review(application=application, reviewer_id=reviewer_id))
            db.session.commit()

    add(1)
    one = _count_queries(app, browser, "/staff/queue?sort=name&eligible=yes&q=alikhan")
    one_programme = _count_queries(app, browser, f"/staff/programs/{program_id}/queue")
    add(11)
    twelve = _count_queries(app, browser, "/staff/queue?sort=name&eligible=yes&q=alikhan")
    twelve_programme = _count_queries(app, browser, f"/staff/programs/{program_id}/queue")
    big = app_factory(PAGE_SIZE=50)
    big_browser = Browser(big.test_client())
    login(big_browser, "counter@example.kz")
    big_page = _count_queries(big, big_browser, "/staff/queue?sort=name&eligible=yes&q=alikhan")
    assert one == twelve == big_page == QUEUE_PAGE_QUERIES
    assert one_programme == twelve_programme == PROGRAMME_PAGE_QUERIES


def test_csv_export_is_utf8_with_bom_and_formula_safe(app, browser, queue):
    with app.app_context():
        hostile = _student(
            "hostile@example.kz",
            native_given_names=HYPERLINK,
            latin_given_names="+SUM(1)",
            latin_family_name="@X",
        )
        _apply(hostile, db.session.get(Program, queue.program_id), score=Decimal("10"))
    login(browser, "coord-a@example.kz")
    response = browser.get(f"/staff/programs/{queue.program_id}/queue.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[0] == "ID" and len(header) == 15
    assert len(body) == 4  # three applicants and the hostile one; no draft
    by_email = {row[5]: row for row in body}
    assert "drafty@example.kz" not in by_email
    assert by_email["hostile@example.kz"][3] == "'" + HYPERLINK + " Бөкейханов"
    assert by_email["hostile@example.kz"][4] == "'+SUM(1) @X"
    alikhan = by_email["alikhan@example.kz"]
    assert alikhan[1] == "alpha" and alikhan[2] == "submitted"
    assert alikhan[3] == "Әлихан Бөкейханов" and alikhan[7] == "030517300000"
    assert alikhan[12] == "90.00" and alikhan[13] == "0"
    assert by_email["petr@example.kz"][13] == "1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", alikhan[14])
    # The export follows the filters.
    filtered = browser.get(f"/staff/programs/{queue.program_id}/queue.csv?citizenship=RU")
    lines = filtered.data.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and "IVANOV" in lines[1]


def test_xlsx_export_has_no_formula_cells(app, browser, queue):
    with app.app_context():
        hostile = _student("hostile@example.kz", latin_given_names=HYPERLINK)
        _apply(hostile, db.session.get(Program, queue.program_id))
    login(browser, "coord-a@example.kz")
    response = browser.get(f"/staff/programs/{queue.program_id}/queue.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
    values = [c.value for c in cells]
    assert HYPERLINK + " BOKEIKHANOV" in values
    assert "Әлихан Бөкейханов" in values
    assert sheet.max_row == 5  # header + 4 applications, no draft
    assert 90 in values  # scores stay numbers


HOSTILE_QUERIES = [
    "page=-1",
    "page=0",
    "page=abc",
    "page=99999999999",
    "score_min=abc",
    "score_min=NaN",
    "score_max=sNaN",
    "score_min=Infinity",
    "score_max=1e999999",
    "score_min=-5",
    "sort=evil",
    "state=evil",
    "eligible=maybe",
    "home=abc",
    "home=999999",
    "reviewer=-1",
    "citizenship=%00",
    "q=" + "x" * 5000,
    "q=<script>alert(1)</script>",
    "q=%ff%fe",
]


def test_hostile_queries_never_fail(browser, queue):
    login(browser, "coord-a@example.kz")
    for query in HOSTILE_QUERIES:
        for url in (
            f"/staff/queue?{query}",
            f"/staff/programs/{queue.program_id}/queue?{query}",
            f"/staff/queue.csv?{query}",
            f"/staff/programs/{queue.program_id}/queue.xlsx?{query}",
        ):
            response = browser.get(url)
            assert response.status_code in (200, 404), url
            assert b"<script>alert(1)</script>" not in response.data, url


def test_sql_eligibility_agrees_with_the_python_rules(app, ctx):
    """The queue's SQL filter and is_eligible() give the same verdict on varied cases."""
    programs = [
        factories.program(eligible_levels=[7]),
        factories.program(eligible_levels=[], required_language="ru", required_cefr="C2"),
        factories.program(eligible_levels=[], required_language="kk", required_cefr="C1"),
        factories.program(eligible_levels=[]),
        factories.program(eligible_levels=[6, 8], citizenships=["KG", "RU"], min_gpa=90),
        factories.program(min_gpa=Decimal("85.0"), citizenships=["KZ"]),
    ]
    students = [factories.user() for _ in range(4)]
    factories.complete_profile(students[0])
    factories.complete_profile(
        students[1],
        study_level=7,
        citizenship="KG",
        gpa_normalized=Decimal("95"),
        languages=[("ru", "C2")],
    )
    factories.complete_profile(
        students[2], study_level=8, citizenship="RU", gpa_normalized=None, languages=[]
    )
    # students[3] never filled in a profile.
    for program in programs:
        for student in students:
            _apply(student, program)
    applications = list(db.session.scalars(sa.select(Application)))
    expected = {a.id for a in applications if is_eligible(a.program, a.student.profile)}
    assert 0 < len(expected) < len(applications)
    eligible = set(db.session.scalars(queue_query(QueueFilters(eligible="yes"), None)))
    ineligible = set(db.session.scalars(queue_query(QueueFilters(eligible="no"), None)))
    assert {a.id for a in eligible} == expected
    assert {a.id for a in ineligible} == {a.id for a in applications} - expected


def _search_form(response):
    import lxml.html

    assert response.status_code == 200
    page = lxml.html.fromstring(response.get_data(as_text=True))
    [form] = page.xpath("//form[@role='search']")
    return page, form


def test_state_filter_is_checkboxes_that_send_the_same_query(browser, queue):
    """Ticking states with a mouse, a finger or the space bar sends state=…&state=…, as before."""
    from urllib.parse import urlencode

    from portal.applications.queue import STAFF_STATES

    login(browser, "coord-a@example.kz")
    url = f"/staff/programs/{queue.program_id}/queue"
    _page, form = _search_form(browser.get(url))
    assert not form.xpath(".//select[@multiple]")
    boxes = form.xpath(".//input[@type='checkbox' and @name='state']")
    assert [box.get("value") for box in boxes] == [s.value for s in STAFF_STATES]
    # Each box has a label of its own, inside a fieldset named by its legend.
    for box in boxes:
        assert form.xpath(f".//label[@for='{box.get('id')}']"), box.get("value")
    assert form.xpath(".//fieldset/legend[normalize-space()='State']")
    for box in boxes:
        box.checked = box.get("value") in ("submitted", "accepted")
    sent = urlencode([(k, v) for k, v in form.form_values()])
    assert "state=submitted&state=accepted" in sent
    response = browser.get(f"{url}?{sent}")
    assert latin_names(response) == [ALIKHAN, BAKYT]
    _page, form = _search_form(response)
    ticked = form.xpath(".//input[@name='state' and @checked]/@value")
    assert ticked == ["submitted", "accepted"]


def test_every_row_says_its_state_beside_the_name_for_phones(browser, queue):
    """On a phone the state column is hidden, so the name cell carries the state as a badge."""
    login(browser, "admin@example.kz")
    page, _form = _search_form(browser.get("/staff/queue"))
    rows = page.xpath("//table[contains(@class, 'queue-table')]/tbody/tr")
    assert len(rows) == 4
    for row in rows:
        [cell] = row.xpath("./td[contains(@class, 'applicant')]")
        badge = cell.xpath(".//*[contains(@class, 'd-md-none')]//span[contains(@class, 'badge')]")
        assert badge and badge[0].text_content().strip() in (
            "Submitted",
            "Under review",
            "Accepted",
        )
        # The programme too, where the cross-programme queue hides its column on a phone.
        assert cell.xpath(".//*[contains(@class, 'd-md-none')]//div[contains(., 'Programme')]")
