"""Apps whose login and registration counts live in memory or in Redis."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from portal.config import Defaults
from portal.extensions import limiter

# The shipped allowances, which the conftest of the whole suite raises for every other test.
SHIPPED = {
    name: getattr(Defaults, name)
    for name in (
        "RATELIMIT_LOGIN",
        "LOGIN_CLIENT_FREE_FAILURES",
        "LOGIN_FREE_FAILURES",
        "LOGIN_FAILURES_MAX",
        "LOGIN_FAILURES_WINDOW",
        "RATELIMIT_REGISTER",
    )
}


def redis_running() -> bool:
    """Tell whether the Redis server the tests use answers."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


NO_REDIS = (
    "no Redis server at 127.0.0.1:6379 "
    "(this machine kind and CI start one; `apt-get install redis-server` elsewhere)"
)


def redis_number() -> int:
    """Return this test process's Redis database: 10 to 13, one per xdist worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return 10 + int(worker[2:] or 0) % 4


@pytest.fixture
def keep_limiter() -> Iterator[None]:
    """Put the session app's limiter storage back: the extension object is shared."""
    saved = (limiter._storage, limiter._limiter, limiter.enabled)
    yield
    limiter._storage, limiter._limiter, limiter.enabled = saved


@pytest.fixture
def redis_db() -> Iterator[object]:
    """Yield a client of this process's own Redis database, emptied before and after."""
    if not redis_running():
        pytest.skip(NO_REDIS)
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=redis_number())
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def redis_uri(redis_db) -> str:
    """Return the URI of this process's own (emptied) Redis database."""
    return f"redis://127.0.0.1:6379/{redis_number()}"


@pytest.fixture(params=["memory", "redis"])
def storage_uri(request: pytest.FixtureRequest) -> str:
    """Return each storage the counts may live in: one process's memory, or a shared Redis."""
    if request.param == "memory":
        return "memory://"
    return request.getfixturevalue("redis_uri")


@pytest.fixture
def portal(app_factory, keep_limiter, storage_uri):
    """Build an app with the shipped allowances on the storage, no slowdown unless asked."""

    def build(**overrides: object):
        config = {**SHIPPED, "RATELIMIT_STORAGE_URI": storage_uri, "LOGIN_SLOWDOWN_MAX": 0.0}
        config.update(overrides)
        return app_factory(**config)

    return build
