"""Count failed logins per account and per client address: slow them down, then refuse a while.

Successful logins count against nobody, so a whole university behind one NAT address can log
in at once. Failed ones are counted twice:

- per typed e-mail address, whether or not an account has it, so the answers never tell which
  exist (LOGIN_FREE_FAILURES, LOGIN_FAILURES_MAX, LOGIN_FAILURES_WINDOW). This stops a guessing
  run against one account, from however many addresses it comes;
- per client address (RATELIMIT_LOGIN, LOGIN_CLIENT_FREE_FAILURES), generously, since a
  dormitory of students mistypes on deadline night. This stops a guessing run over many
  accounts from one address. IPv6 clients are counted per /64, the block one line is given.

An attempt takes its place in the counts before the password is checked, so parallel requests
cannot slip past a maximum; a success or a refusal gives the place back. Registrations whose
form was accepted are counted per client address the same way (RATELIMIT_REGISTER).

The counts live in the rate limiter's storage (memory, or Redis when several processes serve
the portal), so every worker and machine sees the same ones. With the limiter switched off
(RATELIMIT_ENABLED=False) the per-client-address counts step aside with it, but an account's
guard must not: its count then lives in a storage of its own, made from the same setting. With
RATELIMIT_SWALLOW_ERRORS a storage that cannot be reached lets attempts through (and is
logged), as the limiter itself does; without it the error is the request's.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string

from portal.extensions import limiter

log = logging.getLogger(__name__)

_OWN_STORAGE = "kopir_login_failures"
_T = TypeVar("_T")


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused, and in how many seconds the count lets one through again."""

    by_client: bool  # the client address's allowance is used up (else the typed account's)
    retry_after: int


@dataclass(frozen=True)
class _Count:
    key: str
    maximum: int
    window: int  # seconds, from the first attempt counted


def _storage() -> Storage:
    """Return where attempts are counted for this app, whatever the limiter's settings."""
    app = current_app
    shared = getattr(limiter, "_storage", None)
    if _limiter_on() and shared is not None:
        return shared
    own = app.extensions.get(_OWN_STORAGE)
    if own is None:
        own = storage_from_string(
            app.config.get("RATELIMIT_STORAGE_URI") or "memory://",
            **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}),
        )
        own = app.extensions.setdefault(_OWN_STORAGE, own)
    return own


def _limiter_on() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def _guarded(action: Callable[[], _T], fallback: _T) -> _T:
    """Run a storage action; if the storage fails and the settings say so, let the user through."""
    try:
        return action()
    except Exception:
        if not current_app.config.get("RATELIMIT_SWALLOW_ERRORS"):
            raise
        log.exception("Login and registration counts unavailable; letting the attempt through")
        return fallback


def _client_key() -> str:
    """Return what the client's attempts are counted under: its address, or its IPv6 /64."""
    address = get_remote_address()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        # One home or one server gets a whole /64: counting single addresses in it would give
        # a guessing run 2**64 fresh allowances.
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@lru_cache(maxsize=32)
def _parsed(value: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(value)) if value.strip() else ()


def _client_counts(setting: str, name: str) -> list[_Count]:
    """Return the client address's counts under a rate limit setting, none with the limiter off."""
    if not _limiter_on():
        return []
    client = _client_key()
    return [
        _Count(
            f"kopir/{name}/client/{item.amount}-per-{item.get_expiry()}s/{client}",
            item.amount,
            item.get_expiry(),
        )
        for item in _parsed(current_app.config.get(setting) or "")
    ]


def _account_count(email: str) -> _Count:
    digest = hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
    return _Count(
        f"kopir/login-failures/{digest[:32]}",
        current_app.config["LOGIN_FAILURES_MAX"],
        current_app.config["LOGIN_FAILURES_WINDOW"],
    )


def _retry_after(storage: Storage, counts: list[_Count]) -> int:
    """Return the seconds until every one of these counts has started afresh."""
    now = time.time()
    # Rounded, not raised: Redis tells whole seconds, so a fresh 900 s window reads 900.0x.
    return max(1, *(round(storage.get_expiry(count.key) - now) for count in counts))


