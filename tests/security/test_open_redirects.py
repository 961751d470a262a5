"""Every redirect to a place the visitor chose stays on this site, however the place is spelt."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.test import EnvironBuilder

from tests import factories
from tests.conftest import Browser

SITE = "kopir.test"
TARGETS = [
    "//evil.example",
    "//evil.example/x",
    "https://evil.example",
    "http://evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "http:evil.example",
    "https:/evil.example",
    "%2F%2Fevil.example",  # arrives decoded once: a literal "%2F%2F..." is a relative path
    "/%2F/evil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    "/\x00/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    " //evil.example",
    "\t//evil.example",
    "\n//evil.example",
    "https://kopir.test@evil.example",
    "//kopir.test@evil.example",
    "/\u2215evil.example",
    "\u2215\u2215evil.example",
    "/\uff0fevil.example",
    "\uff0f\uff0fevil.example",
    "/x\r\nSet-Cookie: injected=1",
    "/x\nLocation: https://evil.example",
    "/x%0d%0aSet-Cookie:%20injected=1",
    "https://evil.example\\@kopir.test",
]
# What a visitor may legitimately ask for: these are kept.
KEPT = ["/applications/7/profile", "/programs?q=altai&page=2"]


def browser_url(location: str) -> tuple[str, str]:
    """Resolve a Location the way a browser does (WHATWG URL rules); return (scheme, host)."""
    # Browsers strip leading and trailing C0 controls and spaces, drop tabs and newlines
    # anywhere, and read a backslash as a slash in http(s) URLs.
    text = location.strip("".join(chr(c) for c in range(0x21)))
    text = re.sub(r"[\t\n\r]", "", text).replace("\\", "/")
    scheme_match = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", text)
    if scheme_match:
        scheme = scheme_match.group(1).lower()
        rest = text[scheme_match.end() :].lstrip("/")
        if scheme not in ("http", "https"):
            return scheme, ""
        # A special scheme with or without slashes is followed by the authority.
        authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
        return scheme, authority.rpartition("@")[2].split(":")[0].lower()
    if text.startswith("//"):
        authority = re.split(r"[/?#]", text[2:], maxsplit=1)[0]
        return "http", authority.rpartition("@")[2].split(":")[0].lower()
    return "http", SITE


def assert_on_site(response, target: str) -> None:
    """Fail unless the response is a redirect that stays on this site."""
    assert response.status_code in (301, 302, 303, 307, 308), (target, response.status_code)
    location = response.headers["Location"]
    assert not re.search(r"[\x00-\x1f\x7f]", location), (target, location)
    scheme, host = browser_url(location)
    assert (scheme, host) in (("http", SITE), ("https", SITE)), (target, location)
    # No header was smuggled in: the only cookie set is the session's own.
    assert all("injected" not in value for value in response.headers.getlist("Set-Cookie")), target


def test_the_browser_model_catches_what_it_must():
    for bad in ("//evil.example", "/\\evil.example", " //evil.example", "https:evil.example"):
        assert browser_url(bad)[1] == "evil.example", bad
    assert browser_url("javascript:alert(1)")[0] == "javascript"
    assert browser_url("/%2F/evil.example") == ("http", SITE)


@pytest.fixture
def student(app):
    with app.app_context():
        factories.user(email="s@example.kz")
    return "s@example.kz"


def off_site(response, target: str) -> list[str]:
    """Return what is wrong with a redirect that should stay on the site, as one line."""
    try:
        assert_on_site(response, target)
    except AssertionError as exc:
        return [f"{target!r}: {response.status_code} {response.headers.get('Location')!r} {exc}"]
    return []


def test_login_keeps_next_on_the_site(app, student):
    problems = []
    for target in TARGETS:
        browser = Browser(app.test_client())
        browser.get("/account/login")
        response = browser.client.post(
            "/account/login",
            query_string={"next": target},
            data={"email": student, "password": factories.PASSWORD, "csrf_token": browser.token()},
        )
        problems += off_site(response, target)
        # Already logged in, the form sends the visitor on at once.
        response = browser.client.get("/account/login", query_string={"next": target})
        problems += off_site(response, target)
    assert not problems, "\n".join(problems)


def test_language_switch_keeps_next_on_the_site(app, student):
    anonymous = Browser(app.test_client())
    member = Browser(app.test_client())
    member.login(student)
    problems = []
    for target in TARGETS:
        for browser in (anonymous, member):
            response = browser.post("/account/language", {"lang": "ru", "next": target})
            problems += off_site(response, target)
    assert not problems, "\n".join(problems)


def test_profile_keeps_next_on_the_site(app, student):
    browser = Browser(app.test_client())
    browser.login(student)
    browser.get("/profile/")
    problems = []
    for target in TARGETS:
        response = browser.client.post(
            "/profile/",
            query_string={"next": target},
            data={
                **{name: "" for name in ("gender", "citizenship", "study_level")},
                **{name: "" for name in ("isced_code", "gpa_scale", "languages-0-language")},
                "native_given_names": "Айгерім",
                "home_institution": "0",
                "csrf_token": browser.token(),
            },
        )
        problems += off_site(response, target)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("target", KEPT)
def test_same_site_targets_are_kept(app, student, target):
    browser = Browser(app.test_client())
    browser.get("/account/login")
    response = browser.client.post(
        "/account/login",
        query_string={"next": target},
        data={"email": student, "password": factories.PASSWORD, "csrf_token": browser.token()},
    )
    assert response.headers["Location"] == target
    response = browser.post("/account/language", {"lang": "ru", "next": target})
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "path", ["//evil.example/applications/", "//evil.example", "/applications//", "///evil.example"]
)
def test_login_required_and_slash_redirects_stay_on_the_site(app, path):
    client = app.test_client()
    environ = EnvironBuilder(path="/", base_url=f"http://{SITE}").get_environ()
    environ["PATH_INFO"] = path  # as a raw request line would put it, unparsed
    response = client.open(environ)
    if response.status_code == 404:
        return
    assert_on_site(response, path)
    for value in parse_qs(urlsplit(response.headers["Location"]).query).get("next", []):
        assert browser_url(value) == ("http", SITE), (path, value)


def test_every_redirect_to_a_chosen_place_goes_through_safe_next():
    # A new redirect to something the visitor sent must be checked like these: find them all.
    portal = Path(__file__).resolve().parents[2] / "portal"
    found = []
    for path in sorted(portal.rglob("*.py")):
        text = path.read_text()
        for match in re.finditer(r"\bredirect\(\s*", text):
            argument = text[match.end() :]
            if argument.startswith(("url_for(", "safe_next(", "_next_step(")):
                continue
            name = re.match(r"(\w+)\)", argument)
            if name and re.search(rf"\b{name.group(1)} = url_for\(", text):
                continue  # a target built with url_for a few lines above
            found.append(f"{path.name}: redirect({argument[:40]}")
        for line in text.splitlines():
            if re.search(r"referrer|return_to|\.get\([\"']next", line) and "safe_next(" not in line:
                found.append(f"{path.name}: {line.strip()}")
    assert not found, "check these targets with safe_next:\n" + "\n".join(found)
