"""deploy/backup.sh and deploy/restore.sh on PostgreSQL: a restored portal serves what was saved."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from portal.applications.models import Application
from portal.auth.models import User
from portal.config import ENV_SETTINGS, from_environment
from portal.demo import DEMO_PASSWORD
from portal.documents.models import Document
from portal.extensions import db
from portal.offers.models import Offer
from portal.programs.models import Program
from tests.conftest import Browser, _postgres_database, make_app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# Variables of the shell running the tests that would point the scripts elsewhere.
FOREIGN = ("KOPIR_DATABASE_URL", "KOPIR_SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_DATABASE_URI",
           "KOPIR_STORAGE_DIR", "BACKUP_DIR", "BACKUP_KEEP", "PG_BIN")


def script(name: str, *args: object, **env: str) -> subprocess.CompletedProcess[str]:
    """Run one of the deploy/ scripts with these settings; return what it did."""
    environ = {k: v for k, v in os.environ.items() if k not in FOREIGN and not k.startswith("PG")}
    environ.update(env)
    return subprocess.run(
        [str(DEPLOY / name), *map(str, args)], env=environ, capture_output=True, text=True
    )


@pytest.fixture
def databases() -> Iterator[list[str]]:
    """Yield two empty databases on the TEST_DATABASE_URL server: the original and the new one."""
    made = [_postgres_database(), _postgres_database()]
    try:
        yield [next(database) for database in made]
    finally:
        for database in made:
            database.close()


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="pg_dump and pg_restore need a PostgreSQL server: set TEST_DATABASE_URL",
)
def test_a_backup_restored_into_an_empty_database_serves_the_same_portal(
    databases: list[str], tmp_path: Path
) -> None:
    # URLs as the portal's settings give them (postgresql+psycopg://…): the scripts take those.
    original_url, new_url = databases
    original = make_app(original_url, tmp_path / "original")
    with original.app_context():
        upgrade()
    seeded = original.test_cli_runner().invoke(args=["portal", "seed-demo"])
    assert seeded.exit_code == 0, seeded.output
    with original.app_context():
        program = db.session.scalar(sa.select(Program).order_by(Program.slug).limit(1))
        slug, title = program.slug, program.titles["en"]
        document, owner = db.session.execute(
            sa.select(Document, User.email)
            .join(Application, Application.id == Document.application_id)
            .join(User, User.id == Application.student_id)
            .order_by(Document.id)
            .limit(1)
        ).one()
        document_id, document_sha = document.id, document.sha256
        offer, student = db.session.execute(
            sa.select(Offer, User.email)
            .join(Application, Application.id == Offer.application_id)
            .join(User, User.id == Application.student_id)
            .order_by(Offer.id)
            .limit(1)
        ).one()
        letter = (f"/applications/{offer.application_id}/letters/{offer.id}.pdf", offer.sha256)
    _dispose(original)
    storage = Path(original.config["STORAGE_DIR"])

    # Two backups from long ago: with BACKUP_KEEP=2 the older one goes.
    backups = tmp_path / "backups"
    for stamp in ("20200101T020000Z", "20200102T020000Z"):
        (backups / stamp).mkdir(parents=True)
    made = script(
        "backup.sh",
        DATABASE_URL=original_url, STORAGE_DIR=str(storage), BACKUP_DIR=str(backups),
        BACKUP_KEEP="2",
    )
    assert made.returncode == 0, made.stderr
    backup = Path(made.stdout.strip())
    assert sorted(p.name for p in backups.iterdir() if not p.name.startswith(".")) == [
        "20200102T020000Z",
        backup.name,
    ]
    assert sorted(p.name for p in backup.iterdir()) == ["SHA256SUMS", "database.dump", "files.tar"]
    # pg_dump's custom format, which pg_restore reads (and a plain SQL file would not be).
    assert (backup / "database.dump").read_bytes()[:5] == b"PGDMP"

    restored = tmp_path / "restored"
    put_back = script("restore.sh", backup, DATABASE_URL=new_url, STORAGE_DIR=str(restored))
    assert put_back.returncode == 0, put_back.stderr
    # Once the database holds something, a restore refuses it and changes nothing.
    again = script(
        "restore.sh", backup, DATABASE_URL=new_url, STORAGE_DIR=str(tmp_path / "elsewhere")
    )
    assert again.returncode != 0 and "not empty" in again.stderr
    assert not (tmp_path / "elsewhere").exists()

    portal = make_app(new_url, tmp_path / "new", STORAGE_DIR=str(restored))
    try:
        visitor = Browser(portal.test_client())
        page = visitor.get(f"/programs/{slug}?lang=en")
        assert page.status_code == 200 and title in page.get_data(as_text=True)

        visitor.login(owner, DEMO_PASSWORD)
        download = visitor.get(f"/documents/{document_id}")
        assert download.status_code == 200
        assert hashlib.sha256(download.get_data()).hexdigest() == document_sha

        reader = Browser(portal.test_client())
        reader.login(student, DEMO_PASSWORD)
        pdf = reader.get(letter[0])
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        assert hashlib.sha256(pdf.get_data()).hexdigest() == letter[1]
    finally:
        _dispose(portal)


def test_restore_refuses_a_damaged_backup_before_connecting(tmp_path: Path) -> None:
    backup = tmp_path / "20270101T000000Z"
    backup.mkdir()
    (backup / "database.dump").write_bytes(b"PGDMP damaged")
    (backup / "files.tar").write_bytes(b"")
    (backup / "SHA256SUMS").write_text(
        f"{hashlib.sha256(b'PGDMP').hexdigest()}  database.dump\n"
        f"{hashlib.sha256(b'').hexdigest()}  files.tar\n"
    )
    refused = script(
        "restore.sh", backup,
        DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none",
        STORAGE_DIR=str(tmp_path / "storage"),
    )
    assert refused.returncode != 0 and "damaged" in refused.stderr


def _libpq_settings(**env: str) -> dict[str, str]:
    """Return the PG* variables deploy/pg-tools.sh derives from these settings."""
    shown = subprocess.run(
        ["sh", "-c", '. "$1" && kopir_pg_env && env', "sh", str(DEPLOY / "pg-tools.sh")],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0, shown.stderr
    pairs = (line.split("=", 1) for line in shown.stdout.splitlines() if line.startswith("PG"))
    return dict(pairs)


def test_the_scripts_connect_where_the_portal_does() -> None:
    url = "postgresql+psycopg://kopir:p%40ss%20word@db.example.edu:5433/kopir?sslmode=require"
    assert _libpq_settings(DATABASE_URL=url) == {
        "PGHOST": "db.example.edu",
        "PGPORT": "5433",
        "PGUSER": "kopir",
        "PGPASSWORD": "p@ss word",
        "PGDATABASE": "kopir",
        "PGSSLMODE": "require",
    }
    # Whichever variable the portal reads first when several are set, the scripts read too.
    variables = ENV_SETTINGS["SQLALCHEMY_DATABASE_URI"].variables
    for rank, variable in enumerate(variables):
        given = {v: f"postgresql://kopir@db/database{i}" for i, v in enumerate(variables[rank:])}
        chosen = from_environment(given)["SQLALCHEMY_DATABASE_URI"]
        assert chosen.endswith(f"/{_libpq_settings(**given)['PGDATABASE']}"), variable


def test_the_scripts_refuse_a_database_that_is_not_postgresql(tmp_path: Path) -> None:
    refused = script(
        "backup.sh", DATABASE_URL=f"sqlite:///{tmp_path}/kopir.sqlite3", STORAGE_DIR=str(tmp_path)
    )
    assert refused.returncode != 0 and "postgresql://" in refused.stderr
