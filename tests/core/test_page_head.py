"""Every page, for every kind of user: a description, headings in order, only our own files."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.security.security_world import browser_for, build_world, fill
from tests.security.test_access_matrix import TABLE

ROLES = ("anonymous", "student", "reviewer_assigned", "coordinator", "partner_receiving", "admin")
HASHED_STATIC = re.compile(r"^/static/[\w/.-]+\.[0-9a-f]{12}\.\w+$")
URL_ATTRIBUTES = {"href", "src", "action", "srcset", "poster", "formaction"}


class Head(HTMLParser):
    """Collect a page's meta description, its headings and every URL its elements refer to."""

    def __init__(self) -> None:
        super().__init__()
        self.description: str | None = None
        self.urls: list[tuple[str, str]] = []
        self.headings: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "meta" and values.get("name") == "description":
            self.description = values.get("content") or ""
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value:
                self.urls.append((tag, value))


def problems_of(html: str, what: str) -> list[str]:
    """Say what is wrong with a page's description, headings and references."""
    head = Head()
    head.feed(html)
    found = []
    if not (head.description or "").strip():
        found.append(f"{what}: no meta description ({head.description!r})")
    # As axe's heading-order rule: a heading is at most one level below the one before it.
    for before, heading in zip(head.headings, head.headings[1:], strict=False):
        if heading > before + 1:
            found.append(f"{what}: an h{heading} follows an h{before} ({head.headings})")
            break
    for tag, url in head.urls:
        parts = urlsplit(url)
        if parts.scheme == "data" or url.startswith("#"):
            continue
        if parts.scheme or parts.netloc:
            if parts.netloc != "kopir.test":
                found.append(f"{what}: <{tag}> refers off the site to {url}")
            continue
        if "bootstrap" in url and not parts.path.startswith("/static/vendor/"):
            found.append(f"{what}: <{tag}> loads Bootstrap from elsewhere: {url}")
        if parts.path.startswith("/static/") and not HASHED_STATIC.match(parts.path):
            found.append(f"{what}: <{tag}> names a static file without its digest: {url}")
    return found


@pytest.mark.parametrize("state", ["draft", "nominated"])
def test_every_page_is_described_in_order_and_loads_only_our_files(app, state, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_VERIFY", "100000 per minute")
    world = build_world(app, state)
    problems: list[str] = []
    pages: set[str] = set()
    for role in ROLES:
        browser = browser_for(app, world, role)
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            entry = TABLE.get(rule.endpoint)
            if entry is None or entry.get is None or "GET" not in rule.methods:
                continue
            url = fill(rule.rule, world, entry.rename)
            response = browser.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            pages.add(rule.endpoint)
            problems += problems_of(response.get_data(as_text=True), f"{role} {url}")
    assert not problems, "\n".join(problems)
    # The anonymous pages, the student's, the staff's and the partner's were all seen.
    assert {
        "main.index",
        "programs.catalogue",
        "programs.detail",
        "auth.login",
        "auth.register",
        "offers.verify_form",
        "applications.dashboard",
        "profiles.edit",
        "queue.index",
        "staff.dashboard",
        "nominations.partner_list",
    } <= pages
    assert len(pages) >= 30


def test_error_pages_have_a_description_too(app, browser):
    response = browser.get("/no-such-page")
    assert response.status_code == 404
    assert not problems_of(response.get_data(as_text=True), "404")


def test_public_pages_describe_themselves(app, browser):
    """The pages a search engine shows say what they are, each in its own words."""
    from tests import factories

    with app.app_context():
        program = factories.program(
            factories.institution(schac="vku.edu.kz"),
            slug="altai",
            descriptions={"en": "Three weeks of field work on the glaciers of the Altai. " * 8},
        )
        slug = program.slug
    seen = {}
    for path in ("/", "/programs", f"/programs/{slug}", "/account/login", "/account/register"):
        head = Head()
        head.feed(browser.get(path).get_data(as_text=True))
        seen[path] = head.description
    assert len(set(seen.values())) == len(seen), seen
    assert seen[f"/programs/{slug}"].startswith("Three weeks of field work on the glaciers")
    assert len(seen[f"/programs/{slug}"]) <= 205
