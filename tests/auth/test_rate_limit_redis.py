"""Login counts live in Redis when RATELIMIT_STORAGE_URI points there, seen by every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests import factories
from tests.conftest import Browser

ROOT = Path(__file__).resolve().parents[2]


def test_login_limit_is_shared_through_redis(app_factory, keep_limiter, redis_db, redis_uri):
    redis_app = app_factory(RATELIMIT_STORAGE_URI=redis_uri, RATELIMIT_LOGIN="2 per minute")
    with redis_app.app_context():
        factories.user(email="r@example.kz")
    browser = Browser(redis_app.test_client())
    codes = []
    for _ in range(3):
        browser.get("/account/login")
        codes.append(
            browser.post(
                "/account/login", {"email": "r@example.kz", "password": "wrong!"}
            ).status_code
        )
    assert codes == [200, 200, 429]
    assert any(b"login" in key for key in redis_db.keys("*"))


# Another process, as another gunicorn worker or machine would be: the same Redis, nothing else.
_WORKER = textwrap.dedent(
    """
    import json, sys, tempfile
    sys.path.insert(0, sys.argv[1])
    from portal import create_app
    from tests.conftest import Browser

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "SECRET_KEY": "worker", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/w.sqlite3",
            "STORAGE_DIR": f"{tmp}/uploads", "OUTBOX_DIR": f"{tmp}/outbox",
            "RATELIMIT_STORAGE_URI": sys.argv[2], "RATELIMIT_LOGIN": "2 per hour",
            "LOG_LEVEL": "WARNING",
        })
        browser = Browser(app.test_client())
        browser.client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
        browser.get("/account/login")
        answer = browser.post("/account/login", {"email": "s@example.kz", "password": "x"})
        print(json.dumps([answer.status_code, answer.headers.get("Retry-After")]))
    """
)


def test_another_process_refuses_an_address_whose_failures_this_one_counted(
    app_factory, keep_limiter, redis_uri
):
    here = app_factory(RATELIMIT_STORAGE_URI=redis_uri, RATELIMIT_LOGIN="2 per hour")
    browser = Browser(here.test_client())
    browser.client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    codes = [browser.login("s@example.kz", "wrong!").status_code for _ in range(2)]
    assert codes == [200, 200]
    result = subprocess.run(
        [sys.executable, "-c", _WORKER, str(ROOT), redis_uri],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    status, retry_after = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 429
    assert 3500 <= int(retry_after) <= 3600
