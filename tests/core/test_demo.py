"""`flask --app wsgi portal seed-demo` loads usable demo data and can run twice."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from portal.auth.models import User
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.institutions.models import Institution
from portal.programs.models import Program


def test_seed_demo_is_idempotent_and_covers_what_the_demo_needs(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["portal", "seed-demo"])
    second = runner.invoke(args=["portal", "seed-demo"])
    assert first.exit_code == second.exit_code == 0, first.output
    assert "student@kopir.demo" in first.output and DEMO_PASSWORD in first.output
    with app.app_context():
        programs = db.session.scalars(sa.select(Program)).all()
        assert len(programs) >= 8
        assert {p.kind for p in programs} == {
            "summer_school",
            "exchange_semester",
            "double_degree",
            "research_internship",
        }
        states = [p.window_state() for p in programs]
        assert "open" in states and "closed" in states and "upcoming" in states
        countries = set(db.session.scalars(sa.select(Institution.country)))
        assert countries == {"KZ", "RU", "KG"}
        assert {u.role for u in db.session.scalars(sa.select(User))} == {
            "student",
            "reviewer",
            "coordinator",
            "partner",
            "admin",
        }
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 14
        from portal.applications.models import Application
        from portal.offers.models import Offer

        # Two students went the whole way to an accepted offer, with real letters, once.
        confirmed = db.session.scalars(
            sa.select(Application).where(Application.state == "confirmed")
        ).all()
        assert len(confirmed) == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Offer)) == 2
        assert {a.program.host.schac for a in confirmed} == {"knu.kg"}
        from portal.profiles.models import StudentProfile

        citizenships = db.session.scalars(
            sa.select(StudentProfile.citizenship)
            .join(Application, Application.student_id == StudentProfile.user_id)
            .where(Application.state == "submitted")
        ).all()
        assert sorted(set(citizenships)) == ["KG", "KZ", "RU"]
        assert all(p.criteria for p in programs)
        for program in programs:
            assert set(program.titles) == {"en", "ru", "kk", "ky"}


def test_demo_student_can_log_in(app, browser):
    app.test_cli_runner().invoke(args=["portal", "seed-demo"])
    response = browser.login("student@kopir.demo", DEMO_PASSWORD)
    assert response.status_code == 302
    assert browser.get("/programs").status_code == 200


BASE = "http://127.0.0.1:8123"


def _seed(app, *args: str):
    result = app.test_cli_runner().invoke(args=["portal", "seed-demo", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _counts() -> dict[str, int]:
    from portal.applications.models import Application
    from portal.documents.models import Document
    from portal.mail import OutgoingMail
    from portal.offers.models import Offer
    from portal.profiles.models import StudentProfile

    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (User, StudentProfile, Application, Document, Offer, OutgoingMail, Program)
    }


def test_demo_applications_past_submission_are_eligible_and_complete(app):
    from portal.applications.models import Application
    from portal.applications.services import readiness
    from portal.programs.eligibility import check_eligibility

    _seed(app)
    with app.test_request_context("/"):
        applications = db.session.scalars(sa.select(Application)).all()
        assert {a.state for a in applications} == {"submitted", "confirmed"}
        ineligible = {
            (a.student.email, a.program.slug): [
                c.message
                for c in check_eligibility(a.program, a.student.profile)
                if not c.ok
            ]
            for a in applications
        }
        assert not {k: v for k, v in ineligible.items() if v}
        # What a student has to give before submitting is there too: documents, answers.
        incomplete = {
            a.student.email: readiness(a, a.submitted_at).problems()
            for a in applications
            if not readiness(a, a.submitted_at).complete
        }
        assert not incomplete


def test_demo_students_are_born_on_the_days_their_ids_say(app):
    from portal.identity import check_national_id, is_latin_passport_name, normalize_national_id
    from portal.identity.national_ids import iin_birth_date, iin_gender
    from portal.identity.phones import normalize_phone
    from portal.profiles.models import StudentProfile

    _seed(app)
    with app.app_context():
        profiles = db.session.scalars(sa.select(StudentProfile)).all()
        assert len(profiles) == 8
        births = [p.birth_date for p in profiles]
        assert len(set(births)) == len(births)
        assert len({p.national_id for p in profiles}) == len(profiles)
        assert {p.citizenship for p in profiles} == {"KZ", "RU", "KG"}
        for p in profiles:
            who = p.user.email
            assert check_national_id(
                p.citizenship, p.national_id, birth_date=p.birth_date, gender=p.gender
            ) is None, who
            assert normalize_national_id(p.citizenship, p.national_id) == p.national_id, who
            if p.citizenship == "KZ":
                assert iin_birth_date(p.national_id) == p.birth_date, who
                assert iin_gender(p.national_id) == p.gender, who
            if p.citizenship == "KG":  # sex (1 female, 2 male), then DDMMYYYY
                assert p.national_id[1:9] == f"{p.birth_date:%d%m%Y}", who
                assert {"1": 2, "2": 1}[p.national_id[0]] == p.gender, who
            assert normalize_phone(p.phone, p.citizenship) == p.phone, who
            assert is_latin_passport_name(p.latin_given_names), who
            assert is_latin_passport_name(p.latin_family_name), who
            assert not p.missing_fields(), who


SEED_APP = """
import os
from portal import create_app
app = create_app({"STORAGE_DIR": os.environ["T_STORAGE"], "OUTBOX_DIR": os.environ["T_OUTBOX"]})
"""


def test_seeding_is_quiet_and_links_go_to_the_port_given(app, database_url, tmp_path):
    """`flask portal seed-demo --port 8123`, in a process of its own as `make seed` runs it."""
    import os
    import subprocess
    import sys

    from portal.mail import OutgoingMail
    from portal.offers.models import Offer
    from portal.storage import get_storage

    (tmp_path / "seed_app.py").write_text(SEED_APP)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("BASE_URL") and key not in ("FLASK_RUN_PORT", "FLASK_APP")
    }
    env.update(
        KOPIR_DATABASE_URL=database_url,
        KOPIR_SECRET_KEY="demo-tests",
        T_STORAGE=app.config["STORAGE_DIR"],
        T_OUTBOX=app.config["OUTBOX_DIR"],
    )
    with app.app_context():
        db.session.remove()  # let go of SQLite's file while the other process writes it
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", str(tmp_path / "seed_app.py"), "portal",
         "seed-demo", "--port", "8123"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # Only the list of what is there: no warning, no log line, nothing on stderr.
    assert result.stderr == ""
    assert "BASE_URL" not in result.stdout and "WARNING" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["admin", "admin@kopir.demo"] and len(lines) == 9

    with app.app_context():
        bodies = db.session.scalars(sa.select(OutgoingMail)).all()
        assert len(bodies) == 8 + 2 * 3  # one per submission; accepted, offered, confirmed
        for mail in bodies:
            links = re.findall(r"https?://[^\s\"'<>]+", mail.body_text + (mail.body_html or ""))
            assert links and all(link.startswith(BASE + "/") for link in links), links
        offers = db.session.scalars(sa.select(Offer)).all()
        assert len(offers) == 2
        for offer in offers:
            path = tmp_path / f"{offer.reference}.pdf"
            path.write_bytes(get_storage().load(offer.storage_key))
            text = subprocess.run(
                ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
            ).stdout
            assert f"{BASE}/verify/" in "".join(text.split())
            subprocess.run(
                ["pdftoppm", "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "p")],
                check=True,
            )
            qr = subprocess.run(
                ["zbarimg", "--quiet", "--raw", str(tmp_path / "p.png")],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            assert qr.startswith(f"{BASE}/verify/")


def test_seeding_twice_adds_nothing_and_says_when_the_port_changed(app):
    _seed(app, "--port", "8123")
    with app.app_context():
        first = _counts()
    again = _seed(app, "--port", "8123")
    assert "Note:" not in again
    with app.app_context():
        assert _counts() == first
    moved = _seed(app, "--base-url", "http://127.0.0.1:9000")
    assert f"made earlier for {BASE}: its letters" in moved
    with app.app_context():
        assert _counts() == first


def test_a_configured_base_url_wins_over_the_port(app, monkeypatch):
    from portal.mail import OutgoingMail

    monkeypatch.setitem(app.config, "BASE_URL", "https://kopir.example.edu/portal")
    _seed(app, "--port", "8123")
    with app.app_context():
        body = db.session.scalars(sa.select(OutgoingMail.body_text)).first()
        assert "https://kopir.example.edu/portal/applications/" in body


def test_make_seed_passes_the_port_make_run_serves_on():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    seed = re.search(r"^seed:.*?(?=^\S)", makefile, re.M | re.S).group(0)
    run = re.search(r"^run:(?! DEBIAN).*?(?=^\S|\Z)", makefile, re.M | re.S).group(0)
    assert "seed-demo --port $(PORT)" in seed
    # make run starts deploy/Procfile with honcho, which hands its --port to the web process.
    assert "--procfile deploy/Procfile" in run and "start --port $(PORT)" in run
    procfile = (Path(__file__).resolve().parents[2] / "deploy" / "Procfile").read_text()
    assert "web: flask run --host 127.0.0.1 --port $PORT" in procfile
    assert "worker: flask portal worker" in procfile
