"""A university behind one address logs in; guessing runs from one address or at one account stop.

Each test runs with the counts in memory and in Redis (database 10-13), through the real
limiter storage and the shipped allowances unless it says otherwise.
"""

from __future__ import annotations

import re
import time
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from limits import parse_many
from werkzeug.security import generate_password_hash

from portal.auth.models import Role, User
from portal.config import Defaults
from portal.db import utcnow
from portal.extensions import db
from tests import factories
from tests.conftest import Browser

NAT = "203.0.113.7"  # a university's or a dormitory's one public address
ELSEWHERE = "198.51.100.20"


# A real hash that the real check verifies, only cheaper than scrypt's 0.1 s: hundreds of
# logins in a test measure the counting, not the hashing.
_CHEAP_HASH = generate_password_hash(factories.PASSWORD, method="pbkdf2:sha256:1000")


def make_students(app, prefix: str, count: int) -> list[str]:
    """Create verified student accounts in one commit; return their e-mail addresses."""
    emails = [f"{prefix}{n}@example.kz" for n in range(count)]
    with app.app_context():
        db.session.add_all(
            User(
                email=email,
                role=Role.STUDENT,
                locale="en",
                verified_at=utcnow(),
                password_hash=_CHEAP_HASH,
            )
            for email in emails
        )
        db.session.commit()
    return emails


class Student:
    """One browser at one client address, on the login page, ready to send the form."""

    def __init__(self, app, email: str, address: str, *, page_of: Student | None = None) -> None:
        self.email = email
        self.browser = Browser(app.test_client())
        self.browser.client.environ_base["REMOTE_ADDR"] = address
        if page_of is None:
            self.browser.get("/account/login")
            self.token = self.browser.last_token
            return
        # The page as another browser got it, not yet used: the same anonymous session and form
        # token, which the portal cannot tell from its own; it saves a page render per student.
        cookie = page_of.browser.client.get_cookie("session", domain="kopir.test")
        self.browser.client.set_cookie("session", cookie.value, domain="kopir.test")
        self.token = page_of.token

    def login(self, password: str = factories.PASSWORD, email: str | None = None):
        """Send the login form as it is typed; the page's token serves every try."""
        return self.browser.client.post(
            "/account/login",
            data={"email": email or self.email, "password": password, "csrf_token": self.token},
        )


def cohort(app, emails: list[str], address: str) -> list[Student]:
    """Put every student on the login page, at one address, before any of them sends it."""
    first = Student(app, emails[0], address)
    return [first, *(Student(app, email, address, page_of=first) for email in emails[1:])]


def _retry_after(response) -> int:
    return int(response.headers["Retry-After"])


def test_two_hundred_students_behind_one_address_all_log_in_within_a_minute(portal):
    app = portal()
    emails = make_students(app, "cohort", 200)
    started = time.perf_counter()
    students = cohort(app, emails, NAT)
    codes = [student.login().status_code for student in students]
    assert time.perf_counter() - started < 60
    assert codes == [302] * 200
    assert students[-1].browser.get("/applications/").status_code == 200


def test_successful_logins_leave_the_address_its_whole_allowance(portal):
    app = portal(RATELIMIT_LOGIN="3 per hour")
    emails = make_students(app, "s", 40)
    assert [student.login().status_code for student in cohort(app, emails, NAT)] == [302] * 40
    mistyping = Student(app, emails[0], NAT)
    assert [mistyping.login("wrong").status_code for _ in range(3)] == [200] * 3
    assert mistyping.login().status_code == 429


def test_a_guessing_run_over_many_accounts_from_one_address_is_slowed_then_stopped(portal):
    app = portal(
        RATELIMIT_LOGIN="20 per hour", LOGIN_CLIENT_FREE_FAILURES=10, LOGIN_SLOWDOWN_MAX=0.1
    )
    victims = make_students(app, "victim", 21)
    guesser = Student(app, victims[0], NAT)
    codes, seconds = [], []
    for email in victims[:20]:
        started = time.perf_counter()
        codes.append(guesser.login("Password123!", email=email).status_code)
        seconds.append(time.perf_counter() - started)
    assert codes == [200] * 20
    # The first ten failures are answered at once, each one after them waits.
    assert min(seconds[:10]) < 0.1 <= min(seconds[10:])
    refused = guesser.login("Password123!", email=victims[20])
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "Too many failed logins came from your network" in text
    assert "Please try again in 60 minutes." in text
    assert 3590 <= _retry_after(refused) <= 3600
    # From that address even the right password waits, so the run learns nothing more ...
    assert Student(app, victims[20], NAT).login().status_code == 429
    # ... while a student elsewhere, whose account the run tried once, gets in.
    assert Student(app, victims[5], ELSEWHERE).login().status_code == 302


