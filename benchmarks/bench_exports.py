"""Measure the partner exports of 10,000 nominations: memory growth and time to the first bytes.

Run with `make bench`. A fresh SQLite database gets 10,000 nominations; a partner of the
receiving university downloads them as CSV, EWP XML and XLSX through Flask's test client, without
buffering, as a browser would. For each download: milliseconds to the first chunk, to the last,
the size, and the peak of memory the Python heap grew by (tracemalloc) while it ran.
Target: growth under 100 MB. CSV and EWP XML are streamed and start at once; XLSX is built
row by row in a temporary file (openpyxl's write-only mode) and sent when complete.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LIMIT_MB = 100


def _fill(count: int) -> int:
    """Insert the institutions, a programme, students, applications and nominations."""
    import sqlalchemy as sa

    from portal.applications.models import Application
    from portal.auth.models import Role, User
    from portal.db import utcnow
    from portal.extensions import db
    from portal.institutions.models import Institution
    from portal.nominations.models import Nomination
    from portal.programs.models import Program

    host = Institution(schac="knu.kg", names={"en": "KNU"}, country="KG", timezone="Asia/Bishkek")
    home = Institution(
        schac="vku.edu.kz", names={"en": "VKU"}, country="KZ", timezone="Asia/Almaty"
    )
    db.session.add_all([host, home])
    db.session.flush()
    now = utcnow()
    program = Program(
        slug="bench", kind="summer_school", host=host, titles={"en": "Bench"}, language="en",
        starts_on=date(2027, 6, 1), ends_on=date(2027, 6, 20), seats=count, timezone="Asia/Bishkek",
        opens_at=now - timedelta(days=30), closes_at=now - timedelta(days=1),
    )
    partner = User(email="partner@knu.kg", role=Role.PARTNER, institution=host, verified_at=now)
    partner.set_password("bench-partner-2026")
    db.session.add_all([program, partner])
    db.session.flush()
    users = [
        {"email": f"s{i}@example.kz", "password_hash": "!", "role": "student", "active": True,
         "session_key": uuid.uuid4().hex, "created_at": now, "updated_at": now}
        for i in range(count)
    ]
    db.session.execute(sa.insert(User), users)
    ids = db.session.scalars(sa.select(User.id).where(User.role == "student").order_by(User.id))
    apps = [
        {"student_id": uid, "program_id": program.id, "state": "confirmed", "version": 1,
         "answers": {}, "submitted_at": now, "created_at": now, "updated_at": now}
        for uid in ids
    ]
    db.session.execute(sa.insert(Application), apps)
    app_ids = db.session.scalars(sa.select(Application.id).order_by(Application.id)).all()
    nominations = [
        {
            "omobility_id": str(uuid.uuid4()), "application_id": aid, "program_id": program.id,
            "sending_hei_id": home.id, "receiving_hei_id": host.id, "academic_year": "2026/2027",
            "student": {
                "given_latin": "AIGERIM", "family_latin": f"SEITKALIYEVA-{n}",
                "given_native": "Әйгерім", "family_native": f"Сейітқалиева-{n}",
                "native_lang": "kk-Cyrl", "birth_date": "2003-05-17", "citizenship": "KZ",
                "gender": 2, "email": f"s{n}@example.kz",
                "global_id": f"urn:schac:personalUniqueCode:int:esi:vku.edu.kz:kopir-{n}",
            },
            "activity_type": "student-studies", "activity_attributes": "short-term-blended",
            "eqf_level": 6, "isced_code": "052",
            "language_skills": [{"language": "en", "cefr": "B2"}, {"language": "kk", "cefr": "NS"}],
            "planned_arrival": date(2027, 6, 1), "planned_departure": date(2027, 6, 20),
            "status": "nomination", "answer": "pending", "created_at": now, "modified_at": now,
        }
        for n, aid in enumerate(app_ids)
    ]
    db.session.execute(sa.insert(Nomination), nominations)
    db.session.commit()
    return len(nominations)


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _download(client, url: str) -> tuple[float, float, int, float, float]:
    """Return ms to the first chunk, ms to the end, bytes, heap growth and peak RSS growth (MB).

    The heap figure (tracemalloc) counts Python objects; the RSS figure also counts what C
    libraries (SQLite, lxml) hold, but only shows growth beyond the process's earlier peak.
    """
    rss = _max_rss_mb()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    start = time.perf_counter()
    response = client.get(url, buffered=False)
    assert response.status_code == 200, (url, response.status_code)
    first = None
    size = 0
    for chunk in response.response:
        if first is None:
            first = time.perf_counter()
        size += len(chunk)
    response.close()
    end = time.perf_counter()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    growth = (peak - base) / 2**20
    return (first - start) * 1000, (end - start) * 1000, size, growth, _max_rss_mb() - rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nominations", type=int, default=10_000)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from portal import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                "STORAGE_DIR": f"{tmp}/uploads",
                "OUTBOX_DIR": f"{tmp}/outbox",
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "LOG_LEVEL": "WARNING",
            }
        )
        with app.app_context():
            upgrade()
            count = _fill(args.nominations)
        client = app.test_client()
        login = client.post(
            "/account/login", data={"email": "partner@knu.kg", "password": "bench-partner-2026"}
        )
        assert login.status_code == 302, login.status_code
        print(f"Partner exports of {count} nominations")
        print(f"RSS before the downloads: {_max_rss_mb():.0f} MB")
        print(
            f"{'':8} {'first bytes ms':>15} {'total ms':>10} {'MB out':>8} {'heap MB':>8}"
            f" {'RSS MB':>7}"
        )
        ok = True
        for name, url in (
            ("CSV", "/partner/nominations.csv"),
            ("EWP XML", "/partner/nominations.xml"),
            ("XLSX", "/partner/nominations.xlsx"),
        ):
            first, total, size, growth, rss = _download(client, url)
            ok = ok and growth < LIMIT_MB and rss < LIMIT_MB
            print(
                f"{name:8} {first:15.0f} {total:10.0f} {size / 2**20:8.1f} {growth:8.1f}"
                f" {rss:7.1f}"
            )
        print(f"target (heap growth < {LIMIT_MB} MB for each):", "met" if ok else "NOT met")
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
