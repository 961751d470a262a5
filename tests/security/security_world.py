"""One application in one state, with everyone around it, for the security walks."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from unittest import mock

import sqlalchemy as sa
from flask import Flask

from portal.api.models import ApiToken
from portal.applications.models import Application
from portal.applications.services import snapshot_profile
from portal.applications.states import State
from portal.auth.models import Role, User
from portal.auth.passwords import hash_password
from portal.db import utcnow
from portal.extensions import db
from portal.jobs import Job
from portal.programs.models import ProgramStaff, RubricCriterion
from portal.reviews.models import Review
from tests import factories
from tests.conftest import Browser
from tests.nominations.conftest import add_document

ROLES = (
    "anonymous",
    "student",  # owns the application
    "other_student",
    "reviewer_unassigned",  # named on the programme, not assigned to this application
    "reviewer_assigned",
    "coordinator_other",  # runs another programme of the same host
    "coordinator",
    "partner_other",  # a university the student has nothing to do with
    "partner_sending",  # the student's home university
    "partner_receiving",  # the host university
    "admin",
)
STATES = ("draft", "submitted", "offered", "confirmed", "nominated", "withdrawn")
# States with an issued letter (the withdrawn student's letter stands revoked).
LETTER_STATES = frozenset({"offered", "confirmed", "nominated", "withdrawn"})

# What identifies the student: none of it may reach anyone who has no business seeing them.
SECRETS = (
    "madina.secret@vku.example",
    "SECRETOVA",
    "N99887766",
    "990101400123",
)
# A verification code fixed in advance: only its hash is stored, as in production.
LETTER_CODE = "abcdefghijklmnopqrstuvwxyz"
MISSING = 987_654  # the id used where the state has no such object yet


@cache
def _password_hash() -> str:
    # Every account of every world shares one hash, made as the portal makes them.
    return hash_password(factories.PASSWORD)


def _user(role: str, email: str, **values: object) -> User:
    user = User(
        email=email,
        role=role,
        locale="en",
        verified_at=utcnow(),
        password_hash=_password_hash(),
        **values,
    )
    db.session.add(user)
    db.session.commit()
    return user


@dataclass
class World:
    """The ids, addresses and secrets of one state's world."""

    state: str
    users: dict[str, int] = field(default_factory=dict)
    session_keys: dict[str, str] = field(default_factory=dict)
    values: dict[str, object] = field(default_factory=dict)
    api_token: str = ""

    def __getitem__(self, name: str) -> object:
        return self.values[name]


def build_world(app: Flask, state: str) -> World:
    """Make the student's application in the state, with its documents, letter and nomination."""
    world = World(state)
    with app.test_request_context("/"):
        knu = factories.institution(
            schac="knu.kg", country="KG", timezone="Asia/Bishkek", names={"en": "KNU"}
        )
        vku = factories.institution(schac="vku.edu.kz", country="KZ", names={"en": "VKU"})
        nsu = factories.institution(schac="nsu.ru", country="RU", names={"en": "NSU"})
        program = factories.program(
            knu,
            questions=[("short", "Your favourite mountain")],
            required_documents=["passport"],
        )
        other_program = factories.program(knu)
        db.session.add(RubricCriterion(program=program, position=1, names={"en": "Merit"}))
        people = {
            "student": _user(Role.STUDENT, SECRETS[0]),
            "other_student": _user(Role.STUDENT, "other.student@nsu.example"),
            "reviewer_unassigned": _user(Role.REVIEWER, "r.unassigned@knu.example"),
            "reviewer_assigned": _user(Role.REVIEWER, "r.assigned@knu.example"),
            "coordinator_other": _user(Role.COORDINATOR, "c.other@knu.example"),
            "coordinator": _user(Role.COORDINATOR, "c.this@knu.example", institution=knu),
            "partner_other": _user(Role.PARTNER, "partner@nsu.example", institution=nsu),
            "partner_sending": _user(Role.PARTNER, "partner@vku.example", institution=vku),
            "partner_receiving": _user(Role.PARTNER, "partner@knu.example", institution=knu),
            "admin": _user(Role.ADMIN, "admin@kopir.example"),
        }
        db.session.add_all(
            [
                ProgramStaff(program=program, user=people["coordinator"], role="coordinator"),
                ProgramStaff(program=program, user=people["reviewer_assigned"], role="reviewer"),
                ProgramStaff(program=program, user=people["reviewer_unassigned"], role="reviewer"),
                ProgramStaff(
                    program=other_program, user=people["coordinator_other"], role="coordinator"
                ),
            ]
        )
        profile = factories.complete_profile(
            people["student"],
            home_institution=vku,
            native_given_names="Мадина",
            native_family_name="Секретова",
            latin_given_names="MADINA",
            latin_family_name=SECRETS[1],
            passport_number=SECRETS[2],
            national_id=SECRETS[3],
        )
        factories.complete_profile(
            people["other_student"], home_institution=nsu, national_id="010101500011"
        )
        application = Application(
            student=people["student"],
            program=program,
            answers={},
            motivation="I want to walk the Tian Shan and study its glaciers. " * 6,
        )
        if state != "draft":
            application.state = State.ACCEPTED.value if state in LETTER_STATES else state
            application.submitted_at = utcnow()
            application.profile_snapshot = snapshot_profile(profile)
        db.session.add(application)
        db.session.flush()
        if state != "draft":
            db.session.add(Review(application=application, reviewer=people["reviewer_assigned"]))
        document_id = add_document(application.id, name=f"passport-{SECRETS[1]}.pdf")
        job = Job(kind="issue_offers", program_id=program.id, state="done")
        db.session.add(job)
        db.session.commit()
        offer_id = MISSING
        if state in LETTER_STATES:
            offer_id = _issue_letter(application, people["coordinator"], people["student"], state)
        nomination_id = MISSING
        omobility_id = "00000000-0000-4000-8000-000000000000"
        if state == "nominated":
            from portal.nominations import services as nominations

            nomination = nominations.nominate(application, actor=people["coordinator"])
            db.session.commit()
            nomination_id, omobility_id = nomination.id, nomination.omobility_id
        token_row, world.api_token = ApiToken.issue(
            knu.id, "MoveON", people["partner_receiving"].id
        )
        db.session.commit()
        from portal.auth import services as accounts

        world.values = {
            "application_id": application.id,
            "program_id": program.id,
            "slug": program.slug,
            "document_id": document_id,
            "offer_id": offer_id,
            "job_id": job.id,
            "nomination_id": nomination_id,
            "omobility_id": omobility_id,
            "token_id": token_row.id,
            "code": LETTER_CODE if state in LETTER_STATES else "nosuchcode",
            "criterion_id": program.criteria[0].id,
            "version": application.version,
            "token": accounts._serializer(accounts.RESET_SALT).dumps(
                {
                    "u": people["student"].id,
                    "h": accounts._password_fingerprint(people["student"]),
                }
            ),
            "verify_token": accounts._serializer(accounts.VERIFY_SALT).dumps(
                {"u": people["student"].id, "e": people["student"].email}
            ),
        }
        world.users = {name: user.id for name, user in people.items()}
        world.session_keys = {name: user.session_key for name, user in people.items()}
        db.session.remove()
    return world


