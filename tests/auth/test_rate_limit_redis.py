"""Login limits are counted in Redis when RATELIMIT_STORAGE_URI points there."""

from __future__ import annotations

import os
import socket

import pytest

from portal.extensions import limiter
from tests import factories
from tests.conftest import Browser


def redis_running() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def keep_limiter_storage():
    # The extension object is shared: put the session app's storage back afterwards.
    saved = (limiter._storage, limiter._limiter)
    yield
    limiter._storage, limiter._limiter = saved


@pytest.mark.skipif(
    not redis_running(),
    reason="no Redis server at 127.0.0.1:6379 "
    "(this machine kind and CI start one; `apt-get install redis-server` elsewhere)",
)
def test_login_limit_is_shared_through_redis(app_factory, keep_limiter_storage):
    import redis

    # A database of its own per test process (gw0 uses 15, gw1 14, ...), so parallel runs
    # never count each other's attempts.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = 15 - int(worker[2:] or 0) % 8
    client = redis.Redis(host="127.0.0.1", port=6379, db=number)
    client.flushdb()
    redis_app = app_factory(
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:6379/{number}", RATELIMIT_LOGIN="2 per minute"
    )
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
    assert any(b"login" in key for key in client.keys("*"))
    client.flushdb()
