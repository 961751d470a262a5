"""Password hashes: argon2id with OWASP's parameters; the scrypt hashes made before still verify.

OWASP's Password Storage Cheat Sheet asks for argon2id with at least 19 MiB of memory, 2
iterations and 1 degree of parallelism, or scrypt with N=2^17, r=8, p=1. On the 2-core build
machine the first costs 17 ms a check, the second 365 ms (and 128 MiB): on a deadline evening
200 logins cost 3.4 s of CPU instead of 73 s. Werkzeug's scrypt default (N=2^15), which the
portal used before, is below that advice and costs 92 ms. Its hashes still verify, and are
re-hashed with argon2id at the next successful login (see auth.services.password_matches).
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from werkzeug.security import check_password_hash

ARGON2_PREFIX = "$argon2id$"

# The minimum OWASP names, spelled out so that a new release of argon2-cffi with other defaults
# changes nothing here; raising them later makes check_needs_rehash re-hash at the next login.
HASHER = PasswordHasher(
    time_cost=2,
    memory_cost=19 * 1024,  # KiB
    parallelism=1,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)


def hash_password(password: str) -> str:
    """Return an argon2id hash of the password, with a fresh salt."""
    return HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Tell whether the password matches a stored hash, argon2id or an older Werkzeug one."""
    if stored.startswith("$argon2"):
        try:
            return HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    # "scrypt:32768:8:1$salt$hash" (or pbkdf2) from Werkzeug; anything else matches nothing.
    try:
        return check_password_hash(stored, password)
    except ValueError:  # a damaged "scrypt:…" header
        return False


def needs_rehash(stored: str) -> bool:
    """Tell whether a hash that just verified should be made again with today's parameters."""
    if not stored.startswith(ARGON2_PREFIX):
        return True
    try:
        return HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True
