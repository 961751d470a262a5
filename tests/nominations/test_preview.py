"""Nominating shows first what the host will get, then sends exactly what is confirmed."""

from __future__ import annotations

import sqlalchemy as sa

from portal.applications.models import Application
from portal.auth.models import User
from portal.extensions import db
from portal.nominations import services
from portal.nominations.models import Nomination
from tests.conftest import Browser
from tests.nominations.conftest import add_document, fields_of, form_of

AIGERIM, DANIYAR, OLGA = "aigerim@example.kz", "daniyar@example.kz", "olga@example.ru"


def _url(world) -> str:
    return f"/staff/programs/{world.program_id}/nominations"


def _preview(browser: Browser, world):
    """Log the coordinator in, tick everyone on the page and ask for the preview."""
    browser.login(world.coordinator)
    page = browser.get(_url(world))
    form = form_of(page.get_data(as_text=True), _url(world))
    preview = browser.post(_url(world), fields_of(form))
    assert preview.status_code == 200
    return preview.get_data(as_text=True)


def _nominated(app) -> set[str]:
    with app.app_context():
        return {n.student["email"] for n in db.session.scalars(sa.select(Nomination))}


def test_the_preview_shows_what_the_host_gets_and_sends_nothing(app, browser, world):
    with app.app_context():
        add_document(world.confirmed[AIGERIM], "transcript", "transcript.pdf")
    html = _preview(browser, world)
    assert _nominated(app) == set()
    # The receiving university, programme and period once; each student's part as the host
    # will see it, documents included.
    for expected in (
        "Kyrgyz National University (knu.kg)",
        "AIGERIM SEITKALIYEVA",
        "Әйгерім Сейітқалиева",
        "aigerim@example.kz",
        "May 17, 2003",
        "Kazakhstan",
        "(vku.edu.kz)",
        "(nsu.ru)",
        "OLGA KIM",
        "Transcript",
    ):
        assert expected in html, expected
    with app.app_context():
        from portal.programs.models import Program

        program = db.session.get(Program, world.program_id)
        starts = program.starts_on
    assert f"{starts:%b} {starts.day}, {starts.year}" in html
    assert services.academic_year_of(starts) in html
    # The confirming form carries its token, "confirm" and what the preview showed.
    form = form_of(html, _url(world))
    data = fields_of(form)
    assert data["csrf_token"] and data["confirm"] == ["1"]
    assert sorted(map(int, data["application"])) == sorted(world.confirmed.values())
    for application_id in world.confirmed.values():
        assert data[f"version-{application_id}"] == ["1"]


def test_confirming_nominates_exactly_the_ticked_students(app, browser, world):
    html = _preview(browser, world)
    data = fields_of(form_of(html, _url(world)))
    data["application"] = [str(world.confirmed[AIGERIM]), str(world.confirmed[OLGA])]
    done = browser.post(_url(world), data)
    assert done.status_code == 302
    assert _nominated(app) == {AIGERIM, OLGA}
    page = browser.get(done.headers["Location"]).get_data(as_text=True)
    assert "2 students nominated" in page
    # Daniyar, unticked, is still waiting.
    assert "DANIYAR" in form_of(page, _url(world)).text_content()
    # Unticking everyone sends nothing.
    html = _preview(browser, world)
    empty = browser.post(_url(world), fields_of(form_of(html, _url(world)), application=[]))
    assert empty.status_code == 302
    assert _nominated(app) == {AIGERIM, OLGA}


def test_confirming_refuses_everyone_when_one_changed_meanwhile(app, browser, world):
    html = _preview(browser, world)
    stale = fields_of(form_of(html, _url(world)))
    # Meanwhile another coordinator nominates Olga, and Aigerim's application changes.
    with app.app_context():
        coordinator = db.session.scalar(sa.select(User).where(User.email == world.coordinator))
        services.nominate(db.session.get(Application, world.confirmed[OLGA]), actor=coordinator)
        aigerim = db.session.get(Application, world.confirmed[AIGERIM])
        aigerim.profile_snapshot = {**aigerim.profile_snapshot, "latin_given_names": "AIGERIM B"}
        db.session.commit()
    refused = browser.post(_url(world), stale)
    assert refused.status_code == 200
    text = refused.get_data(as_text=True)
    assert "Some students changed since the preview: nobody was nominated." in text
    assert "The application changed after the preview." in text
    assert "This student is already nominated." in text
    assert _nominated(app) == {OLGA}  # Daniyar, unchanged, was not sent either
    # The preview shown again is the current one: confirming it now works.
    again = fields_of(form_of(text, _url(world)))
    assert sorted(map(int, again["application"])) == sorted(
        [world.confirmed[AIGERIM], world.confirmed[DANIYAR]]
    )
    assert "AIGERIM B SEITKALIYEVA" in text
    assert browser.post(_url(world), again).status_code == 302
    assert _nominated(app) == {AIGERIM, DANIYAR, OLGA}


def test_a_forged_confirmation_sends_nobody_it_should_not(app, browser, world):
    html = _preview(browser, world)
    data = fields_of(form_of(html, _url(world)))
    # The waitlisted student, and a version the preview never showed.
    data["application"] = [str(world.waitlisted_id), str(world.confirmed[AIGERIM])]
    data[f"version-{world.confirmed[AIGERIM]}"] = ["x"]
    refused = browser.post(_url(world), data)
    assert refused.status_code == 200
    assert "Only students who accepted their offer can be nominated." in refused.get_data(
        as_text=True
    )
    del data[f"version-{world.confirmed[AIGERIM]}"]
    data["application"] = [str(world.confirmed[AIGERIM])]
    assert browser.post(_url(world), data).status_code == 200
    assert _nominated(app) == set()


def test_both_steps_need_the_csrf_token(app, browser, world):
    html = _preview(browser, world)
    confirm = fields_of(form_of(html, _url(world)))
    page = browser.get(_url(world)).get_data(as_text=True)
    first = fields_of(form_of(page, _url(world)))
    for data in (first, confirm):
        for token in (None, "", "made-up"):
            sent = dict(data)
            if token is None:
                del sent["csrf_token"]
            else:
                sent["csrf_token"] = [token]
            response = browser.client.post(_url(world), data=sent)
            assert response.status_code == 400
    assert _nominated(app) == set()
