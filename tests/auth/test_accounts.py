"""Register, verify, log in and out, reset the password, without revealing who has an account."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.auth.models import Role, User
from portal.extensions import db
from portal.mail import OutgoingMail
from tests import factories


def outbox_messages(app):
    folder = Path(app.config["OUTBOX_DIR"])
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [message_from_bytes(f.read_bytes(), policy=default) for f in files]


def clear_outbox(app):
    folder = Path(app.config["OUTBOX_DIR"])
    if folder.exists():
        for f in folder.glob("*.eml"):
            f.unlink()


def link_in(message, path: str) -> str:
    body = message.get_body(("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"\S+)", body)
    assert match, body
    return match.group(1)


@pytest.fixture(autouse=True)
def _empty_outbox(app):
    clear_outbox(app)
    yield
    clear_outbox(app)


def register(browser, email="aigerim@example.kz", password="Altai-2026-summer"):
    browser.get("/account/register")
    return browser.post(
        "/account/register", {"email": email, "password": password, "confirm": password}
    )


def test_student_registers_verifies_and_logs_in(app, browser):
    response = register(browser, email="Aigerim@Example.KZ")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/check-mail")
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "aigerim@example.kz"))
        assert user is not None and user.role == Role.STUDENT and user.verified_at is None
        assert user.password_hash != "Altai-2026-summer"
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    [message] = outbox_messages(app)
    assert message["To"] == "aigerim@example.kz"
    response = browser.get(link_in(message, "/account/verify/"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(User.verified_at)) is not None
    response = browser.login("aigerim@example.kz", "Altai-2026-summer")
    assert response.status_code == 302
    assert "Log out" in browser.get("/").get_data(as_text=True)


def test_registering_a_taken_address_looks_the_same_and_creates_nothing(app, browser):
    with app.app_context():
        factories.user(email="taken@example.kz")
    first = register(browser, email="taken@example.kz")
    second = register(browser, email="free@example.kz")
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2
    subjects = sorted(m["Subject"] for m in outbox_messages(app))
    assert subjects == [
        "Confirm your e-mail address",
        "Someone tried to register with your address",
    ]


def test_login_error_does_not_say_which_part_was_wrong(app, browser):
    with app.app_context():
        factories.user(email="known@example.kz")
    wrong_password = browser.login("known@example.kz", "not the password")
    unknown = browser.login("nobody@example.kz", "not the password")
    assert wrong_password.status_code == unknown.status_code == 200
    text = "The e-mail or the password is wrong."
    assert text in wrong_password.get_data(as_text=True)
    assert text in unknown.get_data(as_text=True)


def test_login_refuses_off_site_next(app, browser):
    with app.app_context():
        factories.user(email="s@example.kz")
    for target in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ):
        browser.client.get("/")  # keep the session
        browser.get(f"/account/login?next={target}")
        response = browser.client.post(
            f"/account/login?next={target}",
            data={
                "email": "s@example.kz",
                "password": factories.PASSWORD,
                "csrf_token": browser.token(),
            },
        )
        assert response.status_code == 302
        location = response.headers["Location"]
        assert "evil" not in location and not location.startswith("javascript")
        browser.post("/account/logout")


def test_login_renews_session_and_logout_forgets_it(app, browser):
    with app.app_context():
        factories.user(email="s@example.kz")
    browser.login("s@example.kz", factories.PASSWORD)
    assert browser.get("/applications/").status_code == 200
    browser.get("/")
    browser.post("/account/logout")
    response = browser.get("/applications/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_expired_and_tampered_verification_links_are_refused(app, browser, monkeypatch):
    register(browser)
    [message] = outbox_messages(app)
    link = link_in(message, "/account/verify/")
    tampered = browser.get(link[:-3] + "abc")
    assert "This link is not valid" in tampered.get_data(as_text=True)
    app.config["EMAIL_TOKEN_MAX_AGE"] = -1
    try:
        expired = browser.get(link)
    finally:
        app.config["EMAIL_TOKEN_MAX_AGE"] = 3 * 24 * 3600
    assert "This link has expired" in expired.get_data(as_text=True)


def test_password_reset_works_once_and_ends_other_sessions(app, browser, other_browser):
    with app.app_context():
        factories.user(email="s@example.kz")
    other_browser.login("s@example.kz", factories.PASSWORD)
    assert other_browser.get("/applications/").status_code == 200
    browser.get("/account/forgot")
    browser.post("/account/forgot", {"email": "s@example.kz"})
    browser.post("/account/forgot", {"email": "nobody@example.kz"})
    [message] = outbox_messages(app)
    link = link_in(message, "/account/reset/")
    browser.get(link)
    response = browser.post(link, {"password": "New-password-2026", "confirm": "New-password-2026"})
    assert response.status_code == 302
    again = browser.get(link)
    assert "not valid or was already used" in again.get_data(as_text=True)
    assert browser.login("s@example.kz", "New-password-2026").status_code == 302
    assert other_browser.get("/applications/").status_code == 302


def test_resend_verification_sends_only_to_unverified_accounts(app, browser):
    with app.app_context():
        factories.user(email="new@example.kz", verified=False)
        factories.user(email="old@example.kz")
    browser.get("/account/resend")
    for email in ("new@example.kz", "old@example.kz", "none@example.kz"):
        response = browser.post("/account/resend", {"email": email})
        assert response.status_code == 302
    assert [m["To"] for m in outbox_messages(app)] == ["new@example.kz"]


@pytest.mark.parametrize(
    ("email", "password", "confirm", "error"),
    [
        ("not-an-email", "Long-enough-1", "Long-enough-1", "valid e-mail"),
        ("a@example.kz", "short", "short", "between 10 and 128"),
        ("a@example.kz", "Long-enough-1", "Long-enough-2", "passwords differ"),
        ("a@example.kz", "a@example.kz", "a@example.kz", "must not be your e-mail"),
    ],
)
def test_registration_form_explains_each_mistake(browser, email, password, confirm, error):
    browser.get("/account/register")
    response = browser.post(
        "/account/register", {"email": email, "password": password, "confirm": confirm}
    )
    assert response.status_code == 200
    assert error in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/account/register",
        "/account/login",
        "/account/forgot",
        "/account/resend",
        "/account/language",
        "/account/logout",
    ],
)
def test_post_without_csrf_token_is_refused(app, browser, url):
    response = browser.client.post(
        url,
        data={
            "email": "a@example.kz",
            "password": "Long-enough-1",
            "confirm": "Long-enough-1",
            "lang": "kk",
        },
    )
    assert response.status_code == 400
    assert "Your session expired" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_login_is_rate_limited(app, browser):
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    try:
        browser.get("/account/login")
        codes = [
            browser.post(
                "/account/login", {"email": "x@example.kz", "password": "wrong"}
            ).status_code
            for _ in range(5)
        ]
    finally:
        app.config["RATELIMIT_LOGIN"] = "1000 per minute"
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]


def test_registration_is_rate_limited(app, browser, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_REGISTER", "2 per hour")
    codes = [register(browser, email=f"r{i}@example.kz").status_code for i in range(3)]
    assert codes == [302, 302, 429]


def test_admin_creates_staff_account_in_the_ui(app, browser):
    with app.app_context():
        factories.user(Role.ADMIN, email="admin@example.kz")
        partner_home = factories.institution(schac="knu.kg", country="KG")
        home_id = partner_home.id
    browser.login("admin@example.kz", factories.PASSWORD)
    browser.get("/admin/users")
    response = browser.post(
        "/admin/users", {"email": "p@knu.kg", "role": "partner", "institution": str(home_id)}
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Account p@knu.kg created" in text
    with app.app_context():
        partner = db.session.scalar(sa.select(User).where(User.email == "p@knu.kg"))
        assert partner.role == "partner" and partner.institution_id == home_id
        assert partner.verified_at is not None


def test_students_cannot_open_admin_pages(app, browser):
    with app.app_context():
        factories.user(email="s@example.kz")
    browser.login("s@example.kz", factories.PASSWORD)
    assert browser.get("/admin/users").status_code == 404


def test_create_user_cli(app):
    runner = app.test_cli_runner()
    with app.app_context():
        factories.institution(schac="nsu.ru", country="RU")
    result = runner.invoke(
        args=[
            "portal",
            "create-user",
            "--role",
            "coordinator",
            "--email",
            "C@NSU.RU",
            "--institution",
            "nsu.ru",
        ],
        input="\n\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created coordinator c@nsu.ru with password: " in result.output
    generated = result.output.rsplit(": ", 1)[1].strip()
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "c@nsu.ru"))
        assert user.check_password(generated)
    duplicate = runner.invoke(
        args=[
            "portal",
            "create-user",
            "--role",
            "admin",
            "--email",
            "c@nsu.ru",
            "--password",
            "long-password-1",
        ]
    )
    assert duplicate.exit_code != 0 and "exists" in duplicate.output
    unknown = runner.invoke(
        args=[
            "portal",
            "create-user",
            "--role",
            "partner",
            "--email",
            "p@x.kg",
            "--institution",
            "nope.kg",
            "--password",
            "long-password-1",
        ]
    )
    assert unknown.exit_code != 0 and "no institution" in unknown.output


def test_mail_is_queued_in_the_transaction(app, browser):
    register(browser)
    with app.app_context():
        [queued] = db.session.scalars(sa.select(OutgoingMail)).all()
        assert queued.sent_at is not None and queued.attempts == 1
