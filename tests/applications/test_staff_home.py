"""Each staff role's home: what waits for them, each count the size of the list it links to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from itertools import count
from urllib.parse import urlsplit

import lxml.html
import pytest
import sqlalchemy as sa

from portal.applications.models import Application
from portal.applications.services import snapshot_profile
from portal.applications.states import State
from portal.auth.models import Role, User
from portal.db import utcnow
from portal.extensions import db
from portal.nominations import services as nominations
from portal.nominations.models import Nomination
from portal.offers.models import Offer
from portal.programs.models import ProgramStaff
from portal.reviews.models import Review
from tests import factories

_seq = count(1)


@dataclass
class Desk:
    alpha: int  # the coordinator's programme with something in every list
    beta: int  # the coordinator's second programme: one new application
    gamma: int  # another coordinator's programme
    orphan: int  # a programme no coordinator is named on


def _student(home) -> User:
    n = next(_seq)
    student = factories.user(email=f"desk{n}@example.kz")
    factories.complete_profile(student, home_institution=home, latin_family_name=f"DESK{n:02d}")
    return student


def _apply(program, home, state: State, **values) -> Application:
    student = _student(home)
    application = Application(
        student=student,
        program=program,
        state=state.value,
        submitted_at=utcnow() - timedelta(days=5),
        profile_snapshot=snapshot_profile(student.profile),
        **values,
    )
    db.session.add(application)
    db.session.commit()
    return application


def _offer(application: Application, due_in: timedelta) -> None:
    n = next(_seq)
    db.session.add(
        Offer(
            application=application,
            version=1,
            reference=f"KOP-TEST-{n:06d}",
            language="en",
            storage_key=f"letter-{n}.pdf",
            size=1,
            sha256="0" * 64,
            code_hash=f"{n:064d}",
            response_deadline=utcnow() + due_in,
            printed={},
        )
    )
    db.session.commit()


def build_desk(app) -> Desk:
    """Fill every list a coordinator, a reviewer and a partner have waiting for them."""
    with app.app_context():
        host = factories.institution(schac="knu.kg", country="KG")
        home = factories.institution(schac="vku.edu.kz")
        alpha = factories.program(host, titles={"en": "Alpha School"})
        beta = factories.program(host, titles={"en": "Beta Semester"})
        gamma = factories.program(host, titles={"en": "Gamma Internship"})
        orphan = factories.program(host, titles={"en": "Orphan Programme"})
        coordinator = factories.user(Role.COORDINATOR, email="desk-coord@example.kz")
        other = factories.user(Role.COORDINATOR, email="desk-other@example.kz")
        reviewer = factories.user(Role.REVIEWER, email="desk-rev@example.kz")
        factories.user(Role.PARTNER, email="desk-partner@knu.kg", institution=host)
        factories.user(Role.ADMIN, email="desk-admin@example.kz")
        factories.user(email="desk-student@example.kz")
        db.session.add_all(
            [
                ProgramStaff(program=alpha, user=coordinator, role="coordinator"),
                ProgramStaff(program=beta, user=coordinator, role="coordinator"),
                ProgramStaff(program=gamma, user=other, role="coordinator"),
                ProgramStaff(program=alpha, user=reviewer, role="reviewer"),
            ]
        )
        db.session.commit()
        new = [_apply(alpha, home, State.SUBMITTED) for _ in range(2)]
        reviewing = _apply(alpha, home, State.UNDER_REVIEW)
        _apply(alpha, home, State.ACCEPTED)
        _offer(_apply(alpha, home, State.OFFERED), timedelta(days=2))
        _offer(_apply(alpha, home, State.OFFERED), timedelta(days=20))
        _apply(alpha, home, State.CONFIRMED)  # to nominate
        pending, verified, rejected = (_apply(alpha, home, State.CONFIRMED) for _ in range(3))
        _apply(alpha, home, State.REJECTED)  # decided: waits on nobody
        _apply(alpha, home, State.DRAFT)  # the student's own business
        _apply(beta, home, State.SUBMITTED)
        _apply(gamma, home, State.SUBMITTED)
        for application in (pending, verified, rejected):
            nominations.nominate(application, actor=coordinator)
        db.session.commit()
        now = utcnow()
        for application, answer, days in ((verified, "verified", 3), (rejected, "rejected", 30)):
            nomination = db.session.scalar(
                sa.select(Nomination).where(Nomination.application_id == application.id)
            )
            nomination.answer, nomination.answered_at = answer, now - timedelta(days=days)
        db.session.add_all(
            [
                Review(application=reviewing, reviewer=reviewer),
                Review(application=new[0], reviewer=reviewer, submitted_at=now),
            ]
        )
        db.session.commit()
        return Desk(alpha.id, beta.id, gamma.id, orphan.id)


@pytest.fixture
def desk(app) -> Desk:
    return build_desk(app)


def login(browser, email: str):
    response = browser.login(email, factories.PASSWORD)
    assert response.status_code == 302
    return response


def _has(css_class: str) -> str:
    """XPath: the element carries the class."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {css_class} ')"


