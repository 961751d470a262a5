"""Every staff page, for every role: the owner's staff see it, everyone else is sent away."""

from __future__ import annotations

import re

import pytest

from portal.applications.models import Application
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.jobs import Job
from portal.offers.models import Offer
from portal.programs.models import ProgramStaff
from portal.reviews.models import Review
from tests import factories
from tests.conftest import Browser

ROLES = [
    "anonymous",
    "student",
    "other_student",
    "partner",
    "reviewer_unassigned",
    "reviewer_assigned",
    "coordinator_other",
    "coordinator",
    "admin",
]
# Pages that list what the user may see (no object in the address): who may open them.
LIST_PAGES = {
    "/staff/queue": {"coordinator", "coordinator_other", "admin"},
    "/staff/queue.csv": {"coordinator", "coordinator_other", "admin"},
    "/staff/queue.xlsx": {"coordinator", "coordinator_other", "admin"},
    "/staff/dashboard": {"coordinator", "coordinator_other", "admin"},
    "/staff/reviews": {
        "reviewer_unassigned",
        "reviewer_assigned",
        "coordinator",
        "coordinator_other",
        "admin",
    },
    "/staff/programs": {"coordinator", "coordinator_other", "admin"},
    "/staff/programs/new": {"coordinator", "coordinator_other", "admin"},
}
# Pages about one application or programme: who may open them.
OBJECT_ALLOWED = {"coordinator", "admin"}
APPLICATION_PAGE_ALSO = {"reviewer_assigned"}


@pytest.fixture(params=["draft", "submitted", "withdrawn"])
def world(app, request):
    with app.app_context():
        host = factories.institution(schac="vku.edu.kz")
        program = factories.program(host)
        other_program = factories.program(host)
        users = {
            "student": factories.user(email="student@x.kz"),
            "other_student": factories.user(email="other@x.kz"),
            "partner": factories.user(Role.PARTNER, email="partner@knu.kg", institution=host),
            "reviewer_unassigned": factories.user(Role.REVIEWER, email="r1@x.kz"),
            "reviewer_assigned": factories.user(Role.REVIEWER, email="r2@x.kz"),
            "coordinator_other": factories.user(Role.COORDINATOR, email="c1@x.kz"),
            "coordinator": factories.user(Role.COORDINATOR, email="c2@x.kz"),
            "admin": factories.user(Role.ADMIN, email="admin@x.kz"),
        }
        factories.complete_profile(users["student"])
        db.session.add_all(
            [
                ProgramStaff(program=program, user=users["coordinator"], role="coordinator"),
                ProgramStaff(program=program, user=users["reviewer_assigned"], role="reviewer"),
                ProgramStaff(program=program, user=users["reviewer_unassigned"], role="reviewer"),
                ProgramStaff(
                    program=other_program, user=users["coordinator_other"], role="coordinator"
                ),
            ]
        )
        application = Application(
            student=users["student"],
            program=program,
            answers={},
            state="submitted",
            submitted_at=utcnow(),
        )
        db.session.add(application)
        db.session.flush()
        db.session.add(Review(application=application, reviewer=users["reviewer_assigned"]))
        application.state = request.param  # every state that changes who may look
        job = Job(kind="issue_offers", program_id=program.id, state="done")
        offer = Offer(
            application=application,
            version=1,
            reference="KOP-2026-000001",
            language="en",
            storage_key="none.pdf",
            size=0,
            sha256="0" * 64,
            code_hash="1" * 64,
            response_deadline=utcnow(),
            printed={},
        )
        db.session.add_all([job, offer])
        db.session.commit()
        return {
            "application_id": application.id,
            "program_id": program.id,
            "job_id": job.id,
            "offer_id": offer.id,
            "emails": {k: u.email for k, u in users.items()},
            "state": request.param,
        }


def staff_get_routes(app, world) -> list[tuple[str, str]]:
    """Return (url, kind) for every GET rule under /staff, with real ids filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or "GET" not in rule.methods:
            continue
        url = re.sub(r"<int:(\w+)>", lambda m: str(world[m.group(1)]), rule.rule)
        if "<" in url:
            raise AssertionError(f"add the parameter of {rule.rule} to the fixture")
        kind = (
            "application"
            if "application_id" in rule.arguments
            else "program"
            if "program_id" in rule.arguments or "job_id" in rule.arguments
            else "list"
        )
        found.append((url, kind))
    return sorted(found)


@pytest.mark.parametrize("role", ROLES)
def test_every_staff_page_for_every_role(app, world, role):
    browser = Browser(app.test_client())
    if role != "anonymous":
        browser.login(world["emails"][role], factories.PASSWORD)
    routes = staff_get_routes(app, world)
    assert len(routes) >= 5
    for url, kind in routes:
        response = browser.get(url)
        if role == "anonymous":
            expected = 302
        elif kind == "list":
            path = url.split("?")[0]
            assert path in LIST_PAGES, f"say who may open {path} in LIST_PAGES"
            expected = 200 if role in LIST_PAGES[path] else 404
        elif kind == "application":
            allowed = OBJECT_ALLOWED | (
                APPLICATION_PAGE_ALSO
                if url == f"/staff/applications/{world['application_id']}"
                else set()
            )
            if world["state"] == "draft":
                allowed = {"admin"}  # staff never see a draft; the admin sees everything
            expected = 200 if role in allowed else 404
        else:
            expected = 200 if role in OBJECT_ALLOWED else 404
        assert response.status_code == expected, (role, url, response.status_code)
        if role == "anonymous":
            assert "/account/login" in response.headers["Location"]


def test_every_staff_post_refuses_a_missing_csrf_token(app, world):
    browser = Browser(app.test_client())
    browser.login(world["emails"]["admin"], factories.PASSWORD)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or "POST" not in rule.methods:
            continue
        url = re.sub(r"<int:(\w+)>", lambda m: str(world[m.group(1)]), rule.rule)
        response = browser.client.post(url, data={})
        assert response.status_code == 400, url
