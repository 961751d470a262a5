"""Count failed logins per typed address: slow them down, then refuse for a while.

The count is kept per address whether or not an account has it, so the answers never tell
which addresses exist. It lives in the rate limiter's storage (memory, or Redis when several
processes serve the portal), beside the per-address-of-the-client limits. With the limiter
switched off (RATELIMIT_ENABLED=False) the limiter has no storage, but an account's guard must
not go with it: the count then lives in a storage of its own, made from the same setting.
"""

from __future__ import annotations

import hashlib
import time

from flask import current_app
from limits.storage import Storage, storage_from_string

from portal.extensions import limiter

_OWN_STORAGE = "kopir_login_failures"


def _key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
    return f"kopir/login-failures/{digest[:32]}"


def _storage() -> Storage:
    """Return where failures are counted for this app, whatever the limiter's settings."""
    app = current_app
    if app.config.get("RATELIMIT_ENABLED", True):
        return limiter.storage
    own = app.extensions.get(_OWN_STORAGE)
    if own is None:
        own = storage_from_string(
            app.config.get("RATELIMIT_STORAGE_URI") or "memory://",
            **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}),
        )
        own = app.extensions.setdefault(_OWN_STORAGE, own)
    return own


def failures(email: str) -> int:
    """Return how many logins to this address failed in the current window."""
    return _storage().get(_key(email))


def locked(email: str) -> bool:
    """Tell whether this address has used up its failed attempts for now."""
    return failures(email) >= current_app.config["LOGIN_FAILURES_MAX"]


def record_failure(email: str) -> None:
    """Count one failed login and make the answer slower the more there were."""
    count = _storage().incr(_key(email), current_app.config["LOGIN_FAILURES_WINDOW"])
    free = current_app.config["LOGIN_FREE_FAILURES"]
    if count > free:
        # Doubling from a quarter of a second: a typo costs nothing, a guessing run a lot.
        delay = min(0.25 * 2 ** (count - free - 1), current_app.config["LOGIN_SLOWDOWN_MAX"])
        time.sleep(delay)


def forget(email: str) -> None:
    """Start counting afresh after a successful login."""
    _storage().clear(_key(email))
