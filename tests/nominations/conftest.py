"""Confirmed students of a Bishkek-hosted programme, from Öskemen and Novosibirsk; two partners."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from portal.applications.models import Application
from portal.applications.services import snapshot_profile
from portal.applications.states import State
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.programs.models import ProgramStaff
from tests import factories


@dataclass
class World:
    program_id: int
    coordinator: str = "coord@knu.kg"
    partner_host: str = "partner@knu.kg"  # the receiving university
    partner_sender: str = "partner@vku.edu.kz"  # a sending university
    partner_other: str = "partner@nsu.ru"  # sends nobody to this programme
    confirmed: dict[str, int] = field(default_factory=dict)
    waitlisted_id: int = 0


def build_world(app) -> World:
    """Make the programme, its coordinator, three partners and confirmed students."""
    with app.app_context():
        knu = factories.institution(
            schac="knu.kg", country="KG", timezone="Asia/Bishkek",
            names={"en": "Kyrgyz National University", "ky": "Кыргыз улуттук университети"},
        )
        vku = factories.institution(schac="vku.edu.kz", country="KZ")
        nsu = factories.institution(schac="nsu.ru", country="RU", timezone="Asia/Novosibirsk")
        program = factories.program(knu, seats=3, kind="summer_school")
        coordinator = factories.user(Role.COORDINATOR, email="coord@knu.kg", institution=knu)
        factories.user(Role.PARTNER, email="partner@knu.kg", institution=knu)
        factories.user(Role.PARTNER, email="partner@vku.edu.kz", institution=vku)
        factories.user(Role.PARTNER, email="partner@nsu.ru", institution=nsu)
        db.session.add(ProgramStaff(program=program, user=coordinator, role="coordinator"))
        db.session.commit()
        world = World(program.id)
        people = [
            ("aigerim@example.kz", vku, "Әйгерім", "Сейітқалиева", "AIGERIM", "SEITKALIYEVA", "kk"),
            ("daniyar@example.kz", vku, "Данияр", "Оспанов", "DANIYAR", "OSPANOV", "kk"),
            ("olga@example.ru", nsu, "Ольга", "Ким", "OLGA", "KIM", "ru"),
        ]
        for email, home, gn, fn, gl, fl, lang in people:
            student = factories.user(email=email, locale=lang)
            profile = factories.complete_profile(
                student,
                home_institution=home,
                native_given_names=gn,
                native_family_name=fn,
                native_name_lang=lang,
                latin_given_names=gl,
                latin_family_name=fl,
            )
            application = Application(
                student=student,
                program=program,
                state=State.CONFIRMED.value,
                motivation="x" * 250,
                submitted_at=utcnow(),
                profile_snapshot=snapshot_profile(profile),
            )
            db.session.add(application)
            db.session.commit()
            world.confirmed[email] = application.id
        student = factories.user(email="wait@example.kg", locale="ky")
        profile = factories.complete_profile(student, home_institution=vku)
        waiting = Application(
            student=student,
            program=program,
            state=State.WAITLISTED.value,
            motivation="x" * 250,
            submitted_at=utcnow(),
            profile_snapshot=snapshot_profile(profile),
            score=80,
        )
        db.session.add(waiting)
        db.session.commit()
        world.waitlisted_id = waiting.id
        return world


@pytest.fixture
def world(app) -> World:
    """Return the nominations world."""
    return build_world(app)


def add_document(
    application_id: int,
    kind: str = "passport",
    name: str = "passport.pdf",
    data: bytes = b"%PDF-1.4\n%%EOF\n",
) -> int:
    """Store a small PDF as one of an application's documents; return its id."""
    import hashlib

    from portal.documents.models import Document
    from portal.storage import get_storage

    storage = get_storage()
    key = storage.new_key(".pdf")
    storage.save(key, data)
    document = Document(
        application_id=application_id,
        kind=kind,
        original_name=name,
        media_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
    )
    db.session.add(document)
    db.session.commit()
    return document.id


def form_of(page_html: str, action: str | None = None, index: int = 0):
    """Return a POST form of a page (the one with this action, else the index-th), parsed."""
    import lxml.html

    forms = [
        f
        for f in lxml.html.fromstring(page_html).forms
        if (f.get("method") or "get").lower() == "post"
        and (action is None or (f.get("action") or "") == action)
    ]
    return forms[index]


def fields_of(form, **changes) -> dict[str, list[str]]:
    """Return what a browser sends for a form, with some fields changed (None removes one)."""
    data: dict[str, list[str]] = {}
    for name, value in form.form_values():
        data.setdefault(name, []).append(value)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]
    return data


def nominate_through_preview(browser, program_id: int, untick: tuple[int, ...] = ()):
    """Tick every waiting student, preview, untick some, confirm: as a coordinator would."""
    url = f"/staff/programs/{program_id}/nominations"
    page = browser.get(url)
    assert page.status_code == 200
    preview = browser.post(url, fields_of(form_of(page.get_data(as_text=True), url)))
    assert preview.status_code == 200, preview.status_code
    form = form_of(preview.get_data(as_text=True), url)
    data = fields_of(form)
    data["application"] = [v for v in data["application"] if int(v) not in untick]
    return browser.post(url, data), preview


def copy_nominations(world: World, count: int, *, new_homes: bool = False) -> None:
    """Copy the programme's nominations for new confirmed students, count times in all.

    With new_homes, each copy's student comes from a university seen nowhere else in the list,
    so that a list which looked names up per row would show it in its query count.
    """
    import sqlalchemy as sa

    from portal.nominations.models import Nomination

    sources = db.session.scalars(sa.select(Nomination).order_by(Nomination.id)).all()
    for n in range(count):
        source = sources[n % len(sources)]
        home = factories.institution(schac=f"more{n}.edu.kz") if new_homes else None
        student = factories.user(email=f"more{n}@example.kz")
        profile = factories.complete_profile(student, home_institution=home)
        application = Application(
            student=student,
            program_id=world.program_id,
            state=State.CONFIRMED.value,
            submitted_at=utcnow(),
            profile_snapshot=snapshot_profile(profile),
        )
        db.session.add(application)
        db.session.flush()
        db.session.add(
            Nomination(
                omobility_id=f"copy-{n}",
                application_id=application.id,
                program_id=source.program_id,
                sending_hei_id=home.id if home else source.sending_hei_id,
                receiving_hei_id=source.receiving_hei_id,
                academic_year=source.academic_year,
                student={**source.student, "email": student.email},
                activity_type=source.activity_type,
                activity_attributes=source.activity_attributes,
            )
        )
    db.session.commit()
