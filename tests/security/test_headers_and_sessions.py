"""Security headers on every kind of answer, cookie flags, session renewal, login throttling."""

from __future__ import annotations

import re

import pytest

from portal.auth.models import User
from portal.extensions import db
from tests import factories
from tests.conftest import Browser

HTTPS = "https://kopir.test"


def _directives(csp: str) -> dict[str, list[str]]:
    parts = [part.strip().split() for part in csp.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def _set_cookies(response) -> dict[str, str]:
    """Return each cookie the answer sets, with its attributes as sent."""
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        name = header.split("=", 1)[0]
        cookies[name] = header
    return cookies


def _flags(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


@pytest.fixture
def pages(app):
    """Make one answer of each kind: a page, an error page, a static file, JSON, a download."""
    with app.app_context():
        factories.user(email="s@example.kz")
        factories.program(factories.institution(schac="vku.edu.kz"), slug="summer")
    return [
        "/",
        "/programs",
        "/programs/summer",
        "/account/login",
        "/no-such-page",
        "/static/css/app.css",
        "/api/v1/openapi.json",
        "/api/v1/nominations",
        "/healthz",
    ]


def test_every_kind_of_answer_carries_the_security_headers(app, browser, pages):
    for path in pages:
        response = browser.get(path)
        response.close()  # a static file answer holds the file open until closed
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] in {"same-origin", "no-referrer"}, path
        csp = _directives(headers["Content-Security-Policy"])
        framing = headers.get("X-Frame-Options") == "DENY" or csp.get("frame-ancestors") == [
            "'none'"
        ]
        assert framing, path
        scripts = csp.get("script-src", csp.get("default-src"))
        assert scripts and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
        assert "Strict-Transport-Security" not in headers, f"HSTS over plain HTTP: {path}"


def test_hsts_only_over_https(app, pages):
    client = app.test_client()
    for path in pages:
        response = client.get(path, base_url=HTTPS)
        response.close()
        hsts = response.headers.get("Strict-Transport-Security", "")
        assert re.fullmatch(r"max-age=(\d+); includeSubDomains", hsts), path
        assert int(hsts.split("=")[1].split(";")[0]) >= 180 * 24 * 3600


def test_https_behind_a_proxy_counts_as_https(app_factory):
    proxied = app_factory(PROXY_COUNT=1)
    client = proxied.test_client()
    response = client.get("/account/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers
    assert "Secure" in response.headers["Set-Cookie"]
    plain = client.get("/account/login")
    assert "Strict-Transport-Security" not in plain.headers


def test_no_inline_script_or_handler_in_any_template():
    """Keep the pages working under a CSP without 'unsafe-inline' scripts."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for template in root.rglob("*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script\b[^>]*>", text):
            if "src=" not in match.group(0):
                offenders.append(f"{template.relative_to(root)}: {match.group(0)}")
        for match in re.finditer(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(f"{template.relative_to(root)}: {match.group(0).strip()}")
        if "javascript:" in text:
            offenders.append(f"{template.relative_to(root)}: javascript: URL")
    assert not offenders


def _login(client, email, password, *, remember=False, base_url="http://kopir.test"):
    page = client.get("/account/login", base_url=base_url).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = {"csrf_token": token, "email": email, "password": password}
    if remember:
        data["remember"] = "y"
    # Over HTTPS Flask-WTF also wants a same-site Referer, which browsers send here.
    headers = {"Referer": f"{base_url}/account/login"}
    return client.post("/account/login", data=data, base_url=base_url, headers=headers)


def test_cookies_are_httponly_lax_and_secure_over_https(app):
    with app.app_context():
        factories.user(email="s@example.kz")
    response = _login(app.test_client(), "s@example.kz", factories.PASSWORD, remember=True)
    cookies = _set_cookies(response)
    assert {"session", "remember_token"} <= cookies.keys()
    for header in cookies.values():
        assert {"httponly", "samesite"} <= _flags(header)
        assert "samesite=lax" in header.lower()
        assert "secure" not in _flags(header)  # plain HTTP in development: not Secure
    response = _login(
        app.test_client(), "s@example.kz", factories.PASSWORD, remember=True, base_url=HTTPS
    )
    cookies = _set_cookies(response)
    assert {"session", "remember_token"} <= cookies.keys()
    for header in cookies.values():
        assert {"httponly", "secure", "samesite"} <= _flags(header)


def test_login_renews_the_session(app, browser):
    with app.app_context():
        factories.user(email="s@example.kz")
    browser.get("/account/login")
    with browser.client.session_transaction() as session:
        session["planted"] = "by an attacker"
        before = dict(session)
    browser.login("s@example.kz", factories.PASSWORD)
    with browser.client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != before.get("csrf_token")


def _session_cookie(browser: Browser) -> str:
    cookie = browser.client.get_cookie("session", domain="kopir.test")
    assert cookie is not None
    return cookie.value


def test_a_copied_session_cookie_dies_at_logout(app, browser):
    with app.app_context():
        factories.user(email="s@example.kz")
    browser.login("s@example.kz", factories.PASSWORD)
    stolen = _session_cookie(browser)
    browser.get("/")
    browser.post("/account/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen, domain="kopir.test")
    response = thief.get("/applications/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_changing_the_password_ends_every_session(app, browser, other_browser):
    with app.app_context():
        factories.user(email="s@example.kz")
    browser.login("s@example.kz", factories.PASSWORD)
    other_browser.login("s@example.kz", factories.PASSWORD)
    stolen = _session_cookie(browser)
    page = browser.get("/account/password")
    assert page.status_code == 200 and 'autocomplete="current-password"' in page.get_data(
        as_text=True
    )
    wrong = browser.post(
        "/account/password",
        {"current": "not the password", "password": "New-pass-2026!", "confirm": "New-pass-2026!"},
    )
    assert wrong.status_code == 200
    assert "This is not your current password." in wrong.get_data(as_text=True)
    assert other_browser.get("/applications/").status_code == 200
    same = browser.post(
        "/account/password",
        {
            "current": factories.PASSWORD,
            "password": factories.PASSWORD,
            "confirm": factories.PASSWORD,
        },
    )
    assert "different from the current one" in same.get_data(as_text=True)
    done = browser.post(
        "/account/password",
        {"current": factories.PASSWORD, "password": "New-pass-2026!", "confirm": "New-pass-2026!"},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/account/login")
    for client in (browser, other_browser):
        assert client.get("/applications/").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen, domain="kopir.test")
    assert thief.get("/applications/").status_code == 302
    assert browser.login("s@example.kz", factories.PASSWORD).status_code == 200
    assert browser.login("s@example.kz", "New-pass-2026!").status_code == 302


def test_changing_the_password_needs_a_login(app, browser):
    response = browser.get("/account/password")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def _body_without_token(response) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', response.get_data(as_text=True))


@pytest.mark.parametrize("exists", [True, False])
def test_failed_logins_are_slowed_then_refused_alike_for_any_address(
    app, browser, monkeypatch, exists
):
    from portal.auth import throttle

    email = "s@example.kz"
    if exists:
        with app.app_context():
            factories.user(email=email)
    delays: list[float] = []
    monkeypatch.setattr(throttle.time, "sleep", delays.append)
    monkeypatch.setitem(app.config, "LOGIN_SLOWDOWN_MAX", 2.0)
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_MAX", 6)
    answers = [browser.login(email, f"guess-{n}") for n in range(6)]
    assert [a.status_code for a in answers] == [200] * 6
    # The first three failures are free, then each waits twice as long as the one before.
    assert delays == [0.25, 0.5, 1.0]
    refused = browser.login(email, factories.PASSWORD)
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "Too many failed attempts for this address" in text
    assert browser.get("/applications/").status_code == 302  # the right password did not help
    # Another address is not held back by this one.
    assert browser.login("other@example.kz", "x").status_code == 200


def test_a_locked_address_is_answered_identically_whether_or_not_it_exists(
    app, browser, monkeypatch
):
    from portal.auth import throttle

    monkeypatch.setattr(throttle.time, "sleep", lambda seconds: None)
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_MAX", 3)
    with app.app_context():
        factories.user(email="real@example.kz")
    bodies = {}
    for email in ("real@example.kz", "ghost@example.kz"):
        for _ in range(3):
            browser.login(email, "wrong")
        response = browser.login(email, "wrong")
        assert response.status_code == 429
        bodies[email] = _body_without_token(response).replace(email, "EMAIL")
    assert bodies["real@example.kz"] == bodies["ghost@example.kz"]


def test_a_successful_login_resets_the_count(app, browser, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_MAX", 3)
    with app.app_context():
        factories.user(email="s@example.kz")
    for _ in range(2):
        browser.login("s@example.kz", "wrong")
    assert browser.login("s@example.kz", factories.PASSWORD).status_code == 302
    browser.get("/")
    browser.post("/account/logout")
    for _ in range(2):
        assert browser.login("s@example.kz", "wrong").status_code == 200
    assert browser.login("s@example.kz", factories.PASSWORD).status_code == 302


def test_the_client_address_limit_still_applies(app_factory):
    limited = app_factory(RATELIMIT_LOGIN="3 per minute")
    client = Browser(limited.test_client())
    codes = [client.login(f"user{n}@example.kz", "x").status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]


def test_passwords_are_stored_hashed(app):
    with app.app_context():
        factories.user(email="s@example.kz")
        user = db.session.scalar(db.select(User).where(User.email == "s@example.kz"))
        assert factories.PASSWORD not in user.password_hash
        assert user.password_hash.startswith("$argon2id$")
