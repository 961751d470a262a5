"""Logging in works, and failed logins are counted, whatever the rate limiter's settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from portal.extensions import limiter
from tests import factories
from tests.conftest import Browser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def keep_limiter():
    # The extension object is shared by every app of the process: put the session app's back.
    saved = (limiter._storage, limiter._limiter, limiter.enabled)
    yield
    limiter._storage, limiter._limiter, limiter.enabled = saved


def _attempts(app, email: str, passwords: list[str]) -> list[int]:
    browser = Browser(app.test_client())
    codes = []
    for password in passwords:
        browser.get("/account/login")
        codes.append(
            browser.post("/account/login", {"email": email, "password": password}).status_code
        )
    return codes


@pytest.mark.parametrize("enabled", [True, False])
def test_login_and_its_failure_count_with_the_limiter_on_and_off(
    app, app_factory, keep_limiter, enabled
):
    limited = app_factory(RATELIMIT_ENABLED=enabled, LOGIN_FAILURES_MAX=3)
    with limited.app_context():
        factories.user(email="on-off@example.kz")
        factories.user(email="fine@example.kz")
    right = "correct horse battery"
    # Three wrong passwords lock the address: even the right one is refused for a while.
    assert _attempts(limited, "on-off@example.kz", ["wrong!"] * 3 + [right]) == [
        200,
        200,
        200,
        429,
    ]
    assert _attempts(limited, "fine@example.kz", ["wrong!", right]) == [200, 302]


def test_login_limit_per_client_steps_aside_when_the_limiter_is_off(app, app_factory, keep_limiter):
    off = app_factory(RATELIMIT_ENABLED=False, RATELIMIT_LOGIN="2 per minute")
    with off.app_context():
        factories.user(email="many@example.kz")
    codes = _attempts(off, "many@example.kz", ["wrong!", "wrong!", "correct horse battery"])
    assert codes == [200, 200, 302]


_ALONE = textwrap.dedent(
    """
    import json, sys, tempfile
    sys.path.insert(0, sys.argv[1])
    from flask_migrate import upgrade
    from portal import create_app
    from portal.extensions import db
    from tests import factories
    from tests.conftest import Browser

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "SECRET_KEY": "alone", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/a.sqlite3",
            "STORAGE_DIR": f"{tmp}/uploads", "OUTBOX_DIR": f"{tmp}/outbox",
            "RATELIMIT_ENABLED": False, "LOGIN_FAILURES_MAX": 2, "LOGIN_SLOWDOWN_MAX": 0.0,
            "LOG_LEVEL": "WARNING",
        })
        with app.app_context():
            upgrade()
            factories.user(email="alone@example.kz")
            db.session.remove()
        codes = []
        for password in ("wrong!", "correct horse battery", "wrong!", "wrong!",
                         "correct horse battery"):
            browser = Browser(app.test_client())
            browser.get("/account/login")
            codes.append(browser.post(
                "/account/login", {"email": "alone@example.kz", "password": password}
            ).status_code)
        print(json.dumps(codes))
    """
)


def test_login_in_a_process_whose_only_app_has_the_limiter_off(tmp_path):
    # As `make bench` runs: no app ever gave the limiter a storage.
    result = subprocess.run(
        [sys.executable, "-c", _ALONE, str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # A good password clears the count; two failures in a row then lock the address.
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [200, 302, 200, 200, 429]


def test_registration_is_not_counted_when_the_limiter_is_off(app, app_factory, keep_limiter):
    off = app_factory(RATELIMIT_ENABLED=False, RATELIMIT_REGISTER="1 per hour")
    browser = Browser(off.test_client())
    browser.get("/account/register")
    codes = []
    for n in range(2):
        form = {"email": f"r{n}@example.kz", "password": "Altai-2026-summer"}
        form["confirm"] = form["password"]
        codes.append(browser.post("/account/register", form).status_code)
    assert codes == [302, 302]


@pytest.mark.parametrize("swallow", [True, False])
def test_a_counter_store_that_cannot_be_reached_fails_as_the_limiter_settings_say(
    app, app_factory, keep_limiter, swallow
):
    import redis

    # Nothing listens on port 1: every count fails, as with Redis down.
    broken = app_factory(
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/10", RATELIMIT_SWALLOW_ERRORS=swallow
    )
    with broken.app_context():
        factories.user(email="calm@example.kz")
    if swallow:
        # The operator chose to let requests through rather than refuse everyone.
        assert _attempts(broken, "calm@example.kz", ["wrong!", "correct horse battery"]) == [
            200,
            302,
        ]
    else:
        with pytest.raises(redis.exceptions.ConnectionError):
            _attempts(broken, "calm@example.kz", ["correct horse battery"])
