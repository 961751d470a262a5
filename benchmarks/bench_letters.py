"""Time issuing offer letters against a bare WeasyPrint render measured in the same run.

Run with `make bench`. The floor is WeasyPrint rendering one static letter-sized HTML page (the
HTML of a real letter, kept as a string) with a shared `CSS` and `FontConfiguration`, over and
over. Against it: the whole batch job that issues a programme's letters (HTML, QR code, PDF,
SHA-256, storage, database rows, state changes, e-mail queued, one commit per letter), first in
one process, then with one rendering process per core. Targets: at most 1.3x the floor in one
process, and at least 1.6x faster with 2 workers than with 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOCALES = ("kk", "ru", "ky", "en")


def _make_applicants(program, count: int, tag: str) -> None:
    """Add accepted applicants with full profiles, in all four languages."""
    from portal.applications.models import Application
    from portal.applications.services import snapshot_profile
    from portal.applications.states import State
    from portal.auth.models import Role, User
    from portal.db import utcnow
    from portal.extensions import db
    from portal.profiles.models import StudentProfile

    for i in range(count):
        locale = LOCALES[i % len(LOCALES)]
        user = User(
            email=f"bench-{tag}-{i}@example.org",
            role=Role.STUDENT,
            locale=locale,
            verified_at=utcnow(),
            # Hashing a real password 600 times would only slow the set-up down.
            password_hash="!",  # noqa: S106 - no password can match it
        )
        user.profile = StudentProfile(
            native_given_names="Әйгерім",
            native_family_name=f"Сейітқалиева-{i}",
            native_name_lang="kk-Cyrl",
            latin_given_names="AIGERIM",
            latin_family_name=f"SEITKALIYEVA-{i}",
            birth_date=date(2003, 5, 17),
            gender=2,
            citizenship="KZ",
            home_institution_other="Ekibastuz Technical College",
        )
        db.session.add(user)
        db.session.flush()
        db.session.add(
            Application(
                student=user,
                program=program,
                state=State.ACCEPTED.value,
                motivation="bench",
                submitted_at=utcnow(),
                profile_snapshot=snapshot_profile(user.profile),
            )
        )
    db.session.commit()


def _run_job(program_id: int, workers: int) -> tuple[float, int]:
    from flask import current_app

    from portal import jobs
    from portal.extensions import db

    current_app.config["LETTER_WORKERS"] = workers
    job = jobs.create("issue_offers", program_id=program_id, created_by_id=None)
    db.session.commit()
    start = time.perf_counter()
    job = jobs.run(job.id)
    elapsed = time.perf_counter() - start
    assert job.state == "done" and not job.failed, (job.state, job.failures, job.error)
    return elapsed, job.done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    rounds = args.rounds
    per_round = max(1, args.letters // rounds)

    import sqlalchemy as sa
    from flask_migrate import upgrade

    import portal.jobs
    from portal import create_app
    from portal.applications.models import Application
    from portal.demo import seed
    from portal.extensions import db
    from portal.offers.pdf import Renderer
    from portal.offers.services import prepare, verify_prefix
    from portal.programs.models import Program

    # Mail is queued in the database inside each letter's transaction (that cost is measured);
    # delivering it is the worker's own task, and is left out.
    portal.jobs.send_queued_mail = lambda: None

    floor_s = one_s = many_s = 0.0
    one_n = many_n = 0
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                "STORAGE_DIR": f"{tmp}/uploads",
                "OUTBOX_DIR": f"{tmp}/outbox",
                "BASE_URL": "https://kopir.example",
                "LOG_LEVEL": "WARNING",
            }
        )
        with app.app_context():
            upgrade()
            list(seed())
            programs = db.session.scalars(sa.select(Program).order_by(Program.id).limit(3)).all()
            warm, one, many = programs
            _make_applicants(warm, 8, "w")

            # The floor: the HTML of a real letter, rendered again and again.
            sample = db.session.scalar(
                sa.select(Application)
                .where(Application.program_id == warm.id, Application.state == "accepted")
                .limit(1)
            )
            html = prepare(sample, verify_prefix=verify_prefix()).html
            db.session.rollback()
            renderer = Renderer()
            for _ in range(5):
                renderer.render(html)

            # The first batch of a process starts the rendering pool (kept afterwards), as the
            # first batch after a server starts would.
            cold, cold_n = _run_job(warm.id, 2)
            # Rounds interleave the three measurements, so a slower minute on a shared
            # machine weighs on all of them alike.
            for round_ in range(rounds):
                start = time.perf_counter()
                for _ in range(per_round):
                    renderer.render(html)
                floor_s += time.perf_counter() - start
                _make_applicants(one, per_round, f"a{round_}")
                elapsed, done = _run_job(one.id, 1)
                one_s, one_n = one_s + elapsed, one_n + done
                _make_applicants(many, per_round, f"b{round_}")
                elapsed, done = _run_job(many.id, 2)
                many_s, many_n = many_s + elapsed, many_n + done

    floor = floor_s * 1000 / (per_round * rounds)
    per_one = one_s * 1000 / one_n
    per_many = many_s * 1000 / many_n
    speedup = per_one / per_many
    print(f"Offer letters: {one_n} per measurement, {rounds} rounds, {os.cpu_count()} cores")
    print(f"{'':34} {'ms/letter':>10} {'x floor':>8}")
    print(f"{'floor (bare WeasyPrint render)':34} {floor:10.1f} {1:8.2f}")
    print(f"{'batch job, 1 process':34} {per_one:10.1f} {per_one / floor:8.2f}")
    print(f"{'batch job, 2 rendering processes':34} {per_many:10.1f} {per_many / floor:8.2f}")
    print(f"speed-up with 2 processes: {speedup:.2f}x")
    print(f"first batch of the process ({cold_n} letters, pool starting): {cold:.1f} s")
    ok = per_one / floor <= 1.3 and speedup >= 1.6
    print("targets (<= 1.3x floor, >= 1.6x speed-up):", "met" if ok else "NOT met")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
