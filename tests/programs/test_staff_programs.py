"""Coordinators create and edit programmes; rule changes ask for confirmation; the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portal.applications.models import Application, ApplicationEvent
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.programs.models import (
    Program,
    ProgramEvent,
    ProgramQuestion,
    ProgramQuota,
    ProgramStaff,
    RubricCriterion,
)
from tests import factories
from tests.security.form_discovery import as_served, forms_on, post_as_served


@pytest.fixture
def world(app):
    with app.app_context():
        host = factories.institution(schac="vku.edu.kz", timezone="Asia/Almaty")
        nsu = factories.institution(schac="nsu.ru", country="RU", timezone="Asia/Novosibirsk")
        knu = factories.institution(schac="knu.kg", country="KG", timezone="Asia/Bishkek")
        coordinator = factories.user(Role.COORDINATOR, institution=host)
        other_coordinator = factories.user(Role.COORDINATOR, institution=nsu)
        reviewer = factories.user(Role.REVIEWER)
        reviewer2 = factories.user(Role.REVIEWER)
        admin = factories.user(Role.ADMIN)
        student = factories.user(Role.STUDENT)
        return SimpleNamespace(
            host=host.id,
            nsu=nsu.id,
            knu=knu.id,
            coordinator=coordinator.email,
            coordinator_id=coordinator.id,
            other_coordinator=other_coordinator.email,
            other_coordinator_id=other_coordinator.id,
            reviewer=reviewer.email,
            reviewer_id=reviewer.id,
            reviewer2_id=reviewer2.id,
            admin=admin.email,
            student=student.email,
            student_id=student.id,
        )


def form_data(world, **overrides):
    """A complete, valid programme form; an override of None leaves the field out."""
    data = {
        "slug": "altai-summer",
        "kind": "summer_school",
        "host": str(world.host),
        "published": "y",
        "titles-en": "Altai Summer School",
        "place-en": "Öskemen",
        "descriptions-en": "Two weeks in the Altai mountains.",
        "language": "en",
        "isced_code": "052",
        "starts_on": "2027-07-01",
        "ends_on": "2027-07-20",
        "fee_amount": "0",
        "fee_currency": "KZT",
        "seats": "10",
        "partners": [str(world.nsu), str(world.knu)],
        "timezone": "Asia/Almaty",
        "opens_at": "2027-01-10T09:00",
        "closes_at": "2027-03-31T23:59",
        "eligible_levels": ["6", "7"],
        "required_documents": ["passport", "transcript"],
        "coordinators": [str(world.coordinator_id)],
        "promotion_mode": "automatic",
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def create(browser, world, **overrides):
    return browser.post("/staff/programs/new", form_data(world, **overrides))


def program_by_slug(app, slug):
    with app.app_context():
        program = db.session.scalar(sa.select(Program).where(Program.slug == slug))
        if program is not None:
            db.session.expunge(program)
        return program


def events(app, program_id):
    with app.app_context():
        return [
            (e.action, e.details)
            for e in db.session.scalars(
                sa.select(ProgramEvent)
                .where(ProgramEvent.program_id == program_id)
                .order_by(ProgramEvent.id)
            )
        ]


@pytest.fixture
def coordinator(browser, world):
    browser.login(world.coordinator)
    return browser


@pytest.fixture
def created(app, coordinator, world):
    """A programme the coordinator created through the form."""
    response = create(coordinator, world)
    assert response.status_code == 302, response.get_data(as_text=True)
    return program_by_slug(app, "altai-summer")


def test_coordinator_creates_a_programme_that_the_catalogue_shows(app, coordinator, world):
    page = coordinator.get("/staff/programs/new")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<legend" in text and 'for="titles-en"' in text
    response = create(coordinator, world)
    assert response.status_code == 302
    program = program_by_slug(app, "altai-summer")
    assert response.headers["Location"].endswith(f"/staff/programs/{program.id}/edit")
    assert program.host_institution_id == world.host
    assert program.eligible_levels == [6, 7]
    assert program.required_documents == ["passport", "transcript"]
    assert "altai summer school" in program.search_text
    with app.app_context():
        staff = db.session.scalars(
            sa.select(ProgramStaff).where(ProgramStaff.program_id == program.id)
        ).all()
        assert [(s.user_id, s.role) for s in staff] == [(world.coordinator_id, "coordinator")]
        assert sorted(i.id for i in db.session.get(Program, program.id).partners) == sorted(
            [world.nsu, world.knu]
        )
    assert [action for action, _ in events(app, program.id)] == ["created"]
    public = coordinator.get("/programs/altai-summer")
    assert public.status_code == 200
    assert "Altai Summer School" in public.get_data(as_text=True)
    listing = coordinator.get("/staff/programs").get_data(as_text=True)
    assert "Altai Summer School" in listing
    assert f"/staff/programs/{program.id}/log" in listing


def test_the_creator_is_named_coordinator_even_when_not_ticked(app, coordinator, world):
    assert create(coordinator, world, coordinators=None).status_code == 302
    program = program_by_slug(app, "altai-summer")
    with app.app_context():
        roles = db.session.execute(
            sa.select(ProgramStaff.user_id, ProgramStaff.role).where(
                ProgramStaff.program_id == program.id
            )
        ).all()
    assert [tuple(r) for r in roles] == [(world.coordinator_id, "coordinator")]


def test_titles_are_edited_in_four_languages(app, coordinator, world, created):
    page = coordinator.get(f"/staff/programs/{created.id}/edit")
    assert page.status_code == 200
    assert 'value="Altai Summer School"' in page.get_data(as_text=True)
    response = coordinator.post(
        f"/staff/programs/{created.id}/edit",
        form_data(
            world,
            **{
                "titles-en": "Altai Geoecology",
                "titles-ru": "Геоэкология Алтая",
                "titles-kk": "Алтай геоэкологиясы",
                "titles-ky": "Алтай геоэкологиясы (ky)",
            },
        ),
    )
    assert response.status_code == 302
    program = program_by_slug(app, "altai-summer")
    assert program.titles == {
        "en": "Altai Geoecology",
        "ru": "Геоэкология Алтая",
        "kk": "Алтай геоэкологиясы",
        "ky": "Алтай геоэкологиясы (ky)",
    }
    assert "геоэкология" in program.search_text
    action, details = events(app, program.id)[-1]
    assert action == "updated" and details["changed"] == ["titles"]
    kk = coordinator.get("/programs/altai-summer?lang=kk").get_data(as_text=True)
    assert "Altai Geoecology" in kk or "Алтай геоэкологиясы" in kk


def test_the_window_is_entered_in_the_programmes_time_zone(app, coordinator, world):
    response = create(
        coordinator,
        world,
        timezone="Europe/Moscow",
        opens_at="2027-03-01 09:00",
        closes_at="2027-03-31 23:59",
    )
    assert response.status_code == 302
    program = program_by_slug(app, "altai-summer")
    assert program.closes_at == datetime(2027, 3, 31, 20, 59, tzinfo=UTC)
    assert program.opens_at == datetime(2027, 3, 1, 6, 0, tzinfo=UTC)
    page = coordinator.get(f"/staff/programs/{program.id}/edit").get_data(as_text=True)
    assert 'value="2027-03-31T23:59"' in page
    assert '<option selected value="Europe/Moscow">' in page or (
        'value="Europe/Moscow" selected' in page
    )


def test_the_deadline_must_follow_the_opening(coordinator, world):
    response = create(coordinator, world, opens_at="2027-03-31T23:59", closes_at="2027-03-01T09:00")
    assert response.status_code == 422
    assert "The deadline must come after the opening." in response.get_data(as_text=True)


def test_quotas_beyond_the_seats_are_refused(app, coordinator, world):
    response = create(
        coordinator,
        world,
        seats="5",
        **{
            "quotas-0-institution": str(world.nsu),
            "quotas-0-seats": "3",
            "quotas-1-institution": str(world.knu),
            "quotas-1-seats": "3",
        },
    )
    assert response.status_code == 422
    assert "exceed the programme" in response.get_data(as_text=True)
    assert program_by_slug(app, "altai-summer") is None
    ok = create(
        coordinator,
        world,
        seats="6",
        **{
            "quotas-0-institution": str(world.nsu),
            "quotas-0-seats": "3",
            "quotas-1-institution": str(world.knu),
            "quotas-1-seats": "3",
        },
    )
    assert ok.status_code == 302
    with app.app_context():
        quotas = db.session.execute(sa.select(ProgramQuota.institution_id, ProgramQuota.seats))
        assert sorted(tuple(q) for q in quotas) == sorted([(world.nsu, 3), (world.knu, 3)])


def test_a_quota_needs_a_distinct_partner(coordinator, world):
    twice = create(
        coordinator,
        world,
        **{
            "quotas-0-institution": str(world.nsu),
            "quotas-0-seats": "1",
            "quotas-1-institution": str(world.nsu),
            "quotas-1-seats": "1",
        },
    )
    assert twice.status_code == 422
    assert "one quota" in twice.get_data(as_text=True)
    not_partner = create(
        coordinator,
        world,
        partners=[str(world.nsu)],
        **{"quotas-0-institution": str(world.knu), "quotas-0-seats": "1"},
    )
    assert not_partner.status_code == 422
    assert "ticked as partners" in not_partner.get_data(as_text=True)


def test_a_duplicate_slug_is_refused(app, coordinator, world, created):
    response = create(coordinator, world, **{"titles-en": "Another"})
    assert response.status_code == 422
    assert "already has this address name" in response.get_data(as_text=True)
    upper = create(coordinator, world, slug="ALTAI-SUMMER")
    assert upper.status_code == 422


def test_rubric_rows_are_saved_with_weights_and_keep_their_ids(app, coordinator, world, created):
    rubric = {
        "criteria-0-name_en": "Academic record",
        "criteria-0-name_ru": "Успеваемость",
        "criteria-0-weight": "2",
        "criteria-0-max_score": "10",
        "criteria-1-name_en": "Motivation",
        "criteria-1-weight": "0.5",
        "criteria-1-max_score": "20",
        "criteria-2-weight": "1",
        "criteria-2-max_score": "10",
    }
    response = coordinator.post(f"/staff/programs/{created.id}/edit", form_data(world, **rubric))
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.scalars(
            sa.select(RubricCriterion)
            .where(RubricCriterion.program_id == created.id)
            .order_by(RubricCriterion.position)
        ).all()
        assert [(c.names["en"], c.weight, c.max_score, c.position) for c in rows] == [
            ("Academic record", Decimal("2.00"), 10, 1),
            ("Motivation", Decimal("0.50"), 20, 2),
        ]
        assert rows[0].names["ru"] == "Успеваемость"
        motivation_id = rows[1].id
    # Removing the first criterion keeps the second one's identity (scores refer to it).
    page = coordinator.get(f"/staff/programs/{created.id}/edit").get_data(as_text=True)
    assert f'value="{motivation_id}"' in page
    response = coordinator.post(
        f"/staff/programs/{created.id}/edit",
        form_data(
            world,
            **{
                "criteria-0-id": str(motivation_id - 1),
                "criteria-0-weight": "2",
                "criteria-0-max_score": "10",
                "criteria-1-id": str(motivation_id),
                "criteria-1-name_en": "Motivation and fit",
                "criteria-1-weight": "1.5",
                "criteria-1-max_score": "20",
            },
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.scalars(
            sa.select(RubricCriterion).where(RubricCriterion.program_id == created.id)
        ).all()
        assert [(c.id, c.names["en"], c.weight, c.position) for c in rows] == [
            (motivation_id, "Motivation and fit", Decimal("1.50"), 1)
        ]
    assert "criteria" in events(app, created.id)[-1][1]["changed"]


def test_questions_of_each_kind_are_saved(app, coordinator, world, created):
    questions = {
        "questions-0-kind": "short",
        "questions-0-prompt_en": "Your favourite mountain?",
        "questions-0-required": "y",
        "questions-1-kind": "choice",
        "questions-1-prompt_en": "Which track?",
        "questions-1-prompt_ru": "Какой трек?",
        "questions-1-choices": "geo|Geoecology\nbio|Biology\n",
        "questions-2-kind": "long",
        "questions-2-prompt_en": "Anything else?",
    }
    response = coordinator.post(f"/staff/programs/{created.id}/edit", form_data(world, **questions))
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.scalars(
            sa.select(ProgramQuestion)
            .where(ProgramQuestion.program_id == created.id)
            .order_by(ProgramQuestion.position)
        ).all()
        assert [(q.kind, q.prompts["en"], q.required) for q in rows] == [
            ("short", "Your favourite mountain?", True),
            ("choice", "Which track?", False),
            ("long", "Anything else?", False),
        ]
        assert rows[1].choices == [
            {"value": "geo", "labels": {"en": "Geoecology"}},
            {"value": "bio", "labels": {"en": "Biology"}},
        ]
    page = coordinator.get(f"/staff/programs/{created.id}/edit").get_data(as_text=True)
    assert "geo|Geoecology" in page
    one_option = coordinator.post(
        f"/staff/programs/{created.id}/edit",
        form_data(
            world,
            **{
                "questions-0-kind": "choice",
                "questions-0-prompt_en": "Pick",
                "questions-0-choices": "a|A",
            },
        ),
    )
    assert one_option.status_code == 422
    assert "at least two options" in one_option.get_data(as_text=True)


def test_named_reviewers_become_programme_staff(app, coordinator, world, created):
    response = coordinator.post(
        f"/staff/programs/{created.id}/edit",
        form_data(world, reviewers=[str(world.reviewer_id), str(world.reviewer2_id)]),
    )
    assert response.status_code == 302
    with app.app_context():
        staff = db.session.execute(
            sa.select(ProgramStaff.user_id, ProgramStaff.role).where(
                ProgramStaff.program_id == created.id
            )
        ).all()
    assert sorted(tuple(s) for s in staff) == sorted(
        [
            (world.coordinator_id, "coordinator"),
            (world.reviewer_id, "reviewer"),
            (world.reviewer2_id, "reviewer"),
        ]
    )
    assert "reviewers" in events(app, created.id)[-1][1]["changed"]
    # A student cannot be slipped in as a reviewer.
    sneaky = coordinator.post(
        f"/staff/programs/{created.id}/edit",
        form_data(world, reviewers=[str(world.student_id)]),
    )
    assert sneaky.status_code == 422


def test_a_coordinator_cannot_remove_themselves(coordinator, world, created):
    response = coordinator.post(
        f"/staff/programs/{created.id}/edit",
        form_data(world, coordinators=[str(world.other_coordinator_id)]),
    )
    assert response.status_code == 422
    assert "cannot remove yourself" in response.get_data(as_text=True)


def submit_application(app, program_id, student_id):
    with app.app_context():
        application = Application(
            student_id=student_id,
            program_id=program_id,
            state="submitted",
            submitted_at=utcnow(),
        )
        application.events.append(
            ApplicationEvent(actor_id=student_id, actor_role="student", to_state="submitted")
        )
        db.session.add(application)
        db.session.commit()
        return application.id


def test_changing_the_deadline_after_submissions_asks_for_confirmation(
    app, coordinator, world, created
):
    application_id = submit_application(app, created.id, world.student_id)
    url = f"/staff/programs/{created.id}/edit"
    first = coordinator.post(url, form_data(world, closes_at="2027-04-15T18:00"))
    assert first.status_code == 409
    text = first.get_data(as_text=True)
    assert "Applications were already submitted" in text
    assert 'name="confirm_rule_change"' in text
    assert "Deadline" in text
    assert program_by_slug(app, "altai-summer").closes_at == created.closes_at
    assert [a for a, _ in events(app, created.id)] == ["created"]

    second = coordinator.post(
        url, form_data(world, closes_at="2027-04-15T18:00", confirm_rule_change="y")
    )
    assert second.status_code == 302
    program = program_by_slug(app, "altai-summer")
    assert program.closes_at == datetime(2027, 4, 15, 13, 0, tzinfo=UTC)
    action, details = events(app, created.id)[-1]
    assert action == "rules_changed"
    assert details["changed"] == ["closes_at"]
    assert details["before"] == {"closes_at": "2027-03-31T18:59:00+00:00"}
    assert details["after"] == {"closes_at": "2027-04-15T13:00:00+00:00"}

    log = coordinator.get(f"/staff/programs/{created.id}/log")
    assert log.status_code == 200
    page = log.get_data(as_text=True)
    assert "Rules or window changed after applications were submitted" in page
    assert world.coordinator in page
    assert "Mar 31, 2027, 11:59" in page and "Apr 15, 2027, 6:00" in page
    assert f"Application {application_id} ({world.student}): — → Submitted" in page


def test_other_changes_after_submissions_need_no_confirmation(app, coordinator, world, created):
    submit_application(app, created.id, world.student_id)
    response = coordinator.post(
        f"/staff/programs/{created.id}/edit", form_data(world, **{"titles-ru": "Алтай"})
    )
    assert response.status_code == 302
    assert events(app, created.id)[-1][0] == "updated"


def test_the_audit_log_is_paginated_newest_first(app, coordinator, world, created):
    for n in range(6):
        response = coordinator.post(
            f"/staff/programs/{created.id}/edit", form_data(world, seats=str(20 + n))
        )
        assert response.status_code == 302
    first = coordinator.get(f"/staff/programs/{created.id}/log").get_data(as_text=True)
    assert "Programme changed" in first and "Programme created" not in first
    assert f'href="/staff/programs/{created.id}/log?page=2"' in first
    second = coordinator.get(f"/staff/programs/{created.id}/log?page=2").get_data(as_text=True)
    assert "Programme created" in second
    assert coordinator.get(f"/staff/programs/{created.id}/log?page=-3").status_code == 404


def test_a_coordinator_of_another_programme_gets_404(app, other_browser, world, created):
    browser = other_browser
    browser.login(world.other_coordinator)
    assert browser.get(f"/staff/programs/{created.id}/edit").status_code == 404
    assert browser.get(f"/staff/programs/{created.id}/log").status_code == 404
    response = browser.post(
        f"/staff/programs/{created.id}/edit", form_data(world, **{"titles-en": "Hijacked"})
    )
    assert response.status_code == 404
    assert program_by_slug(app, "altai-summer").titles["en"] == "Altai Summer School"
    assert "Altai Summer School" not in browser.get("/staff/programs").get_data(as_text=True)
    assert browser.get("/staff/programs/999999/edit").status_code == 404


def test_an_admin_runs_every_programme(app, other_browser, world, created):
    browser = other_browser
    browser.login(world.admin)
    assert "Altai Summer School" in browser.get("/staff/programs").get_data(as_text=True)
    assert browser.get(f"/staff/programs/{created.id}/edit").status_code == 200
    response = browser.post(
        f"/staff/programs/{created.id}/edit", form_data(world, coordinators=None)
    )
    assert response.status_code == 302


@pytest.mark.parametrize("role", ["student", "reviewer"])
def test_students_and_reviewers_are_refused(app, other_browser, world, created, role):
    browser = other_browser
    browser.login(world.student if role == "student" else world.reviewer)
    for url in (
        "/staff/programs",
        "/staff/programs/new",
        f"/staff/programs/{created.id}/edit",
        f"/staff/programs/{created.id}/log",
    ):
        assert browser.get(url).status_code == 404, url
    assert browser.post("/staff/programs/new", form_data(world, slug="x-y")).status_code == 404
    assert program_by_slug(app, "x-y") is None


def test_anonymous_visitors_are_sent_to_log_in(app, world, created):
    client = app.test_client()
    for url in (
        "/staff/programs",
        "/staff/programs/new",
        f"/staff/programs/{created.id}/edit",
        f"/staff/programs/{created.id}/log",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/account/login" in response.headers["Location"]


def test_posts_without_a_csrf_token_are_refused(app, coordinator, world, created):
    data = form_data(world, slug="no-token")
    assert coordinator.client.post("/staff/programs/new", data=data).status_code == 400
    edit = form_data(world, **{"titles-en": "No token"})
    response = coordinator.client.post(f"/staff/programs/{created.id}/edit", data=edit)
    assert response.status_code == 400
    assert program_by_slug(app, "no-token") is None
    assert program_by_slug(app, "altai-summer").titles["en"] == "Altai Summer School"


HOSTILE = [
    ({"slug": "../x"}, "lowercase Latin letters"),
    ({"slug": "a" * 81}, "between 2 and 80"),
    ({"starts_on": "2027-02-30"}, "Not a valid date value."),
    ({"ends_on": "0001-01-01"}, "a year between 2000 and 2100"),
    ({"opens_at": "9999-12-31T23:59"}, "a year between 2000 and 2100"),
    ({"closes_at": "2027-02-30T10:00"}, "Not a valid datetime value."),
    ({"seats": "-1"}, "between 0 and 100000"),
    ({"seats": "99999999999999999999"}, "Not a valid integer value."),
    ({"fee_amount": "NaN"}, "Not a valid decimal value."),
    ({"fee_amount": "1.234"}, "two decimal places"),
    ({"min_gpa": "101"}, "between 0 and 100"),
    ({"timezone": "Mars/Base"}, "time zone from the list"),
    ({"host": "abc"}, "university from the list"),
    ({"host": "999999"}, "university from the list"),
    ({"kind": "spaceflight"}, "Not a valid choice."),
    ({"partners": ["1x"]}, "Please choose from the list."),
    ({"eligible_levels": ["9"]}, "Not a valid choice: 9."),
    ({"required_documents": ["passport", "../etc/passwd"]}, "Not a valid choice"),
    ({"required_language": "en"}, "minimum level in that language"),
    ({"required_cefr": "B2"}, "language this level is for"),
    ({"citizenships": ["XX"]}, "Not a valid choice"),
    ({"titles-en": ""}, "Please give it in English at least."),
    ({"titles-en": "<script>alert(1)</script>"}, "Please use letters, not the characters"),
    ({"criteria-0-name_en": "Merit", "criteria-0-weight": "0"}, "greater than 0"),
    (
        {"criteria-0-name_en": "Merit", "criteria-0-weight": "1", "criteria-0-max_score": "0"},
        "between 1 and 100",
    ),
    ({"criteria-0-name_ru": "Заслуги", "criteria-0-weight": "1"}, "in English at least"),
    ({"quotas-0-institution": "1", "quotas-0-seats": "-5"}, "between 0 and 100000"),
    ({"quotas-0-seats": "2"}, "university from the list"),
    ({"questions-0-kind": "essay", "questions-0-prompt_en": "Why?"}, "Not a valid choice."),
    (
        {
            "questions-0-kind": "choice",
            "questions-0-prompt_en": "Pick",
            "questions-0-choices": "|x\na|b",
        },
        "Line 1",
    ),
    (
        {
            "questions-0-kind": "choice",
            "questions-0-prompt_en": "Pick",
            "questions-0-choices": "a|A\na|B",
        },
        "must be different",
    ),
    ({"quotas-99999999999999999999-seats": "1"}, "university from the list"),
    ({"opens_at": "2027-03-28T02:30", "timezone": "Europe/Berlin"}, "does not exist"),
]


@pytest.mark.parametrize(("overrides", "message"), HOSTILE)
def test_hostile_input_gets_422_with_a_message(app, coordinator, world, overrides, message):
    response = create(coordinator, world, **overrides)
    assert response.status_code == 422, response.get_data(as_text=True)[:2000]
    text = response.get_data(as_text=True)
    assert message in text
    assert "<script>alert(1)</script>" not in text
    assert program_by_slug(app, "altai-summer") is None


def test_markup_in_a_description_is_shown_as_text(app, coordinator, world):
    payload = "<script>alert(1)</script> <b>bold</b>"
    assert create(coordinator, world, **{"descriptions-en": payload}).status_code == 302
    assert program_by_slug(app, "altai-summer").descriptions["en"] == payload
    page = coordinator.get("/programs/altai-summer").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


def test_edit_of_a_factory_programme_keeps_everything(app, coordinator, world):
    with app.app_context():
        host = db.session.get(factories.Institution, world.host)
        program = factories.program(host, questions=[("short", "Why us?")])
        db.session.add(
            ProgramStaff(program_id=program.id, user_id=world.coordinator_id, role="coordinator")
        )
        db.session.commit()
        program_id = program.id
    page = coordinator.get(f"/staff/programs/{program_id}/edit")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Why us?" in text


def test_the_edit_page_posted_back_untouched_saves_and_keeps_the_quotas(app, coordinator, world):
    response = create(
        coordinator,
        world,
        **{"quotas-0-institution": str(world.nsu), "quotas-0-seats": "2"},
    )
    assert response.status_code == 302
    program = program_by_slug(app, "altai-summer")
    url = f"/staff/programs/{program.id}/edit"
    page = coordinator.get(url).get_data(as_text=True)
    [form] = [f for f in forms_on(app, page, url) if f.action == url]
    # The page adds blank quota, question and criterion rows; their "—" and defaults go too.
    sent = dict(as_served(form))
    assert sent["quotas-1-institution"] == "" and sent["quotas-1-seats"] == ""
    saved = post_as_served(coordinator, form)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    with app.app_context():
        quotas = db.session.execute(sa.select(ProgramQuota.institution_id, ProgramQuota.seats))
        assert [tuple(q) for q in quotas] == [(world.nsu, 2)]


def test_a_blank_row_is_ignored_whatever_value_its_empty_choice_posts(app, coordinator, world):
    # A page opened before the empty choice posted "" still sends "0" for "—".
    response = create(
        coordinator,
        world,
        **{
            "quotas-0-institution": "0",
            "quotas-0-seats": "",
            "quotas-1-institution": str(world.knu),
            "quotas-1-seats": "1",
            "quotas-2-institution": "0",
            "quotas-2-seats": " ",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        quotas = db.session.execute(sa.select(ProgramQuota.institution_id, ProgramQuota.seats))
        assert [tuple(q) for q in quotas] == [(world.knu, 1)]
    # A row with seats but no university is not blank: it is refused beside the field.
    refused = create(
        coordinator,
        world,
        slug="another",
        **{"quotas-0-institution": "0", "quotas-0-seats": "3"},
    )
    assert refused.status_code == 422
    assert "Please choose a university from the list." in refused.get_data(as_text=True)
