"""Password hashes: argon2id with OWASP's parameters, and the older scrypt hashes upgraded."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from portal.auth.models import User
from portal.auth.passwords import hash_password, needs_rehash, verify_password
from portal.extensions import db
from tests import factories
from tests.conftest import Browser


def test_new_hashes_are_argon2id_with_owasp_parameters():
    stored = hash_password("correct horse battery")
    # OWASP's minimum for argon2id: 19 MiB of memory, 2 iterations, 1 lane.
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hash_password("correct horse battery") != stored  # a salt of its own
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not needs_rehash(stored)


@pytest.mark.parametrize(
    "stored",
    ["", "!", "$argon2id$v=19$m=19456,t=2,p=1$broken", "scrypt:1:1$salt$hash", "plain text"],
)
def test_damaged_or_disabled_hashes_match_nothing(stored):
    assert not verify_password(stored, "plain text")
    assert not verify_password(stored, "")


def test_weaker_argon2_parameters_are_rehashed():
    weak = "$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0$" + "A" * 43
    assert needs_rehash(weak)


def _user_with_scrypt_hash(email: str) -> tuple[int, str, str]:
    """Make an account whose hash Werkzeug made, as every account before argon2id had."""
    old = generate_password_hash(factories.PASSWORD, method="scrypt")
    assert old.startswith("scrypt:32768:8:1$")
    user = factories.user(email=email)
    user.password_hash = old
    db.session.commit()
    return user.id, old, user.session_key


def test_an_old_scrypt_hash_logs_in_and_is_rehashed_without_ending_other_sessions(app, browser):
    with app.app_context():
        user_id, old, session_key = _user_with_scrypt_hash("old@example.kz")
    elsewhere = Browser(app.test_client())
    assert elsewhere.login("old@example.kz", factories.PASSWORD).status_code == 302

    with app.app_context():
        rehashed = db.session.get(User, user_id)
        assert rehashed.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert rehashed.check_password(factories.PASSWORD)
        # Only the hash changed: the session that logged in with it, and any other, go on.
        assert rehashed.session_key == session_key

    # The same password logs in with the new hash, and the first device is still logged in.
    assert browser.login("old@example.kz", factories.PASSWORD).status_code == 302
    assert elsewhere.get("/applications/").status_code == 200
    with app.app_context():
        assert db.session.get(User, user_id).password_hash != old


def test_a_wrong_password_leaves_an_old_hash_as_it_is(app, browser):
    with app.app_context():
        user_id, old, _key = _user_with_scrypt_hash("wrong@example.kz")
    response = browser.login("wrong@example.kz", "not the password at all")
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(User.password_hash).where(User.id == user_id)) == old