def home_links(browser) -> tuple[lxml.html.HtmlElement, dict[str, list[tuple[int, str]]]]:
    """Open the home page; return it and, per link target, the counts shown with it."""
    response = browser.get("/home")
    assert response.status_code == 200
    page = lxml.html.fromstring(response.get_data(as_text=True))
    links: dict[str, list[tuple[int, str]]] = {}
    for a in page.xpath(f"//main//a[{_has('work-link')}] | //main//*[{_has('work-list')}]//a"):
        number = a.xpath(f".//*[{_has('work-count')} or {_has('work-badge')}]")
        if number:
            text = " ".join(a.text_content().split())
            links.setdefault(a.get("href"), []).append((int(number[0].text_content()), text))
    return page, links


def rows_behind(browser, href: str) -> int:
    """Count the rows of the list a home link leads to, as its page shows them."""
    text = browser.get(href).get_data(as_text=True)
    path = urlsplit(href).path
    if "/queue" in path:
        found = re.search(r"(\d+) applications? found", text)
        assert found, href
        return int(found.group(1))
    if path.startswith("/partner/nominations"):
        return len(re.findall(r'href="/partner/nominations/\d+"', text))
    if path.endswith("/nominations"):
        return len(re.findall(r'name="application" value="\d+"', text))
    if path == "/staff/reviews":
        return text.count("<strong>To do</strong>")
    raise AssertionError(f"no list known behind {href}")


def test_coordinator_home_counts_what_waits_and_links_to_each_list(browser, desk):
    login(browser, "desk-coord@example.kz")
    _page, links = home_links(browser)
    alpha = f"/staff/programs/{desk.alpha}/queue"
    expected = {
        # Across the coordinator's programmes.
        "/staff/queue?state=submitted": 3,
        "/staff/queue?state=under_review": 1,
        "/staff/queue?state=offered": 2,
        "/staff/queue?state=accepted": 1,
        "/staff/queue?state=confirmed&nominated=no": 1,
        "/partner/nominations?answer=pending": 1,
        # Per programme.
        f"{alpha}?state=submitted": 2,
        f"{alpha}?state=under_review": 1,
        f"{alpha}?state=offered": 2,
        f"{alpha}?state=offered&due=7": 1,
        f"{alpha}?state=accepted": 1,
        f"/staff/programs/{desk.alpha}/nominations": 1,
        f"/partner/nominations?program={desk.alpha}&answer=pending": 1,
        f"/partner/nominations?program={desk.alpha}&answer=verified&answered=14": 1,
        f"/staff/programs/{desk.beta}/queue?state=submitted": 1,
    }
    shown = {href: numbers[0][0] for href, numbers in links.items()}
    for href, number in expected.items():
        assert shown.get(href) == number, (href, shown)
        assert rows_behind(browser, href) == number, href
    # Only answers of the last two weeks are news, and the list behind them holds only those;
    # the other coordinator's programme is not ours.
    assert f"/partner/nominations?program={desk.alpha}&answer=rejected&answered=14" not in shown
    assert rows_behind(browser, "/partner/nominations?answered=14") == 1
    assert rows_behind(browser, "/partner/nominations?answer=rejected") == 1
    assert not any(f"/staff/programs/{desk.gamma}/" in href for href in shown)
    assert "/staff/reviews" not in shown  # not a reviewer of anything
    text = browser.get("/home").get_data(as_text=True)
    assert "Gamma Internship" not in text and "Orphan Programme" not in text
    # The offers due soon are named in the tile too, with their own link.
    assert 'href="/staff/queue?state=offered&amp;due=7"' in text