def _issue_letter(application: Application, coordinator: User, student: User, state: str) -> int:
    from portal.offers import services as offers
    from portal.offers.models import Response

    with mock.patch.object(offers, "new_code", lambda: LETTER_CODE):
        offer = offers.issue_offer(application, actor=coordinator, language="en")
    db.session.commit()
    if state == "withdrawn":
        from portal.applications.services import withdraw_application

        withdraw_application(application, actor=student, reason="Plans changed")
        db.session.commit()
    elif state != "offered":
        offers.respond(application, offer.id, Response.CONFIRMED, student=student)
        db.session.commit()
    return offer.id


def browser_for(app: Flask, world: World, role: str) -> Browser:
    """Return a browser logged in as the role (the session Flask-Login keeps, no password)."""
    browser = Browser(app.test_client())
    if role != "anonymous":
        with browser.client.session_transaction() as session:
            session["_user_id"] = world.session_keys[role]
            session["_fresh"] = True
    return browser


def fill(rule_path: str, world: World, rename: dict[str, str] | None = None) -> str:
    """Put the world's values into a rule's variables; fail on a variable it lacks."""

    def value(match: re.Match[str]) -> str:
        name = (rename or {}).get(match.group(1), match.group(1))
        if name not in world.values:
            raise AssertionError(f"say which object fills <{name}> of {rule_path}")
        return str(world.values[name])

    return re.sub(r"<(?:\w+:)?(\w+)>", value, rule_path)


def readable(response) -> bytes:
    """Return what a person would read in a response: the text inside ZIP, XLSX and PDF too."""
    data = response.get_data()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return b"\n".join(archive.read(name) for name in archive.namelist())
    if data.startswith(b"%PDF-") and len(data) > 100:
        from pypdf import PdfReader

        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
        return text.encode()
    return data


def leaked(response) -> list[str]:
    """Return the student's secrets found in a response's body or Location."""
    body = readable(response) + response.headers.get("Location", "").encode()
    return [secret for secret in SECRETS if secret.encode() in body]


def snapshot(app: Flask) -> dict[str, object]:
    """Return every row of every table and the stored files, to prove nothing changed."""
    with app.app_context():
        rows = {}
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                rows[table.name] = conn.execute(sa.select(table).order_by(*order)).all()
        folder = Path(app.config["STORAGE_DIR"])
        rows["files"] = sorted(str(p) for p in folder.rglob("*")) if folder.exists() else []
    return rows


@contextmanager
def watching_writes(app: Flask) -> Iterator[list[str]]:
    """Collect the INSERT, UPDATE and DELETE statements the app sends while inside."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _many) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.append(" ".join(statement.split())[:80])

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def changed(before: dict[str, object], after: dict[str, object]) -> list[str]:
    """Name the tables (or the file store) whose content differs."""
    return [name for name in before if before[name] != after.get(name)]