def test_a_guessing_run_at_one_account_from_many_addresses_is_stopped(portal):
    app = portal()  # the shipped ten failures per account in 15 minutes
    victim, neighbour = make_students(app, "target", 2)
    codes = [
        Student(app, victim, f"198.51.100.{n}").login(f"guess-{n}").status_code
        for n in range(1, 11)
    ]
    assert codes == [200] * 10
    refused = Student(app, victim, "198.51.100.11").login()
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "Too many failed attempts for this address" in text
    assert "Please try again in 15 minutes, or reset the password" in text
    assert 890 <= _retry_after(refused) <= 900
    # The lock is the account's: the addresses the run came from are not held back.
    assert Student(app, neighbour, "198.51.100.1").login().status_code == 302


def test_mistypes_of_a_dormitory_behind_one_address_lock_out_nobody(portal):
    app = portal()
    students = cohort(app, make_students(app, "dorm", 75), NAT)
    # Every student mistypes twice: 150 failures in the hour, where 50 locked all out before.
    for typo in ("correct horse batery", "Correct horse battery"):
        assert [student.login(typo).status_code for student in students] == [200] * 75
    assert [student.login().status_code for student in students] == [302] * 75
    # A newcomer's typo is still answered as a typo, not as a locked network.
    [late] = make_students(app, "late", 1)
    assert Student(app, late, NAT).login("typo").status_code == 200


def test_an_ipv6_client_is_counted_per_64_block(portal):
    app = portal(RATELIMIT_LOGIN="2 per hour")
    [email] = make_students(app, "six", 1)
    for address in ("2001:db8:7:1::10", "2001:db8:7:1:ffff::1"):
        assert Student(app, email, address).login("wrong").status_code == 200
    assert Student(app, email, "2001:db8:7:1:abcd::9").login().status_code == 429
    assert Student(app, email, "2001:db8:7:2::10").login().status_code == 302


def test_waiting_as_long_as_told_lets_the_student_in(portal):
    app = portal(RATELIMIT_LOGIN="2 per 1 second", LOGIN_FAILURES_MAX=50)
    [email] = make_students(app, "patient", 1)
    student = Student(app, email, NAT)
    assert [student.login("wrong").status_code for _ in range(2)] == [200, 200]
    refused = [student.login() for _ in range(3)]
    assert [r.status_code for r in refused] == [429] * 3
    # Refused attempts are not counted, so they do not push the moment further away.
    time.sleep(_retry_after(refused[-1]) + 0.1)
    assert student.login().status_code == 302


def test_a_password_reset_lifts_the_accounts_lock(portal):
    app = portal(LOGIN_FAILURES_MAX=2)
    [email] = make_students(app, "forgetful", 1)
    student = Student(app, email, NAT)
    assert [student.login("wrong").status_code for _ in range(2)] == [200, 200]
    assert student.login().status_code == 429
    browser = Browser(app.test_client())
    browser.get("/account/forgot")
    assert browser.post("/account/forgot", {"email": email}).status_code == 302
    [mail] = Path(app.config["OUTBOX_DIR"]).glob("*.eml")
    body = message_from_bytes(mail.read_bytes(), policy=default).get_body(("plain",))
    link = re.search(r"https?://[^/\s]+(/account/reset/\S+)", body.get_content()).group(1)
    browser.get(link)
    new = "A-new-password-2026"
    assert browser.post(link, {"password": new, "confirm": new}).status_code == 302
    assert Student(app, email, NAT).login(new).status_code == 302


def _register(browser: Browser, email: str, password: str = "Altai-2026-summer"):
    return browser.post(
        "/account/register",
        {"email": email, "password": password, "confirm": password, "csrf_token": browser.token()},
    )


def test_registration_counts_accepted_forms_per_address_and_says_when_to_come_back(portal):
    app = portal(RATELIMIT_REGISTER="2 per hour")
    browser = Browser(app.test_client())
    browser.client.environ_base["REMOTE_ADDR"] = NAT
    browser.get("/account/register")
    # Forms sent back for a fix cost nothing.
    assert [_register(browser, f"typo{n}@example.kz", "short").status_code for n in range(3)] == [
        200
    ] * 3
    assert [_register(browser, f"ok{n}@example.kz").status_code for n in range(2)] == [302] * 2
    browser.get("/account/register")
    refused = _register(browser, "third@example.kz")
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "registering from it is paused. Please try again in 60 minutes." in text
    assert 3590 <= _retry_after(refused) <= 3600
    elsewhere = Browser(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = ELSEWHERE
    elsewhere.get("/account/register")
    assert _register(elsewhere, "third@example.kz").status_code == 302


def test_the_shipped_registration_allowance_takes_a_cohort_of_two_hundred_in_one_hour():
    # Registering costs a real password hash (0.1 s) each: 200 of them would make a slow test,
    # so the shipped setting is read instead. Every window of it holds 200 and their retries.
    for limit in parse_many(Defaults.RATELIMIT_REGISTER):
        assert limit.get_expiry() >= 3600
        assert limit.amount >= 300