def test_admin_home_covers_every_programme_and_names_those_without_a_coordinator(browser, desk):
    login(browser, "desk-admin@example.kz")
    page, links = home_links(browser)
    shown = {href: numbers[0][0] for href, numbers in links.items()}
    assert shown["/staff/queue?state=submitted"] == 4 == rows_behind(
        browser, "/staff/queue?state=submitted"
    )
    assert shown[f"/staff/programs/{desk.gamma}/queue?state=submitted"] == 1
    orphans = page.xpath("//h2[@id='unstaffed-title']/following-sibling::ul[1]//a/@href")
    assert orphans == [f"/staff/programs/{desk.orphan}/edit"]


def test_reviewer_home_counts_the_reviews_to_do(browser, desk):
    login(browser, "desk-rev@example.kz")
    _page, links = home_links(browser)
    assert [n for n, _text in links["/staff/reviews"]] == [1, 1]  # the total, then Alpha's
    assert rows_behind(browser, "/staff/reviews") == 1


def test_partner_home_counts_the_nominations_to_answer(browser, desk):
    login(browser, "desk-partner@knu.kg")
    _page, links = home_links(browser)
    received = "/partner/nominations?answer=pending&direction=received"
    assert links[received][0][0] == 1
    assert rows_behind(browser, received) == 1
    assert links[f"/partner/nominations?program={desk.alpha}&answer=pending&direction=received"][
        0
    ][0] == 1


def test_nothing_waiting_says_so(browser, app):
    with app.app_context():
        factories.user(Role.REVIEWER, email="idle@example.kz")
    login(browser, "idle@example.kz")
    text = browser.get("/home").get_data(as_text=True)
    assert "Nothing waits for you right now." in text


LANDINGS = [
    ("desk-coord@example.kz", None, "/home"),
    ("desk-rev@example.kz", None, "/home"),
    ("desk-partner@knu.kg", None, "/home"),
    ("desk-admin@example.kz", None, "/home"),
    ("desk-student@example.kz", None, "/"),  # a student: the front page, as before
    ("desk-coord@example.kz", "/staff/dashboard", "/staff/dashboard"),
    ("desk-student@example.kz", "/applications/", "/applications/"),
    ("desk-coord@example.kz", "https://evil.example/home", "/home"),
    ("desk-coord@example.kz", "//evil.example", "/home"),
]


def test_login_lands_staff_on_their_home_unless_a_safe_next_says_otherwise(app, desk):
    from tests.conftest import Browser

    for email, next_, lands in LANDINGS:
        browser = Browser(app.test_client())
        url = "/account/login" + (f"?next={next_}" if next_ else "")
        browser.get(url)
        response = browser.post(url, {"email": email, "password": factories.PASSWORD})
        assert response.status_code == 302, (email, next_)
        location = urlsplit(response.headers["Location"])
        assert location.path == lands and "evil" not in location.netloc, (email, next_)
        # Once logged in, the login page sends them home too.
        home = "/" if email == "desk-student@example.kz" else "/home"
        assert urlsplit(browser.get("/account/login").headers["Location"]).path == home


def test_students_get_404_and_visitors_are_sent_to_log_in(browser, desk):
    response = browser.get("/home")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    login(browser, "desk-student@example.kz")
    assert browser.get("/home").status_code == 404


def test_the_brand_leads_staff_home_and_everyone_else_to_the_front_page(browser, desk):
    brand = re.compile(r'<a class="navbar-brand[^"]*" href="([^"]+)"')
    assert brand.search(browser.get("/").get_data(as_text=True)).group(1) == "/"
    login(browser, "desk-partner@knu.kg")
    assert brand.search(browser.get("/").get_data(as_text=True)).group(1) == "/home"


def test_counts_do_not_leak_across_roles(app, desk):
    """The queries scope by role: a coordinator of nothing sees nothing, whatever exists."""
    with app.test_request_context("/"):
        from portal.homes import home_for

        nobody = factories.user(Role.COORDINATOR, email="idle-coord@example.kz")
        home = home_for(db.session.get(User, nobody.id))
        assert home.programmes == [] and not any(home.totals.values())
        partner = db.session.scalar(sa.select(User).where(User.email == "desk-partner@knu.kg"))
        assert home_for(partner).totals == {"to_answer": 1}
