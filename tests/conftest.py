"""Fixtures: one app per database backend, emptied between tests, and a browser-like client."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app, readcache
from portal.extensions import db, limiter

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def _postgres_database() -> Iterator[str]:
    """Create a throw-away PostgreSQL database on the TEST_DATABASE_URL server."""
    url = sa.make_url(os.environ["TEST_DATABASE_URL"])
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    name = f"kopir_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Yield the URL of an empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'kopir.sqlite3'}"
    else:
        yield from _postgres_database()


def make_app(database_url: str, tmp: Path, **overrides: object) -> Flask:
    """Build an app for tests, with its own folders for uploads and mail."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "STORAGE_DIR": str(tmp / "uploads"),
        "OUTBOX_DIR": str(tmp / "outbox"),
        "TASKS_IMMEDIATE": True,
        "RATELIMIT_LOGIN": "1000 per minute",
        "RATELIMIT_REGISTER": "1000 per minute",
        # Failed logins are not slowed down in tests, except where a test asks for it.
        "LOGIN_SLOWDOWN_MAX": 0.0,
        "SERVER_NAME": "kopir.test",
        "UPLOAD_MAX_BYTES": 200_000,
        "PAGE_SIZE": 5,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app_factory(app: Flask, database_url: str, tmp_path: Path) -> Iterator[object]:
    """Build extra apps on the session's (migrated) database; close their connections after."""
    made: list[Flask] = []

    def build(**overrides: object) -> Flask:
        made.append(make_app(database_url, tmp_path, **overrides))
        return made[-1]

    yield build
    for extra in made:
        with extra.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """Yield the app with its schema made by the migrations, as in production."""
    from flask_migrate import upgrade

    application = make_app(database_url, tmp_path_factory.mktemp("instance"))
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table after each test that used the database."""
    yield
    if "app" not in request.fixturenames:
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())
    limiter.reset()
    readcache.clear_all()  # the tables were emptied behind the ORM's back


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """Run the test inside an application context (and a request for url_for)."""
    with app.test_request_context("/"):
        yield
        db.session.remove()


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """A test client that keeps cookies and sends forms with their CSRF token, like a browser."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.last_token: str | None = None

    def get(self, url: str, **kwargs: object):
        response = self.client.get(url, **kwargs)
        response.get_data()  # consume streamed bodies, as a browser does, so their context ends
        if response.mimetype == "text/html":
            match = _CSRF.search(response.get_data(as_text=True))
            if match:
                self.last_token = match.group(1)
        return response

    def token(self, page: str = "/") -> str:
        if self.last_token is None:
            self.get(page)
        assert self.last_token, "no page gave a CSRF token"
        return self.last_token

    def post(self, url: str, data: dict | None = None, **kwargs):
        """Post a form with the session's CSRF token, read from a page as a browser does."""
        data = dict(data or {})
        if "csrf_token" not in data:
            self.last_token = None
            data["csrf_token"] = self.token("/")
        return self.client.post(url, data=data, **kwargs)

    def login(self, email: str, password: str = "correct horse battery"):
        self.get("/account/login")
        return self.post("/account/login", {"email": email, "password": password})


@pytest.fixture
def browser(app: Flask) -> Browser:
    """Return a fresh browser-like client."""
    return Browser(app.test_client())


@pytest.fixture
def other_browser(app: Flask) -> Browser:
    """Return a second, independent browser."""
    return Browser(app.test_client())