def _take(storage: Storage, counts: list[_Count]) -> dict[_Count, int]:
    return {count: storage.incr(count.key, count.window) for count in counts}


def _give_back(storage: Storage, counts: list[_Count]) -> None:
    for count in counts:
        storage.incr(count.key, count.window, amount=-1)


def _delay(count: int, free: int) -> float:
    """Return how long to hold a failed answer: not at all for the first few, then doubling."""
    if count <= free:
        return 0.0
    # Doubling from a quarter of a second: a typo costs nothing, a guessing run a lot.
    return min(0.25 * 2 ** min(count - free - 1, 16), current_app.config["LOGIN_SLOWDOWN_MAX"])


class LoginAttempt:
    """One login's places in the counts, taken before its password is checked."""

    def __init__(self, email: str) -> None:
        """Take the attempt's places; set `refusal` when an allowance is used up."""
        self.refusal: Refusal | None = None
        self._storage: Storage | None = None
        self._client = _client_counts("RATELIMIT_LOGIN", "login-failures")
        self._account = _account_count(email)
        self._taken: dict[_Count, int] = {}
        _guarded(self._begin, None)

    def _begin(self) -> None:
        storage = _storage()
        taken = _take(storage, self._client)
        spent = [count for count, value in taken.items() if value > count.maximum]
        if not spent:
            taken.update(_take(storage, [self._account]))
            if taken[self._account] > self._account.maximum:
                spent = [self._account]
        if spent:
            # Nothing was tried, so nothing is counted: waiting clears the way as promised.
            _give_back(storage, list(taken))
            self.refusal = Refusal(spent[0] is not self._account, _retry_after(storage, spent))
            return
        self._storage, self._taken = storage, taken

    def succeeded(self) -> None:
        """Forget the account's failures and give the client address its place back."""
        storage = self._storage
        if storage is not None:
            _guarded(lambda: self._settle_success(storage), None)

    def _settle_success(self, storage: Storage) -> None:
        storage.clear(self._account.key)
        _give_back(storage, self._client)

    def failed(self) -> None:
        """Keep the failure counted and hold the answer the longer, the more there were."""
        if self._storage is None:
            return
        config = current_app.config
        delay = _delay(self._taken[self._account], config["LOGIN_FREE_FAILURES"])
        if self._client:
            busiest = max(self._taken[count] for count in self._client)
            delay = max(delay, _delay(busiest, config["LOGIN_CLIENT_FREE_FAILURES"]))
        if delay > 0:
            time.sleep(delay)


def take_registration() -> Refusal | None:
    """Count a registration from the client's address; refuse it past RATELIMIT_REGISTER."""
    counts = _client_counts("RATELIMIT_REGISTER", "register")
    if not counts:
        return None

    def take() -> Refusal | None:
        storage = _storage()
        taken = _take(storage, counts)
        spent = [count for count, value in taken.items() if value > count.maximum]
        if not spent:
            return None
        _give_back(storage, counts)
        return Refusal(True, _retry_after(storage, spent))

    return _guarded(take, None)


# Checks of an account's password by a user already logged in (changing the password) count
# per account only: the client address is not guessing for anyone else.


def locked(email: str) -> bool:
    """Tell whether this address has used up its failed attempts for now."""
    count = _account_count(email)
    return _guarded(lambda: _storage().get(count.key) >= count.maximum, False)


def record_failure(email: str) -> None:
    """Count one failed password check and make the answer slower the more there were."""
    count = _account_count(email)
    value = _guarded(lambda: _storage().incr(count.key, count.window), 0)
    delay = _delay(value, current_app.config["LOGIN_FREE_FAILURES"])
    if delay > 0:
        time.sleep(delay)


def forget(email: str) -> None:
    """Start counting an account's failures afresh (the password was proved or replaced)."""
    count = _account_count(email)
    _guarded(lambda: _storage().clear(count.key), None)
