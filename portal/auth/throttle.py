"""Count failed logins per typed address: slow them down, then refuse for a while.

The count is kept per address whether or not an account has it, so the answers never tell
which addresses exist. It lives in the rate limiter's storage (memory, or Redis when several
processes serve the portal), beside the per-address-of-the-client limits.
"""

from __future__ import annotations

import hashlib
import time

from flask import current_app

from portal.extensions import limiter


def _key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
    return f"kopir/login-failures/{digest[:32]}"


def failures(email: str) -> int:
    """Return how many logins to this address failed in the current window."""
    return limiter.storage.get(_key(email))


def locked(email: str) -> bool:
    """Tell whether this address has used up its failed attempts for now."""
    return failures(email) >= current_app.config["LOGIN_FAILURES_MAX"]


def record_failure(email: str) -> None:
    """Count one failed login and make the answer slower the more there were."""
    count = limiter.storage.incr(_key(email), current_app.config["LOGIN_FAILURES_WINDOW"])
    free = current_app.config["LOGIN_FREE_FAILURES"]
    if count > free:
        # Doubling from a quarter of a second: a typo costs nothing, a guessing run a lot.
        delay = min(0.25 * 2 ** (count - free - 1), current_app.config["LOGIN_SLOWDOWN_MAX"])
        time.sleep(delay)


def forget(email: str) -> None:
    """Start counting afresh after a successful login."""
    limiter.storage.clear(_key(email))
